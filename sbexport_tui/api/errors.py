"""One exception hierarchy for everything that can go wrong talking to the Platform.

Every error the Platform sends has the body ``{status, code, message, more_info}``; ``error_from``
turns an HTTP response into the right class. ``explain(code)`` gives a plain-language cause and
what to do for every export-relevant code of the Platform's status-code table; ``plain_cause(err)``
turns any error into a short sentence for a status line and the details (method, URL, the
Platform's words) for a detail line or the log.

No message, repr or log line made here ever contains the auth token: the classes only ever see
the method, the URL, the status and the body.
"""

from __future__ import annotations

import errno
import json
import socket
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx


@dataclass(frozen=True)
class Explanation:
    cause: str
    action: str


_ADMIN_BUCKET = "ask the volume's owner to fix the bucket policy or keys, then retry"


def _grant(permission: str) -> str:
    return f"ask the volume's owner to give the volume's IAM user or role {permission}, then retry"


# Plain-language cause + what to do, per Platform code. Source of each code, HTTP status and
# meaning: D:codes = the Platform's status-code table (docs.sevenbridges.com/docs/api-status-codes,
# also docs.sevenbridges.com/reference/api-status-codes), as listed in platform-api.md section 7;
# the comment after each code gives the table's HTTP status and its words in short.
ERROR_CODES: dict[int, Explanation] = {
    0: Explanation(  # D:codes 503 "the Platform is currently under maintenance"
        "the Platform is under maintenance", "wait; sbexport retries by itself when it is back"
    ),
    1000: Explanation(  # D:codes 429 "rate limit exceeded, check response headers"
        "the API rate limit (requests per 5 minutes) was used up",
        "wait until the limit resets; sbexport paces itself and resends",
    ),
    90001: Explanation(  # D:codes 401 "unauthorized"
        "the token was refused (missing, mistyped, expired or revoked)",
        "make a new developer token on the Platform's developer page and update the profile",
    ),
    90002: Explanation("you are not allowed to do this", "ask the owner for access"),  # D:codes 403
    90003: Explanation("the thing asked for does not exist", "check the id or path"),  # D:codes 404
    90004: Explanation("the Platform had an unexpected error", "retry later"),  # D:codes 503
    90005: Explanation("the Platform service is unavailable", "retry later"),  # D:codes 503
    3001: Explanation(  # D:codes 403 "not enough privileges to access the project/member"
        "you have no privileges on this project", "ask a project admin to add you to the project"
    ),
    3002: Explanation(  # D:codes 404 "project or member does not exist"
        "the project does not exist (or you are not a member)",
        "check the project id (owner/short-name, case-sensitive)",
    ),
    5001: Explanation(  # D:codes 403 "insufficient privileges to access the file"
        "you have no privileges on this file", "ask a project admin for access"
    ),
    5002: Explanation(  # D:codes 404 "requested file does not exist"
        "the file does not exist (deleted or moved)", "refresh the folder and select it again"
    ),
    5034: Explanation(  # D:codes 409 "downloading files from an inactive volume not supported"
        "the volume is inactive", "activate the volume on the Platform, then retry"
    ),
    9000: Explanation(  # section 7: "error communicating with the service" (status unconfirmed)
        "the Platform could not talk to the storage service", "retry; it is usually temporary"
    ),
    # D:codes 403 "could not obtain read access on the service"
    9001: Explanation("the Platform could not get read access to the bucket", _ADMIN_BUCKET),
    9002: Explanation(  # D:codes 403 "could not obtain cross-write access on the service"
        "the Platform could not get cross-write access to the bucket "
        "(bucket policy or credentials)",
        _ADMIN_BUCKET,
    ),
    9003: Explanation(  # D:codes 403 "insufficient privileges to access the project"
        "you lack privileges on the project", "ask a project admin for copy/write permission"
    ),
    9004: Explanation(  # D:codes 403 "insufficient privileges to access the file"
        "you lack privileges on this file", "ask a project admin for access"
    ),
    9005: Explanation(  # D:codes 403 "insufficient privileges to access the job"
        "the export job is not accessible to you", "use the token that started it"
    ),
    9006: Explanation(  # D:codes 403 "requested file cannot be exported"
        "this file is a public/reference copy, an alias, or was already exported (moved): it "
        "cannot be exported",
        "skip it; an alias already lives on a volume and a public file is available to all",
    ),
    9007: Explanation(  # D:codes 404 "requested volume does not exist"
        "the volume does not exist (or is not shared with you)",
        "check the volume id (owner/name) or attach the volume first",
    ),
    9008: Explanation(  # D:codes 404 "requested job does not exist"
        "the Platform does not know this export job: it was made with another account or on "
        "another deployment, or its record was purged",
        "the file may or may not have been exported, and is not sent again by itself: once no "
        "job of its run is open, verification lists the volume and marks it verified if its "
        "object is there with the file's size; if it stays unknown, look on the volume, then "
        "retry it (r in the jobs pane)",
    ),
    9009: Explanation(  # D:codes 404 "requested file does not exist"
        "the file does not exist (deleted, or moved since you selected it)",
        "refresh the folder and select again",
    ),
    9011: Explanation(  # D:codes 400 "invalid request syntax"
        "the request was not valid", "this is a bug in sbexport or an unusual value; report it"
    ),
    9020: Explanation(  # D:codes 403 "insufficient privileges to access the volume"
        "you lack write permission on the volume",
        "ask the volume's owner or division admin for 'write' on the volume",
    ),
    9022: Explanation(  # D:codes 400 "invalid canned ACL (aws_canned_acl)"
        "the aws_canned_acl value is not a valid S3 canned ACL",
        "pick one like bucket-owner-full-control, or leave it empty",
    ),
    9023: Explanation(  # D:codes 400 "invalid server-side encryption (sse_algorithm)"
        "the sse_algorithm value is not valid", "use AES256, aws:kms, or none"
    ),
    9024: Explanation(  # D:codes 400 "invalid S3 storage class (aws_storage_class)"
        "the aws_storage_class value is not valid", "use STANDARD or GLACIER, or leave it empty"
    ),
    9026: Explanation(  # D:codes 403 "volume not configured for writing (access mode not RW)"
        "the volume is read-only (RO)",
        "pick a read-write volume, or have the owner switch this one to RW",
    ),
    # D:codes 403 "exporting files across different cloud services is not yet supported"; a
    # different region of the same cloud has no code of its own (section 7), hence "or region"
    9027: Explanation(
        "the volume is in another cloud or region than the project",
        "export only to a volume in the project's location (e.g. an S3 bucket in aws:us-east-1 "
        "for an aws:us-east-1 project)",
    ),
    9028: Explanation(  # D:codes 400 "invalid access configuration given"
        "the volume's access configuration is invalid", "ask the volume's owner to fix it"
    ),
    9038: Explanation(  # D:codes 403 "environment only supports RO buckets of type OSS"
        "this Platform only allows read-only OSS volumes", "export to another kind of volume"
    ),
    9039: Explanation(  # D:codes 403 "environment only supports RO buckets of type Azure"
        "this Platform only allows read-only Azure volumes", "export to an S3/GCS volume"
    ),
    9057: Explanation(  # D:codes 403 "environment only supports RO buckets of type GCS"
        "this Platform only allows read-only GCS volumes", "export to another kind of volume"
    ),
    9058: Explanation(  # D:codes 403 "environment only supports RO buckets of type S3"
        "this Platform only allows read-only S3 volumes", "export to another kind of volume"
    ),
    9069: Explanation(  # D:codes 409 "volume inactive"
        "the volume is inactive", "activate the volume on the Platform, then retry"
    ),
    9072: Explanation(  # D:codes 400 "file path ending with slash is not valid"
        "the destination ends with '/', which names a folder, not a file",
        "give a file name at the end of the destination",
    ),
    9100: Explanation(  # D:codes 503 "error communicating with the service"
        "the Platform could not talk to the storage service", "retry; it is usually temporary"
    ),
    9101: Explanation(  # D:codes 403 "volume not configured for writing (access mode not RW)"
        "the volume is not configured for read-write access",
        "pick a read-write volume, or have the owner switch this one to RW",
    ),
    9102: Explanation(  # D:codes 403 "insufficient privileges to access the project"
        "you lack privileges on the project", "ask a project admin for copy/write permission"
    ),
    9103: Explanation(  # D:codes 403 "insufficient privileges to access the item"
        "the location on the volume is not accessible as configured",
        "check the volume's prefix and the bucket policy",
    ),
    9104: Explanation(  # D:codes 404 "requested volume does not exist"
        "the volume does not exist", "check the volume id (owner/name) or attach it first"
    ),
    9105: Explanation(  # D:codes 404 "item not found on the volume"
        "the location was not found on the volume", "check the prefix and the destination path"
    ),
    9106: Explanation(  # D:codes 404 "requested file does not exist"
        "the file does not exist", "refresh the folder and select again"
    ),
    9107: Explanation(  # D:codes 409 "location on volume already contains a file"
        "an object already exists at this destination on the volume",
        "choose overwrite, skip, or a different destination (rename)",
    ),
    9108: Explanation(  # D:codes 409 "requested file already exists"
        "the requested file already exists", "choose overwrite, skip, or rename"
    ),
    9109: Explanation(  # D:codes 404 "requested file does not exist or not accessible"
        "the file does not exist or is not accessible", "refresh and check your access"
    ),
    9200: Explanation(  # D:codes 404 "cloud storage bucket does not exist"
        "the bucket does not exist", "check the volume's bucket name with its owner"
    ),
    9201: Explanation(  # D:codes 403 "provided access key is not valid"
        "the volume's access key is not valid", _ADMIN_BUCKET
    ),
    9202: Explanation(  # D:codes 403 "provided secret key is not valid"
        "the volume's secret key is not valid", _ADMIN_BUCKET
    ),
    9203: Explanation(  # D:codes 403 "IAM role not valid or not properly configured"
        "the volume's IAM role is not valid or not set up properly",
        "ask the volume's owner to fix the IAM role (its trust policy and permissions), then retry",
    ),
    9204: Explanation(  # D:codes 403 "IAM user/role may not LIST the bucket (s3:ListBucket)"
        "the volume's IAM user or role may not list the bucket",
        _grant("s3:ListBucket on the bucket"),
    ),
    9205: Explanation(  # D:codes 403 "IAM user/role may not GET objects (s3:GetObject)"
        "the volume's IAM user or role may not read objects in the bucket",
        _grant("s3:GetObject on the bucket's prefix"),
    ),
    # D:codes 403 "IAM user/role may not PUT objects: needs s3:PutObject and s3:PutObjectAcl"
    9206: Explanation(
        "the volume's IAM user or role may not write objects to the bucket",
        _grant("both s3:PutObject and s3:PutObjectAcl on the bucket's prefix"),
    ),
    9207: Explanation(  # D:codes 403 "IAM user/role may not GET OBJECT ACL (s3:GetObjectAcl)"
        "the volume's IAM user or role may not read object ACLs in the bucket",
        _grant("s3:GetObjectAcl on the bucket's prefix"),
    ),
    # D:codes 403 "IAM user/role may not GET objects from the Seven Bridges bucket"
    9208: Explanation(
        "the volume's IAM user or role may not read objects from the Platform's own bucket",
        _grant("s3:GetObject on the Platform's buckets (see the Platform's example policy)"),
    ),
    9209: Explanation(  # D:codes 403 "cannot attach RW volume in the provided bucket region"
        "a read-write volume cannot be attached to a bucket in that region",
        "use a bucket in the Platform's region",
    ),
}

# Codes that describe a passing condition: trying again later may succeed.
TRANSIENT_CODES = frozenset({0, 1000, 90004, 90005, 9000, 9100})


def explain(code: int | None) -> Explanation | None:
    if code is None:
        return None
    return ERROR_CODES.get(code)


class PlatformError(Exception):
    """Base of every error from the api package."""

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None):
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ApiError(PlatformError):
    """The Platform answered with an error body ``{status, code, message, more_info}``."""

    def __init__(
        self,
        status: int,
        code: int | None = None,
        message: str | None = None,
        more_info: str | None = None,
        *,
        method: str | None = None,
        url: str | None = None,
        body: Any = None,
        reset_at: float | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.platform_message = message or ""
        self.more_info = more_info
        self.body = body
        self.reset_at = reset_at
        self.explanation = explain(code)
        super().__init__(self._compose(), method=method, url=url)

    def _compose(self) -> str:
        head = f"{self.status}"
        if self.code is not None:
            head += f" (code {self.code})"
        text = self.platform_message.strip() or "no message"
        msg = f"the Platform answered {head}: {text}"
        if self.explanation:
            msg += f" - {self.explanation.cause}; {self.explanation.action}"
        return msg

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT_CODES or self.status >= 500


class BadRequest(ApiError):
    """400."""


class AuthError(ApiError):
    """401: the token was refused."""


class PermissionDenied(ApiError):
    """403."""


class NotFound(ApiError):
    """404."""


class Conflict(ApiError):
    """409."""


class RateLimited(ApiError):
    """429 (code 1000)."""


class ServerError(ApiError):
    """5xx with a Platform error body."""


class Maintenance(ServerError):
    """503 with code 0: the Platform is under maintenance."""


class NetworkError(PlatformError):
    """No answer: the connection failed, dropped or timed out."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        before_sending: bool = False,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.before_sending = before_sending


class BadResponse(PlatformError):
    """An answer that is not the Platform's JSON (a proxy page, an empty body, a wrong shape)."""

    def __init__(
        self, message: str, *, method: str | None = None, url: str | None = None, status: int = 0
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status = status


class PagingError(BadResponse):
    """A list's pages are inconsistent (e.g. `next` links that loop)."""


class AmbiguousSubmitError(PlatformError):
    """An export submission may or may not have reached the Platform.

    Raised instead of resending after a timeout, a dropped connection or a server error on
    ``bulk/storage/exports/create`` / ``POST /storage/exports``. Resending blindly could start each
    export twice (and a move cannot be undone), so the caller must reconcile first:
    ``PlatformClient.find_existing_exports(volume, err.items)``.

    ``items`` are the items of the request whose fate is unknown; ``results`` are the per-item
    results of earlier chunks of the same call that did go through; ``unsent`` are the items of
    later chunks that were never sent.
    """

    def __init__(
        self,
        message: str,
        *,
        items: Sequence[Any],
        results: Sequence[Any] = (),
        unsent: Sequence[Any] = (),
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.items = list(items)
        self.results = list(results)
        self.unsent = list(unsent)


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: AuthError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    429: RateLimited,
}


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def describe_body(response: httpx.Response) -> str:
    """What came back, in words, when it is not the Platform's JSON."""
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = response.content
    if not raw.strip():
        return "an empty body"
    head = raw[:512].lstrip().lower()
    if "html" in ctype or head.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if ctype:
        return f"a {ctype} body"
    return "a body that is not JSON"


def bad_response(response: httpx.Response, method: str, url: str) -> BadResponse:
    what = describe_body(response)
    status = response.status_code
    if 300 <= status < 400:
        where = response.headers.get("location", "elsewhere")
        return BadResponse(
            f"the server answered {status}, a redirect to {where}, not the Platform's JSON: "
            "check the API URL (the API host ending in /v2, e.g. https://api.sbgenomics.com/v2)",
            method=method,
            url=url,
            status=status,
        )
    if status >= 400:
        hint = (
            "a proxy or gateway is in the way"
            if status in (502, 503, 504) or what == "an HTML page"
            else "something between you and the Platform answered instead"
        )
        message = f"the server answered {status} with {what}, not the Platform's JSON: {hint}"
    else:
        message = (
            f"the server answered {status} with {what}, not the Platform's JSON: check the API "
            "URL (it must be the API host ending in /v2) and any proxy or captive portal"
        )
    return BadResponse(message, method=method, url=url, status=status)


def error_from(
    response: httpx.Response, method: str, url: str, *, reset_at: float | None = None
) -> PlatformError:
    """The exception for an error response (>= 400)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return bad_response(response, method, url)
    if not isinstance(body, dict):
        return bad_response(response, method, url)
    status = response.status_code
    code = _as_int(body.get("code"))
    message = body.get("message")
    message = message if isinstance(message, str) else None
    more = body.get("more_info")
    more = more if isinstance(more, str) else None
    if status == 503 and code == 0:
        cls: type[ApiError] = Maintenance
    elif status >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(status, ApiError)
    return cls(status, code, message, more, method=method, url=url, body=body, reset_at=reset_at)


# ---- an error in plain words, for a status line ----------------------------------------------


class PlainCause(NamedTuple):
    """``cause``: one short sentence a user understands first ("Cannot reach the Platform:
    connection refused."); ``details``: what a support ticket needs, for a detail line or the
    log: the full message, then (on a line of its own) the request's method and URL. Neither
    ever contains the token."""

    cause: str
    details: str


_ERRNO_CAUSES = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "the connection was reset",
    errno.ENETUNREACH: "the network is unreachable",
    errno.EHOSTUNREACH: "no route to the host",
    errno.ETIMEDOUT: "the connection timed out",
}


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and every error it came from (``raise ... from`` and implicit context)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def network_cause(error: BaseException) -> str:
    """Why no answer came, in a few words, from the lowest error that says (an errno, a DNS or
    TLS failure), else from httpx's kind of error."""
    for e in _chain(error):
        if isinstance(e, socket.gaierror):
            return "the host name was not found (DNS)"
        if isinstance(e, ssl.SSLCertVerificationError):
            return "its TLS certificate could not be verified"
        if isinstance(e, ssl.SSLError):
            return "the secure (TLS) connection failed"
        if isinstance(e, OSError) and e.errno in _ERRNO_CAUSES:
            return _ERRNO_CAUSES[e.errno]
    for e in _chain(error):
        if isinstance(e, httpx.ProxyError):
            return "the proxy refused the connection (check HTTPS_PROXY)"
        if isinstance(e, (httpx.ConnectTimeout, httpx.PoolTimeout)):
            return "the connection timed out"
        if isinstance(e, httpx.TimeoutException):
            return "no answer in time"
        if isinstance(e, (httpx.RemoteProtocolError, httpx.ReadError)):
            return "the connection was dropped"
    text = str(error).lower()
    for words, cause in (
        ("refused", "connection refused"),
        ("name or service not known", "the host name was not found (DNS)"),
        ("name resolution", "the host name was not found (DNS)"),
        ("nodename nor servname", "the host name was not found (DNS)"),
        ("certificate", "its TLS certificate could not be verified"),
        ("timed out", "no answer in time"),
        ("dropped", "the connection was dropped"),
    ):
        if words in text:
            return cause
    return "no connection"


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def plain_cause(error: BaseException) -> PlainCause:
    """An error as (plain cause, details): the cause first and short, for the one line a user
    reads ("Cannot reach the Platform: connection refused."), the URL and the full message in the
    details. Works for every error of this module and, as a last resort, for any exception."""
    message = body = details = str(error).strip() or type(error).__name__
    if isinstance(error, PlatformError) and error.url:
        # what went wrong first, then the request (its URL is long, and the host comes first)
        request = f"{error.method or 'GET'} {error.url}"
        body = message.removeprefix(request + ": ")
        details = f"{_sentence(body)}\nRequest: {request}"
    if isinstance(error, NetworkError):
        cause = f"Cannot reach the Platform: {network_cause(error)}."
    elif isinstance(error, AuthError):
        cause = "The Platform refused the token (401): it is wrong, expired or revoked."
    elif isinstance(error, Maintenance):
        cause = "The Platform is under maintenance: try again later."
    elif isinstance(error, RateLimited):
        cause = "The API rate limit is used up for now: try again in a few minutes."
    elif isinstance(error, ApiError):
        ex = error.explanation
        if ex is not None:
            cause = _sentence(ex.cause)
        elif error.status >= 500:
            cause = f"The Platform had an error ({error.status}): try again later."
        else:
            words = error.platform_message.strip().rstrip(".")
            cause = _sentence(
                f"the Platform refused the request ({error.status})"
                + (f": {words}" if words else "")
            )
    elif isinstance(error, BadResponse):
        cause = (
            "Something other than the Platform answered (a proxy, a login page or a wrong API URL)."
        )
    elif isinstance(error, PlatformError):
        cause = _sentence(body.split("; ")[0])
    else:
        cause = _sentence(f"unexpected error: {message}")
    return PlainCause(cause, details)
