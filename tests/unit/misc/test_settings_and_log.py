from __future__ import annotations

import logging
import stat

import pytest

from sbexport_tui.config.errors import ConfigError
from sbexport_tui.config.paths import Paths
from sbexport_tui.config.settings import load_settings, settings_path
from sbexport_tui.logsetup import LOGGERS, enable_debug_log, redact, register_secret

TOKEN = "5f3c0ffee5f3c0ffee5f3c0ffee5f3c0"


def write(paths: Paths, text: str):
    p = settings_path(paths)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_settings_default_when_missing(tmp_path):
    s = load_settings(Paths.under(tmp_path))
    assert s.theme is None and s.mouse and s.bell and s.notify and s.keymap == {}


def test_settings_turn_the_desktop_notification_off(tmp_path):
    paths = Paths.under(tmp_path)
    write(paths, "notify = false\n")
    assert load_settings(paths).notify is False


def test_settings_read_theme_mouse_bell_keymap(tmp_path):
    paths = Paths.under(tmp_path)
    write(
        paths, 'theme = "ansi-dark"\nmouse = false\nbell = false\n[keymap]\n"browse.toggle" = "x"\n'
    )
    s = load_settings(paths)
    assert (s.theme, s.mouse, s.bell, s.keymap) == (
        "ansi-dark",
        False,
        False,
        {"browse.toggle": "x"},
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("colour = 1\n", "colour: is not a setting"),
        ("mouse = 'no'\n", "mouse: must be true or false"),
        ("notify = 1\n", "notify: must be true or false"),
        ("theme = 3\n", "theme: must be a theme name"),
        ("keymap = 'x'\n", "keymap: must be a table"),
        ("theme = \n", "is not valid TOML"),
    ],
)
def test_settings_refuse_bad_files_with_file_key_and_fix(tmp_path, text, words):
    paths = Paths.under(tmp_path)
    path = write(paths, text)
    with pytest.raises(ConfigError) as e:
        load_settings(paths)
    assert words in str(e.value)
    assert str(path) in str(e.value)


def test_debug_log_redacts_tokens_and_headers(tmp_path):
    register_secret(TOKEN)
    path = enable_debug_log(tmp_path / "log")
    log = logging.getLogger("sbexport_tui.test")
    log.debug("sending with token %s", TOKEN)
    log.debug("headers {'X-SBG-Auth-Token': 'abcdef123456'}")
    try:
        raise ValueError(f"boom {TOKEN}")
    except ValueError:
        log.exception("failed")
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for h in list(logger.handlers):
            logger.removeHandler(h)
            h.close()
        logger.setLevel(logging.NOTSET)
    text = path.read_text()
    assert TOKEN not in text and "abcdef123456" not in text
    assert text.count("<redacted>") >= 3
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert redact(f"x {TOKEN} y") == "x <redacted> y"


def test_locale_warning_only_when_not_utf8():
    from sbexport_tui.terminal import terminal_warnings

    assert terminal_warnings({"LANG": "en_US.UTF-8"}) == []
    assert terminal_warnings({"LC_ALL": "C.utf8", "LANG": "C"}) == []
    assert "not UTF-8" in terminal_warnings({"LC_ALL": "C", "LANG": "en_US.UTF-8"})[0]
    assert "not set" in terminal_warnings({})[0]


def test_save_preset_writes_the_profile_export_preset(tmp_path):
    from sbexport_tui.config import EnvSource, Profile, ProfileStore, load_profiles
    from sbexport_tui.export.plan import ExportOptions
    from sbexport_tui.session import open_session

    paths = Paths.under(tmp_path)
    ProfileStore(paths).add(Profile("lab", "aws-us", EnvSource("LAB_TOKEN")))
    session = open_session(load_profiles(paths).config.get("lab"), paths, {"LAB_TOKEN": TOKEN})
    assert session.preset is not None and session.preset.location == "{project}/{path}"
    session.save_preset(
        ExportOptions("lab/out", "{name}", "move", "rename", "aws:kms", "kid", "private")
    )
    saved = load_profiles(paths).config.get("lab").export
    assert (saved.volume, saved.location, saved.mode, saved.on_conflict) == (
        "lab/out",
        "{name}",
        "move",
        "rename",
    )
    assert (saved.sse_algorithm, saved.kms_key_id, saved.canned_acl) == (
        "aws:kms",
        "kid",
        "private",
    )
    assert TOKEN not in (paths.profiles_file).read_text()
