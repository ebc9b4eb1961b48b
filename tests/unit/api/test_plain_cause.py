"""plain_cause: an error as one short sentence a user reads first, and the details (the full
message, then the request) for a detail line or the log."""

from __future__ import annotations

import errno
import socket

import httpx
import pytest

from sbexport_tui.api import PlatformClient, RetryPolicy
from sbexport_tui.api.errors import (
    ApiError,
    BadResponse,
    NetworkError,
    PlatformError,
    error_from,
    plain_cause,
)

from .conftest import TOKEN, FakeClock

URL = "http://127.0.0.1:9/v2"


def _raising(cause: BaseException, cls: type[httpx.TransportError] = httpx.ConnectError):
    """A transport whose every request fails as httpx does: its error raised from ``cause``."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise cls("All connection attempts failed", request=request) from cause

    return httpx.MockTransport(handler)


async def _network_error(transport: httpx.AsyncBaseTransport) -> NetworkError:
    clock = FakeClock()
    client = PlatformClient(
        URL,
        TOKEN,
        transport=transport,
        retry=RetryPolicy(attempts=2),
        clock=clock,
        sleep=clock.sleep,
    )
    try:
        with pytest.raises(NetworkError) as caught:
            await client.get_user()
    finally:
        await client.aclose()
    return caught.value


@pytest.mark.parametrize(
    ("cause", "words"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"), "connection refused"),
        (socket.gaierror(-2, "Name or service not known"), "the host name was not found (DNS)"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "the network is unreachable"),
    ],
)
async def test_a_network_error_says_why_first_and_the_url_only_in_the_details(cause, words):
    err = await _network_error(_raising(cause))
    plain = plain_cause(err)
    assert plain.cause == f"Cannot reach the Platform: {words}."
    assert "http" not in plain.cause
    message, request = plain.details.split("\n")
    assert message.startswith("Could not connect (ConnectError")
    assert "gave up after 2 tries" in message
    assert request == f"Request: GET {URL}/user"
    assert TOKEN not in plain.cause + plain.details


async def test_a_timeout_without_an_errno_is_said_from_its_kind():
    err = await _network_error(_raising(TimeoutError(), cls=httpx.ReadTimeout))
    assert plain_cause(err).cause == "Cannot reach the Platform: no answer in time."


def test_answers_of_the_platform_in_plain_words():
    def response(status, body):
        return httpx.Response(status, json=body)

    auth = error_from(response(401, {"status": 401, "code": 90001, "message": "x"}), "GET", URL)
    gone = error_from(response(404, {"status": 404, "code": 3002, "message": "No"}), "GET", URL)
    odd = error_from(response(418, {"status": 418, "message": "teapot."}), "GET", URL)
    down = error_from(response(500, {"status": 500, "message": "boom"}), "GET", URL)
    assert plain_cause(auth).cause.startswith("The Platform refused the token (401)")
    assert plain_cause(gone).cause == "The project does not exist (or you are not a member)."
    assert plain_cause(odd).cause == "The Platform refused the request (418): teapot."
    assert plain_cause(down).cause == "The Platform had an error (500): try again later."
    assert isinstance(gone, ApiError)
    assert plain_cause(gone).details.endswith(f"\nRequest: GET {URL}")
    assert "code 3002" in plain_cause(gone).details


def test_a_proxy_page_and_anything_else():
    bad = error_from(httpx.Response(502, html="<html>bad gateway</html>"), "GET", URL)
    assert isinstance(bad, BadResponse)
    assert plain_cause(bad).cause.startswith("Something other than the Platform answered")
    other = PlatformError("the server sent a link elsewhere; not followed")
    assert plain_cause(other) == (
        "The server sent a link elsewhere.",
        "the server sent a link elsewhere; not followed",
    )
    assert plain_cause(ValueError("odd")).cause == "Unexpected error: odd."
