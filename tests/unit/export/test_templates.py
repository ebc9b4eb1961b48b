from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sbexport_tui.export.templates import (
    FLAT,
    KEEP_STRUCTURE,
    MAX_KEY_BYTES,
    PRESETS,
    TemplateError,
    check_key,
    check_template,
    placeholder_values,
    render_location,
    split_name,
    with_counter,
)

PATH = "batches/batch-01/S0101/variants/S0101.vcf.gz"
PROJECT = "demo/wgs-cohort"


def r(template: str, path: str = PATH, project: str = PROJECT, prefix: str = "") -> str:
    return render_location(
        template, path=path, project=project, today=date(2027, 1, 15), prefix=prefix
    )


def refused(template: str, path: str = PATH, prefix: str = "") -> str:
    with pytest.raises(TemplateError) as info:
        r(template, path, prefix=prefix)
    assert info.value.reason
    return info.value.reason


@pytest.mark.parametrize(
    ("name", "stem", "ext"),
    [
        ("a.vcf.gz", "a", "vcf.gz"),
        ("README", "README", ""),
        ("S0101.bam", "S0101", "bam"),
        ("S0101.bam.bai", "S0101", "bam.bai"),
        ("x.vcf.gz.tbi", "x", "vcf.gz.tbi"),
        ("run.tar.gz", "run", "tar.gz"),
        ("R001.Aligned.sortedByCoord.out.bam", "R001.Aligned.sortedByCoord.out", "bam"),
        (".bashrc", ".bashrc", ""),
        (".hidden.txt", ".hidden", "txt"),
        ("trailing.", "trailing.", ""),
        ("样本_001.vcf.gz", "样本_001", "vcf.gz"),
    ],
)
def test_split_name(name: str, stem: str, ext: str) -> None:
    assert split_name(name) == (stem, ext)


def test_every_placeholder() -> None:
    values = placeholder_values(path=PATH, project=PROJECT, today=date(2027, 1, 15))
    assert values == {
        "path": PATH,
        "dir": "batches/batch-01/S0101/variants",
        "name": "S0101.vcf.gz",
        "stem": "S0101",
        "ext": "vcf.gz",
        "project": "wgs-cohort",
        "owner": "demo",
        "date": "2027-01-15",
    }
    assert r("{owner}/{project}/{date}/{dir}/{stem}.{ext}") == (
        "demo/wgs-cohort/2027-01-15/batches/batch-01/S0101/variants/S0101.vcf.gz"
    )


def test_presets() -> None:
    ids = {p.id: p.template for p in PRESETS}
    assert ids == {"keep": KEEP_STRUCTURE, "flat": FLAT, "custom": None}
    assert r(KEEP_STRUCTURE) == "wgs-cohort/" + PATH
    assert r(FLAT) == "S0101.vcf.gz"


def test_literal_braces_are_allowed() -> None:
    assert r("{{x}}/{name}") == "{x}/S0101.vcf.gz"


def test_empty_dir_at_the_root_is_refused_not_collapsed() -> None:
    reason = refused("{dir}/{name}", path="README.txt")
    assert "starts with '/'" in reason and "{dir} is empty" in reason
    assert r("{dir}/{name}") == "batches/batch-01/S0101/variants/S0101.vcf.gz"


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("{path", "unbalanced"),
        ("path}", "unbalanced"),
        ("{bogus}/{name}", "unknown placeholder {bogus}"),
        ("{}/{name}", "unknown placeholder {}"),
        ("{name!r}", "format"),
        ("{name:>10}", "format"),
        ("fixed.txt", "no placeholder"),
        ("/{path}", "starts with '/'"),
        ("{path}/", "ends with '/'"),
        ("a//{name}", "empty folder name"),
        ("../{name}", "'..'"),
        ("./{name}", "'.'"),
        ("x/./{name}", "'.'"),
        ("a\n{name}", "control character"),
        ("a\t{name}", "control character"),
        ("a\x00{name}", "control character"),
    ],
)
def test_refused_templates(template: str, words: str) -> None:
    assert words in refused(template)


def test_check_template_for_a_form_field() -> None:
    assert check_template("{project}/{path}") is None
    assert "unknown placeholder {nmae}" in (check_template("{nmae}") or "")


def test_key_length_counts_the_prefix_in_utf8_bytes() -> None:
    name = "é" * 500 + ".txt"  # 1004 bytes
    assert r("{name}", path=name) == name
    assert "1025 bytes" in refused("{name}", path=name, prefix="sbexport/01234567890/")
    assert r("{name}", path=name, prefix="sbexport/0123456789/")  # exactly 1024 bytes
    assert check_key("a" * MAX_KEY_BYTES) is None
    # prefix and location are joined by one '/': "x" + "/" + 1024 bytes
    assert "1026 bytes" in (check_key("a" * MAX_KEY_BYTES, prefix="x") or "")
    assert check_key("a" * (MAX_KEY_BYTES - 2), prefix="x") is None
    assert check_key("a" * (MAX_KEY_BYTES - 2), prefix="x/") is None


def test_with_counter_keeps_double_extensions() -> None:
    assert with_counter("a/b/S1.vcf.gz", 1) == "a/b/S1 (1).vcf.gz"
    assert with_counter("README", 2) == "README (2)"
    assert with_counter("S1.bam.bai", 3) == "S1 (3).bam.bai"


# ---- property: whatever comes in, a key is either refused with a reason or valid -----------
PIECES = st.sampled_from(
    [
        "{path}",
        "{dir}",
        "{name}",
        "{stem}",
        "{ext}",
        "{project}",
        "{owner}",
        "{date}",
        "{nope}",
        "{",
        "}",
        "{{",
        "}}",
        "/",
        "//",
        ".",
        "..",
        "-",
        "x",
        "é",
        "\n",
        "\x7f",
        " ",
        "{name:>3}",
    ]
)
NAME_CHARS = st.characters(blacklist_characters="/", blacklist_categories=("Cs",))
SEGMENT = st.text(NAME_CHARS, min_size=1, max_size=40)


@settings(max_examples=400, deadline=None)
@given(
    template=st.lists(PIECES, min_size=0, max_size=12).map("".join),
    folders=st.lists(SEGMENT, max_size=4),
    name=SEGMENT,
    prefix=st.sampled_from(["", "sbexport/", "x" * 1000 + "/"]),
)
def test_rendered_key_is_refused_with_a_reason_or_valid(
    template: str, folders: list[str], name: str, prefix: str
) -> None:
    path = "/".join([*folders, name])
    try:
        location = render_location(
            template, path=path, project="demo/p", today="2027-01-15", prefix=prefix
        )
    except TemplateError as e:
        assert e.reason.strip()
        return
    key = prefix + location
    assert location and not location.startswith("/") and not location.endswith("/")
    assert all(seg not in ("", ".", "..") for seg in location.split("/"))
    assert len(key.encode("utf-8")) <= MAX_KEY_BYTES
    assert not re.search(r"[\x00-\x1f\x7f]", location)
