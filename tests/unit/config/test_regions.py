from __future__ import annotations

import pytest

from sbexport_tui.config import REGIONS, ConfigError, normalize_api_url, resolve_region

BUILT_IN = {
    "aws-us": "https://api.sbgenomics.com/v2",
    "aws-eu": "https://eu-api.sbgenomics.com/v2",
    "ali-cn": "https://api.sevenbridges.cn/v2",
    "cgc": "https://cgc-api.sbgenomics.com/v2",
    "cavatica": "https://cavatica-api.sbgenomics.com/v2",
    "f4c": "https://api.sb.biodatacatalyst.nhlbi.nih.gov/v2",
}


def test_built_in_table_matches_the_reference() -> None:
    assert {rid: r.api_url for rid, r in REGIONS.items()} == BUILT_IN
    for region in REGIONS.values():
        assert region.name
        # a token page only where a source gives it: no link is better than a wrong one
        assert region.token_page is None or region.token_page.startswith("https://")
        assert not region.custom
    assert REGIONS["aws-us"].token_page == "https://igor.sbgenomics.com/developer"
    assert REGIONS["cgc"].token_page == "https://cgc.sbgenomics.com/developer"
    assert REGIONS["cavatica"].token_page == "https://cavatica.sbgenomics.com/developer"


@pytest.mark.parametrize(("rid", "url"), BUILT_IN.items())
def test_ids_and_their_urls_resolve_to_the_same_region(rid: str, url: str) -> None:
    assert resolve_region(rid).api_url == url
    assert resolve_region(rid.upper()).id == rid
    assert resolve_region(url).id == rid
    assert resolve_region(url + "/").id == rid
    assert resolve_region("  " + url.upper().replace("/V2", "/v2") + "  ").id == rid


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://sb.example.org/v2/", "https://sb.example.org/v2"),
        ("https://sb.example.org:8443/v2", "https://sb.example.org:8443/v2"),
        ("http://localhost:8000/v2", "http://localhost:8000/v2"),
        ("http://127.0.0.1:1234/v2/", "http://127.0.0.1:1234/v2"),
        ("http://127.9.8.7/v2", "http://127.9.8.7/v2"),
        ("http://[::1]:9000/v2", "http://[::1]:9000/v2"),
        ("HTTPS://SB.Example.org/v2", "https://sb.example.org/v2"),
    ],
)
def test_valid_custom_urls_are_normalized(url: str, expected: str) -> None:
    assert normalize_api_url(url) == expected
    region = resolve_region(url)
    assert region.custom
    assert region.api_url == expected
    assert region.setting == expected
    assert region.token_page is None


@pytest.mark.parametrize(
    ("url", "problem", "fix"),
    [
        ("http://sb.example.org/v2", "http", 'Write "https://sb.example.org/v2"'),
        ("http://10.0.0.5:8000/v2", "http", 'Write "https://10.0.0.5:8000/v2"'),
        ("http://localhost.evil.com/v2", "http", "https://localhost.evil.com/v2"),
        ("https://sb.example.org", "path must be /v2", 'Write "https://sb.example.org/v2"'),
        ("https://sb.example.org/v1", "path must be /v2", 'Write "https://sb.example.org/v2"'),
        ("https://sb.example.org/v2/user", "path must be /v2", "https://sb.example.org/v2"),
        ("https://sb.example.org/v2?x=1", "query", 'Write "https://sb.example.org/v2"'),
        ("ftp://sb.example.org/v2", "scheme 'ftp'", "https"),
        ("https:///v2", "no host", "https://"),
        ("sb.example.org/v2", "no scheme", 'Write "https://sb.example.org/v2"'),
        ("https://user:pw@sb.example.org/v2", "user name or password", "Remove"),
        ("https://sb.example.org:99999/v2", "cannot be parsed", "https://"),
    ],
)
def test_bad_urls_say_what_to_write(url: str, problem: str, fix: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_region(url)
    assert problem in info.value.problem
    assert info.value.fix and fix in info.value.fix
    assert fix in str(info.value)


def test_userinfo_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        normalize_api_url("https://me:s3cretpass@sb.example.org/v2")
    assert "s3cretpass" not in str(info.value)


@pytest.mark.parametrize(
    "value", ["", "   ", "us-east-1", "aws_us", "3259c50e1ac5426ea8f1273259740f74"]
)
def test_unknown_region_ids_list_the_known_ones_without_echoing(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_region(value)
    message = str(info.value)
    assert "aws-us" in message and "f4c" in message
    if value.strip():
        assert value not in message
