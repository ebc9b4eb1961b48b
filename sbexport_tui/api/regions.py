"""Where the Platform lives: the known deployments and the check for a custom API URL.

One ``Region`` (``config/regions.py``: id, name, ``api_url``, token page) and one table of
deployments; this module is the client's view of them."""

from __future__ import annotations

from ..config.errors import ConfigError
from ..config.regions import REGIONS as _CONFIG_REGIONS
from ..config.regions import Region, normalize_api_url

API_PATH = "/v2"

# The deployments come from the one table in config/regions.py (sources: platform-api.md section 1).
REGIONS: tuple[Region, ...] = tuple(_CONFIG_REGIONS.values())
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
            f"not a known region (the value is not repeated: it might be a token); use one of "
            f"{known}, or give the API URL itself (https://.../v2)"
        ) from None


def region_for_url(url: str) -> Region | None:
    """The known region whose API URL this is, if any."""
    try:
        clean = validate_base_url(url)
    except BaseUrlError:
        return None
    return next((r for r in REGIONS if r.api_url == clean), None)


def validate_base_url(url: str, *, allow_any_http: bool = False) -> str:
    """Check a Platform API URL and return it normalized, without a trailing slash.

    The rules are config's (``normalize_api_url``: https, plain http only for this machine, no
    user info, query or fragment, path /v2), so a profile and the client can never disagree.
    ``allow_any_http`` is for in-process transports that never touch the network.
    """
    if not isinstance(url, str) or not url.strip():
        raise BaseUrlError("the API URL is empty; give one like https://api.sbgenomics.com/v2")
    text = url.strip()
    plain_http = allow_any_http and text.lower().startswith("http://")
    try:
        clean = normalize_api_url("https://" + text[len("http://") :] if plain_http else text)
    except ConfigError as e:
        raise BaseUrlError(str(e)) from None
    return "http://" + clean[len("https://") :] if plain_http else clean


def resolve_base_url(region_or_url: str) -> str:
    """A region id ('aws-us', 'cgc', ...) or an API URL -> the checked API URL."""
    text = (region_or_url or "").strip()
    if "://" in text:
        return validate_base_url(text)
    return get_region(text).api_url
