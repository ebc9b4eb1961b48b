"""The token never shows up in reprs, error messages, tracebacks or logs."""

import logging
import subprocess
import sys
import traceback
from pathlib import Path

import httpx
import pytest

from sbexport_tui.api import AmbiguousSubmitError, ExportItem, NetworkError, redact_headers
from sbexport_tui.api.client import TOKEN_HEADER

from .conftest import TOKEN, Env


def _text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)


async def test_client_repr_and_state_hide_the_token(env: Env):
    client = env.client()
    assert TOKEN not in repr(client) and TOKEN not in str(client)
    assert TOKEN not in repr(vars(client))
    assert TOKEN not in repr(client._http.headers) and TOKEN not in repr(client._http.auth)
    await client.get_user()
    assert env.transport.sent[-1].headers[TOKEN_HEADER] == TOKEN  # ... yet it is sent
    await client.aclose()


async def test_errors_and_request_failures_hide_the_token(env: Env, caplog):
    caplog.set_level(logging.DEBUG)
    client = env.client()
    texts = []
    bad = env.client(token=TOKEN + "-wrong")
    with pytest.raises(Exception) as e:
        await bad.get_user()
    texts.append(_text(e.value))
    with pytest.raises(Exception) as e:
        await client.get_file("0" * 24)
    texts.append(_text(e.value))
    env.settings.faults["timeout"] = 1.0
    with pytest.raises(AmbiguousSubmitError) as e:
        await client.create_export(ExportItem(file_id="f", volume="demo/x", location="l"))
    texts.append(_text(e.value))
    env.settings.faults = {"reset": 1.0}
    with pytest.raises(NetworkError) as e:
        await client.get_user()
    texts.append(_text(e.value))
    for t in texts:
        assert TOKEN not in t
    assert caplog.records  # something was logged ...
    assert TOKEN not in caplog.text  # ... and not the token
    await client.aclose()
    await bad.aclose()


def test_redact_headers():
    h = httpx.Headers({TOKEN_HEADER: TOKEN, "Authorization": "Bearer x", "Accept": "a"})
    red = redact_headers(h)
    assert red["x-sbg-auth-token"] == "[redacted]" and red["authorization"] == "[redacted]"
    assert red["accept"] == "a" and TOKEN not in repr(red)


def test_api_never_imports_textual():
    code = (
        "import sys, sbexport_tui.api\n"
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    api = Path(__file__).parents[3] / "sbexport_tui" / "api"
    for f in api.glob("*.py"):
        text = f.read_text(encoding="utf-8")
        assert "import textual" not in text and "from textual" not in text, f
