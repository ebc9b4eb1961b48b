"""Hostile input: every case gives a clear message and the documented exit code, never a traceback.

* configuration: malformed, truncated, binary, NUL-laden, huge and wrongly shaped profiles.toml;
* tokens with whitespace, line breaks or non-ASCII characters inside;
* region URLs: http to a remote host, a path other than /v2, garbage;
* responses (``httpx.MockTransport`` against ``PlatformClient``, and a fake server on loopback for
  the CLI): HTML, empty, truncated JSON, JSON of the wrong shape, 10 MB bodies, ``links`` that loop;
* file names with markup brackets, control characters, RTL text, 1,000 characters, in the TUI;
* destination templates with ``..``, absolute paths, empty parts, through ``export --dry-run``.

The CLI runs in-process (``sbexport_tui.cli.main``) where that is cheaper: an uncaught exception
would fail the test, and the headless last line of defence ("This is a bug") is asserted absent.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from sbexport_tui import cli
from sbexport_tui.api.client import PlatformClient, RetryPolicy
from sbexport_tui.api.errors import BadResponse, PagingError, PlatformError

from .conftest import TOKEN, start_sim

pytestmark = pytest.mark.e2e

PROJECT = "demo/wgs-cohort"
VOLUME = "demo/us-east-results"
HUGE = 10 * 1024 * 1024
HOSTILE_COUNT: dict[str, int] = {}  # group -> cases, filled by the parametrize lists below


def counted(group: str, cases: list) -> list:
    HOSTILE_COUNT[group] = len(cases)
    return cases


# ---- helpers ---------------------------------------------------------------------------------
@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k in list(os.environ):
        if k.startswith(("SB_", "SBEXPORT_")):
            monkeypatch.delenv(k)
    monkeypatch.setenv("SBEXPORT_HOME", str(tmp_path / "sbx"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SIMTOK", TOKEN)
    return tmp_path / "sbx"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "This is a bug" not in err, err
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ": error: " in ln]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def sim():
    server = start_sim("--job-seconds", "0.3")
    yield server
    server.proc.terminate()
    try:
        server.proc.wait(10)
    except Exception:
        server.proc.kill()


# ---- 1. profiles.toml --------------------------------------------------------------------------
BAD_CONFIGS = counted(
    "profiles.toml",
    [
        pytest.param(b'[profiles.lab\nregion = "aws-us"\n', "not valid TOML", id="malformed"),
        pytest.param(
            b'default = "lab"\n[profiles.lab]\nregion = "aws-us"\ntoken = { env = "SB_AU',
            "not valid TOML",
            id="truncated",
        ),
        pytest.param(bytes(range(256)) * 8, "not UTF-8", id="binary"),
        pytest.param(b'[profiles.lab]\nregion = "aws\x00-us"\n', "NUL", id="nul-bytes"),
        pytest.param(b"# " + b"x" * (2 * 1024 * 1024) + b"\n", "bytes", id="huge-2MB"),
        pytest.param(b'profiles = "lab"\n', "profiles", id="wrong-shape"),
        pytest.param(
            b'[profiles.lab]\nregion = "aws-us"\ntoken = 5\n', "token", id="token-wrong-type"
        ),
        pytest.param(
            b'[profiles.lab]\nregion = "moon-1"\ntoken = { source = "env", var = "X" }\n',
            "region",
            id="unknown-region",
        ),
        pytest.param(b"[" * 100_000, "", id="deep-nesting"),
        pytest.param(None, "not a regular file", id="a-folder"),
    ],
)


@pytest.mark.parametrize(("content", "says"), BAD_CONFIGS)
def test_bad_profiles_file_is_one_clear_line_and_exit_2(home, capsys, content, says):
    cfg = home / "config" / "profiles.toml"
    cfg.parent.mkdir(parents=True)
    if content is None:
        cfg.mkdir()
    else:
        cfg.write_bytes(content)
    for argv in (
        ["profiles", "list"],
        ["export", "--profile", "lab", "--project", PROJECT, "--volume", VOLUME],
    ):
        code, _, err = run_cli(capsys, *argv)
        assert code == 2, (argv, err)
        line = one_error_line(err)
        assert "profiles.toml" in line and says in line, line
        assert len(line) < 600  # a 2 MB file is not echoed back


# ---- 2. tokens ---------------------------------------------------------------------------------
BAD_TOKENS = counted(
    "tokens",
    [
        pytest.param(TOKEN[:10] + " " + TOKEN[10:], "space or line break", id="space-inside"),
        pytest.param(TOKEN[:10] + "\n" + TOKEN[10:], "space or line break", id="newline-inside"),
        pytest.param(TOKEN[:10] + "\t" + TOKEN[10:], "space or line break", id="tab-inside"),
        pytest.param("   \n", "empty token", id="only-whitespace"),
        pytest.param(TOKEN[:10] + "é" + TOKEN[10:], "HTTP header", id="non-ascii"),
        pytest.param(TOKEN[:10] + "\x07" + TOKEN[10:], "HTTP header", id="control-char"),
    ],
)


@pytest.mark.parametrize(("token", "says"), BAD_TOKENS)
def test_token_with_whitespace_inside_is_refused_before_sending(
    home, capsys, monkeypatch, sim, token, says
):
    code, _, err = run_cli(
        capsys, "profiles", "add", "--name", "lab", "--region", sim.url, "--token-env", "LABTOK"
    )
    assert code == 0, err
    monkeypatch.setenv("LABTOK", token)
    code, out, err = run_cli(capsys, "profiles", "test", "lab")
    assert code == 2, err
    line = one_error_line(err)
    assert "LABTOK" in line and says in line, line
    assert token.strip() not in out + err or not token.strip()


def test_token_with_surrounding_whitespace_and_newline_works(home, capsys, monkeypatch, sim):
    run_cli(
        capsys, "profiles", "add", "--name", "lab", "--region", sim.url, "--token-env", "LABTOK"
    )
    monkeypatch.setenv("LABTOK", f"  {TOKEN}\r\n")
    code, out, err = run_cli(capsys, "profiles", "test", "lab")
    assert code == 0, err
    assert "OK: profile 'lab' signs in as demo" in out


def test_token_from_stdin_with_a_space_inside_is_refused(home, capsys, monkeypatch, sim):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("abc def\n"))
    code, _, err = run_cli(
        capsys, "profiles", "add", "--name", "lab", "--region", sim.url, "--token-stdin"
    )
    assert code == 2
    assert "space or line break" in one_error_line(err)
    assert not (home / "config" / "tokens" / "lab.token").exists()


# ---- 3. region URLs ----------------------------------------------------------------------------
BAD_URLS = counted(
    "region URLs",
    [
        pytest.param("http://api.example.com/v2", "https://api.example.com/v2", id="http-remote"),
        pytest.param("http://10.1.2.3:8080/v2", "https", id="http-private-ip"),
        pytest.param("https://api.sbgenomics.com/v2/files", "/v2", id="path"),
        pytest.param("https://api.sbgenomics.com", "/v2", id="no-path"),
        pytest.param("https://igor.sbgenomics.com/developer", "/v2", id="web-page"),
        pytest.param("garbage", "neither a known region id nor an API URL", id="garbage"),
        pytest.param("::::", "neither a known region id", id="colons"),
        pytest.param("https://x.com:99999/v2", "cannot be parsed", id="bad-port"),
        pytest.param("ftp://x.com/v2", "scheme", id="ftp"),
        pytest.param("https://user:pw@x.com/v2", "user name or password", id="credentials"),
        pytest.param("https://x.com/v2?token=abc", "query", id="query"),
        pytest.param("https://[::1/v2", "", id="broken-ipv6"),
        pytest.param("https://x.com/v2\n", "line break", id="newline"),
        pytest.param("https://" + "a" * 5000 + ".com/v2", "", id="5000-chars"),
    ],
)


@pytest.mark.parametrize(("url", "says"), BAD_URLS)
def test_bad_region_url_is_refused_with_what_to_write(home, capsys, url, says):
    code, _, err = run_cli(
        capsys, "profiles", "add", "--name", "lab", "--region", url, "--token-env", "X"
    )
    if url.startswith("https://" + "a" * 100):
        # a 5,000-character host is refused (or saved) without a traceback either way
        assert code in (0, 2), err
        return
    assert code == 2, err
    line = one_error_line(err)
    assert "region" in line and says in line, line
    assert not (home / "config" / "profiles.toml").exists()


def test_environment_endpoint_over_http_to_a_remote_host_is_refused(home, capsys, monkeypatch):
    monkeypatch.setenv("SB_API_ENDPOINT", "http://api.sbgenomics.com/v2")
    monkeypatch.setenv("SB_AUTH_TOKEN", TOKEN)
    code, out, err = run_cli(capsys, "profiles", "test")
    assert code == 2, err
    assert "https" in one_error_line(err)
    assert TOKEN not in out + err


# ---- 4. responses, in-process ------------------------------------------------------------------
def mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> PlatformClient:
    async def no_sleep(_: float) -> None:
        return None

    return PlatformClient(
        "https://api.example.test/v2",
        TOKEN,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=2, backoff_base=0),
        sleep=no_sleep,
    )


def fixed(status: int, body: bytes, ctype: str = "application/json", **headers: str):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": ctype, **headers})

    return handler


HTML = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
BAD_BODIES = counted(
    "responses (in-process)",
    [
        pytest.param(fixed(200, HTML, "text/html"), "HTML page", id="html-200"),
        pytest.param(fixed(502, HTML, "text/html"), "HTML page", id="html-502"),
        pytest.param(fixed(403, HTML, "text/html"), "HTML page", id="html-403"),
        pytest.param(fixed(200, b""), "empty body", id="empty-200"),
        pytest.param(fixed(500, b""), "empty body", id="empty-500"),
        pytest.param(fixed(200, b'{"username": "de'), "not the Platform's JSON", id="truncated"),
        pytest.param(fixed(200, b"[1, 2, 3]"), "User", id="list-not-object"),
        pytest.param(fixed(200, b'{"user": "demo"}'), "username", id="missing-field"),
        pytest.param(fixed(200, b'{"username": ["a"]}'), "username", id="wrong-type"),
        pytest.param(fixed(200, b"null"), "User", id="null"),
        pytest.param(fixed(200, b"\xff\xfe\x00garbage"), "JSON", id="binary"),
        pytest.param(fixed(200, b"x" * HUGE, "text/plain"), "text/plain", id="10MB-text"),
        pytest.param(fixed(200, b"<html>" + b"a" * HUGE, "text/html"), "HTML page", id="10MB-html"),
        pytest.param(fixed(200, b'{"username": "' + b"a" * HUGE), "JSON", id="10MB-truncated-json"),
        pytest.param(
            fixed(302, b"", "text/html", location="https://login.example.test/"),
            "redirect",
            id="redirect",
        ),
        pytest.param(fixed(404, b'{"status": "NOT_FOUND"}'), "404", id="router-404"),
        pytest.param(fixed(401, b'{"code": "x", "message": 5}'), "401", id="odd-error-body"),
    ],
)


@pytest.mark.parametrize(("handler", "says"), BAD_BODIES)
async def test_bad_response_bodies_raise_a_platform_error_with_a_short_message(handler, says):
    client = mock_client(handler)
    try:
        t0 = time.monotonic()
        with pytest.raises(PlatformError) as info:
            await client.get_user()
        assert time.monotonic() - t0 < 20
    finally:
        await client.aclose()
    message = str(info.value)
    assert says in message, message
    assert len(message) < 1000 and TOKEN not in message


async def test_a_10MB_valid_answer_is_read_not_truncated():
    body = json.dumps({"username": "demo", "affiliation": "a" * HUGE}).encode()
    client = mock_client(fixed(200, body))
    try:
        user = await client.get_user()
    finally:
        await client.aclose()
    assert user.username == "demo" and len(user.affiliation or "") == HUGE


def paged(pages: dict[str, dict], *, total: int | None = None):
    """A list endpoint: the page for each offset; the `next` links are given by the test."""

    def handler(request: httpx.Request) -> httpx.Response:
        offset = request.url.params.get("offset", "0")
        headers = {} if total is None else {"x-total-matching-query": str(total)}
        return httpx.Response(200, json=pages.get(offset, {"items": []}), headers=headers)

    return handler


def link(offset: int) -> list[dict]:
    href = f"https://api.example.test/v2/projects?offset={offset}&limit=100"
    return [{"href": href, "rel": "next", "method": "GET"}]


def item(n: int) -> dict:
    return {"id": f"demo/p{n}", "name": f"p{n}"}


LOOPS = counted(
    "paging loops (in-process)",
    [
        pytest.param({"0": {"items": [item(0)], "links": link(0)}}, id="next-is-itself"),
        pytest.param(
            {
                "0": {"items": [item(0)], "links": link(100)},
                "100": {"items": [item(1)], "links": link(0)},
            },
            id="A-B-A",
        ),
        pytest.param(
            {str(o): {"items": [], "links": link(o + 100)} for o in range(0, 2000, 100)},
            id="endless-empty-pages",
        ),
        pytest.param({"0": {"items": "nope", "links": []}}, id="items-not-a-list"),
        pytest.param({"0": {"items": [item(0)], "links": "nope"}}, id="links-not-a-list"),
        pytest.param({"0": {"items": [{"name": "no id"}], "links": []}}, id="item-without-id"),
    ],
)


@pytest.mark.parametrize("pages", LOOPS)
async def test_links_that_loop_or_lie_stop_with_a_clear_error(pages):
    client = mock_client(paged(pages))
    got = []
    try:
        with pytest.raises(BadResponse) as info:
            async for p in client.list_projects():
                got.append(p.id)
                assert len(got) < 1000, "the listing never ended"
    finally:
        await client.aclose()
    assert len(str(info.value)) < 1000
    if isinstance(info.value, PagingError):
        assert "stopped" in str(info.value)


# ---- 4b. responses through the CLI, from a fake server on loopback ----------------------------
class FakePlatform:
    """A tiny ASGI server that answers every request with what ``mode`` says."""

    def __init__(self) -> None:
        self.mode = "html"

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        path, query = scope["path"], scope["query_string"].decode()
        status, ctype, body = 200, "application/json", b"{}"
        if self.mode == "html":
            status, ctype, body = 200, "text/html", HTML
        elif self.mode == "empty":
            body = b""
        elif self.mode == "truncated":
            body = b'{"username": "demo", "email'
        elif self.mode == "wrong-shape":
            body = b'[{"username": "demo"}]'
        elif self.mode == "huge":
            ctype, body = "text/html", b"<html>" + b"x" * HUGE
        elif self.mode == "loop":  # a project whose root listing's `next` link loops
            if path.startswith("/v2/projects/"):
                body = json.dumps({"id": PROJECT, "name": "p", "root_folder": "r" * 24}).encode()
            elif path == "/v2/files":
                base = "http://" + dict(scope["headers"])[b"host"].decode()
                nxt = f"{base}/v2/files?{query}"  # the very page just read
                page = {
                    "items": [{"id": "f" * 24, "name": "a.txt", "type": "file", "size": 1}],
                    "links": [{"href": nxt, "rel": "next", "method": "GET"}],
                }
                body = json.dumps(page).encode()
        headers = [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakePlatform, str]]:
    import uvicorn

    app = FakePlatform()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="critical", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield app, f"http://127.0.0.1:{port}/v2"
    server.should_exit = True
    thread.join(5)


CLI_BODIES = counted(
    "responses (CLI, fake server)",
    [
        pytest.param("html", "HTML page", id="html"),
        pytest.param("empty", "empty body", id="empty"),
        pytest.param("truncated", "not the Platform's JSON", id="truncated-json"),
        pytest.param("wrong-shape", "User", id="wrong-shape"),
        pytest.param("huge", "HTML page", id="10MB-html"),
        pytest.param("loop", "already read", id="looping-links"),
    ],
)


@pytest.mark.parametrize(("mode", "says"), CLI_BODIES)
def test_cli_against_a_server_that_is_not_the_platform_exits_4_in_one_line(
    home, capsys, monkeypatch, fake, mode, says
):
    app, url = fake
    monkeypatch.setenv("LABTOK", TOKEN)
    run_cli(capsys, "profiles", "add", "--name", "lab", "--region", url, "--token-env", "LABTOK")
    app.mode = mode
    if mode == "loop":
        argv = ["export", "--profile", "lab", "--project", PROJECT, "--volume", VOLUME]
    else:
        argv = ["profiles", "test", "lab", "--retries", "1"]
    code, out, err = run_cli(capsys, *argv)
    assert code == 4, err
    line = one_error_line(err)
    assert says in line, line
    assert len(line) < 800 and TOKEN not in out + err


# ---- 5. file names in the TUI ----------------------------------------------------------------
LONG_NAME = ("long_" * 200)[:996] + ".bam"
NASTY_NAMES = counted(
    "file names (TUI)",
    [
        "[bold red]markup[/] not.txt",
        "[link=https://evil.example]click[/link].vcf.gz",
        "[/]closing-first.txt",
        "bell\x07and\x1b[31mescape.txt",
        "tab\there\nnewline.txt",
        "\u202eevil_txt.exe",  # RIGHT-TO-LEFT OVERRIDE
        "שלום_مرحبا_sample.vcf.gz",
        "zero\u200bwidth\ufeff.txt",
        "emoji_🧬🧪.fastq.gz",
        LONG_NAME,
    ],
)
NASTY_FOLDER = "[b]dir[/b] \u202e\x1b[2J"


def visible(name: str) -> str:
    """How the table shows a name: control characters as visible escapes."""
    from sbexport_tui.tui.widgets.table import plain

    return plain(name).plain


async def test_hostile_file_names_show_as_text_and_nothing_crashes(tmp_path):
    from sbexport_tui.config.paths import Paths
    from sbexport_tui.session import Session
    from sbexport_tui.sim import BASE_URL_INPROCESS, SimPlatform, SimSettings, SimTransport
    from sbexport_tui.sim.demo import build_demo_world
    from sbexport_tui.tui.app import SbexportApp
    from sbexport_tui.tui.screens.projects import ProjectsScreen

    from ..tui.pilot import open_path, settle, table_names

    world = build_demo_world(0)
    project = world.projects[PROJECT]
    folder = world.mkdirs(project, "hostile")
    for i, name in enumerate(NASTY_NAMES):
        world.add_node(folder.id, name, size=1000 + i)
    inner = world.add_node(folder.id, NASTY_FOLDER, folder=True)
    world.add_node(inner.id, "inside[/].txt", size=5)
    token = "hostile-names-token"
    platform = SimPlatform(world, SimSettings(tokens=[token], job_seconds=1.0))
    client = PlatformClient(BASE_URL_INPROCESS, token, transport=SimTransport(platform))
    app = SbexportApp(ProjectsScreen, demo=True, theme_name="textual-dark")
    app.session = Session(
        profile_name="demo",
        region_label="hostile world",
        client=client,
        paths=Paths.under(tmp_path / "home", demo=True),
        demo=True,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await open_path(pilot, "hostile")
        names = table_names(app.screen)
        for name in NASTY_NAMES:
            assert visible(name) in names, (name, names)
        assert visible(NASTY_FOLDER) + "/" in names
        for name in names:  # nothing that moves the cursor or rings the bell reaches a cell
            assert "\x1b" not in name and "\x07" not in name
        await pilot.press("a")  # mark everything in view
        await settle(pilot)
        await pilot.press("s")  # the selection screen lists the marked names
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        screen = app.screen
        screen.table.move_cursor(row=names.index(visible(NASTY_FOLDER) + "/"))
        await pilot.press("enter")  # into the folder whose name is markup + RTL + escapes
        await settle(pilot)
        assert "inside[/].txt" in table_names(app.screen)
        await pilot.press("backspace")
        await settle(pilot)
        await pilot.press("x")  # export options: the key preview renders the names
        await settle(pilot)
        await asyncio.sleep(0)
        assert app.is_running
    await client.aclose()


# ---- 6. destination templates ------------------------------------------------------------------
RENDER_REFUSED = counted(
    "templates refused per file (exit 1)",
    [
        pytest.param("../{name}", "'..' folder name", id="dotdot-first"),
        pytest.param("{project}/../../{name}", "'..' folder name", id="dotdot-inside"),
        pytest.param("./{name}", "'.' folder name", id="dot"),
        pytest.param("/{path}", "starts with '/'", id="absolute"),
        pytest.param("{dir}/{name}", "empty", id="empty-dir-at-root"),
        pytest.param("a//{name}", "empty folder name", id="double-slash"),
        pytest.param("{path}/", "ends with '/'", id="trailing-slash"),
        pytest.param("x" * 1100 + "/{name}", "1024", id="key-over-1024-bytes"),
    ],
)


def test_a_template_with_a_control_character_is_refused_before_any_file_is_planned(
    home, capsys, sim, tmp_path
):
    """No file can make such a template valid: the one settings model (issue 28) refuses it as
    a usage error (exit 2) with the reason, before a plan is written."""
    run_cli(
        capsys, "profiles", "add", "--name", "lab", "--region", sim.url, "--token-env", "SIMTOK"
    )
    plan_file = tmp_path / "plan.json"
    code, _out, err = run_cli(
        capsys,
        "export",
        "--profile",
        "lab",
        "--project",
        PROJECT,
        "--volume",
        VOLUME,
        "--location",
        "{name}\x00",
        "--dry-run",
        "--plan-file",
        str(plan_file),
    )
    assert code == 2, err
    assert "control character" in err and "Traceback" not in err
    assert not plan_file.exists()


@pytest.mark.parametrize(("template", "says"), RENDER_REFUSED)
def test_templates_that_render_bad_keys_skip_every_file_with_the_reason(
    home, capsys, sim, tmp_path, template, says
):
    run_cli(
        capsys, "profiles", "add", "--name", "lab", "--region", sim.url, "--token-env", "SIMTOK"
    )
    plan_file = tmp_path / "plan.json"
    code, out, err = run_cli(
        capsys,
        "export",
        "--profile",
        "lab",
        "--project",
        PROJECT,
        "--volume",
        VOLUME,
        "--location",
        template,
        "--dry-run",
        "--plan-file",
        str(plan_file),
    )
    assert code == 1, err
    assert json.loads(out) == []  # no request would be sent
    assert "No valid destination" in err and "README.txt" in err
    plan = json.loads(plan_file.read_text())
    assert plan["items"] and all(not i["exportable"] for i in plan["items"])
    assert all(i["reason"] == "template" and says in i["reason_text"] for i in plan["items"])


TEMPLATE_REFUSED = counted(
    "templates refused outright (exit 2)",
    [
        pytest.param("{nope}/{name}", "unknown placeholder", id="unknown-placeholder"),
        pytest.param("{name", "unbalanced", id="unbalanced"),
        pytest.param("fixed.txt", "no placeholder", id="no-placeholder"),
        pytest.param("   ", "empty", id="blank"),
        pytest.param("{name:>10}", "format", id="format-spec"),
        pytest.param("{name!r}", "format", id="conversion"),
        pytest.param("{0}", "unknown placeholder", id="positional"),
    ],
)


@pytest.mark.parametrize(("template", "says"), TEMPLATE_REFUSED)
def test_broken_templates_exit_2_before_anything_is_planned(home, capsys, sim, template, says):
    run_cli(
        capsys, "profiles", "add", "--name", "lab", "--region", sim.url, "--token-env", "SIMTOK"
    )
    code, out, err = run_cli(
        capsys,
        "export",
        "--profile",
        "lab",
        "--project",
        PROJECT,
        "--volume",
        VOLUME,
        "--location",
        template,
        "--dry-run",
    )
    assert code == 2, err
    assert says in one_error_line(err)
    assert out == ""


# ---- 7. numbers and inputs from the command line -----------------------------------------------
BAD_NUMBERS = counted(
    "numbers (CLI)",
    [
        pytest.param(["--poll-interval", "nan"], "--poll-interval", id="poll-nan"),
        pytest.param(["--poll-interval", "inf"], "--poll-interval", id="poll-inf"),
        pytest.param(["--poll-interval", "1e308"], "--poll-interval", id="poll-huge"),
        pytest.param(["--poll-interval", "0"], "--poll-interval", id="poll-zero"),
        pytest.param(["--retries", "-1"], "--retries", id="retries-negative"),
        pytest.param(["--retries", "1e9"], "--retries", id="retries-not-whole"),
        pytest.param(["--retries", "100000"], "--retries", id="retries-huge"),
    ],
)


@pytest.mark.parametrize(("args", "says"), BAD_NUMBERS)
def test_bad_numbers_on_the_command_line_exit_2(home, capsys, args, says):
    with pytest.raises(SystemExit) as exc:
        cli.main(["export", "--project", PROJECT, "--volume", VOLUME, "--dry-run", *args])
    _out, err = capsys.readouterr()
    assert exc.value.code == 2
    assert says in err and "Traceback" not in err


BAD_MANIFESTS = counted(
    "manifests (CLI)",
    [
        pytest.param("/dev/zero", "larger than 64 MB", id="dev-zero"),
        pytest.param(b"a" * 5000 + b"\n", "line 1", id="one-huge-line"),
        pytest.param(b"\xff\xfe" + "x".encode("utf-16-le"), "not UTF-8", id="utf-16"),
        pytest.param(b"# nothing but a comment\n", "lists no files", id="empty"),
    ],
)


@pytest.mark.parametrize(("content", "says"), BAD_MANIFESTS)
def test_bad_manifests_are_one_clear_line(home, capsys, sim, tmp_path, content, says):
    run_cli(
        capsys, "profiles", "add", "--name", "lab", "--region", sim.url, "--token-env", "SIMTOK"
    )
    if isinstance(content, str):
        path = content
    else:
        path = str(tmp_path / "manifest.txt")
        Path(path).write_bytes(content)
    code, _out, err = run_cli(
        capsys,
        "export",
        "--profile",
        "lab",
        "--project",
        PROJECT,
        "--volume",
        VOLUME,
        "--manifest",
        path,
        "--dry-run",
    )
    assert code == 2, err
    assert says in one_error_line(err)


def test_a_manifest_saved_with_a_byte_order_mark_reads_its_first_entry(home, capsys, sim, tmp_path):
    run_cli(
        capsys, "profiles", "add", "--name", "lab", "--region", sim.url, "--token-env", "SIMTOK"
    )
    path = tmp_path / "m.csv"
    path.write_bytes("\ufeffpath,note\nREADME.txt,x\nsample_sheet.csv,y\n".encode())
    code, _out, err = run_cli(
        capsys,
        "export",
        "--profile",
        "lab",
        "--project",
        PROJECT,
        "--volume",
        VOLUME,
        "--manifest",
        str(path),
        "--on-conflict",
        "rename",
        "--dry-run",
        "--json",
    )
    assert code == 0, err
    assert "matched no file" not in err and "Pre-flight: 2 files" in err


def test_control_characters_from_a_manifest_never_reach_the_terminal(home, capsys, sim, tmp_path):
    run_cli(
        capsys, "profiles", "add", "--name", "lab", "--region", sim.url, "--token-env", "SIMTOK"
    )
    path = tmp_path / "m.txt"
    path.write_bytes(b"\x1b]0;pwned\x07title.txt\n\x1b[2Jclear.txt\nnul\x00.txt\nREADME.txt\n")
    code, out, err = run_cli(
        capsys,
        "export",
        "--profile",
        "lab",
        "--project",
        PROJECT,
        "--volume",
        VOLUME,
        "--manifest",
        str(path),
        "--on-conflict",
        "rename",
        "--dry-run",
    )
    assert code == 1, err  # three entries match no file
    for raw in ("\x1b", "\x07", "\x00"):
        assert raw not in out + err
    assert "\\x1b]0;pwned\\x07title.txt" in err and "\\x1b[2Jclear.txt" in err


def test_a_long_manifest_of_ids_says_what_it_costs_and_how_far_it_is(
    home, capsys, sim, tmp_path, monkeypatch
):
    """2,500 ids (none of them real): the lookups are announced with their count, progress is
    shown while they run, and the end is one clear line."""
    from sbexport_tui.export import selecting

    monkeypatch.setattr(selecting, "PROGRESS_EVERY", 0.0)
    run_cli(
        capsys, "profiles", "add", "--name", "lab", "--region", sim.url, "--token-env", "SIMTOK"
    )
    path = tmp_path / "ids.txt"
    path.write_text("".join(f"{i:024x}\n" for i in range(1, 2501)))
    code, _out, err = run_cli(
        capsys,
        "export",
        "--profile",
        "lab",
        "--project",
        PROJECT,
        "--volume",
        VOLUME,
        "--manifest",
        str(path),
        "--dry-run",
    )
    assert code == 2, err
    assert "manifest: 2,500 file ids need 25 lookup request(s) (100 ids each)" in err
    assert "manifest: looked up 1,000/2,500 file ids" in err
    assert "manifest: looked up 2,500 file ids" in err
    assert "2500 manifest entries matched nothing" in one_error_line(err)


def test_manifest_ids_of_another_project_or_a_folder_are_not_selected(home, capsys, sim, tmp_path):
    """The same rule as the browse screen's manifest: the selection is of one project."""
    import httpx

    run_cli(
        capsys, "profiles", "add", "--name", "lab", "--region", sim.url, "--token-env", "SIMTOK"
    )
    headers = {"X-SBG-Auth-Token": TOKEN}
    other = httpx.get(f"{sim.url}/files", params={"project": "demo/eu-biobank"}, headers=headers)
    other_file = next(f["id"] for f in other.json()["items"] if f.get("type") != "folder")
    mine = httpx.get(
        f"{sim.url}/files", params={"project": PROJECT, "fields": "_all"}, headers=headers
    ).json()["items"]
    folder = next(f["id"] for f in mine if f.get("type") == "folder")
    path = tmp_path / "m.txt"
    path.write_text(f"{other_file}\n{folder}\nREADME.txt\n")
    code, _out, err = run_cli(
        capsys, "export", "--profile", "lab", "--project", PROJECT, "--volume", VOLUME,
        "--manifest", str(path), "--on-conflict", "rename", "--dry-run",
    )  # fmt: skip
    assert code == 1, err  # two entries selected nothing
    assert "Pre-flight: 1 file" in err
    assert f"{other_file} (a file of project demo/eu-biobank)" in err
    assert f"{folder} (a folder)" in err


def test_the_cost_of_a_million_ids_is_said_against_the_rate_limit():
    from sbexport_tui.export.selecting import lookup_cost

    text = lookup_cost(1_000_000)
    assert text.startswith("1,000,000 file ids need 10,000 lookup request(s)")
    assert "10.0x the rate limit of 1,000 requests per 5 minutes" in text
    assert "about 50 minute(s)" in text
    assert "rate limit" not in lookup_cost(5_000)  # 50 requests: no need to warn


@pytest.mark.parametrize("pattern", ["re:^(.+)+X$", "re:(a|a*)*", "/(x*)*y/"])
def test_a_catastrophic_regex_is_refused_before_it_runs(home, capsys, pattern):
    """Python's re cannot be interrupted mid-match: Ctrl-C and SIGTERM would not stop it."""
    code, _out, err = run_cli(
        capsys, "export", "--project", PROJECT, "--volume", VOLUME, "--glob", pattern, "--dry-run"
    )
    assert code == 2, err
    assert "repeats a part that itself repeats" in one_error_line(err)


def test_a_refused_profile_name_leaves_no_token_file(home, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(TOKEN + "\n"))
    code, _out, err = run_cli(
        capsys, "profiles", "add", "--name", "lab\n", "--region", "aws-us", "--token-stdin"
    )
    assert code == 2, err
    assert "profile name" in err
    tokens = home / "config" / "tokens"
    assert not tokens.exists() or list(tokens.iterdir()) == []


# ---- 8. sick storage ---------------------------------------------------------------------------
def sim_jobs(server) -> list[dict]:
    base = server.url.removesuffix("/v2")
    r = httpx.get(f"{base}/_sim/exports", headers={"X-SBG-Auth-Token": server.token})
    return r.json()["exports"]


def journal_path(home: Path) -> Path:
    from sbexport_tui.config import Paths

    return Paths.from_env().journal_file


def test_a_damaged_journal_is_one_line_and_exit_5(home, capsys):
    path = journal_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(range(256)) * 64)  # garbage pages
    code, _out, err = run_cli(capsys, "jobs", "list")
    assert code == 5, err
    line = one_error_line(err)
    assert "is damaged" in line and f"mv {path} {path}.broken" in line


def test_a_full_disk_mid_export_stops_with_exit_5_and_sends_nothing_unrecorded(
    home, capsys, sim, monkeypatch
):
    import sqlite3

    from sbexport_tui.export.journal import Journal

    run_cli(
        capsys, "profiles", "add", "--name", "lab", "--region", sim.url, "--token-env", "SIMTOK"
    )
    before = len(sim_jobs(sim))
    real = Journal.mark_submitting
    calls = {"n": 0}

    def full(self, run_id, positions):
        calls["n"] += 1
        if calls["n"] == 2:
            raise sqlite3.OperationalError("database or disk is full")
        return real(self, run_id, positions)

    monkeypatch.setattr(Journal, "mark_submitting", full)
    code, out, err = run_cli(
        capsys,
        "export",
        "--profile",
        "lab",
        "--project",
        PROJECT,
        "--path",
        "scatter-gather/chunks",
        "--glob",
        "chunk_00[0-2]*",
        "--volume",
        VOLUME,
        "--location",
        "full-disk/{name}",
    )
    assert code == 5, err
    assert "disk is full" in one_error_line(err)
    sent = len(sim_jobs(sim)) - before
    assert sent == 100  # the first chunk, recorded before it went; nothing after the failure
    monkeypatch.setattr(Journal, "mark_submitting", real)
    code, out, err = run_cli(capsys, "jobs", "list", "--json")
    counts = json.loads(out)["runs"][0]["counts"]
    assert counts["pending"] + counts["running"] + counts["completed"] == 100


def test_debug_with_a_log_folder_that_cannot_be_made_goes_on(home, capsys):
    from sbexport_tui.config import Paths

    log_dir = Paths.from_env().log_dir
    log_dir.parent.mkdir(parents=True, exist_ok=True)
    log_dir.write_text("a file where the folder should be")
    code, _out, err = run_cli(capsys, "--debug", "profiles", "path")
    assert code == 0, err
    assert "no debug log: cannot write in" in err and "Traceback" not in err


def test_debug_on_a_home_that_cannot_be_written_is_one_line_and_exit_5(
    home, capsys, tmp_path, monkeypatch
):
    """A home where nothing can be made (here, under a file): the debug log says it goes on
    without, and the journal's folder is one error line with exit 5, never a traceback."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("SBEXPORT_HOME", str(blocker / "sbx"))
    code, _out, err = run_cli(capsys, "--debug", "jobs", "list")
    assert code == 5, err
    assert "no debug log: cannot write in" in err
    assert "part of that path is a file, not a folder" in one_error_line(err)
    assert "SBEXPORT_HOME" in one_error_line(err)


def test_a_journal_locked_by_another_process_is_one_line_and_exit_5(home, capsys, monkeypatch):
    import sqlite3

    from sbexport_tui.config import Paths
    from sbexport_tui.export import journal as journal_module

    monkeypatch.setattr(journal_module, "BUSY_TIMEOUT", 0.2)
    paths = Paths.from_env().ensure()
    journal_module.Journal(paths.journal_file).close()
    other = sqlite3.connect(paths.journal_file, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        code, _out, err = run_cli(capsys, "jobs", "list")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert code == 5, err
    assert "is locked by another sbexport" in one_error_line(err)
    assert "journal.sqlite3" in one_error_line(err)


def test_a_debug_log_on_a_full_disk_says_so_once(tmp_path, capsys):
    import errno
    import logging

    from sbexport_tui.logsetup import LOGGERS, enable_debug_log

    enable_debug_log(tmp_path / "log")
    handler = next(h for h in logging.getLogger("sbexport").handlers if hasattr(h, "baseFilename"))

    class Full:
        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self):
            pass

    handler.stream = Full()
    for i in range(50):
        logging.getLogger("sbexport.export").info("record %d", i)
    err = capsys.readouterr().err
    assert err.count("the debug log stopped") == 1 and "No space left" in err
    assert "Logging error" not in err and "Traceback" not in err
    for name in LOGGERS:
        assert handler not in logging.getLogger(name).handlers


SINGLE_CASES = counted(
    "single tests",
    [
        "token with surrounding whitespace and CRLF (accepted)",
        "token from stdin with a space",
        "SB_API_ENDPOINT over http to a remote host",
        "a valid 10 MB answer",
        "hostile folder name entered in the TUI",
        "a manifest with a byte-order mark",
        "a refused profile name with a newline",
        "escape, bell and NUL in a manifest",
        "a damaged journal",
        "a full disk mid-export",
        "a debug log folder that cannot be made",
        "--debug on a home that cannot be written",
        "a journal locked by another process",
        "a manifest of many file ids (cost and progress)",
        "manifest ids of another project and of a folder",
        "a debug log on a full disk",
        "catastrophic regexes (3)",
    ],
)


def test_zz_count_of_hostile_cases(capsys):
    total = sum(HOSTILE_COUNT.values())
    with capsys.disabled():
        print(f"\nhostile cases: {total} {HOSTILE_COUNT}")
    assert total >= 60
