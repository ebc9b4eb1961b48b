"""Errors: the right class per status/code, plain-language explanations, proxies and odd bodies."""

import httpx
import pytest

from sbexport_tui.api import (
    ERROR_CODES,
    AuthError,
    BadRequest,
    BadResponse,
    Conflict,
    Maintenance,
    NotFound,
    PermissionDenied,
    PlatformClient,
    RateLimited,
    RetryPolicy,
    ServerError,
    explain,
)
from sbexport_tui.api.errors import error_from

from .conftest import TOKEN, Env, FakeClock

EXPORT_CODES = [
    0,
    1000,
    9000,
    9001,
    9002,
    9003,
    9004,
    9006,
    9007,
    9009,
    9011,
    9020,
    9022,
    9023,
    9024,
    9026,
    9027,
    9069,
    9072,
    9100,
    9101,
    9102,
    9103,
    9104,
    9105,
    9106,
    9107,
    9108,
    9109,
    *range(9200, 9210),
]


@pytest.mark.parametrize("code", EXPORT_CODES)
def test_every_export_code_has_a_cause_and_an_action(code):
    ex = explain(code)
    assert ex is not None and ex.cause and ex.action
    assert ERROR_CODES[code] is ex


def test_9006_says_what_it_means():
    assert explain(9006).cause == (
        "this file is a public/reference copy, an alias, or was already exported (moved): it "
        "cannot be exported"
    )
    assert explain(123456) is None and explain(None) is None


# The storage codes as the docs' status-code table words them (D:codes,
# docs.sevenbridges.com/docs/api-status-codes; platform-api.md section 7): what each
# explanation must name, and what it must not (the codes were once read shifted by one).
STORAGE_CODES = {
    9200: (["bucket does not exist"], ["key", "IAM"]),
    9201: (["access key"], ["secret", "IAM"]),
    9202: (["secret key"], ["IAM", "LIST"]),
    9203: (["IAM role"], ["s3:"]),
    9204: (["list", "s3:ListBucket"], ["s3:Get", "s3:Put"]),
    9205: (["read objects", "s3:GetObject"], ["s3:Put", "s3:List", "Acl"]),
    9206: (["write objects", "s3:PutObject", "s3:PutObjectAcl"], ["without an ACL", "s3:Get"]),
    9207: (["ACL", "s3:GetObjectAcl"], ["s3:Put", "s3:List"]),
    9208: (["Platform's own bucket", "s3:GetObject"], ["s3:Put", "s3:List"]),
}


@pytest.mark.parametrize("code", sorted(STORAGE_CODES))
def test_storage_codes_follow_the_docs_table(code):
    must, must_not = STORAGE_CODES[code]
    ex = explain(code)
    text = f"{ex.cause}; {ex.action}"
    for words in must:
        assert words in text, (code, words, text)
    for words in must_not:
        assert words not in text, (code, words, text)


def _resp(status, body=None, content=None, headers=None):
    req = httpx.Request("GET", "https://api.sbgenomics.com/v2/x")
    if body is not None:
        return httpx.Response(status, json=body, request=req, headers=headers)
    return httpx.Response(status, content=content or b"", request=req, headers=headers)


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, 9011, BadRequest),
        (401, 90001, AuthError),
        (403, 9006, PermissionDenied),
        (404, 9007, NotFound),
        (409, 9107, Conflict),
        (429, 1000, RateLimited),
        (500, 90004, ServerError),
        (503, 90005, ServerError),
        (503, 0, Maintenance),
    ],
)
def test_status_maps_to_class(status, code, cls):
    err = error_from(
        _resp(status, {"status": status, "code": code, "message": "m", "more_info": "u"}),
        "GET",
        "u",
    )
    assert type(err) is cls
    assert err.status == status and err.code == code and err.more_info == "u"
    assert f"code {code}" in str(err) and explain(code).cause in str(err)


def test_maintenance_only_for_code_0():
    err = error_from(_resp(503, {"status": 503, "code": 90005, "message": "x"}), "GET", "u")
    assert not isinstance(err, Maintenance) and isinstance(err, ServerError)


def test_html_and_empty_bodies_say_what_came_back():
    html = error_from(
        _resp(
            502,
            content=b"<html><body>Bad Gateway</body></html>",
            headers={"content-type": "text/html"},
        ),
        "GET",
        "u",
    )
    assert isinstance(html, BadResponse)
    assert str(html) == (
        "the server answered 502 with an HTML page, not the Platform's JSON: "
        "a proxy or gateway is in the way"
    )
    empty = error_from(_resp(502), "GET", "u")
    assert str(empty).startswith("the server answered 502 with an empty body")
    text = error_from(
        _resp(403, content=b"denied", headers={"content-type": "text/plain"}), "GET", "u"
    )
    assert "403 with a text/plain body" in str(text)


async def test_bad_token_is_an_auth_error(env: Env):
    client = env.client(token="not-the-token-xyz")
    with pytest.raises(AuthError) as e:
        await client.get_user()
    assert e.value.status == 401 and e.value.code == 90001
    assert "make a new developer token" in str(e.value)
    assert "not-the-token-xyz" not in str(e.value) and "not-the-token-xyz" not in repr(e.value)
    assert len(env.transport.sent) == 1  # a 401 is not retried
    await client.aclose()


async def test_unknown_file_project_volume_and_path(env: Env, client):
    with pytest.raises(NotFound) as e:
        await client.get_file("0" * 24)
    assert e.value.code == 5002
    with pytest.raises(NotFound) as e:
        await client.get_project("demo/nope")
    assert e.value.code == 3002
    with pytest.raises(NotFound) as e:
        await client.get_volume("demo/nope")
    assert e.value.code == 9007 and "attach the volume" in str(e.value)
    with pytest.raises(NotFound) as e:
        await client._get_json("no/such/path")
    assert e.value.code is None and "HTTP 404 Not Found" in str(e.value)


async def test_proxy_html_page_after_retries(clock):
    env = Env(clock, faults={"html": 1.0})
    client = env.client(retry=RetryPolicy(attempts=3, backoff_base=0))
    with pytest.raises(BadResponse) as e:
        await client.get_user()
    assert str(e.value) == (
        "the server answered 502 with an HTML page, not the Platform's "
        "JSON: a proxy or gateway is in the way"
    )
    assert len(env.transport.sent) == 3  # a GET is retried, then the reason is told
    await client.aclose()


def _mock(handler, **kw):
    clock = FakeClock()
    return PlatformClient(
        "https://api.sbgenomics.com/v2",
        TOKEN,
        transport=httpx.MockTransport(handler),
        clock=clock,
        sleep=clock.sleep,
        retry=RetryPolicy(attempts=2, backoff_base=0),
        **kw,
    )


async def test_empty_502_and_non_json_200_and_redirect():
    client = _mock(lambda r: httpx.Response(502))
    with pytest.raises(BadResponse, match="502 with an empty body"):
        await client.get_user()
    client = _mock(
        lambda r: httpx.Response(
            200, content=b"<html>login</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(BadResponse, match=r"200 with an HTML page.*check the API URL"):
        await client.get_user()
    client = _mock(lambda r: httpx.Response(302, headers={"location": "https://sso/login"}))
    with pytest.raises(BadResponse, match="redirect to https://sso/login"):
        await client.get_user()


async def test_wrong_shape_is_a_bad_response():
    client = _mock(lambda r: httpx.Response(200, json={"email": "x"}))  # no username
    with pytest.raises(BadResponse, match="does not look like a User"):
        await client.get_user()
    client = _mock(lambda r: httpx.Response(200, json=[1, 2]))
    with pytest.raises(BadResponse, match="not a list page"):
        _ = [f async for f in client.list_folder("x")]
