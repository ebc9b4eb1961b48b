"""profiles.toml written by hand, truncated, corrupted or hostile: always a ConfigError that names
the file, the key and a fix; never a traceback from deeper down."""

from __future__ import annotations

import os

import pytest

from sbexport_tui.config import ConfigError, Paths, load_profiles

GOOD = """\
default_profile = "lab"

[profiles.lab]
region = "aws-us"
token = { source = "env", var = "LAB_TOKEN" }

[profiles.lab.export]
mode = "copy"
"""


def load_error(paths: Paths, content: str | bytes) -> ConfigError:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    paths.profiles_file.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_profiles(paths)
    err = info.value
    assert err.file == paths.profiles_file
    assert str(paths.profiles_file) in str(err)
    assert err.fix, "every error says how to fix it"
    return err


def test_the_good_file_loads(paths: Paths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.profiles_file.write_text(GOOD)
    config, warnings = load_profiles(paths)
    assert warnings == []
    assert config.get("lab").token.var == "LAB_TOKEN"  # type: ignore[union-attr]
    assert config.default_profile == "lab"


def test_garbage_bytes(paths: Paths) -> None:
    err = load_error(paths, bytes(range(256)) * 4)
    assert "not UTF-8" in str(err) or "binary" in str(err)


def test_nul_bytes(paths: Paths) -> None:
    err = load_error(paths, GOOD.encode() + b"\x00\x00\x00")
    assert "binary" in str(err)


@pytest.mark.parametrize("cut", [10, 30, 60, 100])
def test_truncated_toml(paths: Paths, cut: int) -> None:
    err = load_error(paths, GOOD[:cut])
    assert (
        "not valid TOML" in str(err) or "profiles.lab" in str(err) or "default_profile" in str(err)
    )


def test_invalid_toml_names_the_line(paths: Paths) -> None:
    err = load_error(paths, GOOD + "\nmode = = 3\n")
    assert "not valid TOML" in str(err)
    assert "line 10" in str(err)


def test_huge_file_is_refused_unread(paths: Paths) -> None:
    err = load_error(paths, b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
    assert "more than" in str(err) and "bytes" in str(err)


def test_deeply_nested_file(paths: Paths) -> None:
    err = load_error(paths, "x = " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert "profiles file" in str(err)


def test_a_folder_instead_of_a_file(paths: Paths) -> None:
    paths.profiles_file.mkdir(parents=True)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_profiles(paths)


@pytest.mark.skipif(os.name != "posix", reason="permissions")
def test_unreadable_file(paths: Paths) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    paths.config_dir.mkdir(parents=True)
    paths.profiles_file.write_text(GOOD)
    paths.profiles_file.chmod(0)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_profiles(paths)


@pytest.mark.parametrize(
    ("content", "key", "says"),
    [
        (GOOD + "colour = 'blue'\n", "profiles.lab.export.colour", "not a setting"),
        (
            GOOD.replace("[profiles.lab]", "[profiles.lab]\nregoin = 'x'"),
            "profiles.lab.regoin",
            "Did you mean 'region'",
        ),
        (
            "defualt_profile = 'lab'\n" + GOOD[24:],
            "defualt_profile",
            "Did you mean 'default_profile'",
        ),
        (
            GOOD.replace('var = "LAB_TOKEN"', 'var = "LAB_TOKEN", timeout = 3'),
            "profiles.lab.token.timeout",
            "Known here: source, var",
        ),
        (GOOD.replace('"aws-us"', "5"), "profiles.lab.region", "must be a string, not a number"),
        (
            GOOD.replace('"aws-us"', '"us-east-1"'),
            "profiles.lab.region",
            "neither a known region id",
        ),
        (
            GOOD.replace('"aws-us"', '"http://sb.example.org/v2"'),
            "profiles.lab.region",
            'Write "https://sb.example.org/v2"',
        ),
        (
            GOOD.replace('"aws-us"', '"https://sb.example.org/api"'),
            "profiles.lab.region",
            "path must be /v2",
        ),
        (
            GOOD.replace('"copy"', '"cp"'),
            "profiles.lab.export.mode",
            'must be one of "copy", "move"',
        ),
        (GOOD.replace('"copy"', "true"), "profiles.lab.export.mode", "must be one of"),
        (
            GOOD + "on_conflict = 'yes'\n",
            "profiles.lab.export.on_conflict",
            '"skip", "overwrite", "rename"',
        ),
        (
            GOOD + "sse_algorithm = 'aes256'\n",
            "profiles.lab.export.sse_algorithm",
            '"AES256", "aws:kms", "none"',
        ),
        (
            GOOD + "kms_key_id = 'k'\n",
            "profiles.lab.export.kms_key_id",
            'sse_algorithm = "aws:kms"',
        ),
        (
            GOOD + "canned_acl = 'everyone'\n",
            "profiles.lab.export.canned_acl",
            "bucket-owner-full-control",
        ),
        (GOOD + "volume = 'novolume'\n", "profiles.lab.export.volume", "owner/volume-name"),
        (GOOD + "location = '{path'\n", "profiles.lab.export.location", "unbalanced"),
        (GOOD + "location = '{0.__class__}'\n", "profiles.lab.export.location", "plain names"),
        (
            GOOD + "location = '/abs/{path}'\n",
            "profiles.lab.export.location",
            "must not start with /",
        ),
        (GOOD + "location = 7\n", "profiles.lab.export.location", "must be a string"),
        (
            GOOD.replace('[profiles.lab.export]\nmode = "copy"\n', "") + "export = 3\n",
            "profiles.lab.export",
            "must be a table",
        ),
        (
            GOOD.replace('source = "env"', 'source = "keyring"'),
            "profiles.lab.token.source",
            '"credentials", "env", "command", "file"',
        ),
        (
            GOOD.replace('token = { source = "env", var = "LAB_TOKEN" }\n', ""),
            "profiles.lab.token",
            "is missing",
        ),
        (GOOD.replace('region = "aws-us"\n', ""), "profiles.lab.region", "is missing"),
        (
            GOOD.replace('default_profile = "lab"', 'default_profile = "nope"'),
            "default_profile",
            "Use one of: lab",
        ),
        (
            GOOD.replace('default_profile = "lab"', "default_profile = 1"),
            "default_profile",
            "names no profile",
        ),
        ('profiles = "lab"\n', "profiles", "must be a table"),
        ("version = 2\n", "version", "newer sbexport"),
        ("version = 'one'\n", "version", "Write version = 1"),
        (
            GOOD.replace("[profiles.lab]", '[profiles."bad name"]').replace(
                "[profiles.lab.export]", '[profiles."bad name".export]'
            ),
            'profiles."bad name"',
            "profile name",
        ),
        (
            "[profiles.lab]\nregion = 'aws-us'\n"
            "token = { source = 'command', command = 'x', timeout = -1 }\n",
            "profiles.lab.token.timeout",
            "number of seconds",
        ),
        (
            "[profiles.lab]\nregion = 'aws-us'\ntoken = { source = 'file', path = '../../x' }\n",
            "profiles.lab.token.path",
            "inside the config folder",
        ),
        (
            "[profiles.lab]\nregion = 'aws-us'\ntoken = { source = 'credentials', profile = 3 }\n",
            "profiles.lab.token.profile",
            "must be a string",
        ),
        (
            "[profiles.lab]\nregion = 2024-01-01\ntoken = { source = 'env', var = 'X' }\n",
            "profiles.lab.region",
            "not a date or time",
        ),
        (
            "[profiles.lab]\nregion = \"aws-us\\nx\"\ntoken = { source = 'env', var = 'X' }\n",
            "profiles.lab.region",
            "line break",
        ),
        ("[profiles]\nlab = 1\n", "profiles.lab", "must be a table"),
    ],
)
def test_bad_values_name_the_key_and_the_fix(
    paths: Paths, content: str, key: str, says: str
) -> None:
    err = load_error(paths, content)
    assert err.key == key
    assert f": {key}: " in str(err)
    assert says in str(err)
