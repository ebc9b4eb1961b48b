"""Pilot tests of the profiles screen, the profile form and the first-run screen.

Nothing real is touched: HOME and SBEXPORT_HOME point into tmp_path, and signing in talks to the
simulated Platform through an in-process transport (no sockets).
"""

from __future__ import annotations

import os
import stat

import httpx
import pytest
from textual.widgets import Input

from sbexport_tui.cli import main
from sbexport_tui.config import (
    EnvSource,
    ExportPreset,
    FileSource,
    Profile,
    ProfileStore,
    load_state,
)
from sbexport_tui.tui.screens.dialogs import ConfirmScreen, PromptScreen
from sbexport_tui.tui.screens.profile_form import ProfileFormScreen
from sbexport_tui.tui.screens.profiles import (
    FirstRunScreen,
    ProfilesScreen,
)
from sbexport_tui.tui.screens.projects import ProjectsScreen
from sbexport_tui.tui.widgets.table import SafeTable

from .pilot import settle
from .profiles_helpers import (
    CREDENTIALS,
    TOKEN,
    URL,
    fake_env,
    fill_form,
    make_app,
    make_ctx,
    message,
    rows,
    saved,
    screen_text,
    seed_profiles,
    seeded_app,
    write_credentials,
)

# ---------------------------------------------------------------- helpers of the tests


SIZE = (80, 24)


# ---------------------------------------------------------------- first run


async def test_first_run_explains_tokens_and_opens_the_demo(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch)
    app = make_app(make_ctx(env))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen)
        text = screen_text(app)
        assert "developer token" in text
        assert "https://cgc.sbgenomics.com/developer" in text
        assert "import its profiles" not in text  # no credentials file
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        assert app.session.demo
        assert "Signed in as demo" in str(app.screen.query_one("#where").render())
        # the demo keeps its files apart
        assert app.session.paths.demo
        assert str(app.session.paths.state_dir).startswith(env["SBEXPORT_HOME"])


async def test_first_run_create_a_profile_then_the_profiles_screen(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    ctx = make_ctx(env)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        # keyboard: name, Tab to the region list, open it and pick "Custom URL…" (the last)
        await pilot.press(*"lab", "tab", "enter")
        await pilot.press(*["down"] * 6, "enter")
        await pilot.press("tab", *URL)
        await pilot.pause()
        assert "OK: " + URL in str(app.screen.query_one("#url-error").render())
        # token from: environment (the list starts at "paste": there is no credentials file)
        await pilot.press("tab", "enter", "up", "up", "enter", "tab")
        await pilot.press("ctrl+u", *"LAB_TOKEN", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        assert rows(app)[0][:3] == ["*", "lab", "127.0.0.1:9"]
        assert rows(app)[0][3] == "env LAB_TOKEN"
        profile = saved(ctx).get("lab")
        assert profile.region == URL and profile.token == EnvSource("LAB_TOKEN")
        assert "Profile lab saved" in message(app)


async def test_first_run_offers_to_import_the_credentials_file(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch)
    write_credentials(env, CREDENTIALS)
    ctx = make_ctx(env)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen)
        assert "import its profiles" in screen_text(app)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        assert [r[1] for r in rows(app)] == ["default", "cgc"]
        text = message(app)
        assert "Imported 2 profiles" in text and "default, cgc" in text
        assert "Skipped 1: [half] it has no auth_token" in text
        assert TOKEN not in screen_text(app)
        # the tokens stay in the credentials file
        assert TOKEN not in ctx.paths.profiles_file.read_text()
        assert saved(ctx).get("cgc").region == "cgc"


# ---------------------------------------------------------------- the profiles screen


async def test_profiles_listed_with_default_and_sources_never_tokens(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    _ctx, app = seeded_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        assert rows(app) == [
            ["*", "lab", "127.0.0.1:9", "env LAB_TOKEN"],
            [
                "",
                "cgc",
                "Cancer Genomics Cloud (CGC)",
                "profile [cgc] of ~/.sevenbridges/credentials",
            ],
            ["", "eu", "Seven Bridges Platform (EU)", "command pass"],
        ]
        text = screen_text(app)
        assert "~/.sbexport/config/profiles.toml" in text
        assert "sevenbridges/eu" not in text  # a command's arguments are not shown
        assert TOKEN not in text


async def test_sign_in_goes_to_projects_and_remembers_the_profile(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    ctx, app = seeded_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        where = str(app.screen.query_one("#where").render())
        assert where == "Signed in as demo on 127.0.0.1:9"
        assert app.session.profile_name == "lab" and not app.session.demo
        assert TOKEN not in screen_text(app)
    state = load_state(ctx.paths)
    assert state.last_profile == "lab" and state.last_region == URL


async def test_t_tests_the_connection_and_stays(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    _ctx, app = seeded_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        assert message(app) == "Connection OK: Signed in as demo on 127.0.0.1:9"
        assert app.session is None


async def test_wrong_token_shows_the_401_in_plain_words_and_stays(tmp_path, monkeypatch):
    wrong = "wrongtoken99887766WRONG"
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=wrong)
    _ctx, app = seeded_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        text = message(app)
        assert text.startswith("The token was refused by 127.0.0.1:9 (401)")
        assert "make a new developer token" in text
        assert app.screen.query_one("#message").has_class("failed")
        screen = screen_text(app)
        assert wrong not in screen and TOKEN not in screen
        assert app.session is None


def _failing(handler):
    return lambda: httpx.MockTransport(handler)


async def test_no_network_wrong_url_and_proxy_page_are_told_apart(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)

    def dns(request):
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    def not_found(request):
        body = {"status": 404, "code": 90003, "message": "Not found", "more_info": ""}
        return httpx.Response(404, json=body)

    def proxy(request):
        return httpx.Response(200, html="<html><body>Log in to the proxy</body></html>")

    cases = [
        (dns, "Cannot reach 127.0.0.1:9: the host name was not found (DNS).\nCould not connect"),
        (not_found, f"Nothing answers at {URL} (404): wrong region or API URL?"),
        (proxy, "Something other than the Platform answered at 127.0.0.1:9"),
    ]
    for handler, expected in cases:
        ctx = make_ctx(env, transport=_failing(handler))
        if not ctx.paths.profiles_file.exists():
            seed_profiles(ctx)
        app = make_app(ctx)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("t")
            await settle(pilot)
            assert message(app).startswith(expected), message(app)
            assert TOKEN not in screen_text(app)


async def test_token_source_failure_is_explained(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch)  # LAB_TOKEN not set
    _ctx, app = seeded_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        text = message(app)
        assert text.startswith("Could not get the token.")
        assert "environment variable LAB_TOKEN is not set" in text


async def test_new_profile_with_a_pasted_token_keeps_it_in_a_private_file(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch)
    ctx, app = seeded_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await fill_form(pilot, name="sim", region="custom", url=URL, source="paste")
        form = app.screen
        token_box = form.query_one("#form-paste", Input)
        assert token_box.password
        token_box.focus()
        await pilot.press(*TOKEN)
        assert TOKEN not in screen_text(app)  # the field shows dots
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        assert TOKEN not in screen_text(app)
        profile = saved(ctx).get("sim")
        assert profile.token == FileSource("tokens/sim.token")
        token_file = ctx.paths.token_file("sim")
        assert token_file.read_text().strip() == TOKEN
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert TOKEN not in ctx.paths.profiles_file.read_text()
        # and it signs in
        app.screen.query_one(SafeTable).move_cursor(row=[r[1] for r in rows(app)].index("sim"))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)


async def test_form_errors_are_inline_and_plain(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    ctx, app = seeded_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        await fill_form(pilot, name="bad name!", source="env", detail="LAB_TOKEN")
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(form.query_one("#form-error").render())
        assert "a profile name is 1-64 letters, digits, '-' or '_'" in error
        await fill_form(pilot, name="lab")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "A profile named 'lab' already exists" in str(form.query_one("#form-error").render())
        # http to a host that is not this machine: said under the URL field at once
        await fill_form(pilot, name="new1", region="custom", url="http://example.com/v2")
        url_error = str(form.query_one("#url-error").render())
        assert "token would travel unencrypted" in url_error
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ProfileFormScreen)
        # the paste field refuses an empty token
        await fill_form(pilot, url=URL, source="paste")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "The token is empty" in str(form.query_one("#form-error").render())
        # markup in what the user typed is shown as is
        await fill_form(pilot, source="command", detail="[bold]unclosed 'quote")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "cannot be split into words" in str(form.query_one("#form-error").render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        assert "new1" not in saved(ctx)


async def test_edit_changes_region_and_source_keeps_the_export_preset(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    ctx = make_ctx(env)
    seed_profiles(ctx)
    store = ProfileStore(ctx.paths, ctx.env)
    store.edit("cgc", export=ExportPreset(volume="me/results", mode="move"))
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ProfileFormScreen)
        assert form.query_one("#form-name", Input).disabled
        assert form.query_one("#form-credentials", Input).value == "cgc"
        await fill_form(pilot, region="cavatica", source="env", detail="CGC_TOKEN")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        profile = saved(ctx).get("cgc")
        assert profile.region == "cavatica"
        assert profile.token == EnvSource("CGC_TOKEN")
        assert profile.export == ExportPreset(volume="me/results", mode="move")
        assert rows(app)[1] == ["", "cgc", "CAVATICA", "env CGC_TOKEN"]


async def test_rename_moves_the_token_file(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch)
    ctx = make_ctx(env)
    store = ProfileStore(ctx.paths, ctx.env)
    store.add(Profile("lab", URL, EnvSource()), token=TOKEN)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"lab-2", "enter")  # the old name is selected: typing replaces it
        await settle(pilot)
        assert [r[1] for r in rows(app)] == ["lab-2"]
        assert rows(app)[0][0] == "*"
        assert "Renamed lab to lab-2" in message(app)
        assert ctx.paths.token_file("lab-2").read_text().strip() == TOKEN
        assert not ctx.paths.token_file("lab").exists()
        # a bad name is refused in plain words
        await pilot.press("r", *"no way", "enter")
        await settle(pilot)
        assert "Could not rename" in message(app)
        assert [r[1] for r in rows(app)] == ["lab-2"]


async def test_delete_asks_first_showing_the_name(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    ctx, app = seeded_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Delete profile cgc?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert "cgc" in saved(ctx)
        assert "Kept cgc" in message(app)
        await pilot.press("d", "y")
        await settle(pilot)
        assert saved(ctx).names() == ["lab", "eu"]
        assert [r[1] for r in rows(app)] == ["lab", "eu"]
        assert "Deleted profile cgc" in message(app)


async def test_star_and_D_set_the_default(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    ctx, app = seeded_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "asterisk")
        await settle(pilot)
        assert saved(ctx).default_profile == "cgc"
        assert [r[0] for r in rows(app)] == ["", "*", ""]
        await pilot.press("down", "D")
        await settle(pilot)
        assert saved(ctx).default_profile == "eu"
        assert [r[0] for r in rows(app)] == ["", "", "*"]


async def test_import_from_the_profiles_screen_reports_added_and_skipped(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    _ctx, app = seeded_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert "Could not import" in message(app)  # no credentials file yet
        assert "~/.sevenbridges/credentials" in message(app)
        write_credentials(env, CREDENTIALS)
        await pilot.press("i")
        await settle(pilot)
        # [cgc] is already used by the cgc profile; [default] is new
        assert [r[1] for r in rows(app)] == ["lab", "cgc", "eu", "default"]
        text = message(app)
        assert "Imported 1 profile from" in text and "[cgc] already imported" in text
        await pilot.press("i")
        await settle(pilot)
        assert message(app).startswith("Imported 0 profiles")


async def test_a_malformed_profiles_file_is_shown_and_kept_aside_on_create(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    ctx = make_ctx(env)
    ctx.paths.config_dir.mkdir(parents=True)
    ctx.paths.profiles_file.write_text('version = 1\n[profiles.lab]\nregion = "aws-us\n')
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        error = str(app.screen.query_one("#config-error").render())
        assert "The profiles file cannot be used" in error
        assert "is not valid TOML" in error
        assert "Traceback" not in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ProfileFormScreen)
        kept = list(ctx.paths.config_dir.glob("profiles.toml.broken-*"))
        assert len(kept) == 1 and "aws-us" in kept[0].read_text()
        await fill_form(
            pilot, name="lab", region="custom", url=URL, source="env", detail="LAB_TOKEN"
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not app.screen.query_one("#config-error").display
        assert saved(ctx).names() == ["lab"]


async def test_bad_key_in_profiles_file_names_the_key(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch)
    ctx = make_ctx(env)
    ctx.paths.config_dir.mkdir(parents=True)
    ctx.paths.profiles_file.write_text(
        'version = 1\n[profiles.lab]\nregion = "aws-us"\ntoken = "[red]abc"\n'
    )
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        error = str(app.screen.query_one("#config-error").render())
        assert "profiles.lab.token" in error and "not the token itself" in error
        assert "[red]abc" not in screen_text(app)


# ---------------------------------------------------------------- --profile, the environment


async def test_profile_option_signs_in_at_once(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    ctx = make_ctx(env)
    seed_profiles(ctx)
    app = make_app(ctx, profile="lab")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        assert app.session.profile_name == "lab"


async def test_profile_option_failing_shows_the_profiles_screen_with_why(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN="notthetoken123")
    ctx = make_ctx(env)
    seed_profiles(ctx)
    app = make_app(ctx, profile="lab")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        assert "(401)" in message(app)
    app = make_app(ctx, profile="nope")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert message(app) == "There is no profile named 'nope' (profiles: lab, cgc, eu)."
    app = make_app(ctx, profile="lab", region="somewhere")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert message(app).startswith("--region cannot be used")


async def test_profile_option_with_region_override(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    ctx = make_ctx(env)
    store = ProfileStore(ctx.paths, ctx.env)
    store.add(Profile("lab", "aws-us", EnvSource("LAB_TOKEN")))
    app = make_app(ctx, profile="lab", region=URL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        assert app.session.region_label == "127.0.0.1:9"


async def test_environment_profile_is_listed_first_and_signs_in(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, SB_API_ENDPOINT=URL, SB_AUTH_TOKEN=TOKEN)
    ctx = make_ctx(env)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)  # not the first-run screen
        assert rows(app) == [
            ["", "(environment)", "127.0.0.1:9", "env SB_API_ENDPOINT + SB_AUTH_TOKEN"]
        ]
        await pilot.press("e")
        assert "change those variables instead" in message(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)


async def test_half_set_environment_is_a_warning(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, SB_AUTH_TOKEN=TOKEN)
    app = make_app(make_ctx(env))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        warning = str(app.screen.query_one("#warnings").render())
        assert "SB_AUTH_TOKEN is set but SB_API_ENDPOINT is not" in warning
        assert TOKEN not in screen_text(app)


def test_cli_region_needs_profile(capsys):
    with pytest.raises(SystemExit):
        main(["--region", "cgc"])
    assert "--region goes with --profile" in capsys.readouterr().err


async def test_permission_warnings_are_shown(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    ctx = make_ctx(env)
    seed_profiles(ctx)
    os.chmod(write_credentials(env, CREDENTIALS), 0o644)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        warnings = app.screen.query_one("#warnings")
        assert warnings.display
        assert "credentials" in str(warnings.render())
        assert TOKEN not in screen_text(app)


async def test_first_run_footer_and_text_name_the_same_key_for_the_demo(tmp_path, monkeypatch):
    from .pilot import footer_keys

    env = fake_env(tmp_path, monkeypatch)
    app = make_app(make_ctx(env))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "d Try the demo" in footer_keys(app)
        text = str(app.screen.query_one("#first-run-text").render())
        assert "\nd  try the demo" in text


async def test_new_profile_starts_with_a_token_source_that_works_here(tmp_path, monkeypatch):
    """No ~/.sevenbridges/credentials: the token is pasted (not a file that is not there);
    $SB_AUTH_TOKEN set: that variable; with the file: the file."""
    env = fake_env(tmp_path, monkeypatch)
    for extra, expected in (({}, "paste"), ({"SB_AUTH_TOKEN": "x"}, "env")):
        app = make_app(make_ctx({**env, **extra}))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            # SB_AUTH_TOKEN alone is half an environment profile: the profiles screen says so
            assert isinstance(app.screen, ProfilesScreen if extra else FirstRunScreen)
            await pilot.press("n")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, ProfileFormScreen)
            assert form.source_choice == expected
            assert form.query_one(f"#row-{expected}").display
    write_credentials(env, CREDENTIALS)
    app = make_app(make_ctx(env))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.source_choice == "credentials"


async def test_both_forms_focus_the_first_field_that_can_be_changed(tmp_path, monkeypatch):
    """New: Name. Edit: the name is changed by a rename (r), so the form says so and starts at
    Region, its first field that can be changed."""
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    _ctx, app = seeded_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, first in (("n", "form-name"), ("e", "form-region")):
            await pilot.press(key)
            await settle(pilot)
            form = app.screen
            assert isinstance(form, ProfileFormScreen)
            changeable = [w for w in form.query("Input, Select") if w.focusable]
            assert form.focused is changeable[0]
            assert form.focused.id == first
            await pilot.press("escape")
            await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert "changed with r (rename)" in screen_text(app)


async def test_enter_on_the_first_run_screen_opens_the_demo(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch)
    app = make_app(make_ctx(env))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        assert app.sub_title.startswith("DEMO")


async def test_esc_from_a_demo_opened_on_the_welcome_screen_goes_back_to_it(tmp_path, monkeypatch):
    """A first run: d opens the demo; Esc (and q) on its projects lead back to the welcome
    screen, not to a toast about --demo, which the user never typed (issue 27, item 1)."""
    env = fake_env(tmp_path, monkeypatch)
    app = make_app(make_ctx(env))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("escape", "q"):
            await pilot.press("d")
            await settle(pilot)
            assert isinstance(app.screen, ProjectsScreen) and app.demo
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, FirstRunScreen), key
            assert not app.demo and app.session is None
            assert not app.sub_title.startswith("DEMO")
            assert "only its own profile" not in screen_text(app)
        await pilot.press("q")  # and q on the welcome screen leaves the app
        await settle(pilot)
    assert app.return_code == 0 and not app.is_running


async def test_switch_profile_goes_back_to_the_profiles_with_a_fresh_selection(
    tmp_path, monkeypatch
):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    _ctx, app = seeded_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        await pilot.press("space")  # marks the whole batches/ folder
        await settle(pilot)
        assert len(app.selection) > 100
        await pilot.press("J")  # the jobs pane of this profile, then switch from there
        await settle(pilot)
        assert app.current_mode == "jobs" and app.jobs_pane is not None
        pane = app.jobs_pane
        app.action_switch_profile()
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        assert app.session is None and len(app.selection) == 0
        # the old profile's pane is gone with its session; the next J makes a new one
        assert app.current_mode == "main" and app.jobs_pane is None
        assert not pane.is_running and pane.timer is None


async def test_a_restart_says_at_once_which_profile_has_open_jobs(tmp_path, monkeypatch):
    """After an SSH drop the profiles screen names the profile with open jobs, how many, and
    that Enter resumes watching them; its row is the one selected."""
    from sbexport_tui.api import Volume
    from sbexport_tui.export import ExportOptions, Journal, build_plan
    from sbexport_tui.sim import BASE_URL_INPROCESS, demo_platform

    from .jobs_helpers import CHUNKS, EAST, TODAY, folder_files

    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    ctx = make_ctx(env)
    seed_profiles(ctx)
    platform = demo_platform()
    volume = Volume.model_validate(platform.world.volumes[EAST].record(BASE_URL_INPROCESS))
    plan = build_plan(folder_files(platform, CHUNKS, 3), volume, ExportOptions(EAST), today=TODAY)
    ctx.paths.journal_file.parent.mkdir(parents=True, exist_ok=True)
    with Journal(ctx.paths.journal_file) as journal:
        run_id = journal.create_run(plan, profile="eu", api_base_url=URL)
        journal.mark_submitting(run_id, [0, 1, 2])  # the session dropped mid-send
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert (
            message(app)
            == "eu has 3 export jobs still open: Enter signs in and watches them again."
        )
        names = [r[1] for r in rows(app)]
        table = app.screen.query_one("#profiles-table")
        assert names[table.cursor_row] == "eu"


async def test_the_demo_opened_from_the_first_run_screen_says_when_its_world_was_reset(
    tmp_path, monkeypatch
):
    from sbexport_tui.config.paths import Paths

    env = fake_env(tmp_path, monkeypatch)
    ctx = make_ctx(env)
    world = Paths.for_demo(env=ctx.env).demo_world_file
    world.parent.mkdir(parents=True, exist_ok=True)
    world.write_bytes(b"{not json\n")  # a demo world that cannot be read
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        said = [n.message for n in app.said if n.title == "Demo"]
        assert len(said) == 1 and "could not be read" in said[0]


async def test_esc_on_the_projects_goes_back_to_the_profiles(tmp_path, monkeypatch):
    env = fake_env(tmp_path, monkeypatch, LAB_TOKEN=TOKEN)
    _ctx, app = seeded_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProjectsScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen) and app.session is None
