"""Built-in Platform regions and validation of custom API URLs.

This is the one `Region` and the one table of deployments (`api/regions.py` gives the client's
view of the same objects); a profile stores either a region id from `REGIONS` or a custom API
URL, and `resolve_region()` turns either into a `Region`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import ConfigError


@dataclass(frozen=True)
class Region:
    id: str
    """A built-in id (`aws-us`, ...) or `custom` for a URL that matches no built-in region."""
    name: str
    api_url: str
    """The API base URL: scheme, host, optional port, path `/v2`, no trailing slash."""
    token_page: str | None = None
    """Where a user creates a developer token; None when unknown (custom URLs)."""

    @property
    def custom(self) -> bool:
        return self.id == CUSTOM_ID

    @property
    def setting(self) -> str:
        """What to write as `region = ...` in a profile: the id, or the URL when custom."""
        return self.api_url if self.custom else self.id


CUSTOM_ID = "custom"

REGIONS: dict[str, Region] = {
    r.id: r
    for r in (
        Region(
            "aws-us",
            "Seven Bridges Platform (US)",
            "https://api.sbgenomics.com/v2",
            "https://igor.sbgenomics.com/developer",
        ),
        Region(
            "aws-eu",
            "Seven Bridges Platform (EU)",
            "https://eu-api.sbgenomics.com/v2",
            None,  # not in any source we have: better no link than a wrong one
        ),
        Region(
            "ali-cn",
            "Seven Bridges Platform (China)",
            "https://api.sevenbridges.cn/v2",
            None,
        ),
        Region(
            "cgc",
            "Cancer Genomics Cloud (CGC)",
            "https://cgc-api.sbgenomics.com/v2",
            "https://cgc.sbgenomics.com/developer",
        ),
        Region(
            "cavatica",
            "CAVATICA",
            "https://cavatica-api.sbgenomics.com/v2",
            "https://cavatica.sbgenomics.com/developer",
        ),
        Region(
            "f4c",
            "BioData Catalyst powered by Seven Bridges",
            "https://api.sb.biodatacatalyst.nhlbi.nih.gov/v2",
            None,
        ),
    )
}

DEFAULT_REGION_ID = "aws-us"

_IDS_TEXT = ", ".join(REGIONS)
# A bare host name with at least one dot, optionally followed by a path: "api.example.com/v2".
_HOST_RE = re.compile(r"^((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63}(?::\d{1,5})?)(?:/.*)?\Z")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_api_url(value: str) -> str:
    """Check an API base URL and return it normalized, or raise `ConfigError` saying what to write.

    Rules: https (http only for loopback hosts: 127.0.0.0/8, ::1, localhost); a host; no user name,
    password, query or fragment; path `/v2` (a trailing slash is dropped).
    """
    if not isinstance(value, str):
        raise ConfigError("the API URL must be a string", fix='Write e.g. "https://host/v2"')
    text = value.strip()
    example = "https://api.sbgenomics.com/v2"
    if "://" not in text:
        host_guess = _HOST_RE.match(text)
        if host_guess:
            fix = f'Write "https://{host_guess.group(1).lower()}/v2"'
        else:
            # Do not echo the value: it might be a token pasted into the wrong field.
            fix = f'Write a full URL such as "{example}", or a region id ({_IDS_TEXT})'
        raise ConfigError("the API URL has no scheme (https://)", fix=fix)
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise ConfigError(
            "the API URL cannot be parsed", fix=f'Write a URL such as "{example}"'
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError(
            f"the API URL uses the scheme {scheme!r}", fix=f'Write an https URL such as "{example}"'
        )
    if not host:
        raise ConfigError("the API URL has no host name", fix=f'Write a URL such as "{example}"')
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            "the API URL contains a user name or password",
            fix="Remove the part before '@'; the token goes in the profile's token source",
        )
    host = host.lower()
    netloc_host = f"[{host}]" if ":" in host else host
    netloc = f"{netloc_host}:{port}" if port is not None else netloc_host
    if scheme == "http" and not _is_loopback(host):
        raise ConfigError(
            "the API URL uses http for a host that is not this machine, so the token would travel "
            "unencrypted",
            fix=f'Write "https://{netloc}/v2" (http is allowed only for localhost, 127.0.0.1, ::1)',
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            "the API URL has a query or fragment", fix=f'Write "{scheme}://{netloc}/v2"'
        )
    path = parts.path.rstrip("/")
    if path != "/v2":
        raise ConfigError(
            "the API URL path must be /v2 (the API host, e.g. api.sbgenomics.com, not the web "
            "page's address)",
            fix=f'Write "{scheme}://{netloc}/v2"',
        )
    return f"{scheme}://{netloc}/v2"


def region_for_url(url: str) -> Region:
    """The built-in region whose API URL this is, or a custom `Region` for it."""
    normalized = normalize_api_url(url)
    for region in REGIONS.values():
        if region.api_url == normalized:
            return region
    host = urlsplit(normalized).netloc
    return Region(CUSTOM_ID, f"Custom ({host})", normalized, None)


def resolve_region(value: str) -> Region:
    """A region id (`aws-us`, `aws-eu`, `ali-cn`, `cgc`, `cavatica`, `f4c`, any case) or an API URL
    -> `Region`. Raises `ConfigError` with what to write instead."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            "the region is empty", fix=f"Write a region id ({_IDS_TEXT}) or an https API URL"
        )
    text = value.strip()
    region = REGIONS.get(text.lower())
    if region is not None:
        return region
    if "://" in text or _HOST_RE.match(text):
        return region_for_url(text)
    raise ConfigError(
        "the region is neither a known region id nor an API URL",
        fix=f'Write one of {_IDS_TEXT}, or a URL such as "https://api.sbgenomics.com/v2"',
    )
