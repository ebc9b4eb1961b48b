"""Choosing files the way bioinformaticians do: index companions, patterns, manifests.

Pure functions, shared by the TUI and the headless commands.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import re
from collections.abc import Callable, Iterable, Set
from typing import Any

# data file suffix -> its index files' suffixes, most usual first
INDEX_SUFFIXES: dict[str, tuple[str, ...]] = {
    ".bam": (".bam.bai", ".bai"),
    ".cram": (".cram.crai", ".crai"),
    ".vcf.gz": (".vcf.gz.tbi", ".vcf.gz.csi", ".tbi", ".csi"),
    ".bcf": (".bcf.csi", ".csi"),
}

FILE_ID_RE = re.compile(r"^[0-9a-f]{24}\Z")


def index_companions(name: str, names_in_folder: Iterable[str]) -> list[str]:
    """The index files of `name` (a BAM, CRAM, VCF.GZ or BCF) that exist in the same folder.

    `x.bam` pairs with `x.bam.bai` or `x.bai`; `x.vcf.gz` with `x.vcf.gz.tbi`, `x.vcf.gz.csi`,
    `x.tbi` or `x.csi`.
    """
    # a dict or set is looked in as it is: copying the folder's names for each file of a
    # 5,000-file folder made building a selection quadratic
    present = names_in_folder if isinstance(names_in_folder, Set | dict) else set(names_in_folder)
    lower = name.lower()
    for data_suffix, index_suffixes in INDEX_SUFFIXES.items():
        if lower.endswith(data_suffix):
            stem = name[: -len(data_suffix)]
            candidates = [stem + s for s in index_suffixes]
            return [c for c in candidates if c in present and c != name]
    return []


MAX_REGEX = 500


def _nested_repeat(regex: str) -> str | None:
    """The first repetition (``+``, ``*``, ``{n,}``) of a group that itself holds an unbounded
    repetition, like ``(.+)+`` or ``(a|a*)*``: the shapes whose backtracking explodes. Python's
    ``re`` cannot be interrupted mid-match, so such a pattern is refused before it runs."""
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]  # Python >= 3.11
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse

    repeats = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT}
    if hasattr(sre_parse, "POSSESSIVE_REPEAT"):
        repeats.add(sre_parse.POSSESSIVE_REPEAT)
    unbounded = sre_parse.MAXREPEAT

    def walk(items: Any, inside_unbounded: bool) -> str | None:
        for op, arg in items:
            if op in repeats:
                _lo, hi, sub = arg
                if hi == unbounded and inside_unbounded:
                    return "a repeat inside a repeat"
                found = walk(sub, inside_unbounded or hi == unbounded)
                if found:
                    return found
            elif op is sre_parse.SUBPATTERN:
                found = walk(arg[-1], inside_unbounded)
                if found:
                    return found
            elif op is sre_parse.BRANCH:
                for branch in arg[1]:
                    found = walk(branch, inside_unbounded)
                    if found:
                        return found
        return None

    return walk(sre_parse.parse(regex), False)


def compile_pattern(text: str) -> Callable[[str], bool]:
    """A glob (`*.bam`, `S01??_*.fastq.gz`), or a regular expression written `re:...` or `/.../`.

    Globs match the whole name and are case-sensitive, like a shell's; a regex matches anywhere
    in the name. A bad regex raises ValueError with a message that says what is wrong.
    """
    text = text.strip()
    if not text:
        raise ValueError("empty pattern: write a glob like *.bam or a regex like re:_R[12]_")
    regex: str | None = None
    if text.startswith("re:"):
        regex = text[3:]
    elif len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        regex = text[1:-1]
    if regex is not None:
        if len(regex) > MAX_REGEX:
            raise ValueError(f"the regular expression is over {MAX_REGEX} characters")
        try:
            compiled = re.compile(regex)
            nested = _nested_repeat(regex)
        except re.error as e:
            raise ValueError(f"not a valid regular expression ({e}); e.g. re:_R[12]_") from None
        if nested:
            raise ValueError(
                f"the regular expression repeats a part that itself repeats ({nested}): on "
                "some names that takes longer than the universe, and a running match cannot be "
                "stopped. Write it without the nested repetition, e.g. (.+) instead of (.+)+"
            )
        return lambda name: compiled.search(name) is not None
    return lambda name: fnmatch.fnmatchcase(name, text)


MANIFEST_COLUMNS = ("id", "file_id", "file", "path", "project_path", "name", "file_name")


def parse_manifest(text: str) -> list[str]:
    """Entries of a manifest: one per line, or the id/path/name column of a CSV or TSV file.

    Blank lines and lines starting with '#' are skipped. In a CSV/TSV with a header, the first
    of the columns id, file_id, file, path, project_path, name, file_name is used; without a
    known header, the first column. A UTF-8 byte-order mark (as spreadsheet programs write)
    is not part of the first entry or header.
    """
    text = text.removeprefix("\ufeff")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return []
    sample = lines[0]
    delim = "\t" if "\t" in sample else ("," if "," in sample else None)
    if delim is None:
        return [ln.strip() for ln in lines]
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim))
    header = [h.strip().lower() for h in rows[0]]
    col = next((header.index(c) for c in MANIFEST_COLUMNS if c in header), None)
    body = rows[1:] if col is not None else rows
    col = col or 0
    return [r[col].strip() for r in body if len(r) > col and r[col].strip()]


def classify_entry(entry: str) -> str:
    """'id' for a 24-hex file id, 'path' for a project path with '/', else 'name'."""
    if FILE_ID_RE.match(entry):
        return "id"
    return "path" if "/" in entry.strip("/") else "name"
