"""`sbexport doctor`: how this user's Platform behaves, learnt with a few read-only requests.

sbexport knows the API from its docs, and each point the docs leave open is a named sim
variant (the README's table). The doctor asks the user's own Platform the questions that tell
those readings apart, within ``BUDGET`` requests (2 % of the 5-minute limit of 1,000), and
says for each: PASS, NOTE or PROBLEM, the evidence, and what the client does about it; and for
each variant whether the answers showed it, ruled it out, or cannot tell (and why: most often
that a write would be needed, or that this account has nothing to look at yet).

Read-only by default: GETs, and the two bulk *get* calls (POST bodies that read). Nothing is
exported, moved or changed. The report names no file or object unless ``names`` is asked for,
and never holds the token (``as_json`` is what a user pastes into a support ticket).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..api.client import PlatformClient
from ..api.errors import ApiError, BadRequest, PlatformError
from ..api.models import Volume
from ..config.errors import ConfigError
from ..config.fileio import atomic_write
from ..config.regions import region_for_url
from .journal import ItemRecord, Journal, JournalError
from .plan import Reason, cloud_mismatch, volume_reason

BUDGET = 20  # requests: 2 % of the 5-minute limit of 1,000
VOLUMES_CHECKED = 3  # volumes whose member permission is asked (one request each)
FOLDERS_LISTED = 5  # folders listed to find one of more than OFFSET_CAP files
CLOCK_NOTE = 2.0  # seconds of skew worth a note (the Date header has whole seconds)
CLOCK_VARIANT = 60.0  # the clock variants run 5 minutes off: a minute tells them apart
OFFSET_CAP = 1000
SMALL_PAGE_LIMIT = 4
SMALL_PAGES = 3  # pages read to tell small pages from chance

Verdict = Literal["PASS", "NOTE", "PROBLEM", "UNDECIDED"]

# Every variant of the simulated Platform (the README's table), as the doctor decides it
VARIANTS = (
    "conflict-at-submit",
    "bulk-all-or-nothing",
    "clock-ahead",
    "clock-behind",
    "lean-volume-listing",
    "exports-newest-first",
    "exports-unordered",
    "volume-listing-snapshot",
    "filters-whole-project",
    "offset-cap",
    "echo-prefixed",
    "echo-odd-volume",
    "echo-slashes",
    "bulk-get-unordered",
    "lean-export-list",
    "listing-folder-name",
    "listing-small-pages",
    "job-forbidden",
    "refuse-whole-call",
    "job-queue",
    "import-conflict-at-submit",
    "import-echo-prefixed",
    "folder-exists-returned",
    "folder-names-repeat",
)
# what only a write can tell (or a request the doctor never makes: an invalid one)
# the variants each step decides (undecided, with the reason, when the step cannot finish)
STEP_VARIANTS = {
    "sign_in": ("clock-ahead", "clock-behind"),
    "files": ("offset-cap", "filters-whole-project"),
    "exports": (
        "lean-export-list",
        "bulk-get-unordered",
        "job-forbidden",
        "exports-newest-first",
        "exports-unordered",
        "echo-prefixed",
        "echo-odd-volume",
        "echo-slashes",
    ),
    "listing": ("lean-volume-listing", "listing-folder-name", "listing-small-pages"),
}
NEEDS_WRITE = {
    "conflict-at-submit": "only a second export to the same key tells (--write-test)",
    "bulk-all-or-nothing": "only a bulk export with an invalid item tells; the doctor never "
    "sends one",
    "refuse-whole-call": "only a bulk export with an invalid item tells; the doctor never "
    "sends one",
    "volume-listing-snapshot": "only an object written while a listing is read tells",
    "job-queue": "only many jobs at once tell (whether some wait PENDING for others)",
    "import-conflict-at-submit": "only an import onto a name that is taken tells",
    "import-echo-prefixed": "only an import job's record tells; the doctor reads export jobs",
    "folder-exists-returned": "only making a folder whose name is taken tells; the "
    "doctor makes no folder (an import looks for a folder before and after making it, so "
    "either answer serves)",
    "folder-names-repeat": "only making a folder whose name is taken tells; an import makes "
    "a folder only when it looked and found none, and looks again after a lost answer",
}


@dataclass
class Finding:
    topic: str  # a few words: "sign-in", "clock", "volume demo/x", "file paging", ...
    verdict: Verdict
    evidence: str  # what the answers showed
    action: str  # what the client does about it
    names: bool = False  # the evidence names files or objects (left out unless --names)

    def as_dict(self, names: bool) -> dict[str, Any]:
        evidence = self.evidence if names or not self.names else "(names left out: --names)"
        return {
            "topic": self.topic,
            "verdict": self.verdict,
            "evidence": evidence,
            "action": self.action,
        }


@dataclass
class Report:
    api_url: str
    deployment: str
    user: str | None = None
    findings: list[Finding] = field(default_factory=list)
    seen: dict[str, str] = field(default_factory=dict)  # variant -> the evidence
    ruled_out: dict[str, str] = field(default_factory=dict)
    undecided: dict[str, str] = field(default_factory=dict)  # variant -> why
    requests: int = 0
    budget: int = BUDGET
    when: float = 0.0
    learned: dict[str, Any] = field(default_factory=dict)  # what the client will use

    def add(self, topic: str, verdict: Verdict, evidence: str, action: str, **kw: Any) -> None:
        self.findings.append(Finding(topic, verdict, evidence, action, **kw))

    def decide(self, variant: str, seen: bool | None, why: str) -> None:
        """The answers showed the variant (True), ruled it out (False) or cannot tell (None)."""
        for book in (self.seen, self.ruled_out, self.undecided):
            book.pop(variant, None)
        {True: self.seen, False: self.ruled_out, None: self.undecided}[seen][variant] = why

    def finish(self) -> None:
        for v in VARIANTS:
            if v not in self.seen and v not in self.ruled_out and v not in self.undecided:
                self.undecided[v] = NEEDS_WRITE.get(v, "not asked (the request budget)")

    @property
    def worst(self) -> Verdict:
        order = ("PROBLEM", "NOTE", "UNDECIDED", "PASS")
        verdicts = {f.verdict for f in self.findings}
        return next((v for v in order if v in verdicts), "PASS")

    def as_json(self, *, names: bool = False) -> dict[str, Any]:
        """What a user pastes into a support ticket: no token, no names unless ``names``."""
        return {
            "api_url": self.api_url,
            "deployment": self.deployment,
            "user": self.user,
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.when)),
            "requests": self.requests,
            "budget": self.budget,
            "findings": [f.as_dict(names) for f in self.findings],
            "variants": {
                "seen": dict(sorted(self.seen.items())),
                "ruled_out": dict(sorted(self.ruled_out.items())),
                "undecided": dict(sorted(self.undecided.items())),
            },
            "learned": self.learned,
        }


class OutOfBudget(Exception):
    """The doctor's request budget is spent: what is left is undecided."""


@dataclass
class Doctor:
    client: PlatformClient
    project: str | None = None
    volume: str | None = None
    journal: Journal | None = None  # what sbexport sent, to read the echoes against
    folder: str | None = None  # a folder of the project to try paging in (else: looked for)
    budget: int = BUDGET
    clock: Callable[[], float] = time.time
    report: Report = field(init=False)

    def __post_init__(self) -> None:
        try:
            deployment = region_for_url(self.client.base_url).name
        except ConfigError:  # the in-process simulator's own address
            deployment = f"Custom ({self.client.base_url})"
        self.report = Report(self.client.base_url, deployment, when=self.clock())
        self._start = self.client.requests_sent

    # ---- the budget ----------------------------------------------------------------------
    @property
    def spent(self) -> int:
        return self.client.requests_sent - self._start

    async def ask(self, call: Awaitable[Any]) -> Any:
        """One request of the budget (refused before it is sent when none is left)."""
        if self.spent >= self.budget:
            if hasattr(call, "close"):
                call.close()
            raise OutOfBudget
        return await call

    # ---- the whole check -----------------------------------------------------------------
    async def run(self) -> Report:
        r = self.report
        self.project = self._project()
        steps: list[Callable[[], Awaitable[None]]] = [
            self.sign_in,
            self.volumes,
            self.files,
            self.exports,
            self.listing,
        ]
        for step in steps:
            try:
                await step()
            except (OutOfBudget, PlatformError) as e:
                if isinstance(e, PlatformError) and step == self.sign_in:
                    raise  # a refused token or a dead network: said as any command says it
                if isinstance(e, OutOfBudget):
                    why = f"the doctor's budget of {self.budget} requests was spent before this"
                    r.add(step.__name__, "UNDECIDED", why, "nothing decided from this step")
                else:
                    # the whole message names the request's URL (a folder, a file): --names
                    status = getattr(e, "status", None)
                    why = f"the Platform answered {status or type(e).__name__}"
                    r.add(
                        step.__name__,
                        "UNDECIDED",
                        f"{why}: {e}",
                        "nothing decided from this step",
                        names=True,
                    )
                decided = set(r.seen) | set(r.ruled_out) | set(r.undecided)
                for v in STEP_VARIANTS.get(step.__name__, ()):
                    if v not in decided:  # never a guess from half an answer
                        r.decide(v, None, f"could not ask: {why}")
        r.requests = self.spent
        r.finish()
        return r

    # ---- sign-in, budget, clock ----------------------------------------------------------
    async def sign_in(self) -> None:
        r = self.report
        user = await self.ask(self.client.get_user())
        r.user = user.username
        r.add("sign-in", "PASS", f"signed in as {user.username} on {r.deployment}", "none")
        state = self.client.budget.state
        if state.remaining is None:
            r.add(
                "rate limit",
                "NOTE",
                "the answers carry no X-RateLimit headers",
                "the client paces itself by its own count (1,000 per 5 minutes)",
            )
        else:
            r.add(
                "rate limit",
                "PASS",
                f"{state.remaining} of {state.limit} requests left in this window",
                "polls never take more than half of what is left",
            )
        skew = self.client.clock_skew
        if skew is None:
            r.add("clock", "UNDECIDED", "no Date header in the answers", "none")
            for v in ("clock-ahead", "clock-behind"):
                r.decide(v, None, "no Date header")
            return
        ahead = skew >= CLOCK_VARIANT
        behind = skew <= -CLOCK_VARIANT
        r.decide("clock-ahead", ahead, f"the Platform's clock is {skew:+.0f} s from this one")
        r.decide("clock-behind", behind, f"the Platform's clock is {skew:+.0f} s from this one")
        if abs(skew) >= CLOCK_NOTE:
            r.add(
                "clock",
                "NOTE",
                f"the Platform's clock is {abs(skew):.0f} s "
                f"{'ahead of' if skew > 0 else 'behind'} this machine's",
                "every time the Platform gives is read on its own clock (corrected)",
            )
        else:
            r.add("clock", "PASS", f"within {CLOCK_NOTE:.0f} s of this machine's", "none")

    # ---- volumes -------------------------------------------------------------------------
    async def volumes(self) -> None:
        r = self.report
        vols: list[Volume] = []
        gen = self.client.list_volumes()
        with contextlib.suppress(StopAsyncIteration):
            first = await self.ask(gen.__anext__())
            vols.append(first)
            async for v in gen:  # the rest of the first page costs nothing more
                vols.append(v)
                if len(vols) >= 100:
                    break
        closing = getattr(gen, "aclose", None)
        if closing is not None:
            await closing()
        if self.volume and all(v.id != self.volume for v in vols):
            r.add(
                f"volume {self.volume}",
                "PROBLEM",
                "not among the volumes this user can see",
                "an export to it would be refused (9007)",
            )
        if not vols:
            r.add("volumes", "NOTE", "this user sees no volume", "attach one on the Platform")
            return
        location = None
        if self.project:
            with contextlib.suppress(PlatformError):
                location = (await self.ask(self.client.get_project(self.project))).location
        # the chosen volume first, then those that could take exports: their members are asked
        chosen = [v for v in vols if v.id == self.volume] + [v for v in vols if v.id != self.volume]
        asked = 0
        for v in chosen:
            usable = volume_reason(v) is None and not (location and cloud_mismatch(location, v))
            await self._volume(v, location, ask_member=usable and asked < VOLUMES_CHECKED)
            asked += usable

    async def _volume(self, v: Volume, location: str | None, *, ask_member: bool) -> None:
        r = self.report
        props = v.properties
        enc = props.get("sse_algorithm") or "none stated"
        if props.get("sse_aws_kms_key_id"):
            enc += " (a KMS key)"
        shape = f"{v.service_type or '?'} {v.access_mode or '?'}, prefix {v.prefix or '(none)'}"
        shape += f", {'active' if v.active is not False else 'inactive'}, encryption {enc}"
        problems: list[str] = []
        reason = volume_reason(v)
        if reason is not None:
            problems.append(reason.value.replace("_", " "))
        other = cloud_mismatch(location, v) if location else None
        if other:
            problems.append(f"another cloud ({other}) than the project's {location}")
        perm = "not asked (it cannot take exports anyway)" if problems else "not asked (budget)"
        if ask_member and r.user:
            try:
                member = await self.ask(self.client.get_volume_member(v.id, r.user))
                perms = member.get("permissions") or {}
                granted = [p for p in ("read", "copy", "write", "admin") if perms.get(p)]
                perm = ", ".join(granted) or "none"
                if not perms.get("write"):
                    problems.append("no write permission (9020)")
            except ApiError as e:
                perm = f"not readable ({e.status})"
        evidence = f"{shape}; your permission: {perm}"
        read_only = reason in (Reason.VOLUME_READ_ONLY, Reason.VOLUME_AZURE)
        export_only = [p for p in problems if not (other and p.startswith("another cloud"))]
        if problems and read_only and len(export_only) == 1 and v.active is not False:
            # read-only is what a delivery bucket is: it cannot receive exports, and its
            # objects can be imported (docs/platform-import.md); the cloud is the export's
            # condition (same cloud and region), and the docs say nothing of it for imports
            cloud = (
                f" (it is in another cloud, {other}, than the project's {location}: whether "
                "an import from there works, the docs do not say; the Platform's answer will)"
                if other
                else ""
            )
            r.add(
                f"volume {v.id}",
                "NOTE",
                f"{evidence}; import only: a read-only volume cannot receive exports, and its "
                f"objects can be imported into a project{cloud}",
                "exports to it are refused before any request, with the reason",
            )
        elif problems:
            r.add(
                f"volume {v.id}",
                "PROBLEM",
                f"{evidence}; cannot receive exports: {'; '.join(problems)}",
                "refused before any request, with the reason",
            )
        else:
            where = f" from {location}" if location else ""
            r.add(
                f"volume {v.id}",
                "PASS",
                f"{evidence}; can receive exports{where} as far as the docs say (the region "
                "is checked by the Platform)",
                "none",
            )

    # ---- files: paging and filters -------------------------------------------------------
    async def files(self) -> None:
        r = self.report
        if not self.project:
            r.add(
                "file paging",
                "UNDECIDED",
                "no project to look at (--project, or a first export)",
                "none",
            )
            for v in ("offset-cap", "filters-whole-project"):
                r.decide(v, None, "no project to look at")
            return
        root, _ = await self.ask(
            self.client.probe(
                "files", [("project", self.project), ("limit", 100), ("fields", "_all")]
            )
        )
        folders = [i for i in root.get("items", []) if i.get("type") == "folder"]
        biggest: tuple[int, str, str] | None = None  # (total, id, name)
        nested: tuple[str, str] | None = None  # (a file's name, in a folder), for the filter
        queue = list(folders)
        if self.folder:  # the user's folder: walked to, level by level
            queue = await self._walk(folders, self.folder.strip("/").split("/"))
        else:  # the folder sbexport exported most from (the journal) first: it may be big
            sent = await self._sent_from()
            if sent is not None:
                queue = [sent, *(f for f in queue if f.get("id") != sent.get("id"))]
        for _ in range(FOLDERS_LISTED):
            if not queue:
                break
            folder = queue.pop(0)
            page, headers = await self.ask(
                self.client.probe(
                    "files", [("parent", folder["id"]), ("limit", 100), ("fields", "_all")]
                )
            )
            total = _int(headers.get("x-total-matching-query"))
            items = page.get("items", [])
            if total is None:
                total = len(items)
            if biggest is None or total > biggest[0]:
                biggest = (total, folder["id"], folder.get("name", ""))
            for item in items:
                if item.get("type") == "folder":
                    queue.append(item)
                elif nested is None and item.get("name"):
                    nested = (item["name"], folder.get("name", ""))
            if biggest[0] > OFFSET_CAP and nested is not None:
                break  # enough to ask both questions: the rest of the budget is for the volume
        await self._offsets(biggest)
        await self._filters(nested)

    async def _sent_from(self) -> dict[str, Any] | None:
        """The project folder the journal's runs exported most files from, by its id (a file
        of it names its parent), or None."""
        if self.journal is None or self.project is None:
            return None
        counts: dict[str, tuple[int, str]] = {}
        with contextlib.suppress(JournalError):
            for run in self.journal.runs(limit=20):
                for item in self.journal.items(run.id):
                    path = item.project_path or ""
                    if item.project != self.project or "/" not in path:
                        continue
                    folder = path.rsplit("/", 1)[0]
                    n, fid = counts.get(folder, (0, item.file_id))
                    counts[folder] = (n + 1, fid)
        if not counts:
            return None
        folder, (_, file_id) = max(counts.items(), key=lambda kv: kv[1][0])
        record, _ = await self.ask(self.client.probe(f"files/{file_id}"))
        parent = record.get("parent") if isinstance(record, dict) else None
        if not parent:
            return None
        return {"id": parent, "name": folder.rsplit("/", 1)[-1], "type": "folder"}

    async def _walk(self, folders: list[dict[str, Any]], parts: list[str]) -> list[dict[str, Any]]:
        """The folder at ``parts`` under the root (whose folders are ``folders``), as a queue of
        one; empty when it is not there."""
        here = next((f for f in folders if f.get("name") == parts[0]), None)
        for part in parts[1:]:
            if here is None:
                return []
            page, _ = await self.ask(
                self.client.probe(
                    "files", [("parent", here["id"]), ("limit", 100), ("fields", "_all")]
                )
            )
            here = next(
                (
                    i
                    for i in page.get("items", [])
                    if i.get("type") == "folder" and i.get("name") == part
                ),
                None,
            )
        if here is None:
            self.report.add(
                "file paging", "UNDECIDED", f"no folder {'/'.join(parts)} in the project", "none"
            )
            return []
        return [here]

    async def _offsets(self, biggest: tuple[int, str, str] | None) -> None:
        r = self.report
        if biggest is None or biggest[0] <= OFFSET_CAP:
            size = biggest[0] if biggest else 0
            r.decide("offset-cap", None, f"no folder of more than {OFFSET_CAP:,} found")
            r.add(
                "file paging",
                "UNDECIDED",
                f"the largest folder looked at has {size:,} items: paging past {OFFSET_CAP:,} "
                "not tried",
                "offset paging, and scroll if an offset is refused",
            )
            return
        total, fid, name = biggest
        try:
            await self.ask(
                self.client.probe("files", [("parent", fid), ("offset", OFFSET_CAP), ("limit", 1)])
            )
        except BadRequest as e:
            r.decide("offset-cap", True, f"offset {OFFSET_CAP} refused ({e.status})")
            r.learned["file_paging"] = "scroll"
            r.add(
                "file paging",
                "NOTE",
                f"a folder of {total:,} items: offset {OFFSET_CAP:,} is refused (folder {name})",
                "pages files by scroll from the start (saved with the profile)",
                names=True,
            )
            return
        r.decide("offset-cap", False, f"offset {OFFSET_CAP} answered in a folder of {total:,}")
        r.learned["file_paging"] = "offset"
        r.add(
            "file paging",
            "PASS",
            f"a folder of {total:,} items pages past {OFFSET_CAP:,} by offset (folder {name})",
            "offset paging, pages side by side",
            names=True,
        )

    async def _filters(self, nested: tuple[str, str] | None) -> None:
        r = self.report
        if nested is None or self.project is None:
            r.decide("filters-whole-project", None, "no file in a folder found to search for")
            return
        name, folder = nested
        page, _ = await self.ask(
            self.client.probe("files", [("project", self.project), ("name", name)])
        )
        found = bool(page.get("items"))
        r.decide(
            "filters-whole-project",
            found,
            f"a name filter at the project's root {'found' if found else 'did not find'} a file "
            "of a folder",
        )
        r.add(
            "name filters",
            "NOTE" if found else "PASS",
            "GET /files?project=&name= "
            + ("searches the whole project" if found else "searches the root only (the docs)")
            + f" ({name} in {folder})",
            "the client filters by folder itself either way",
            names=True,
        )

    # ---- the volume's export list and the bulk get ---------------------------------------
    def _project(self) -> str | None:
        if self.project or self.journal is None:
            return self.project
        with contextlib.suppress(JournalError):
            for run in self.journal.runs(limit=20):
                for item in self.journal.items(run.id)[:1]:
                    return item.project
        return None

    def _sent_folder(self, volume: str) -> str | None:
        """A folder of the volume that sbexport exported several files into (the journal)."""
        if self.journal is None:
            return None
        with contextlib.suppress(JournalError):
            for run in self.journal.runs(limit=20):
                if run.volume != volume:
                    continue
                folders = [(i.location or "").rsplit("/", 1)[0] for i in self.journal.items(run.id)]
                folders = [f for f in folders if f]
                for f in folders:
                    if folders.count(f) > SMALL_PAGE_LIMIT:
                        return f
        return None

    def _target(self) -> str | None:
        if self.volume:
            return self.volume
        if self.journal is not None:
            with contextlib.suppress(JournalError):
                for run in self.journal.runs(limit=20):
                    return run.volume
        return None

    async def exports(self) -> None:
        r = self.report
        volume = self._target()
        order_vs = ("exports-newest-first", "exports-unordered")
        echo_vs = ("echo-prefixed", "echo-odd-volume", "echo-slashes")
        job_vs = ("lean-export-list", "bulk-get-unordered", "job-forbidden", *order_vs, *echo_vs)
        if volume is None:
            for v in job_vs:
                r.decide(v, None, "no volume to look at (--volume, or a first export)")
            r.add(
                "export list",
                "UNDECIDED",
                "no volume to look at (--volume, or a first export)",
                "none",
            )
            return
        data, _ = await self.ask(
            self.client.probe(
                "storage/exports", [("volume", volume), ("fields", "_all"), ("limit", 100)]
            )
        )
        items = [i for i in data.get("items", []) if isinstance(i, dict) and i.get("id")]
        if not items:
            for v in job_vs:
                r.decide(v, None, f"this user has no export job on {volume} yet")
            r.add(
                "export list",
                "UNDECIDED",
                f"no export job of this user on {volume} yet",
                "run the doctor again after a first export, or use --write-test",
            )
            return
        lean = all(set(i) <= {"href", "id", "state"} for i in items)
        r.decide(
            "lean-export-list", lean, f"{len(items)} listed job(s), {'lean' if lean else 'full'}"
        )
        r.add(
            "export list",
            "NOTE" if lean else "PASS",
            f"{len(items)} job(s) on {volume}; items "
            + ("of href, id and state only, even with fields=_all" if lean else "are full"),
            "each listed job is looked up by id with the bulk get" if lean else "none",
        )
        ids = [i["id"] for i in items][:100]
        asked = ids[::-1]  # reversed: an answer in the order asked is told from one that is not
        answer = await self.ask(
            self.client.probe_post("bulk/storage/exports/get", {"export_ids": asked})
        )
        records = [a for a in answer.get("items", []) if isinstance(a, dict)]
        forbidden = sum(1 for a in records if (a.get("error") or {}).get("code") == 9005)
        r.decide(
            "job-forbidden",
            True if forbidden else (False if len(records) >= 10 else None),
            f"{forbidden} of {len(records)} own jobs answered 9005"
            if forbidden or len(records) >= 10
            else f"only {len(records)} job(s) to ask about",
        )
        if forbidden:
            r.add(
                "bulk get",
                "NOTE",
                f"{forbidden} of {len(records)} of this user's own jobs were answered 9005 (no "
                "access)",
                "such a job is asked about again, and held as unknown after 3 answers in a row",
            )
        found = {
            a["resource"]["id"]: a["resource"]
            for a in records
            if isinstance(a.get("resource"), dict) and a["resource"].get("id")
        }
        got = [a["resource"]["id"] for a in records if isinstance(a.get("resource"), dict)]
        expected = [i for i in asked if i in found]
        if len(got) >= 2:
            unordered = got != expected
            r.decide(
                "bulk-get-unordered",
                unordered,
                f"{len(got)} records {'not ' if unordered else ''}in the order asked",
            )
        else:
            r.decide("bulk-get-unordered", None, "fewer than 2 records to compare")
        self._order(items, found)
        self._echoes(volume, found)

    def _order(self, items: list[dict[str, Any]], found: dict[str, dict[str, Any]]) -> None:
        """The export list's order, against the order the jobs were made: what the journal
        sent (its items are in the order they were sent), else the jobs' start times."""
        r = self.report
        listed = [i["id"] for i in items]
        made: list[str] = []
        if self.journal is not None:
            with contextlib.suppress(JournalError):
                known = self.journal.items_by_job(listed)
                made = sorted(known, key=lambda j: (known[j].run_id, known[j].position))
        if len(made) < 3:
            starts = {j: found[j].get("started_on") for j in listed if j in found}
            if len(set(starts.values())) == len(starts) >= 3 and None not in starts.values():
                made = sorted(starts, key=lambda j: str(starts[j]))
        shown = [j for j in listed if j in set(made)]
        if len(made) < 3:
            for v in ("exports-newest-first", "exports-unordered"):
                r.decide(v, None, "fewer than 3 jobs whose making order is known")
            return
        newest = shown == made[::-1]
        oldest = shown == made
        r.decide("exports-newest-first", newest, f"{len(made)} jobs compared")
        r.decide("exports-unordered", not newest and not oldest, f"{len(made)} jobs compared")
        r.add(
            "export list order",
            "PASS" if oldest else "NOTE",
            "oldest first" if oldest else "newest first" if newest else "in no time order",
            "the client never relies on the order (it reads the list to its end)",
        )

    def _echoes(self, volume: str, found: dict[str, dict[str, Any]]) -> None:
        """How the answers echo a destination, against what sbexport sent (the journal)."""
        r = self.report
        vs = ("echo-prefixed", "echo-odd-volume", "echo-slashes")
        sent: dict[str, ItemRecord] = {}
        if self.journal is not None:
            with contextlib.suppress(JournalError):
                sent = self.journal.items_by_job(found)
        pairs = [(sent[j], found[j].get("destination") or {}) for j in found if j in sent]
        if not pairs:
            for v in vs:
                r.decide(v, None, "no job here whose destination sbexport sent (the journal)")
            return
        prefix = ""
        slashes = odd = prefixed = 0
        for item, dest in pairs:
            loc, vol = str(dest.get("location") or ""), str(dest.get("volume") or "")
            if vol != item.volume:
                odd += 1
            if loc != loc.strip("/"):
                slashes += 1
            mine = str(item.location or "").strip("/")
            if loc.strip("/") != mine:
                prefixed += 1
                prefix = loc.strip("/")[: -len(mine) - 1]
        n = len(pairs)
        r.decide("echo-odd-volume", odd > 0, f"{odd} of {n} echoes name another volume")
        r.decide("echo-slashes", slashes > 0, f"{slashes} of {n} echoes add a '/'")
        if prefixed:
            r.decide("echo-prefixed", True, f"{prefixed} of {n} echoes add {prefix!r}")
        else:
            r.decide("echo-prefixed", False, f"{n} echoes as sent")
        if odd or slashes or prefixed:
            r.add(
                "echoes",
                "NOTE",
                f"of {n} jobs sbexport sent, {odd} echo another volume, {slashes} add a '/', "
                f"{prefixed} add the volume's prefix",
                "echoes are compared loosely and never make an item be sent again",
            )
        else:
            r.add("echoes", "PASS", f"{n} jobs echo their destination as sent", "none")

    # ---- the volume listing --------------------------------------------------------------
    async def listing(self) -> None:
        r = self.report
        volume = self._target()
        vs = ("lean-volume-listing", "listing-folder-name", "listing-small-pages")
        if volume is None:
            for v in vs:
                r.decide(v, None, "no volume to look at")
            return
        path = f"storage/volumes/{volume}/list"
        top, _ = await self.ask(self.client.probe(path, [("limit", 100)]))
        objects = [o for o in top.get("items", []) if isinstance(o, dict)]
        folders = [p.get("prefix") for p in top.get("prefixes", []) if isinstance(p, dict)]
        try:
            await self._folders(volume, path, folders, objects)
        finally:
            # every listing here is asked without fields=_all: do its objects carry metadata?
            if objects:
                lean = all("metadata" not in o for o in objects)
                r.decide("lean-volume-listing", lean, f"{len(objects)} objects without fields=_all")
            else:
                r.decide("lean-volume-listing", None, "no object on the volume to look at")

    async def _folders(
        self, volume: str, path: str, folders: list[Any], objects: list[dict[str, Any]]
    ) -> None:
        r = self.report
        folder = next((f for f in folders if isinstance(f, str) and f.strip("/")), None)
        if folder is None:
            for v in ("listing-folder-name", "listing-small-pages"):
                r.decide(v, None, "no folder on the volume to list")
            r.add("volume listing", "UNDECIDED", f"no folder on {volume} to look at", "none")
            return
        name = folder.rstrip("/")
        bare, _ = await self.ask(self.client.probe(path, [("prefix", name), ("limit", 5)]))
        objects += [o for o in bare.get("items", []) if isinstance(o, dict)]
        bare_entries = [p.get("prefix") for p in bare.get("prefixes", [])] + [
            o.get("location") for o in bare.get("items", [])
        ]
        # the docs' example: prefix=dir gives the entry dir/; read as a folder's name, it
        # lists what is in dir/ instead
        as_name = bool(bare_entries) and folder not in bare_entries
        r.decide(
            "listing-folder-name",
            as_name,
            "prefix=FOLDER gave "
            + ("what is in the folder" if as_name else "the folder entry FOLDER/"),
        )
        asked = name if as_name else folder
        sent = self._sent_folder(volume)
        if sent is not None:  # a folder the journal knows holds more than a page of objects
            asked = sent if as_name else sent + "/"
        # up to SMALL_PAGES pages: one of fewer than the limit, with more after it, is a
        # small page (a full page could be chance: the reading is only ruled out after three)
        small, _ = await self.ask(
            self.client.probe(path, [("prefix", asked), ("limit", SMALL_PAGE_LIMIT)])
        )
        page, full_pages = small, 0
        verdict: bool | None = None
        for _ in range(SMALL_PAGES):
            objects += [o for o in page.get("items", []) if isinstance(o, dict)]
            entries = len(page.get("items", [])) + len(page.get("prefixes", []))
            nexts = _next_links(page)
            if not nexts and page.get("truncated") is not True:
                break
            if entries < SMALL_PAGE_LIMIT:
                verdict = True
                break
            full_pages += 1
            if full_pages == SMALL_PAGES or not nexts:
                verdict = False
                break
            page, _ = await self.ask(self.client.probe(nexts[0]))
        if verdict is True:
            r.decide(
                "listing-small-pages", True, f"a page of fewer than {SMALL_PAGE_LIMIT} with more"
            )
        elif verdict is False:
            r.decide("listing-small-pages", False, f"{full_pages} full pages of {SMALL_PAGE_LIMIT}")
        else:
            r.decide("listing-small-pages", None, "the folder fits in one page")
        relative = all(
            not str(o.get("location", "")).startswith(volume) for o in small.get("items", [])
        )
        said = "says" if small.get("truncated") is True else "does not say"
        r.add(
            "volume listing",
            "PASS" if not as_name else "NOTE",
            ("prefix names a folder by its name" if as_name else "prefix=dir gives dir/")
            + ("; locations relative to the volume's prefix" if relative else "")
            + f"; a page with more after it {said} truncated",
            "the client follows the listing's own hrefs, whichever reading",
        )


def _next_links(page: dict[str, Any]) -> list[str]:
    """A listing's ``next`` links, in either shape the docs show: ``{"next": URL}`` (the
    volume listing) or ``{"rel": "next", "href": URL}`` (the other lists)."""
    out = []
    for link in page.get("links") or []:
        if not isinstance(link, dict):
            continue
        if link.get("next"):
            out.append(str(link["next"]))
        elif str(link.get("rel", "")).lower() == "next" and link.get("href"):
            out.append(str(link["href"]))
    return out


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def variant_names(report: Report) -> Iterable[str]:
    return sorted(report.seen)


async def run_doctor(
    client: PlatformClient,
    *,
    project: str | None = None,
    volume: str | None = None,
    journal: Journal | None = None,
    folder: str | None = None,
    budget: int = BUDGET,
) -> Report:
    """The read-only check (see the module's doc)."""
    return await Doctor(client, project, volume, journal, folder, budget).run()


# ---- what the doctor learnt, kept with the profile ---------------------------------------------
DOCTOR_DIR = "doctor"


def report_path(state_dir: Path, profile: str) -> Path:
    """Where the profile's last doctor report is kept (beside the journal; no token in it)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in profile) or "profile"
    return state_dir / DOCTOR_DIR / f"{safe}.json"


def save_report(state_dir: Path, profile: str, report: Report) -> Path:
    """Keep the report (names included: it stays on this machine) for the client to use."""
    path = report_path(state_dir, profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    data_out = report.as_json(names=True)
    earlier = load_learned(state_dir, profile)
    earlier.pop("when", None)
    # what an earlier check learnt and this one could not decide (no --project) is kept
    data_out["learned"] = {**earlier, **report.learned}
    data = json.dumps(data_out, indent=2, sort_keys=True).encode()
    atomic_write(path, data + b"\n")
    return path


def load_learned(state_dir: Path, profile: str) -> dict[str, Any]:
    """What the profile's last doctor learnt (``learned``, with ``when``), or {} when it never
    ran or its report cannot be read (the client then uses its defaults)."""
    path = report_path(state_dir, profile)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    learned = data.get("learned") if isinstance(data, dict) else None
    if not isinstance(learned, dict):
        return {}
    return {**learned, "when": str(data.get("when") or "")}


def apply_learned(client: PlatformClient, learned: dict[str, Any]) -> None:
    """The client takes the behaviour the Platform showed: files paged by scroll where offsets
    past 1,000 were refused; where they worked, a later refusal is warned about."""
    paging = learned.get("file_paging")
    client.prefer_scroll = paging == "scroll"
    when = str(learned.get("when") or "an earlier day")
    client.learned_offsets_work = when if paging == "offset" else None


# ---- --write-test: one small copy, and a second export to the same key -------------------------
WRITE_FOLDER = "sbexport-doctor"
WRITE_WAIT = 600.0  # seconds a test export is waited for, at most
WRITE_POLL = 2.0
WRITE_MAX_BYTES = 100 * 1024 * 1024  # "a small file": the test copies it (and pays for it)


class WriteTestError(Exception):
    """The write test cannot be made as asked (no such file, too big, a folder): the message
    says what to do."""


@dataclass(frozen=True)
class WritePlan:
    """What ``--write-test`` will do, said to the user before it does it."""

    file_id: str
    name: str
    size: int
    volume: str
    location: str

    def text(self) -> str:
        return (
            f"copy {self.name} ({self.size:,} bytes) to {self.volume} at {self.location} "
            "(copy_only: the Platform file stays as it is), wait for it (at most "
            f"{WRITE_WAIT / 60:.0f} minutes), list the volume to see it; then ask for a second "
            "export to the same key without overwrite, to see whether the Platform refuses it "
            "at submission or fails it later. Nothing is moved, overwritten or deleted; the "
            "object stays on the volume (remove it there when you like)."
        )


async def plan_write_test(
    client: PlatformClient, project: str, path: str, volume: str, *, now: float
) -> WritePlan:
    """The file at ``path`` in ``project`` (one name filter per level), and where it goes."""
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts:
        raise WriteTestError("--file wants a file's path in the project (FOLDER/NAME)")
    where: list[tuple[str, Any]] = [("project", project)]
    found: dict[str, Any] | None = None
    for i, part in enumerate(parts):
        page, _ = await client.probe("files", [*where, ("name", part), ("fields", "_all")])
        items = [x for x in page.get("items", []) if isinstance(x, dict)]
        found = next((x for x in items if x.get("name") == part), None)
        if found is None:
            raise WriteTestError(f"no {'/'.join(parts[: i + 1])} in {project}")
        where = [("parent", found["id"])]
    assert found is not None
    if found.get("type") == "folder":
        raise WriteTestError(f"{path} is a folder: name one small file")
    size = int(found.get("size") or 0)
    if size > WRITE_MAX_BYTES:
        raise WriteTestError(
            f"{path} is {size:,} bytes: the write test copies one small file (at most "
            f"{WRITE_MAX_BYTES // (1024 * 1024)} MB); name a smaller one"
        )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    location = f"{WRITE_FOLDER}/{stamp}/{parts[-1]}"
    return WritePlan(found["id"], parts[-1], size, volume, location)


async def write_test(
    client: PlatformClient,
    plan: WritePlan,
    report: Report,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> None:
    """Make the write test (``plan``) and add what it shows to ``report``."""
    import asyncio

    from ..api.models import ExportItem

    pause = sleep or asyncio.sleep
    item = ExportItem(file_id=plan.file_id, volume=plan.volume, location=plan.location)
    started = clock()
    answer = await client.probe_create([item], copy_only=True)
    record = _only_record(answer)
    if record.get("error"):
        err = record["error"]
        report.add(
            "write test",
            "PROBLEM",
            f"the copy was refused: {err.get('status')} code {err.get('code')}: "
            f"{err.get('message')}",
            "nothing was made; the error's advice says what to change",
        )
        return
    job = record.get("resource") or {}
    dest = job.get("destination") or {}
    echo = f"echoed as {dest.get('volume')}: {dest.get('location')}"
    same = dest.get("volume") == plan.volume and dest.get("location") == plan.location
    report.add(
        "write test: echo",
        "PASS" if same else "NOTE",
        f"sent {plan.volume}: {plan.location}, {echo}",
        "echoes are compared loosely; the job is known by its id",
        names=True,
    )
    state, waited = await _wait_job(client, str(job.get("id")), clock, pause, started)
    if state != "COMPLETED":
        report.add(
            "write test: job",
            "PROBLEM" if state else "UNDECIDED",
            f"the copy ended {state}" if state else f"not ended after {waited:.0f} s",
            "see the job on the Platform" if state else "run the doctor again later",
        )
        return
    report.add("write test: job", "PASS", f"copied in {waited:.0f} s", "none")
    folder = plan.location.rsplit("/", 1)[0] + "/"
    page, _ = await client.probe(
        f"storage/volumes/{plan.volume}/list", [("prefix", folder), ("fields", "_all")]
    )
    obj = next(
        (o for o in page.get("items", []) if str(o.get("location", "")).endswith(plan.name)),
        None,
    )
    if obj is None:
        report.add(
            "write test: object",
            "NOTE",
            f"the volume's listing of {folder} does not show the object",
            "a completed job whose object is not listed is 'unverified', never failed",
            names=True,
        )
    else:
        meta = obj.get("metadata") or {}
        enc = meta.get("x-amz-server-side-encryption") or meta.get("sse_algorithm") or "not said"
        report.add(
            "write test: object",
            "PASS" if meta.get("size") == plan.size else "NOTE",
            f"listed with size {meta.get('size')} (sent {plan.size}), encryption {enc}",
            "sizes are checked when a run is verified",
        )
    await _second_export(client, item, report, clock, pause)


async def _second_export(
    client: PlatformClient,
    item: Any,
    report: Report,
    clock: Callable[[], float],
    pause: Callable[[float], Awaitable[None]],
) -> None:
    """The same key again, without overwrite: refused at submission, or failed later?"""
    try:
        answer = await client.probe_create([item], copy_only=True)
    except ApiError as e:  # the whole call refused
        report.decide("conflict-at-submit", True, f"the whole call refused ({e.status})")
        report.decide("bulk-all-or-nothing", e.status == 400, f"the whole call: {e.status}")
        report.decide(
            "refuse-whole-call", e.status != 400, f"the whole call: {e.status} code {e.code}"
        )
        report.add(
            "write test: same key",
            "NOTE",
            f"a second export to the key refused as a whole call ({e.status}, code {e.code})",
            "a refused call is split to find its item; the rest is sent",
        )
        return
    record = _only_record(answer)
    if record.get("error"):
        err = record["error"]
        report.decide("conflict-at-submit", True, f"per-item {err.get('code')} at submission")
        report.decide("bulk-all-or-nothing", False, "a per-item error in the answer")
        report.decide("refuse-whole-call", False, "a per-item error in the answer")
        report.add(
            "write test: same key",
            "NOTE",
            f"refused at submission: code {err.get('code')} ({err.get('message')})",
            "the item is 'rejected' at once, with the error",
        )
        return
    job_id = str((record.get("resource") or {}).get("id"))
    state, waited = await _wait_job(client, job_id, clock, pause, clock())
    if state == "FAILED":
        report.decide("conflict-at-submit", False, f"accepted, then FAILED after {waited:.0f} s")
        report.add(
            "write test: same key",
            "PASS",
            "accepted, then the job FAILED (as the docs' example of 9107)",
            "the item is 'failed' with 9107 when its job ends",
        )
    else:
        report.add(
            "write test: same key",
            "PROBLEM" if state == "COMPLETED" else "UNDECIDED",
            f"a second export to the same key without overwrite ended {state or 'unended'}",
            "report this: sbexport expects 9107 for an occupied key",
        )


async def _wait_job(
    client: PlatformClient,
    job_id: str,
    clock: Callable[[], float],
    pause: Callable[[float], Awaitable[None]],
    started: float,
) -> tuple[str | None, float]:
    """Until the job has ended (its state) or ``WRITE_WAIT`` has passed (None)."""
    while clock() - started < WRITE_WAIT:
        answer = await client.probe_post("bulk/storage/exports/get", {"export_ids": [job_id]})
        rec = _only_record(answer).get("resource") or {}
        state = str(rec.get("state") or "").upper()
        if state in ("COMPLETED", "FAILED", "ABORTED"):
            return state, clock() - started
        await pause(WRITE_POLL)
    return None, clock() - started


def _only_record(answer: Any) -> dict[str, Any]:
    items = answer.get("items") if isinstance(answer, dict) else None
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0]
    return {}
