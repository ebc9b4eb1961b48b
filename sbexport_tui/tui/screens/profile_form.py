"""The profile form: name, region (built-in or a custom API URL) and where the token comes from.

A pasted token goes to a private 0600 file (`config.write_token_file`), never into profiles.toml,
and its Input is a password field. Every error is shown inline, in the words of the config layer
(which never repeats a value the user typed).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from ...config import (
    REGIONS,
    CommandSource,
    ConfigError,
    CredentialsSource,
    EnvSource,
    FileSource,
    Paths,
    Profile,
    ProfileStore,
    Secret,
    credentials_path,
    normalize_api_url,
    resolve_region,
    validate_profile_name,
    write_token_file,
)
from ...config.models import TokenSource
from ..widgets.table import plain

CUSTOM = "custom"

SOURCE_CHOICES: list[tuple[str, str]] = [
    ("Credentials file profile", "credentials"),
    ("Environment variable", "env"),
    ("Command that prints it", "command"),
    ("Paste it (kept in a 0600 file)", "paste"),
]

SOURCE_HINTS = {
    "credentials": "Reads auth_token from that [section] of ~/.sevenbridges/credentials, in "
    "place (never copied).",
    "env": "The name of the variable (e.g. SB_AUTH_TOKEN), not the token.",
    "command": "Runs without a shell; its output is the token, e.g. pass show sevenbridges.",
    "paste": "Stored in a private file under the config folder; never in profiles.toml.",
}

DETAIL_LABELS = {
    "credentials": "Section",
    "env": "Variable",
    "command": "Command",
    "paste": "Token",
}


def default_source(env: Mapping[str, str] | None) -> str:
    """The token source a new profile starts with: one that works here. The credentials file
    when there is one, else $SB_AUTH_TOKEN when it is set, else a token pasted once."""
    if credentials_path(None, env).is_file():
        return "credentials"
    if (os.environ if env is None else env).get("SB_AUTH_TOKEN"):
        return "env"
    return "paste"


def region_options() -> list[tuple[str, str]]:
    return [(f"{r.name} ({r.id})", r.id) for r in REGIONS.values()] + [("Custom URL…", CUSTOM)]


class ProfileFormScreen(ModalScreen[str | None]):
    """New or edit. Dismisses with the saved profile's name, or None when cancelled."""

    DEFAULT_CSS = """
    ProfileFormScreen .name-hint {
        padding-left: 12;
    }
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="profile_form.save"),
        Binding("escape", "cancel", "Cancel", id="profile_form.cancel"),
    ]

    def __init__(
        self,
        paths: Paths,
        env: Mapping[str, str] | None = None,
        profile: Profile | None = None,
    ) -> None:
        super().__init__()
        self.paths = paths
        self.env = env
        self.original = profile

    # ---- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        p = self.original
        region = p.resolved_region if p else None
        region_value = (region.id if not region.custom else CUSTOM) if region else "aws-us"
        url_value = region.api_url if region and region.custom else ""
        source = p.token if p else None
        kind = {
            CredentialsSource: "credentials",
            EnvSource: "env",
            CommandSource: "command",
            FileSource: "paste",
        }.get(type(source)) or default_source(self.env)
        title = f"Edit profile {p.name}" if p else "New profile"
        with VerticalScroll(id="form-box"):
            yield Static(plain(title, "bold"), id="form-title")
            with Horizontal(classes="form-row"):
                yield Label("Name", classes="form-label")
                yield Input(
                    value=p.name if p else "",
                    placeholder="e.g. lab or cgc-main",
                    id="form-name",
                    compact=True,
                    disabled=p is not None,
                    max_length=64,
                )
            if p is not None:
                yield Static(
                    "The name is changed with r (rename) on the profiles list.",
                    id="name-hint",
                    classes="form-hint name-hint",
                    markup=False,
                )
            with Horizontal(classes="form-row"):
                yield Label("Region", classes="form-label")
                yield Select(
                    region_options(),
                    value=region_value,
                    allow_blank=False,
                    id="form-region",
                    compact=True,
                )
            with Horizontal(classes="form-row", id="url-row"):
                yield Label("API URL", classes="form-label")
                yield Input(
                    value=url_value,
                    placeholder="https://api.example.com/v2",
                    id="form-url",
                    compact=True,
                )
            yield Static("", id="url-error", classes="form-error", markup=False)
            with Horizontal(classes="form-row", id="source-row"):
                yield Label("Token from", classes="form-label")
                yield Select(
                    [(label, value) for label, value in SOURCE_CHOICES],
                    value=kind,
                    allow_blank=False,
                    id="form-source",
                    compact=True,
                )
            with Horizontal(classes="form-row detail-row", id="row-credentials"):
                yield Label(DETAIL_LABELS["credentials"], classes="form-label")
                yield Input(
                    value=source.profile if isinstance(source, CredentialsSource) else "default",
                    placeholder="default",
                    id="form-credentials",
                    compact=True,
                )
            with Horizontal(classes="form-row detail-row", id="row-env"):
                yield Label(DETAIL_LABELS["env"], classes="form-label")
                yield Input(
                    value=source.var if isinstance(source, EnvSource) else "SB_AUTH_TOKEN",
                    placeholder="SB_AUTH_TOKEN",
                    id="form-env",
                    compact=True,
                )
            with Horizontal(classes="form-row detail-row", id="row-command"):
                yield Label(DETAIL_LABELS["command"], classes="form-label")
                yield Input(
                    value=source.command if isinstance(source, CommandSource) else "",
                    placeholder="pass show sevenbridges",
                    id="form-command",
                    compact=True,
                )
            with Horizontal(classes="form-row detail-row", id="row-paste"):
                yield Label(DETAIL_LABELS["paste"], classes="form-label")
                yield Input(
                    password=True,
                    placeholder=(
                        "leave empty to keep the stored token"
                        if isinstance(source, FileSource)
                        else "paste the developer token"
                    ),
                    id="form-paste",
                    compact=True,
                )
            yield Static("", id="source-hint", classes="form-hint", markup=False)
            yield Static("", id="form-error", classes="form-error", markup=False)
            yield Static(
                "Tab: next field · Enter: open a list / save · Ctrl+S: save · Esc: cancel",
                classes="form-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#form-error").display = False
        self._show_region()
        self._show_source()
        # The first field that can be changed: Name for a new profile; for an edited one, Region
        # (its name is changed by a rename, which also moves its token file).
        first = next((w for w in self.query("Input, Select") if w.focusable), None)
        if first is not None:
            first.focus()

    # ---- showing the right fields -----------------------------------------------------------
    @property
    def region_choice(self) -> str:
        return str(self.query_one("#form-region", Select).value)

    @property
    def source_choice(self) -> str:
        return str(self.query_one("#form-source", Select).value)

    def _show_region(self) -> None:
        custom = self.region_choice == CUSTOM
        self.query_one("#url-row").display = custom
        self.query_one("#url-error").display = custom
        if custom:
            self._check_url()

    def _show_source(self) -> None:
        kind = self.source_choice
        for row in self.query(".detail-row"):
            row.display = row.id == f"row-{kind}"
        self.query_one("#source-hint", Static).update(plain(SOURCE_HINTS.get(kind, "")))

    @on(Select.Changed, "#form-region")
    def _region_changed(self) -> None:
        self._show_region()

    @on(Select.Changed, "#form-source")
    def _source_changed(self) -> None:
        self._show_source()

    @on(Input.Changed, "#form-url")
    def _url_changed(self) -> None:
        self._check_url()

    def _check_url(self) -> str | None:
        """The normalized custom URL, or None (the reason shown under the field)."""
        box = self.query_one("#url-error", Static)
        value = self.query_one("#form-url", Input).value.strip()
        box.remove_class("ok")
        if not value:
            box.update(plain("Write the API URL, ending in /v2"))
            return None
        try:
            url = normalize_api_url(value)
        except ConfigError as e:
            box.update(plain(str(e)))
            return None
        box.add_class("ok")
        box.update(plain("OK: " + url))
        return url

    # ---- saving -----------------------------------------------------------------------------
    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _error(self, text: str) -> None:
        box = self.query_one("#form-error", Static)
        box.display = True
        box.update(plain(text))

    def _value(self, widget_id: str) -> str:
        return self.query_one(widget_id, Input).value.strip()

    def action_save(self) -> None:
        try:
            name = self._save()
        except ConfigError as e:
            self._error(str(e))
            return
        except OSError as e:
            from ...storage_errors import storage_message

            self._error(f"Could not write the profile: {storage_message(e)}")
            return
        self.dismiss(name)

    def _region_setting(self) -> str:
        if self.region_choice != CUSTOM:
            return self.region_choice
        value = self._value("#form-url")
        if not value:
            raise ConfigError("the API URL is empty", fix="Write the API URL, ending in /v2")
        return resolve_region(value).setting

    def _save(self) -> str:
        original = self.original
        name = original.name if original else self._value("#form-name")
        if original is None:
            validate_profile_name(name)
        region = self._region_setting()
        kind = self.source_choice
        token: str | None = None
        source: TokenSource
        if kind == "credentials":
            old = original.token if original is not None else None
            path = old.path if isinstance(old, CredentialsSource) else None
            source = CredentialsSource(profile=self._value("#form-credentials"), path=path)
        elif kind == "env":
            source = EnvSource(var=self._value("#form-env"))
        elif kind == "command":
            source = CommandSource(command=self._value("#form-command"))
        else:
            token = self.query_one("#form-paste", Input).value.strip() or None
            if token is None:
                if original is not None and isinstance(original.token, FileSource):
                    source = original.token
                else:
                    raise ConfigError(
                        "the token is empty",
                        fix="Paste the developer token from the Platform's developer page",
                    )
            else:
                # A placeholder until the token is written (validated first, below).
                source = FileSource(f"tokens/{name or 'x'}.token")
        if original is None:
            profile = Profile(name=name, region=region, token=source)
        else:
            profile = replace(original, region=region, token=source)
        store = ProfileStore(self.paths, self.env)
        if original is None:
            store.add(profile, token=Secret(token) if token is not None else None)
        else:
            if token is not None:
                source = write_token_file(self.paths, profile.name, Secret(token))
            store.edit(profile.name, region=profile.region, token=source)
        return profile.name
