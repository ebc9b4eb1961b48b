import pytest

from sbexport_tui.api import (
    REGIONS,
    BaseUrlError,
    get_region,
    region_for_url,
    resolve_base_url,
    validate_base_url,
)


def test_region_table_has_every_deployment():
    got = {r.id: r.api_url for r in REGIONS}
    assert got == {
        "aws-us": "https://api.sbgenomics.com/v2",
        "aws-eu": "https://eu-api.sbgenomics.com/v2",
        "ali-cn": "https://api.sevenbridges.cn/v2",
        "cgc": "https://cgc-api.sbgenomics.com/v2",
        "cavatica": "https://cavatica-api.sbgenomics.com/v2",
        "f4c": "https://api.sb.biodatacatalyst.nhlbi.nih.gov/v2",
    }
    assert get_region("cgc").token_page == "https://cgc.sbgenomics.com/developer"
    assert get_region("AWS-US").token_page == "https://igor.sbgenomics.com/developer"
    for r in REGIONS:
        assert validate_base_url(r.api_url) == r.api_url


def test_unknown_region_lists_the_known_ones():
    with pytest.raises(BaseUrlError, match="aws-us, aws-eu"):
        get_region("mars")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://api.sbgenomics.com/v2/", "https://api.sbgenomics.com/v2"),
        ("  https://api.sbgenomics.com/v2//  ", "https://api.sbgenomics.com/v2"),
        ("HTTPS://api.sbgenomics.com/v2", "https://api.sbgenomics.com/v2"),
        ("http://127.0.0.1:8787/v2", "http://127.0.0.1:8787/v2"),
        ("http://localhost:9/v2/", "http://localhost:9/v2"),
        ("http://[::1]:8080/v2", "http://[::1]:8080/v2"),
        ("https://my-proxy.example.org:8443/v2", "https://my-proxy.example.org:8443/v2"),
    ],
)
def test_good_urls(given, expected):
    assert validate_base_url(given) == expected


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("http://api.sbgenomics.com/v2", "https://api.sbgenomics.com/v2"),
        ("https://api.sbgenomics.com", "https://api.sbgenomics.com/v2"),
        ("https://api.sbgenomics.com/v1", "https://api.sbgenomics.com/v2"),
        ("https://igor.sbgenomics.com/home", "not the web page"),
        ("api.sbgenomics.com/v2", "no scheme"),
        ("", "empty"),
        ("ftp://api.sbgenomics.com/v2", "scheme 'ftp'"),
        ("https:///v2", "no host"),
        ("https://api.sbgenomics.com:notaport/v2", "cannot be parsed"),
        ("https://api.sbgenomics.com/v2?x=1", "query"),
        ("https://user:pw@api.sbgenomics.com/v2", "user name or password"),
    ],
)
def test_bad_urls_say_what_to_do(given, says):
    with pytest.raises(BaseUrlError) as e:
        validate_base_url(given)
    assert says in str(e.value)


def test_credentials_in_url_are_not_echoed():
    with pytest.raises(BaseUrlError) as e:
        validate_base_url("https://me:hunter2@api.sbgenomics.com/v2")
    assert "hunter2" not in str(e.value)


def test_resolve_region_or_url():
    assert resolve_base_url("cavatica") == "https://cavatica-api.sbgenomics.com/v2"
    assert resolve_base_url("https://eu-api.sbgenomics.com/v2/") == (
        "https://eu-api.sbgenomics.com/v2"
    )
    assert region_for_url("https://eu-api.sbgenomics.com/v2/").id == "aws-eu"
    assert region_for_url("http://127.0.0.1:1/v2") is None


def test_the_client_and_the_profiles_share_one_region():
    """One ``Region`` class and one table: the client's regions are the profiles' own."""
    from sbexport_tui.api import Region
    from sbexport_tui.config import REGIONS as CONFIG_REGIONS
    from sbexport_tui.config import Region as ConfigRegion
    from sbexport_tui.config import resolve_region

    assert Region is ConfigRegion
    assert tuple(CONFIG_REGIONS.values()) == REGIONS
    assert get_region("cgc") is resolve_region("cgc")
