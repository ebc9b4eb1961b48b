"""The simulated Platform's HTTP layer: the REST API v2 subset that sbexport uses.

``SimPlatform`` is a plain ASGI app. Its outer layer does what the Platform's gateway does (auth,
rate limit, maintenance) plus the injected faults; the inner Starlette app implements the
endpoints. Served in-process through ``SimTransport`` (sim/transport.py) or on a loopback socket
by uvicorn (sim/server.py), from the same code.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import math
import posixpath
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from email.utils import formatdate
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .settings import JOB_FORBIDDEN_RATE, JOB_QUEUE_SLOTS, OFFSET_CAP, SimSettings
from .world import NAME_CLASH, FileNode, Volume, World, error_body, s3_defaults

API_PREFIX = "/v2"
MAX_LIMIT = 100
DEFAULT_LIMIT = 50
MAX_BULK = 100
CANNED_ACLS = {
    "private",
    "public-read",
    "public-read-write",
    "aws-exec-read",
    "authenticated-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
}
SSE_ALGORITHMS = {"AES256", "aws:kms", None}

DEFAULT_FIELDS = {
    "projects": ("href", "id", "name", "created_by", "category", "created_on", "modified_on"),
    "files": ("href", "id", "name", "project"),
    "folder_list": ("href", "id", "name", "project", "parent", "type"),
    "volumes": ("href", "id", "name"),
    "exports": ("href", "id", "state"),
    "imports": ("href", "id", "state"),  # the docs' example list items [OAS list-import-jobs]
    # [U] a task list's default items are not documented; the official Python client always
    # sends fields=_all for tasks, as sbexport does
    "tasks": ("href", "id", "name"),
}

# where SimPlatform leaves, in a request's ASGI scope, the hostile variants rolled for it
HOSTILE_SCOPE_KEY = "sbexport.sim.hostile"

PROXY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class SimConnectionDropped(Exception):
    """Raised in-process where a socket server would drop the connection."""


class SimTimeout(Exception):
    """Raised in-process where a socket server would keep the client waiting until it gives up."""


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        return JSONResponse(error_body(self.status, self.code, self.message), self.status)


def bad_request(message: str) -> ApiError:
    return ApiError(400, 9011, f"Invalid request syntax: {message}")


# ---- helpers -------------------------------------------------------------------------------
def select_fields(
    record: dict[str, Any], fields: str | None, default: tuple[str, ...] | None
) -> dict[str, Any]:
    if fields == "_all" or (fields is None and default is None):
        return record
    wanted = default if fields is None else tuple(f.strip() for f in fields.split(",") if f)
    return {k: record[k] for k in wanted or () if k in record}


def paging(request: Request) -> tuple[int, int]:
    q = request.query_params
    try:
        offset = int(q.get("offset", "0"))
        limit = int(q.get("limit", str(DEFAULT_LIMIT)))
    except ValueError:
        raise bad_request("offset and limit must be integers") from None
    if offset < 0 or limit < 1:
        raise bad_request("offset must be >= 0 and limit >= 1")
    # The docs give 100 as the maximum page size; a larger limit is served as 100 (never more).
    return offset, min(limit, MAX_LIMIT)


def page_url(request: Request, offset: int, limit: int) -> str:
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit")]
    pairs += [("offset", str(offset)), ("limit", str(limit))]
    return f"{str(request.url).split('?')[0]}?{urlencode(pairs)}"


def file_filters(q: Any) -> Callable[[FileNode], bool] | None:
    """The filters of ``GET /files`` (platform-api.md section 4.3, from the API reference's
    list-files page and the official Python client's ``File.query``): ``name`` (exact; repeated
    = OR), ``metadata.<field>`` (the same field repeated = OR, different fields = AND), ``tag``
    (exact; repeated = OR), ``origin.task``. Filters of different kinds must all hold (each
    narrows the list). Folders have no metadata, tags or origin: any of those filters leaves
    them out; ``name`` matches them as files. None when no filter is given."""
    names = set(q.getlist("name"))
    tags = set(q.getlist("tag"))
    tasks = set(q.getlist("origin.task"))
    meta: dict[str, set[str]] = {}
    for key, value in q.multi_items():
        if key.startswith("metadata.") and len(key) > len("metadata."):
            meta.setdefault(key[len("metadata.") :], set()).add(value)
    if not (names or tags or tasks or meta):
        return None

    def match(n: FileNode) -> bool:
        if names and n.name not in names:
            return False
        if tags and not tags.intersection(n.tags):
            return False
        if tasks and n.origin_task not in tasks:
            return False
        return all(k in n.metadata and str(n.metadata[k]) in vs for k, vs in meta.items())

    return match


def list_response(
    request: Request,
    records: list[Any],
    default_fields: tuple[str, ...],
    make: Callable[[Any], dict[str, Any]] | None = None,
    *,
    offset_cap: int | None = None,
    lean: bool = False,
) -> JSONResponse:
    offset, limit = paging(request)
    if offset_cap is not None and offset >= offset_cap:
        raise bad_request(
            f"offset paging is limited to the first {offset_cap} items; continue with "
            "the /scroll endpoint and its continuation token"
        )
    total = len(records)
    page = records[offset : offset + limit]
    if make is not None:  # build records for this page only (a 5,000-file folder stays fast)
        page = [make(r) for r in page]
    # lean: the fields asked for are ignored, the list's default items are given
    fields = None if lean else request.query_params.get("fields")
    links = []
    if offset + limit < total:
        links.append(
            {"href": page_url(request, offset + limit, limit), "rel": "next", "method": "GET"}
        )
    if offset > 0:
        links.append(
            {
                "href": page_url(request, max(0, offset - limit), limit),
                "rel": "prev",
                "method": "GET",
            }
        )
    body = {
        "href": page_url(request, offset, limit),
        "items": [select_fields(r, fields, default_fields) for r in page],
        "links": links,
    }
    return JSONResponse(body, headers={"X-Total-Matching-Query": str(total)})


def detail(request: Request, record: dict[str, Any]) -> JSONResponse:
    return JSONResponse(select_fields(record, request.query_params.get("fields"), None))


def parse_bool(value: str | None, name: str) -> bool:
    if value is None:
        return False
    v = value.strip().lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0", ""):
        return False
    raise bad_request(f"{name} must be true or false")


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise bad_request("the body is not valid JSON") from None


# ---- the endpoints -------------------------------------------------------------------------
class Handlers:
    def __init__(self, world: World, settings: SimSettings) -> None:
        self.world, self.settings = world, settings
        self.last_answer_ids: list[str] = []  # for the stale_id fault

    def base(self, request: Request) -> str:
        return str(request.base_url).rstrip("/") + API_PREFIX

    def on(self, variant: str, request: Request) -> bool:
        """Whether a variant holds for this request: named, or rolled by hostile mode."""
        return self.settings.applies(variant, request.scope.get(HOSTILE_SCOPE_KEY, frozenset()))

    def echoed(self, request: Request, rec: dict[str, Any]) -> dict[str, Any]:
        """An export job record's ``destination`` as the echo variants say it. The docs say both
        that the destination is echoed "as passed" and that the volume's prefix "will be
        prepended to location"; the bulk export page's own example answer echoes ``"volume":
        "rfranklin/output.vcf"`` for an item sent to volume ``rfranklin/output`` with location
        ``output.vcf``. By default the sim echoes what was passed; each variant says it another
        way. Only the answer changes: the job (and ``/_sim/exports``) keep what was asked."""
        prefixed = self.on("echo-prefixed", request)
        odd = self.on("echo-odd-volume", request)
        slashes = self.on("echo-slashes", request)
        dest = rec.get("destination")
        if not (prefixed or odd or slashes) or not isinstance(dest, dict):
            return rec
        volume, location = dest["volume"], dest["location"]
        if prefixed:
            # "the value of prefix will be prepended to location" (joined by one '/', as the
            # bucket key is; no change on a volume without a prefix)
            location = self.world.volumes[volume].key_for(location)
        if odd:
            # the example answer's shape: the volume id with the location's extension appended
            # (rfranklin/output + output.vcf -> rfranklin/output.vcf); a location without an
            # extension: the owner and the location's last part (the example's other reading)
            name = dest["location"].rstrip("/").rsplit("/", 1)[-1]
            ext = posixpath.splitext(name)[1]
            volume = volume + ext if ext else f"{volume.split('/', 1)[0]}/{name}"
        if slashes:
            # [docs silent] a leading, a trailing or both '/', chosen per record (seeded)
            gate: Gate = request.app.state.gate
            location = gate.vrng.choice(("/{}", "{}/", "/{}/")).format(location)
        return {**rec, "destination": {**dest, "volume": volume, "location": location}}

    def now(self, request: Request) -> float:
        now = self.settings.now()
        self.world.advance(now, self.base(request))
        return now

    def project_location(self, node: FileNode) -> str:
        return self.world.projects[node.project].location

    def file_record(self, request: Request, node: FileNode, upper: bool = False) -> dict[str, Any]:
        return node.record(self.base(request), self.project_location(node), upper_type=upper)

    def get_file(self, file_id: str) -> FileNode:
        node = self.world.files.get(file_id)
        if node is None or node.parent is None:  # project roots are not files a user can GET
            raise ApiError(404, 5002, "Requested file does not exist.")
        return node

    def get_volume(self, vid: str) -> Volume:
        vol = self.world.volumes.get(vid)
        if vol is None:
            raise ApiError(404, 9007, "Requested volume does not exist.")
        return vol

    # /
    async def root(self, request: Request) -> Response:
        base = self.base(request)
        names = ("rate_limit", "user", "users", "billing", "projects", "files", "tasks", "apps")
        body = {f"{n}_url": f"{base}/{n}" for n in names}
        body.update(
            action_url=f"{base}/action", upload_url=f"{base}/upload", storage_url=f"{base}/storage"
        )
        return JSONResponse(body)

    async def user(self, request: Request) -> Response:
        return detail(request, self.world.user.record(self.base(request)))

    async def rate_limit(self, request: Request) -> Response:
        gate: Gate = request.app.state.gate
        token = request.headers.get("x-sbg-auth-token", "")
        limit, remaining, reset = gate.peek(token)
        return JSONResponse(
            {
                "rate": {"limit": limit, "remaining": remaining, "reset": reset},
                "instance_limit": {"limit": -1, "remaining": 9223372036854775807},
            }
        )

    async def projects(self, request: Request) -> Response:
        owner = request.path_params.get("owner")
        name = (request.query_params.get("name") or "").lower()
        base = self.base(request)
        recs = [
            p.record(base)
            for p in self.world.projects.values()
            if (owner is None or p.owner == owner) and name in p.name.lower()
        ]
        return list_response(request, recs, DEFAULT_FIELDS["projects"])

    async def project(self, request: Request) -> Response:
        pid = f"{request.path_params['owner']}/{request.path_params['project']}"
        project = self.world.projects.get(pid)
        if project is None:
            raise ApiError(404, 3002, "Requested project does not exist.")
        return detail(request, project.record(self.base(request)))

    async def files(self, request: Request) -> Response:
        q = request.query_params
        folder = self.listed_folder(request)
        match = file_filters(q)
        if match is not None and q.get("project") and self.settings.has("filters-whole-project"):
            nodes = list(self.world.walk_files(folder.id))
        else:
            # platform-api.md 4.3: one folder's children (the project's root for project=),
            # "not recursive", filters or not
            nodes = [self.world.files[c] for c in folder.children]
        if match is not None:
            nodes = [n for n in nodes if match(n)]
        return list_response(
            request,
            nodes,
            DEFAULT_FIELDS["files"],
            lambda n: self.file_record(request, n),
            offset_cap=self.offset_cap,
        )

    def into(self, project_id: Any, parent_id: Any, no_folder: tuple[int, int, str]) -> FileNode:
        """The folder a request puts something into: a project's root (``project``) or a
        folder (``parent``); a missing one is 404 3002 (project) or ``no_folder``."""
        if isinstance(project_id, str):
            project = self.world.projects.get(project_id)
            if project is None:
                raise ApiError(404, 3002, "Requested project does not exist.")
            return self.world.files[project.root_folder]
        node = self.world.files.get(parent_id) if isinstance(parent_id, str) else None
        if node is None or not node.is_folder:
            raise ApiError(*no_folder)
        return node

    async def folder_create(self, request: Request) -> Response:
        """``POST /files`` with ``{name, type: "folder", project | parent}``: a new folder in
        the project's root or in a folder (the official Python client's
        ``File.create_folder``, which refuses both or neither of project and parent [SBPY]).
        [U] The answer is not in our reference: 201 with the folder's record here (the client
        reads the record whatever the status). [docs silent] A name already taken in that
        folder: 409 9108 "Requested file already exists." (the code the docs give a taken
        name, [D:codes 9108]); the folder-exists-returned variant answers 200 with the
        folder already there when it is a folder, and folder-names-repeat makes a second folder
        of the same name."""
        body = await json_body(request)
        if not isinstance(body, dict):
            raise bad_request('the body must be {"name": ..., "type": "folder", ...}')
        name, kind = body.get("name"), body.get("type")
        if not isinstance(kind, str) or kind.lower() != "folder":
            raise bad_request("type must be 'folder' (files are uploaded, not created)")
        if not isinstance(name, str) or not name.strip() or "/" in name:
            raise bad_request("name must be a folder name (no '/')")
        project_id, parent_id = body.get("project"), body.get("parent")
        if bool(project_id) == bool(parent_id):
            raise bad_request("give exactly one of 'project' or 'parent'")
        folder = self.into(project_id, parent_id, (404, 5002, "Requested folder does not exist."))
        there = self.world.child_named(folder, name)
        if there is not None and not self.on("folder-names-repeat", request):
            if there.is_folder and self.on("folder-exists-returned", request):
                return JSONResponse(self.file_record(request, there), 200)
            raise ApiError(*NAME_CLASH)
        made = self.world.make_folder(folder.id, name, created=self.now(request))
        return JSONResponse(self.file_record(request, made), 201)

    async def tasks(self, request: Request) -> Response:
        """``GET /tasks``: ``project`` and ``status`` (the official Python client's
        ``Task.query``), newest first [U: the order is not documented]."""
        q = request.query_params
        project = q.get("project")
        if project and project not in self.world.projects:
            raise ApiError(404, 3002, "Requested project does not exist.")
        wanted = {s.upper() for s in q.getlist("status")}
        tasks = [
            t
            for t in self.world.tasks.values()
            if (not project or t.project == project) and (not wanted or t.status in wanted)
        ]
        tasks.sort(key=lambda t: (-t.created, t.id))
        base = self.base(request)
        return list_response(
            request, tasks, DEFAULT_FIELDS["tasks"], lambda t: t.record(base, self.world.files)
        )

    async def task(self, request: Request) -> Response:
        task = self.world.tasks.get(request.path_params["task_id"])
        if task is None:
            raise ApiError(404, 90003, "Requested task does not exist.")
        return detail(request, task.record(self.base(request), self.world.files))

    @property
    def offset_cap(self) -> int | None:
        return OFFSET_CAP if self.settings.has("offset-cap") else None

    def listed_folder(self, request: Request) -> FileNode:
        """The folder a listing names: ``/files/{id}/...``, or ``/files`` (and ``/files/scroll``)
        with exactly one of ``project`` (its root folder) or ``parent``."""
        fid = request.path_params.get("file_id")
        if fid is None:
            q = request.query_params
            project_id, parent_id = q.get("project"), q.get("parent")
            if bool(project_id) == bool(parent_id):
                raise bad_request("give exactly one of 'project' or 'parent'")
            if project_id:
                project = self.world.projects.get(project_id)
                if project is None:
                    raise ApiError(404, 3002, "Requested project does not exist.")
                fid = project.root_folder
            else:
                fid = parent_id
        folder = self.world.files.get(fid or "")
        if folder is None or not folder.is_folder:
            raise ApiError(404, 5002, "Requested folder does not exist.")
        return folder

    async def files_scroll(self, request: Request) -> Response:
        """Continuation-token paging of a folder (platform-api.md section 3: ``/files/scroll``
        and ``/files/{id}/scroll`` with a ``token``; the official Python client's
        ``cont_token``). Never capped. The token is opaque to the client; without one the
        listing starts at the beginning. No total is given: the client follows ``next``."""
        folder = self.listed_folder(request)
        q = request.query_params
        try:
            limit = min(int(q.get("limit", str(DEFAULT_LIMIT))), MAX_LIMIT)
            token = q.get("token") or ""
            start = int(token[1:], 16) if token.startswith("c") else 0
        except ValueError:
            raise bad_request("limit must be an integer and token one this server gave") from None
        if limit < 1 or start < 0:
            raise bad_request("limit must be >= 1")
        page = folder.children[start : start + limit]
        fields = q.get("fields")
        items = [
            select_fields(
                self.file_record(request, self.world.files[c]), fields, DEFAULT_FIELDS["files"]
            )
            for c in page
        ]
        links = []
        if start + limit < len(folder.children):
            pairs = [(k, v) for k, v in q.multi_items() if k != "token"]
            pairs.append(("token", f"c{start + limit:x}"))
            links.append(
                {
                    "href": f"{str(request.url).split('?')[0]}?{urlencode(pairs)}",
                    "rel": "next",
                    "method": "GET",
                }
            )
        return JSONResponse({"href": str(request.url), "items": items, "links": links})

    async def file(self, request: Request) -> Response:
        node = self.get_file(request.path_params["file_id"])
        return detail(request, self.file_record(request, node))

    async def folder_list(self, request: Request) -> Response:
        folder = self.world.files.get(request.path_params["file_id"])
        if folder is None or not folder.is_folder:
            raise ApiError(404, 5002, "Requested folder does not exist.")
        # The docs' example of this call shows the type in capitals ("FOLDER"/"FILE").
        return list_response(
            request,
            folder.children,
            DEFAULT_FIELDS["folder_list"],
            lambda c: self.file_record(request, self.world.files[c], upper=True),
            offset_cap=self.offset_cap,
        )

    async def bulk_files_get(self, request: Request) -> Response:
        body = await json_body(request)
        ids = body.get("file_ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise bad_request('the body must be {"file_ids": [...]}')
        if len(ids) > MAX_BULK:
            raise bad_request(f"at most {MAX_BULK} items per bulk call, got {len(ids)}")
        items = []
        for fid in ids:
            try:
                items.append({"resource": self.file_record(request, self.get_file(fid))})
            except ApiError as e:
                items.append({"error": error_body(e.status, e.code, e.message)})
        return JSONResponse({"items": items})

    async def volumes(self, request: Request) -> Response:
        base = self.base(request)
        recs = [v.record(base) for v in self.world.volumes.values()]
        return list_response(request, recs, DEFAULT_FIELDS["volumes"])

    async def volume(self, request: Request) -> Response:
        vid = f"{request.path_params['owner']}/{request.path_params['name']}"
        return detail(request, self.get_volume(vid).record(self.base(request)))

    async def volume_member(self, request: Request) -> Response:
        """`GET /storage/volumes/{owner}/{name}/members/{username}`: a member's permissions
        [OAS volume members: ``{username, email, href, permissions{read, copy, write, admin},
        type, id}``]. Only the signed-in user is a member here; another name is 404 (9011 is
        the docs' "member does not exist" code)."""
        vid = f"{request.path_params['owner']}/{request.path_params['name']}"
        vol = self.get_volume(vid)
        user = self.world.user
        if request.path_params["username"] != user.username:
            raise ApiError(404, 9011, "Requested member does not exist.")
        perms = {p: p in vol.permissions for p in ("read", "copy", "write", "admin")}
        return JSONResponse(
            {
                "href": f"{self.base(request)}/storage/volumes/{vid}/members/{user.username}",
                "id": user.username,
                "username": user.username,
                "email": user.record(self.base(request)).get("email"),
                "type": "USER",
                "permissions": perms,
            }
        )

    async def volume_list(self, request: Request) -> Response:
        """Objects of a volume under a prefix, one level deep (like an S3 listing with '/').

        Relative to the volume's own prefix, as the docs show: their object example on a volume
        with prefix ``input-files`` has ``location: "20.intervals"`` and ``metadata.name:
        "input-files/20.intervals"``, and the ``prefix`` parameter names "the folder" within the
        volume. Objects outside the volume's prefix are not shown.
        """
        vid = f"{request.path_params['owner']}/{request.path_params['name']}"
        vol = self.get_volume(vid)
        if not vol.active:
            raise ApiError(409, 9069, "Volume is inactive. Activate it before browsing.")
        q = request.query_params
        prefix = q.get("prefix") or ""
        try:
            limit = min(int(q.get("limit", str(DEFAULT_LIMIT))), MAX_LIMIT)
        except ValueError:
            raise bad_request("limit must be an integer") from None
        if limit < 1:
            raise bad_request("limit must be >= 1")
        after = q.get("continuation_token") or ""
        # The docs do not say whether a continuation sees objects written after the listing
        # began. By default it does (each page starts after the previous page's last key);
        # the volume-listing-snapshot variant shows only those there at the first page.
        snapshot = self.settings.has("volume-listing-snapshot")
        try:
            seen_upto = int(q.get("snapshot") or vol.objects.writes)
        except ValueError:
            raise bad_request("snapshot must be an integer") from None
        # Undocumented what a listing holds without fields=_all. By default the simulator gives
        # full items (as the docs' examples show them); the lean-volume-listing variant leaves
        # out the metadata unless fields=_all is asked for, as the Platform's other lists do.
        full = q.get("fields") == "_all" or not self.on("lean-volume-listing", request)
        # The docs' only word on ``prefix``: "the name of the folder"; their example answers
        # prefix=my-folder with the entry my-folder/ (an S3-like reading, the default). The
        # listing-folder-name variant reads it as a folder's name: prefix=dir lists what is in
        # dir/, and prefix=dir/ lists what is in dir// (nothing: a client must not guess the
        # reading, and can follow the hrefs the answer gives, which name folders this way).
        folder_name = self.on("listing-folder-name", request)
        listed = prefix + "/" if folder_name and prefix else prefix
        # [docs silent] how full a page is: by default `limit` entries while more remain; the
        # listing-small-pages variant gives 1..limit (seeded), truncated, with a next link.
        page_size = limit
        if self.on("listing-small-pages", request):
            gate: Gate = request.app.state.gate
            page_size = gate.vrng.randint(1, limit)
        # One level under the prefix, in order, from the sorted keys: bisect to the first key
        # after the token, then take entries until the page is full. Keys under a sub-prefix
        # are one entry (the prefix; S3's CommonPrefixes), skipped over by a second bisection.
        root = vol.prefix.strip("/")
        root_part = root + "/" if root else ""
        base_key = root_part + listed
        keys = vol.objects.sorted_keys()
        i = bisect.bisect_left(keys, base_key)
        if after:
            i = max(i, bisect.bisect_right(keys, root_part + after))
        entries: list[tuple[str, str | None]] = []  # (relative name, bucket key or None)
        while i < len(keys) and len(entries) <= page_size:
            key = keys[i]
            if not key.startswith(base_key):
                break
            rest = key[len(base_key) :]
            if "/" in rest.rstrip("/"):
                first = rest.split("/", 1)[0]
                sub = listed + first + "/"
                if sub > after:
                    if entries and entries[-1][0] == sub:
                        entries.pop()  # an object named like the prefix: the prefix wins
                    entries.append((sub, None))
                i = bisect.bisect_left(keys, base_key + first + "0", i)  # '0' follows '/'
                continue
            rel = listed + rest
            if rel > after and not (snapshot and vol.objects.written.get(key, 0) > seen_upto):
                entries.append((rel, key))
            i += 1
        page, more = entries[:page_size], len(entries) > page_size
        base = self.base(request)
        items, prefixes = [], []
        for k, obj_key in page:
            if obj_key is not None:
                obj_size = vol.objects[obj_key]
                item: dict[str, Any] = {
                    "href": f"{base}/storage/volumes/{vid}/object?{urlencode({'location': k})}",
                    "location": k,
                    "volume": vid,
                    "type": vol.service_type,
                }
                if full:
                    item["metadata"] = {
                        "size": obj_size,
                        "bucket": vol.bucket,
                        "name": obj_key,
                        **{
                            f"x-amz-{n}": v
                            for n, v in vol.object_properties.get(obj_key or "", {}).items()
                            if v is not None
                        },
                    }
                items.append(item)
            else:
                # under listing-folder-name a folder is asked for by its name, without the '/'
                asked = k.rstrip("/") if folder_name else k
                prefixes.append(
                    {
                        "href": f"{base}/storage/volumes/{vid}/list?"
                        + urlencode({"prefix": asked}),
                        "prefix": k,
                        "volume": vid,
                    }
                )
        links = []
        if more:
            more_q: dict[str, Any] = {"prefix": prefix, "limit": limit}
            if q.get("fields"):
                more_q["fields"] = q["fields"]
            if snapshot:
                more_q["snapshot"] = seen_upto
            nxt = urlencode({**more_q, "continuation_token": page[-1][0]})
            links.append({"next": f"{base}/storage/volumes/{vid}/list?{nxt}"})
        here = urlencode({"prefix": prefix, "limit": limit})
        return JSONResponse(
            {
                "href": f"{base}/storage/volumes/{vid}/list?{here}",
                "prefix": prefix,
                "limit": limit,
                "truncated": more,
                "items": items,
                "prefixes": prefixes,
                "links": links,
            }
        )

    # ---- exports ---------------------------------------------------------------------------
    def copy_only(self, request: Request) -> bool:
        copy_only = parse_bool(request.query_params.get("copy_only"), "copy_only")
        if copy_only:
            aa = request.headers.get("x-sbg-advance-access", "").strip().lower()
            if aa != "advance":
                # Undocumented what the Platform does with copy_only without the advance-access
                # header. Every official client sends the header with it; the simulator refuses
                # the call rather than guess, so a client that forgets it can never move data it
                # meant to copy.
                raise ApiError(
                    400,
                    9011,
                    "copy_only is an advance-access feature: send 'X-SBG-Advance-Access: advance'.",
                )
        return copy_only

    def check_item(
        self, item: Any, conflict_at_submit: bool = False
    ) -> tuple[FileNode, Volume, str, bool, dict[str, Any]]:
        if not isinstance(item, dict):
            raise bad_request("each item must be an object")
        src, dst = item.get("source"), item.get("destination")
        if not isinstance(src, dict) or not isinstance(src.get("file"), str):
            raise bad_request("source.file is required")
        if not isinstance(dst, dict) or not isinstance(dst.get("volume"), str):
            raise bad_request("destination.volume is required")
        location = dst.get("location")
        if not isinstance(location, str) or not location:
            raise bad_request("destination.location is required")
        overwrite = item.get("overwrite", False)
        if not isinstance(overwrite, bool):
            raise bad_request("overwrite must be true or false")
        props = item.get("properties") or {}
        if not isinstance(props, dict):
            raise bad_request("properties must be an object")
        node = self.world.files.get(src["file"])
        if node is None or node.parent is None:
            raise ApiError(404, 9009, "Requested file does not exist.")
        if node.is_folder or node.is_alias or node.public_copy:
            raise ApiError(403, 9006, "Requested file cannot be exported. Check the documentation.")
        vol = self.world.volumes.get(dst["volume"])
        if vol is None:
            raise ApiError(404, 9007, "Requested volume does not exist.")
        if not vol.active:
            raise ApiError(409, 9069, "Volume is inactive. Activate it before exporting.")
        if vol.access_mode != "RW":
            raise ApiError(403, 9026, "Volume is not configured for read-write access.")
        if "write" not in vol.permissions:
            # 9020: "Insufficient privileges to access the volume" [D:codes]; a member needs
            # `write` to export to a volume [OAS volume members]
            raise ApiError(403, 9020, "Insufficient privileges to access the volume.")
        src_loc = self.world.projects[node.project].location
        if src_loc != vol.location:
            # The docs: "export is possible only to a volume that is in the same location (cloud
            # provider and region) as the project". They document 9027 for different clouds and
            # no separate code for another region of the same cloud, so the simulator answers
            # 9027 for both. The region is known here, on the server side, only.
            raise ApiError(
                403,
                9027,
                "Exporting files across different cloud services or regions is not supported.",
            )
        if location.endswith("/"):
            raise ApiError(400, 9072, "File path ending with slash is not valid.")
        if location.startswith("/") or any(p in ("", ".", "..") for p in location.split("/")):
            raise bad_request(
                "destination.location must be a relative key without empty, '.' or '..' parts"
            )
        if len(vol.key_for(location).encode()) > 1024:
            raise bad_request("the object key is longer than 1024 bytes")
        if conflict_at_submit and not overwrite and vol.key_for(location) in vol.objects:
            raise ApiError(
                409, 9107, "Location on volume already contains a file. Check the documentation."
            )
        properties: dict[str, Any] = {}
        if vol.service_type == "s3":
            # The volume's properties are the defaults; the export's own override them key by
            # key (the bulk export page: "These values override the defaults from the volume").
            properties = {**s3_defaults(), **vol.properties, **props}
            if properties["sse_algorithm"] not in SSE_ALGORITHMS:
                raise ApiError(400, 9023, "Invalid value for sse_algorithm.")
            acl = properties["aws_canned_acl"]
            if acl is not None and acl not in CANNED_ACLS:
                raise ApiError(400, 9022, "Invalid value for aws_canned_acl.")
        return node, vol, location, overwrite, properties

    async def export_create(self, request: Request) -> Response:
        now = self.now(request)
        copy_only = self.copy_only(request)
        body = await json_body(request)
        try:
            node, vol, location, overwrite, props = self.check_item(
                body, self.on("conflict-at-submit", request)
            )
        except ApiError as e:
            return e.response()
        job = self.world.submit_export(node, vol, location, overwrite, copy_only, props, now)
        return JSONResponse(self.echoed(request, job.record(self.base(request), now)))

    async def bulk_export_create(self, request: Request) -> Response:
        now = self.now(request)
        copy_only = self.copy_only(request)
        body = await json_body(request)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise bad_request('the body must be {"items": [...]}')
        if len(items) > MAX_BULK:
            raise bad_request(f"at most {MAX_BULK} items per bulk call, got {len(items)}")
        base = self.base(request)
        at_submit = self.on("conflict-at-submit", request)

        def made(result: Any) -> dict[str, Any]:
            node, vol, location, overwrite, props = result
            job = self.world.submit_export(node, vol, location, overwrite, copy_only, props, now)
            return self.echoed(request, job.record(base, now))

        out = self.bulk_answer(request, items, lambda it: self.check_item(it, at_submit), made)
        return JSONResponse({"items": out})

    def bulk_answer(
        self,
        request: Request,
        items: list[Any],
        check: Callable[[Any], Any],
        make: Callable[[Any], dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """A bulk create's answer, for exports and imports alike: each item checked
        (``check`` raises the item's ``ApiError``) and made (``make``: its job's record), a
        per-item error for the others, as the bulk pages describe; the variants that refuse
        the whole call for one item; and the answer faults (``garble``)."""
        checked: list[Any] = []
        for index, item in enumerate(items):
            try:
                checked.append(check(item))
            except ApiError as e:
                if self.on("bulk-all-or-nothing", request):
                    # The variant: one invalid item refuses the whole call; nothing is created.
                    raise bad_request(f"items[{index}]: {e.message} (code {e.code})") from None
                if self.on("refuse-whole-call", request):
                    # [docs silent] the bulk page describes per-item errors; this variant
                    # refuses the whole call with the invalid item's own status and code,
                    # nothing created (the item is named by its index in the message).
                    raise ApiError(e.status, e.code, f"items[{index}]: {e.message}") from None
                checked.append(e)
        out = []
        for result in checked:
            if isinstance(result, ApiError):
                out.append({"error": error_body(result.status, result.code, result.message)})
            else:
                out.append({"resource": make(result)})
        self.garble(request, out)
        return out

    # ---- imports (docs/platform-import.md) ---------------------------------------------------
    def check_import(self, item: Any, conflict_at_submit: bool, now: float) -> dict[str, Any]:
        """One import item's checks at submission, as the docs make them certain; the rest is
        the job's outcome. Returns ``World.submit_import``'s arguments."""
        if not isinstance(item, dict):
            raise bad_request("each item must be an object")
        src, dst = item.get("source"), item.get("destination")
        if not isinstance(src, dict) or not isinstance(src.get("volume"), str):
            raise bad_request("source.volume is required")
        location = src.get("location")
        if not isinstance(location, str) or not location:
            raise bad_request("source.location is required")
        if not isinstance(dst, dict):
            raise bad_request("destination is required")
        project_id, parent_id = dst.get("project"), dst.get("parent")
        if (project_id is None) == (parent_id is None):
            # "destination.project or destination.parent" [D:bulk-import; SBPY: mutually
            # exclusive]
            raise bad_request("give destination.project or destination.parent, one of them")
        name = dst.get("name")
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise bad_request("destination.name must be a file name")
        flags = {k: item.get(k, False) for k in ("overwrite", "autorename")}
        for k, v in flags.items():
            if not isinstance(v, bool):
                raise bad_request(f"{k} must be true or false")
        if location.endswith("/"):
            # a folder's import (preserve_folder_structure, per-file results): the docs leave
            # its per-file answers open and sbexport imports object by object; not simulated
            raise bad_request("folder imports (a location ending in '/') are not simulated")
        vol = self.world.volumes.get(src["volume"])
        if vol is None:
            raise ApiError(404, 9104, "Requested volume does not exist.")
        if not vol.active:
            raise ApiError(409, 9069, "Volume is inactive.")
        if "read" not in vol.permissions:
            raise ApiError(403, 9020, "Insufficient privileges to access the volume.")
        folder = self.into(
            project_id,
            parent_id,
            (404, 9109, "Requested folder does not exist or is not accessible."),
        )
        target = name or location.rsplit("/", 1)[-1]
        clash = self.world.child_named(folder, target)
        if conflict_at_submit and clash is not None and not any(flags.values()):
            # the import-conflict-at-submit variant: a name clash is refused at submission
            raise ApiError(*NAME_CLASH)
        return {
            "volume": vol,
            "location": location,
            "folder": folder,
            "by_parent": parent_id is not None,
            "name": name,
            "overwrite": flags["overwrite"],
            "autorename": flags["autorename"],
            "now": now,
        }

    def import_echoed(self, request: Request, rec: dict[str, Any]) -> dict[str, Any]:
        """[docs silent] whether ``source.location`` is echoed as passed or with the volume's
        prefix: the import-echo-prefixed variant prepends it."""
        if not self.on("import-echo-prefixed", request):
            return rec
        src = dict(rec["source"])
        src["location"] = self.world.volumes[src["volume"]].key_for(src["location"])
        return {**rec, "source": src}

    async def bulk_import_create(self, request: Request) -> Response:
        now = self.now(request)
        body = await json_body(request)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise bad_request('the body must be {"items": [...]}')
        if len(items) > MAX_BULK:
            raise bad_request(f"at most {MAX_BULK} items per bulk call, got {len(items)}")
        base = self.base(request)
        at_submit = self.on("import-conflict-at-submit", request)

        def made(args: dict[str, Any]) -> dict[str, Any]:
            job = self.world.submit_import(**args)
            return self.import_echoed(request, job.record(base, now))

        out = self.bulk_answer(
            request, items, lambda it: self.check_import(it, at_submit, now), made
        )
        return JSONResponse({"items": out})

    async def import_create(self, request: Request) -> Response:
        now = self.now(request)
        body = await json_body(request)
        args = self.check_import(body, self.on("import-conflict-at-submit", request), now)
        job = self.world.submit_import(**args)
        return JSONResponse(
            self.import_echoed(request, job.record(self.base(request), now)), status_code=201
        )

    async def bulk_import_get(self, request: Request) -> Response:
        return await self.bulk_get(
            request, "import_ids", "import", self.world.imports, self.import_echoed
        )

    async def import_get(self, request: Request) -> Response:
        now = self.now(request)
        job = self.world.imports.get(request.path_params["import_id"])
        if job is None:
            raise ApiError(404, 9008, "Requested import job does not exist.")
        return detail(request, self.import_echoed(request, job.record(self.base(request), now)))

    async def imports(self, request: Request) -> Response:
        """``GET /storage/imports``: the user's import jobs, filtered by volume, project and
        state [OAS list-import-jobs], in the order they were made (the docs give none)."""
        now = self.now(request)
        q = request.query_params
        volume, project = q.get("volume"), q.get("project")
        states = {s.upper() for s in q.getlist("state")}
        base = self.base(request)
        recs = [
            job
            for jid in self.world.import_order
            if (job := self.world.imports[jid]).user == self.world.user.username
            and (not volume or job.volume_id == volume)
            and (not project or job.project == project)
            and (not states or job.state_at(now) in states)
        ]
        return list_response(
            request,
            recs,
            DEFAULT_FIELDS["imports"],
            lambda j: self.import_echoed(request, j.record(base, now)),
        )

    def garble(self, request: Request, out: list[dict[str, Any]]) -> None:
        """The answer faults: the jobs are made as asked, but the answer says it wrongly."""
        gate: Gate = request.app.state.gate
        made = [i for i, o in enumerate(out) if "resource" in o]
        ids = [out[i]["resource"]["id"] for i in made]
        previous, self.last_answer_ids = self.last_answer_ids, ids
        if len(made) >= 2 and gate.roll("misorder"):
            gate.rng.shuffle(out)
            made = [i for i, o in enumerate(out) if "resource" in o]
        if len(made) >= 2 and gate.roll("dup_id"):
            a, b = gate.rng.sample(made, 2)
            out[b]["resource"] = {**out[b]["resource"], "id": out[a]["resource"]["id"]}
        if made and previous and gate.roll("stale_id"):
            k = gate.rng.choice(made)
            out[k]["resource"] = {**out[k]["resource"], "id": gate.rng.choice(previous)}

    async def export_get(self, request: Request) -> Response:
        now = self.now(request)
        job = self.world.exports.get(request.path_params["export_id"])
        if job is None:
            raise ApiError(404, 9008, "Requested export job does not exist.")
        return detail(request, self.echoed(request, job.record(self.base(request), now)))

    async def exports(self, request: Request) -> Response:
        now = self.now(request)
        q = request.query_params
        volume, states = q.get("volume"), {s.upper() for s in q.getlist("state")}
        base = self.base(request)
        recs = []
        # The docs give the list's filters (volume, state) but no order: by default the order the
        # jobs were made; the variants list the newest first, or in no time order at all.
        order = self.world.export_order
        if self.on("exports-newest-first", request):
            order = order[::-1]
        elif self.on("exports-unordered", request):
            order = sorted(order)
        for jid in order:
            job = self.world.exports[jid]
            if job.user != self.world.user.username:
                continue
            if volume and job.volume_id != volume:
                continue
            if states and job.state_at(now) not in states:
                continue
            recs.append(job)
        # The docs' only example of this list has items of href, id, state; whether it honours
        # fields=_all is not documented. By default it does; lean-export-list ignores fields.
        return list_response(
            request,
            recs,
            DEFAULT_FIELDS["exports"],
            lambda j: self.echoed(request, j.record(base, now)),
            lean=self.on("lean-export-list", request),
        )

    async def bulk_export_get(self, request: Request) -> Response:
        return await self.bulk_get(request, "export_ids", "export", self.world.exports, self.echoed)

    async def bulk_get(
        self,
        request: Request,
        ids_key: str,
        word: str,
        jobs: Mapping[str, Any],
        echo: Callable[[Request, dict[str, Any]], dict[str, Any]],
    ) -> Response:
        """A bulk get, for exports and imports alike: each id's record or its error, and the
        faults and variants of the answer (a job said gone or forbidden, another order)."""
        now = self.now(request)
        body = await json_body(request)
        ids = body.get(ids_key) if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise bad_request(f'the body must be {{"{ids_key}": [...]}}')
        if len(ids) > MAX_BULK:
            raise bad_request(f"at most {MAX_BULK} items per bulk call, got {len(ids)}")
        base = self.base(request)
        gate: Gate = request.app.state.gate
        items = []
        # [docs silent] which jobs a caller may not see: the docs list 9005 (403) "insufficient
        # privileges to access the requested job"; the job_forbidden fault and the
        # job-forbidden variant answer it for jobs that exist (and go on).
        forbidden = self.on("job-forbidden", request)
        for jid in ids:
            job = jobs.get(jid)
            if job is None or gate.roll("job_gone"):
                items.append(
                    {"error": error_body(404, 9008, f"Requested {word} job does not exist.")}
                )
            elif gate.roll("job_forbidden") or (
                forbidden and gate.vrng.random() < JOB_FORBIDDEN_RATE
            ):
                items.append(
                    {
                        "error": error_body(
                            403, 9005, "Insufficient privileges to access the requested job."
                        )
                    }
                )
            else:
                items.append({"resource": echo(request, job.record(base, now))})
        if len(items) >= 2 and self.on("bulk-get-unordered", request):
            # [docs silent] whether the answer keeps the order of the ids asked: under the
            # variant it does not (each record names its job by resource.id; an error record
            # names none). Never the order asked, when the records differ.
            shuffled = gate.vrng.sample(items, len(items))
            if shuffled == items:
                shuffled = items[1:] + items[:1]
            items = shuffled
        return JSONResponse({"items": items})

    # ---- the simulator's own record (not part of the Platform API) ---------------------------
    async def sim_exports(self, request: Request) -> Response:
        now = self.now(request)
        base = self.base(request)
        jobs = []
        for jid in self.world.export_order:
            job = self.world.exports[jid]
            rec = job.record(base, now)
            rec["copy_only"] = job.copy_only
            rec["key"] = job.key
            jobs.append(rec)
        return JSONResponse({"exports": jobs})

    def place_of(self, folder_id: str) -> str:
        """A folder as ``owner/project/its/path`` (the project alone for its root)."""
        node = self.world.files[folder_id]
        parts = []
        while node.parent is not None:
            parts.append(node.name)
            node = self.world.files[node.parent]
        return "/".join([node.project, *reversed(parts)])

    async def sim_imports(self, request: Request) -> Response:
        """Every import job as it was asked (the answers' echo variants aside), with the
        object's key, the file it made and the folder it goes to (``place``): the tests'
        record of what the sim did."""
        now = self.now(request)
        base = self.base(request)
        jobs = []
        for jid in self.world.import_order:
            job = self.world.imports[jid]
            rec = job.record(base, now)
            rec["source"] = {"volume": job.volume_id, "location": job.location}
            rec["key"] = job.key
            rec["made"] = job.made
            rec["place"] = self.place_of(job.parent)  # where its file goes, as a path
            jobs.append(rec)
        # and every folder that holds two children of one name (folder-names-repeat lets a
        # second folder be made): the tests' record that no folder was made twice
        twins = []
        for node in self.world.files.values():
            names = Counter(self.world.files[c].name for c in node.children)
            twins += [f"{self.place_of(node.id)}/{n}" for n, k in names.items() if k > 1]
        return JSONResponse({"imports": jobs, "twins": twins})

    async def sim_maintenance(self, request: Request) -> Response:
        gate: Gate = request.app.state.gate
        try:
            seconds = float(request.query_params.get("seconds", "5"))
        except ValueError:
            raise bad_request("seconds must be a number") from None
        gate.maintenance_until = self.settings.now() + seconds
        return JSONResponse({"maintenance_until": gate.maintenance_until})


def build_starlette(world: World, settings: SimSettings) -> Starlette:
    h = Handlers(world, settings)
    routes = [
        Route("/v2/", h.root),
        Route("/v2", h.root),
        Route("/v2/user", h.user),
        Route("/v2/rate_limit", h.rate_limit),
        Route("/v2/projects", h.projects),
        Route("/v2/projects/{owner}", h.projects),
        Route("/v2/projects/{owner}/{project}", h.project),
        Route("/v2/files", h.files, methods=["GET"]),
        Route("/v2/files", h.folder_create, methods=["POST"]),
        Route("/v2/files/scroll", h.files_scroll),
        Route("/v2/files/{file_id}", h.file),
        Route("/v2/files/{file_id}/scroll", h.files_scroll),
        Route("/v2/files/{file_id}/list", h.folder_list),
        Route("/v2/bulk/files/get", h.bulk_files_get, methods=["POST"]),
        Route("/v2/tasks", h.tasks),
        Route("/v2/tasks/{task_id}", h.task),
        Route("/v2/storage/volumes", h.volumes),
        Route("/v2/storage/volumes/{owner}/{name}", h.volume),
        Route("/v2/storage/volumes/{owner}/{name}/list", h.volume_list),
        Route("/v2/storage/volumes/{owner}/{name}/members/{username}", h.volume_member),
        Route("/v2/storage/exports", h.exports, methods=["GET"]),
        Route("/v2/storage/exports", h.export_create, methods=["POST"]),
        Route("/v2/storage/exports/{export_id}", h.export_get),
        Route("/v2/bulk/storage/exports/create", h.bulk_export_create, methods=["POST"]),
        Route("/v2/bulk/storage/exports/get", h.bulk_export_get, methods=["POST"]),
        Route("/v2/storage/imports", h.imports, methods=["GET"]),
        Route("/v2/storage/imports", h.import_create, methods=["POST"]),
        Route("/v2/storage/imports/{import_id}", h.import_get),
        Route("/v2/bulk/storage/imports/create", h.bulk_import_create, methods=["POST"]),
        Route("/v2/bulk/storage/imports/get", h.bulk_import_get, methods=["POST"]),
        Route("/_sim/exports", h.sim_exports),
        Route("/_sim/imports", h.sim_imports),
        Route("/_sim/maintenance", h.sim_maintenance, methods=["POST"]),
    ]

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if status == 405:
            return JSONResponse(error_body(405, 90006, "Method not allowed."), 405)
        # As observed on the Platform for an unknown path: a string status and no code.
        return JSONResponse({"status": "NOT_FOUND", "message": "HTTP 404 Not Found"}, 404)

    app = Starlette(
        routes=routes,
        exception_handlers={ApiError: api_error, 404: not_found, 405: not_found},
    )
    return app


Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class Gate:
    """What the Platform's gateway does: auth, the rate limit, maintenance, and injected faults."""

    def __init__(self, settings: SimSettings) -> None:
        self.settings = settings
        self.rng = random.Random(settings.seed + 1)
        # the variants' own choices: hostile mode's rolls, and each variant's seeded picks
        # (echo-slashes, bulk-get-unordered, listing-small-pages, job-forbidden)
        self.vrng = random.Random(settings.seed + 13)
        # (method, path, hostile variants rolled) of recent requests, in hostile mode
        self.hostile_log: deque[tuple[str, str, frozenset[str]]] = deque(maxlen=10000)
        self.windows: dict[str, tuple[float, int]] = {}  # token -> (window start, used)
        self.storm_until = 0.0
        self.maintenance_until = 0.0
        self.requests = 0  # authenticated requests seen (for tests and benchmarks)
        # (method, path) of the recent authenticated requests: the doctor's read-only promise
        # is checked against this, the sim's own record
        self.log: deque[tuple[str, str]] = deque(maxlen=10000)
        self.responses_429 = 0

    def _window(self, token: str, now: float) -> tuple[float, int]:
        start, used = self.windows.get(token, (now, 0))
        if now >= start + self.settings.rate_window:
            start, used = now, 0
        return start, used

    def peek(self, token: str) -> tuple[int, int, int]:
        now = self.settings.now()
        start, used = self._window(token, now)
        reset = math.ceil(start + self.settings.rate_window)
        return self.settings.rate_limit, max(0, self.settings.rate_limit - used), reset

    def roll(self, kind: str) -> bool:
        rate = self.settings.fault_rate(kind)
        return rate > 0 and self.rng.random() < rate

    def roll_hostile(self, scope: MutableMapping[str, Any]) -> None:
        """Hostile mode: decide, for this request, which hostile variants apply."""
        if self.settings.hostile:
            rolled = self.settings.roll_hostile(self.vrng)
            scope[HOSTILE_SCOPE_KEY] = rolled
            self.hostile_log.append((scope.get("method", ""), scope.get("path", ""), rolled))


class SimPlatform:
    """The ASGI app of the simulated Platform."""

    def __init__(
        self, world: World, settings: SimSettings | None = None, *, socket_mode: bool = False
    ) -> None:
        self.world = world
        self.settings = settings or SimSettings()
        world.job_seconds = self.settings.job_seconds
        world.job_rate = self.settings.job_rate
        world.job_slots = JOB_QUEUE_SLOTS if self.settings.has("job-queue") else None
        world.job_fail_rate = self.settings.faults.get("job_fail", 0.0)
        world.job_abort_rate = self.settings.faults.get("unknown_state", 0.0)
        self.socket_mode = socket_mode
        self.gate = Gate(self.settings)
        self.inner = build_starlette(world, self.settings)
        self.inner.state.gate = self.gate

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        send = self.dated(send)
        s = self.settings
        if s.latency_ms:
            await asyncio.sleep(s.latency_ms / 1000)
        path: str = scope.get("path", "")
        if path.rstrip("/") in ("/v2", "") or not (
            path.startswith("/v2") or path.startswith("/_sim")
        ):
            await self.inner(scope, receive, send)  # the root needs no token
            return
        headers = {k.decode().lower(): v.decode(errors="replace") for k, v in scope["headers"]}
        token = headers.get("x-sbg-auth-token", "")
        if token not in s.tokens:
            # The token is never echoed back.
            await self.respond(
                send,
                401,
                error_body(401, 90001, "Unauthorized: missing or invalid authentication token."),
            )
            return
        if path.startswith("/_sim"):
            await self.inner(scope, receive, send)
            return
        now = s.now()
        g = self.gate
        if now < g.maintenance_until or (self.gate.roll("maintenance") and self._start_maint(now)):
            await self.respond(
                send, 503, error_body(503, 0, "Platform is under maintenance. Try again later.")
            )
            return
        if now < g.storm_until or (g.roll("429") and self._start_storm(now)):
            g.responses_429 += 1
            await self.respond(
                send,
                429,
                error_body(429, 1000, "Rate limit exceeded! Please check response headers."),
                self.rate_headers(0, math.ceil(g.storm_until)),
            )
            return
        start, used = g._window(token, now)
        reset = math.ceil(start + s.rate_window)
        if path.rstrip("/") == "/v2/rate_limit":
            # Not counted: "making this API call does not count against your rate limit" (the
            # docs' page of GET /rate_limit; D:rate, https://docs.sevenbridges.com/docs/
            # api-rate-limit), so a client can always ask where it stands.
            await self.inner(
                scope,
                receive,
                self.with_headers(send, self.rate_headers(s.rate_limit - used, reset)),
            )
            return
        if used >= s.rate_limit:
            g.windows[token] = (start, used)
            g.responses_429 += 1
            await self.respond(
                send,
                429,
                error_body(429, 1000, "Rate limit exceeded! Please check response headers."),
                self.rate_headers(0, reset),
            )
            return
        used += 1
        g.windows[token] = (start, used)
        g.requests += 1
        g.log.append((str(scope.get("method", "")), path))
        g.roll_hostile(scope)
        rate_headers = self.rate_headers(s.rate_limit - used, reset)
        if g.roll("5xx"):
            status, code = self.gate.rng.choice([(500, 90004), (503, 90005)])
            message = "Unexpected server error." if status == 500 else "Service unavailable."
            await self.respond(send, status, error_body(status, code, message), rate_headers)
            return
        if g.roll("html"):
            await self.respond_raw(send, 502, PROXY_HTML.encode(), "text/html")
            return
        if g.roll("reset"):
            await self.drop(send)
            return
        if g.roll("timeout"):

            async def swallow(message: MutableMapping[str, Any]) -> None:
                return None

            await self.inner(scope, receive, swallow)  # the Platform acts ...
            if not self.socket_mode:
                raise SimTimeout("the simulated Platform acted but never answered")
            await asyncio.sleep(s.hang_seconds)  # ... and the answer never comes
            await self.drop(send)
            return
        await self.inner(scope, receive, self.with_headers(send, rate_headers))

    def _start_storm(self, now: float) -> bool:
        self.gate.storm_until = now + self.settings.storm_seconds
        return True

    def _start_maint(self, now: float) -> bool:
        self.gate.maintenance_until = now + self.settings.maintenance_seconds
        return True

    @staticmethod
    def rate_headers(remaining: int, reset: int) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-remaining", str(max(0, remaining)).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
        ]

    def dated(self, send: Send) -> Send:
        """Every answer carries a ``Date`` header from the server's clock (RFC 9110 asks an
        origin server with a clock to send one), which is how a client can tell how far its own
        clock is from the Platform's."""

        async def wrapped(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                date = formatdate(self.settings.now(), usegmt=True).encode()
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"date"]
                message["headers"] = [*headers, (b"date", date)]
            await send(message)

        return wrapped

    def with_headers(self, send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
        limit = (b"x-ratelimit-limit", str(self.settings.rate_limit).encode())

        async def wrapped(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), limit, *extra]
            await send(message)

        return wrapped

    async def respond(
        self,
        send: Send,
        status: int,
        body: dict[str, Any],
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        await self.respond_raw(send, status, json.dumps(body).encode(), "application/json", extra)

    async def respond_raw(
        self,
        send: Send,
        status: int,
        body: bytes,
        content_type: str,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"x-ratelimit-limit", str(self.settings.rate_limit).encode()),
            *(extra or []),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def drop(self, send: Send) -> None:
        if not self.socket_mode:
            raise SimConnectionDropped("the simulated Platform dropped the connection")
        # Start a response that never completes: the server closes the connection under it.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"items": [', "more_body": True})
        raise SimConnectionDropped("connection dropped on purpose")
