"""A profiles context on a fake environment (HOME, SBEXPORT_HOME, tokens) and the in-process sim,
for the profiles screen tests."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from textual.widgets import Input, Select

from sbexport_tui.config import (
    CommandSource,
    CredentialsSource,
    EnvSource,
    Paths,
    Profile,
    ProfilesConfig,
    ProfileStore,
    load_profiles,
)
from sbexport_tui.sim import SimSettings, SimTransport, demo_platform
from sbexport_tui.tui.app import SbexportApp
from sbexport_tui.tui.screens.profile_form import ProfileFormScreen
from sbexport_tui.tui.screens.profiles import (
    ProfilesContext,
    first_screen,
)
from sbexport_tui.tui.widgets.table import SafeTable

TOKEN = "simtoken0123456789abcdefSECRET"
URL = "http://127.0.0.1:9/v2"  # never dialled: the transport is in-process


def sim_transport() -> httpx.AsyncBaseTransport:
    return SimTransport(demo_platform(SimSettings(tokens=[TOKEN], job_seconds=1.0)))


def fake_env(tmp_path: Path, monkeypatch, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"HOME": str(home), "SBEXPORT_HOME": str(home / ".sbexport"), **extra}
    monkeypatch.setenv("HOME", env["HOME"])
    monkeypatch.setenv("SBEXPORT_HOME", env["SBEXPORT_HOME"])
    for var in ("SB_API_ENDPOINT", "SB_AUTH_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    return env


def make_ctx(env: dict[str, str], transport=sim_transport) -> ProfilesContext:
    return ProfilesContext(Paths.from_env(env), env, transport_factory=transport)


def make_app(ctx: ProfilesContext, **kw) -> SbexportApp:
    """The app as `sbexport` starts it: the first screen, and the profiles it switches among."""
    app = SbexportApp(lambda: first_screen(ctx, **kw), theme_name="textual-dark")
    app.profiles_context = ctx
    return app


def seeded_app(env: dict[str, str]) -> tuple[ProfilesContext, SbexportApp]:
    """The app with the three seeded profiles (``seed_profiles``)."""
    ctx = make_ctx(env)
    seed_profiles(ctx)
    return ctx, make_app(ctx)


def seed_profiles(ctx: ProfilesContext) -> None:
    """lab (default, the simulated Platform, token from $LAB_TOKEN), cgc (credentials file),
    eu (command)."""
    store = ProfileStore(ctx.paths, ctx.env)
    store.add(Profile("lab", URL, EnvSource("LAB_TOKEN")))
    store.add(Profile("cgc", "cgc", CredentialsSource("cgc")))
    store.add(Profile("eu", "aws-eu", CommandSource("pass show sevenbridges/eu")))


def write_credentials(env: dict[str, str], text: str) -> Path:
    path = Path(env["HOME"]) / ".sevenbridges" / "credentials"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


CREDENTIALS = f"""\
[default]
api_endpoint = https://api.sbgenomics.com/v2
auth_token = {TOKEN}

[cgc]
api_endpoint = https://cgc-api.sbgenomics.com/v2
auth_token = {TOKEN}

[half]
api_endpoint = https://cavatica-api.sbgenomics.com/v2
"""


def screen_text(app) -> str:
    """Everything on screen, as the SVG export has it (spaces become &#160;)."""
    return app.export_screenshot().replace("&#160;", " ")


def message(app) -> str:
    return str(app.screen.query_one("#message").render())


def rows(app) -> list[list[str]]:
    table = app.screen.query_one(SafeTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def saved(ctx) -> ProfilesConfig:
    return load_profiles(ctx.paths, ctx.env).config


async def fill_form(pilot, *, name=None, region=None, url=None, source=None, detail=None):
    """Fill the open profile form by setting each field (the keys are tested separately)."""
    form = pilot.app.screen
    assert isinstance(form, ProfileFormScreen)
    if name is not None:
        form.query_one("#form-name", Input).value = name
    if region is not None:
        form.query_one("#form-region", Select).value = region
    await pilot.pause()
    if url is not None:
        form.query_one("#form-url", Input).value = url
    if source is not None:
        form.query_one("#form-source", Select).value = source
    await pilot.pause()
    if detail is not None:
        form.query_one(f"#form-{form.source_choice}", Input).value = detail
    await pilot.pause()
