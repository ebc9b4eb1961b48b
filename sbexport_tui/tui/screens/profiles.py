"""Profiles: the first screen of `sbexport` (without --demo). Pick a profile and sign in.

Also the first-run screen (no profiles yet): what a developer token is, where to get one, and a
way into the demo. Network work (the `get_user()` check, and `c`: the doctor's read-only check
of how the profile's Platform behaves) runs in a worker; the token is never shown, and every
string from a file, the user or the server is shown as plain text.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static

from ...api.client import RetryPolicy
from ...api.errors import (
    AuthError,
    BadResponse,
    NetworkError,
    NotFound,
    PlatformError,
    network_cause,
    plain_cause,
)
from ...config import (
    ENVIRONMENT_PROFILE_NAME,
    REGIONS,
    CommandSource,
    ConfigError,
    EnvSource,
    FileSource,
    ImportResult,
    Paths,
    Profile,
    ProfilesConfig,
    ProfileStore,
    credentials_path,
    environment_profile,
    load_profiles,
    load_state,
    remember_last_used,
)
from ...export.doctor import BUDGET, Report, apply_learned, load_learned, run_doctor, save_report
from ...export.journal import Journal, JournalError, open_jobs_by_profile
from ...session import Session, open_session
from ..format import plural
from ..widgets.footer import AppFooter
from ..widgets.table import SafeTable, plain
from .base import app_of
from .dialogs import ConfirmScreen, PromptScreen

TransportFactory = Callable[[], httpx.AsyncBaseTransport]

# Signing in should answer quickly: two tries, short waits, no waiting out a maintenance window.
SIGNIN_RETRY = RetryPolicy(attempts=2, backoff_base=0.5, backoff_max=2.0, maintenance_max=0.0)


KEYS_HINT = "Enter signs in · t tests · r renames · * sets the default · ? all keys"


@dataclass
class ProfilesContext:
    """What the profile screens share: where the files are, the environment, and (for tests) an
    in-process transport so signing in needs no sockets."""

    paths: Paths
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    transport_factory: TransportFactory | None = None

    def transport(self) -> httpx.AsyncBaseTransport | None:
        return self.transport_factory() if self.transport_factory else None

    @property
    def home(self) -> str:
        return self.env.get("HOME") or str(Path.home())

    def tilde(self, text: str) -> str:
        """`/home/me/x` -> `~/x` (shorter, and the same on every machine for snapshots)."""
        home = self.home.rstrip("/")
        if home and (text == home or text.startswith(home + "/")):
            return "~" + text[len(home) :]
        return text.replace(home + "/", "~/") if home else text

    def store(self) -> ProfileStore:
        return ProfileStore(self.paths, self.env)


def region_label(profile: Profile) -> str:
    region = profile.resolved_region
    return urlsplit(region.api_url).netloc if region.custom else region.name


def source_label(profile: Profile) -> str:
    """Where the token comes from, short (never the token; a command without its arguments)."""
    src = profile.token
    if profile.name == ENVIRONMENT_PROFILE_NAME:
        return "env SB_API_ENDPOINT + SB_AUTH_TOKEN"
    if isinstance(src, EnvSource):
        return f"env {src.var}"
    if isinstance(src, CommandSource):
        return f"command {src.program}"
    if isinstance(src, FileSource):
        return f"file {src.path}"
    return src.describe()


def describe_failure(error: BaseException, profile: Profile) -> str:
    """A sign-in failure in plain words: what probably went wrong, then the detail (for an
    answer, or none, of the Platform: on a line of its own, the request's URL last)."""
    where = region_label(profile)
    if isinstance(error, ConfigError):
        head = "Could not get the token"
    elif isinstance(error, AuthError):
        head = f"The token was refused by {where} (401): wrong, expired or revoked token"
    elif isinstance(error, NotFound):
        head = f"Nothing answers at {profile.api_url} (404): wrong region or API URL?"
    elif isinstance(error, NetworkError):
        head = f"Cannot reach {where}: {network_cause(error)}"
    elif isinstance(error, BadResponse):
        head = f"Something other than the Platform answered at {where} (a proxy or login page?)"
    elif isinstance(error, PlatformError):
        head = f"Sign-in to {where} failed"
    else:
        head = f"Sign-in failed ({type(error).__name__})"
    if isinstance(error, PlatformError):
        return f"{head}.\n{plain_cause(error).details}"
    detail = str(error).strip()
    return f"{head}. {detail[:1].upper() + detail[1:]}" if detail else head + "."


def check_failure(error: BaseException, profile: Profile) -> str:
    """Why the doctor could not run, on one plain line (the sign-in's words, its first line)."""
    if isinstance(error, (ConfigError, PlatformError)):
        head = describe_failure(error, profile).splitlines()[0]
    else:  # not the Platform's answer: what stopped the check, never its traceback
        detail = str(error).strip().splitlines()[:1]
        head = f"{type(error).__name__}: {detail[0]}" if detail else type(error).__name__
    return f"Could not check {profile.name}: {head}"


def open_journal(path: Path) -> Journal | None:
    """The journal when there is one (the doctor reads what it sent); never made here, and
    None when it cannot be read (the doctor then asks only the Platform)."""
    if not path.exists():
        return None
    try:
        return Journal(path)
    except JournalError:
        return None


def last_target(journal: Journal | None, profile: str) -> tuple[str | None, str | None]:
    """(project, volume) of the profile's most recent run in the journal, or (None, None)."""
    if journal is None:
        return None, None
    try:
        run = next((r for r in journal.runs(limit=50) if r.profile == profile), None)
        if run is None:
            return None, None
        items = journal.items(run.id, limit=1)
    except JournalError:
        return None, None
    return (items[0].project if items else None), run.volume


def learned_text(report: Report) -> str:
    paging = report.learned.get("file_paging")
    if paging == "scroll":
        return " (files are paged by scroll: this Platform refused offsets past 1,000)"
    return ""


def reports_folder(paths: Paths) -> Path:
    from .jobs_data import reports_dir

    return reports_dir(paths)


def profiles_file_problem(error: ConfigError) -> str:
    return (
        f"The profiles file cannot be used: {error}\n"
        "You can still import (i) or create (n) a profile: the broken file is then kept "
        "beside it as profiles.toml.broken-<time>."
    )


# ---------------------------------------------------------------- small modals


# ---------------------------------------------------------------- the profiles screen


class ProfilesScreen(Screen[None]):
    HELP_TITLE = "Profiles"
    HELP = (
        "A profile is a Platform region (or API URL) and where its developer token comes from. "
        "Enter signs in with the selected profile; t only tests it. c (Doctor) checks how its "
        "Platform behaves, read-only and in at most 20 requests, and shows what it found; "
        "what it learnt is kept with the profile and used when you sign in. Tokens are never "
        "shown and never written to profiles.toml."
    )
    CSS_PATH = "../styles/profiles.tcss"
    BINDINGS = [
        # priority: the table would take Enter for itself (and hide it from the footer)
        Binding("enter", "sign_in", "Sign in", id="profiles.sign_in", priority=True),
        Binding("n", "new", "New", id="profiles.new"),
        Binding("e", "edit", "Edit", id="profiles.edit"),
        Binding("r", "rename", "Rename", show=False, id="profiles.rename"),
        Binding("d", "delete", "Delete", id="profiles.delete"),
        Binding("asterisk,D", "set_default", "Default", show=False, id="profiles.default"),
        Binding("i", "import", "Import", id="profiles.import"),
        Binding("c", "doctor", "Doctor", id="profiles.doctor"),
        Binding("t", "test", "Test", show=False, id="profiles.test"),
        Binding("escape", "cancel", "Cancel sign-in", show=False, id="profiles.cancel"),
    ]

    @dataclass
    class SignedIn(Message):
        session: Session
        profile: Profile
        leave: bool

    @dataclass
    class SignInFailed(Message):
        profile: Profile
        text: str

    @dataclass
    class Checked(Message):
        """The doctor's report, and where it is kept (None: it could not be, ``kept_error``)."""

        profile: Profile
        report: Report
        kept: Path | None
        kept_error: str | None = None

    @dataclass
    class CheckFailed(Message):
        profile: Profile
        text: str

    def __init__(
        self,
        ctx: ProfilesContext,
        *,
        select: str | None = None,
        auto_profile: str | None = None,
        region: str | None = None,
        message: str | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.auto_profile = auto_profile
        self.select = select
        self.region_override = region
        self.first_message = message
        self.config = ProfilesConfig()
        self.env_profile: Profile | None = None
        self.config_error: ConfigError | None = None
        self.warnings: list[str] = []

    # ---- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "Profiles in " + self.ctx.tilde(str(self.ctx.paths.profiles_file)),
            id="profiles-where",
            classes="status-line",
            markup=False,
        )
        yield Static("", id="config-error", classes="error-line", markup=False)
        yield SafeTable(id="profiles-table")
        yield Static("", id="warnings", classes="warning-line", markup=False)
        yield Static(KEYS_HINT, id="message", classes="message-line", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        table = self.query_one(SafeTable)
        width = max(80, self.app.size.width)
        name_w = 14 if width < 100 else 20
        region_w = 27 if width < 100 else 34
        token_w = max(20, width - name_w - region_w - 1 - 10)
        table.add_column(" ", key="default", width=1)
        table.add_column("Profile", key="name", width=name_w)
        table.add_column("Region", key="region", width=region_w)
        table.add_column("Token from", key="token", width=token_w)
        last = load_state(self.ctx.paths).last_profile
        waiting = self.open_jobs()
        first_open = next(iter(waiting), None)
        self.reload(select=self.select or self.auto_profile or first_open or last)
        table.focus()
        if waiting:
            self.say(
                "; ".join(
                    f"{name} has {plural(n, 'export job')} still open"
                    for name, n in waiting.items()
                )
                + ": Enter signs in and watches them again."
            )
        if self.first_message:
            self.say(self.first_message, error=True)
        if self.auto_profile:
            self.call_after_refresh(self._auto_sign_in)

    def open_jobs(self) -> dict[str, int]:
        """Profiles with export jobs still open from an earlier session (an SSH drop), most
        first; {} when the journal cannot be read (sign-in says why)."""
        try:
            by_profile = open_jobs_by_profile(self.ctx.paths.journal_file)
        except JournalError:
            return {}
        return dict(sorted(by_profile.items(), key=lambda kv: -kv[1]))

    def _auto_sign_in(self) -> None:
        name = self.auto_profile
        profile = self.profile_named(name) if name else None
        if profile is None:
            if self.config_error is None:
                known = ", ".join(self.all_names()) or "none yet"
                self.say(f"There is no profile named {name!r} (profiles: {known}).", error=True)
            return
        if self.region_override:
            try:
                profile = replace(profile, region=self.region_override)
            except ConfigError as e:
                self.say(f"--region cannot be used: {e}", error=True)
                return
        self.start_sign_in(profile, leave=True)

    # ---- data -------------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        self.warnings = []
        try:
            result = load_profiles(self.ctx.paths, self.ctx.env)
        except ConfigError as e:
            self.config, self.config_error = ProfilesConfig(), e
        else:
            self.config, self.config_error = result.config, None
            self.warnings = [str(w) for w in result.warnings]
        try:
            self.env_profile = environment_profile(self.ctx.env)
        except ConfigError as e:
            self.env_profile = None
            self.warnings.append(f"The environment profile is not usable: {e}")
        error = self.query_one("#config-error", Static)
        error.display = self.config_error is not None
        if self.config_error is not None:
            error.update(plain(self.ctx.tilde(profiles_file_problem(self.config_error))))
        warn = self.query_one("#warnings", Static)
        warn.display = bool(self.warnings)
        warn.update(Text("\n".join("! " + self.ctx.tilde(w) for w in self.warnings)))
        self.refill(select)

    def all_profiles(self) -> list[Profile]:
        out = [self.env_profile] if self.env_profile else []
        return out + list(self.config.profiles.values())

    def all_names(self) -> list[str]:
        return [p.name for p in self.all_profiles()]

    def profile_named(self, name: str) -> Profile | None:
        return next((p for p in self.all_profiles() if p.name == name), None)

    def refill(self, select: str | None = None) -> None:
        table = self.query_one(SafeTable)
        current = self.current()
        keep = select or (current.name if current is not None else None)
        table.clear()
        for p in self.all_profiles():
            is_default = p.name == self.config.default_profile
            source = source_label(p)
            table.add_row(
                plain("*" if is_default else "", "bold"),
                plain(p.name),
                plain(region_label(p)),
                plain(self.ctx.tilde(source)),
                key=p.name,
            )
        names = self.all_names()
        if keep in names:
            table.move_cursor(row=names.index(keep))
        elif self.config.default_profile in names:
            table.move_cursor(row=names.index(self.config.default_profile))
        if not names and self.config_error is None:
            self.say("No profiles yet: n creates one, i imports ~/.sevenbridges/credentials.")

    def current(self) -> Profile | None:
        table = self.query_one(SafeTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.profile_named(str(key))

    def say(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        box = self.query_one("#message", Static)
        box.set_class(error, "failed")
        box.set_class(ok, "ok")
        # the first line says what happened; the details under it are dim
        lines = text.splitlines() or [""]
        shown = [plain(lines[0])] + [plain(line, "dim") for line in lines[1:]]
        box.update(Text("\n").join(shown))

    def _saved_profile(self, verb: str) -> Profile | None:
        """The selected profile, when it is one that can be changed here."""
        profile = self.current()
        if profile is None:
            self.say(f"No profile to {verb}: n creates one.", error=True)
            return None
        if profile.name == ENVIRONMENT_PROFILE_NAME:
            self.say(
                f"{ENVIRONMENT_PROFILE_NAME} comes from SB_API_ENDPOINT and SB_AUTH_TOKEN; "
                f"change those variables instead (it cannot {verb} here).",
                error=True,
            )
            return None
        return profile

    # ---- a broken profiles.toml: keep it aside before writing a new one ----------------------
    def _with_usable_file(self, then: Callable[[], None]) -> None:
        if self.config_error is None:
            then()
            return
        path = self.ctx.paths.profiles_file

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            aside = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
            try:
                path.rename(aside)
            except OSError as e:
                self.say(f"Could not move {path} aside: {e.strerror or e}", error=True)
                return
            self.reload()
            self.say("The broken file is kept as " + self.ctx.tilde(str(aside)))
            then()

        self.app.push_screen(
            ConfirmScreen(
                "The profiles file has an error. Keep it aside and start a new one?",
                f"{self.ctx.tilde(str(path))} will be renamed to {path.name}.broken-<time>; "
                "nothing is deleted.",
                enter=False,
            ),
            answered,
        )

    # ---- actions ----------------------------------------------------------------------------
    @on(SafeTable.RowSelected, "#profiles-table")
    def _row_selected(self) -> None:
        self.action_sign_in()

    def action_sign_in(self) -> None:
        profile = self.current()
        if profile is None:
            self.say("No profile to sign in with: n creates one, i imports.", error=True)
            return
        self.start_sign_in(profile, leave=True)

    def action_test(self) -> None:
        profile = self.current()
        if profile is None:
            self.say("No profile to test: n creates one.", error=True)
            return
        self.start_sign_in(profile, leave=False)

    def start_sign_in(self, profile: Profile, *, leave: bool) -> None:
        verb = "Signing in" if leave else "Testing"
        self.say(f"{verb} with {profile.name} on {region_label(profile)}… (Esc cancels)")
        self.sign_in(profile, leave)

    @work(exclusive=True, group="signin", exit_on_error=False)
    async def sign_in(self, profile: Profile, leave: bool = True) -> None:
        post = self.post_message
        try:
            session = await asyncio.to_thread(
                open_session, profile, self.ctx.paths, self.ctx.env, transport=self.ctx.transport()
            )
        except Exception as e:  # ConfigError mostly; shown in plain words, never a traceback
            post(self.SignInFailed(profile, describe_failure(e, profile)))
            return
        client = session.client
        kept = client.retry
        client.retry = SIGNIN_RETRY
        handed_over = False
        try:
            session.user = await client.get_user()
        except Exception as e:
            post(self.SignInFailed(profile, describe_failure(e, profile)))
        else:
            handed_over = leave
            post(self.SignedIn(session, profile, leave))
        finally:
            client.retry = kept
            if not handed_over:
                await session.close()

    def action_cancel(self) -> None:
        if any(w.group == "signin" and w.is_running for w in self.workers):
            self.workers.cancel_group(self, "signin")
            self.say("Sign-in cancelled.")
        elif any(w.group == "doctor" and w.is_running for w in self.workers):
            self.workers.cancel_group(self, "doctor")
            self.say("Check cancelled.")

    # ---- the doctor: how the profile's Platform behaves (read-only) --------------------------
    def action_doctor(self) -> None:
        profile = self.current()
        if profile is None:
            self.say("No profile to check: n creates one.", error=True)
            return
        self.say(
            f"Checking how {profile.resolved_region.name} behaves… (read-only, at most "
            f"{BUDGET} requests; Esc cancels)"
        )
        self.check(profile)

    @work(exclusive=True, group="doctor", exit_on_error=False)
    async def check(self, profile: Profile) -> None:
        """Open the profile's own session (as ``t`` does), run the doctor on the project and
        volume of the profile's last run, keep the report with the profile."""
        post = self.post_message
        paths = self.ctx.paths
        try:
            session = await asyncio.to_thread(
                open_session, profile, paths, self.ctx.env, transport=self.ctx.transport()
            )
        except Exception as e:  # ConfigError mostly; one plain line, never a traceback
            post(self.CheckFailed(profile, check_failure(e, profile)))
            return
        client = session.client
        client.retry = SIGNIN_RETRY  # a person waits for it: no waiting out a maintenance
        journal: Journal | None = None
        try:
            journal = await asyncio.to_thread(open_journal, paths.journal_file)
            project, volume = await asyncio.to_thread(last_target, journal, profile.name)
            report = await run_doctor(client, project=project, volume=volume, journal=journal)
        except Exception as e:
            post(self.CheckFailed(profile, check_failure(e, profile)))
            return
        finally:
            if journal is not None:
                journal.close()
            await session.close()
        try:
            kept = await asyncio.to_thread(save_report, paths.state_dir, profile.name, report)
        except (OSError, ConfigError) as e:
            post(self.Checked(profile, report, None, getattr(e, "strerror", None) or str(e)))
            return
        post(self.Checked(profile, report, kept))

    def on_profiles_screen_checked(self, message: ProfilesScreen.Checked) -> None:
        from .doctor import DoctorScreen, verdict_counts

        profile, report = message.profile, message.report
        said = f"Checked {profile.name} on {report.deployment}: {verdict_counts(report)}"
        if message.kept is None:
            said += f"; could not keep it with the profile: {message.kept_error}"
        else:
            said += "; kept with the profile" + learned_text(report)
            # the signed-in profile's client uses it at once (else: at its next sign-in)
            session = app_of(self).session
            if session is not None and session.profile_name == profile.name and not session.demo:
                apply_learned(session.client, load_learned(self.ctx.paths.state_dir, profile.name))
        self.say(said + ".", error=message.kept is None, ok=report.worst != "PROBLEM")
        self.app.push_screen(
            DoctorScreen(report, profile=profile.name, reports=reports_folder(self.ctx.paths))
        )

    def on_profiles_screen_check_failed(self, message: ProfilesScreen.CheckFailed) -> None:
        self.say(message.text, error=True)

    def on_profiles_screen_signed_in(self, message: ProfilesScreen.SignedIn) -> None:
        session, profile = message.session, message.profile
        if not message.leave:
            self.say("Connection OK: " + session.signed_in_text, ok=True)
            return
        try:
            remember_last_used(self.ctx.paths, profile=profile.name, region=profile.region)
        except (ConfigError, OSError):
            pass  # remembering is a convenience
        app_of(self).session = session
        self.app.notify(session.signed_in_text, title="Signed in", markup=False)
        from .projects import ProjectsScreen

        self.app.switch_screen(ProjectsScreen())

    def on_profiles_screen_sign_in_failed(self, message: ProfilesScreen.SignInFailed) -> None:
        self.say(message.text, error=True)

    def action_new(self) -> None:
        self._with_usable_file(self._open_new_form)

    def _open_new_form(self) -> None:
        from .profile_form import ProfileFormScreen

        def saved(name: str | None) -> None:
            if name:
                self.reload(select=name)
                self.say(f"Profile {name} saved. Enter signs in, t tests it.", ok=True)

        self.app.push_screen(ProfileFormScreen(self.ctx.paths, self.ctx.env), saved)

    def action_edit(self) -> None:
        profile = self._saved_profile("be edited")
        if profile is None:
            return
        from .profile_form import ProfileFormScreen

        def saved(name: str | None) -> None:
            if name:
                self.reload(select=name)
                self.say(f"Profile {name} saved.", ok=True)

        self.app.push_screen(ProfileFormScreen(self.ctx.paths, self.ctx.env, profile), saved)

    def action_rename(self) -> None:
        profile = self._saved_profile("be renamed")
        if profile is None:
            return

        def answered(new: str | None) -> None:
            if new is None or not new.strip() or new.strip() == profile.name:
                return
            try:
                self.ctx.store().rename(profile.name, new.strip())
            except ConfigError as e:
                self.say(f"Could not rename: {e}", error=True)
                return
            except OSError as e:
                self.say(f"Could not rename: {e.strerror or e}", error=True)
                return
            self.reload(select=new.strip())
            self.say(f"Renamed {profile.name} to {new.strip()}.", ok=True)

        self.app.push_screen(
            PromptScreen(
                f"New name for profile {profile.name} (letters, digits, - or _)",
                "new name",
                profile.name,
            ),
            answered,
        )

    def action_delete(self) -> None:
        profile = self._saved_profile("be deleted")
        if profile is None:
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                self.say(f"Kept {profile.name}.")
                return
            try:
                self.ctx.store().delete(profile.name)
            except ConfigError as e:
                self.say(f"Could not delete: {e}", error=True)
                return
            except OSError as e:
                self.say(f"Could not delete: {e.strerror or e}", error=True)
                return
            self.reload()
            self.say(f"Deleted profile {profile.name}.", ok=True)

        self.app.push_screen(
            ConfirmScreen(
                f"Delete profile {profile.name}?",
                "Its token file is removed too when sbexport stored it; a credentials file, "
                "variable or command is left alone.",
                enter=False,
            ),
            answered,
        )

    def action_set_default(self) -> None:
        profile = self._saved_profile("be the default")
        if profile is None:
            return
        try:
            self.ctx.store().set_default(profile.name)
        except (ConfigError, OSError) as e:
            self.say(f"Could not set the default: {e}", error=True)
            return
        self.reload(select=profile.name)
        self.say(f"{profile.name} is now the default profile.", ok=True)

    def action_import(self) -> None:
        self._with_usable_file(self._import)

    def _import(self) -> None:
        try:
            result = self.ctx.store().import_credentials()
        except ConfigError as e:
            self.say(self.ctx.tilde(f"Could not import: {e}"), error=True)
            return
        except OSError as e:
            self.say(f"Could not import: {e.strerror or e}", error=True)
            return
        self.reload(select=result.added[0] if result.added else None)
        self.say(self.ctx.tilde(import_report(result, self.ctx)), ok=bool(result.added))


def import_report(result: ImportResult, ctx: ProfilesContext) -> str:
    where = ctx.tilde(str(credentials_path(None, ctx.env)))
    text = f"Imported {plural(len(result.added), 'profile')} from {where}"
    if result.added:
        text += ": " + ", ".join(result.added)
    if result.skipped:
        skipped = "; ".join(f"[{name}] {why}" for name, why in result.skipped)
        text += f". Skipped {len(result.skipped)}: {skipped}"
    return text + "."


# ---------------------------------------------------------------- first run


def token_pages() -> Text:
    text = Text()
    width = max(len(r.id) for r in REGIONS.values()) + 2
    for r in REGIONS.values():
        text.append(r.id.ljust(width), style="bold")
        text.append((r.token_page or "the Developer page of its web site") + "\n")
    text.append("custom".ljust(width), style="bold")
    text.append("the developer page of that Platform's web site")
    return text


class FirstRunScreen(Screen[None]):
    HELP_TITLE = "Welcome"
    HELP = (
        "No profiles yet. A profile says which Platform to use and where its developer token "
        "comes from. n creates one; d (or Enter) opens the demo on a simulated Platform."
    )
    CSS_PATH = "../styles/profiles.tcss"
    BINDINGS = [
        Binding("n", "new", "New profile", id="first_run.new"),
        # d first: the footer shows the first key, and the text below says d
        Binding("d,enter", "demo", "Try the demo", id="first_run.demo"),
        Binding("i", "import", "Import", id="first_run.import"),
        # the first screen: q leaves, as Esc/q leave every other screen (Ctrl+Q too)
        Binding("q", "app.quit", "Quit", id="first_run.quit", show=False),
    ]

    def __init__(self, ctx: ProfilesContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.credentials = credentials_path(None, ctx.env)

    @property
    def has_credentials(self) -> bool:
        return self.credentials.is_file()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "import":
            return self.has_credentials
        return True

    def compose(self) -> ComposeResult:
        yield Header()
        text = Text()
        text.append("Welcome to sbexport\n", style="bold")
        text.append(
            "sbexport signs in to the Seven Bridges Platform with a developer token: a secret "
            "string that lets programs use the API as you. Get one on your Platform's developer "
            "page (Developer > Authentication token > Generate token) and keep it private.\n\n"
        )
        text.append("Where to get a token:\n", style="bold")
        text.append_text(token_pages())
        text.append("\n\n")
        if self.has_credentials:
            where = self.ctx.tilde(str(self.credentials))
            text.append(f"Found {where}.\n", style="bold")
            text.append("i  import its profiles (tokens stay in that file)\n")
        text.append("n  create a profile\n")
        text.append("d  try the demo (a simulated Platform; nothing real is exported)\n")
        text.append("\nProfiles are saved in " + self.ctx.tilde(str(self.ctx.paths.profiles_file)))
        with VerticalScroll(id="first-run-box"):
            yield Static(text, id="first-run-text")
        yield Static("", id="message", classes="message-line", markup=False)
        yield AppFooter()

    def _to_profiles(self, select: str | None = None, message: str | None = None) -> None:
        screen = ProfilesScreen(self.ctx, select=select)
        self.app.switch_screen(screen)
        if message:
            screen.call_after_refresh(screen.say, message, ok=True)

    def action_new(self) -> None:
        from .profile_form import ProfileFormScreen

        def saved(name: str | None) -> None:
            if name:
                self._to_profiles(name, f"Profile {name} saved. Enter signs in, t tests it.")

        self.app.push_screen(ProfileFormScreen(self.ctx.paths, self.ctx.env), saved)

    def action_import(self) -> None:
        try:
            result = self.ctx.store().import_credentials()
        except (ConfigError, OSError) as e:
            self.query_one("#message", Static).update(plain(f"Could not import: {e}"))
            return
        if not result.added:
            self.query_one("#message", Static).update(plain(import_report(result, self.ctx)))
            return
        self._to_profiles(result.added[0], import_report(result, self.ctx))

    def action_demo(self) -> None:
        from ...session import demo_session
        from .projects import ProjectsScreen

        app = app_of(self)
        app.session = session = demo_session(Paths.for_demo(env=self.ctx.env))
        app.demo = True
        app.sub_title = "DEMO: simulated Platform, nothing real is exported"
        app.switch_screen(ProjectsScreen())
        for w in session.warnings:  # its world was reset, say
            app.notify(w, title="Demo", severity="warning", timeout=10, markup=False)


# ---------------------------------------------------------------- which screen comes first


def first_screen(
    ctx: ProfilesContext,
    *,
    profile: str | None = None,
    region: str | None = None,
) -> Screen[None]:
    """The first-run screen when there is nothing to sign in with, else the profiles screen
    (signing in at once with `profile` when given)."""
    if profile is None:
        try:
            config = load_profiles(ctx.paths, ctx.env).config
        except ConfigError:
            config = None  # the profiles screen shows the error
        try:
            env_unset = environment_profile(ctx.env) is None
        except ConfigError:
            env_unset = False  # half set: the profiles screen says what is missing
        if config is not None and not config.profiles and env_unset:
            return FirstRunScreen(ctx)
    return ProfilesScreen(ctx, auto_profile=profile, region=region)
