"""Where the Platform lives: the known deployments and the check for a custom API URL."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..config.regions import REGIONS as _CONFIG_REGIONS

API_PATH = "/v2"


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    base_url: str
    # The page where a user makes a developer token; None where no source gives it.
    token_page: str | None = None


# The deployments come from the one table in config/regions.py (sources: platform-api.md section 1).
REGIONS: tuple[Region, ...] = tuple(
    Region(r.id, r.name, r.api_url, r.token_page) for r in _CONFIG_REGIONS.values()
)
REGIONS_BY_ID: dict[str, Region] = {r.id: r for r in REGIONS}
DEFAULT_REGION = "aws-us"


class BaseUrlError(ValueError):
    """A bad API URL or region id; the message says what to write instead."""


def get_region(region_id: str) -> Region:
    try:
        return REGIONS_BY_ID[region_id.strip().lower()]
    except KeyError:
        known = ", ".join(r.id for r in REGIONS)
        raise BaseUrlError(
            f"unknown region {region_id!r}; use one of {known}, or give the API URL itself "
            "(https://.../v2)"
        ) from None


def region_for_url(url: str) -> Region | None:
    """The known region whose API URL this is, if any."""
    try:
        clean = validate_base_url(url)
    except BaseUrlError:
        return None
    return next((r for r in REGIONS if r.base_url == clean), None)


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_base_url(url: str, *, allow_any_http: bool = False) -> str:
    """Check a Platform API URL and return it without a trailing slash.

    https only; plain http only for this machine (localhost, 127.0.0.1, ::1), e.g. the simulator.
    ``allow_any_http`` is for in-process transports that never touch the network.
    """
    if not isinstance(url, str) or not url.strip():
        raise BaseUrlError("the API URL is empty; give one like https://api.sbgenomics.com/v2")
    text = url.strip()
    example = "e.g. https://api.sbgenomics.com/v2"
    if "://" not in text:
        raise BaseUrlError(
            f"{text!r} is not a URL: write the whole API address with https:// and /v2, {example}"
        )
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise BaseUrlError(f"{text!r} is not a valid URL; write it like {example}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BaseUrlError(f"the API URL must start with https:// (not {scheme}://), {example}")
    if not host:
        raise BaseUrlError(f"the API URL has no host name; write it like {example}")
    if parts.username or parts.password:
        raise BaseUrlError(
            "the API URL must not contain a user name or password; put the token in the profile, "
            "not in the URL"
        )
    if scheme == "http" and not allow_any_http and not is_loopback_host(host):
        raise BaseUrlError(
            f"plain http:// is only allowed for this machine (localhost, 127.0.0.1); a remote "
            f"Platform must be reached over https: use https://{host}"
            f"{':' + str(port) if port else ''}{API_PATH}"
        )
    if parts.query or parts.fragment:
        raise BaseUrlError(
            f"the API URL must not have a query or fragment; use {scheme}://{parts.netloc}{API_PATH}"
        )
    path = parts.path.rstrip("/")
    if path != API_PATH:
        hint = f"{scheme}://{parts.netloc}{API_PATH}"
        what = "no path" if not path else f"the path {path!r}"
        raise BaseUrlError(
            f"the API URL has {what}; the Platform API lives under /v2: use {hint} "
            "(the API host, e.g. api.sbgenomics.com, not the web page address)"
        )
    return f"{scheme}://{parts.netloc}{API_PATH}"


def resolve_base_url(region_or_url: str) -> str:
    """A region id ('aws-us', 'cgc', ...) or an API URL -> the checked API URL."""
    text = (region_or_url or "").strip()
    if "://" in text:
        return validate_base_url(text)
    return get_region(text).base_url
