"""Destination templates: where on the volume each file goes.

A template is text with placeholders, rendered once per file into the export's
``destination.location`` (the key relative to the volume's prefix). The Platform prepends the
volume's prefix; ``join_key`` gives the bucket key it makes (prefix and location joined by one
'/', as the docs' example shows), for display and for the 1,024-byte limit.

Placeholders:

``{path}``     the file's path inside its project, name included: ``batches/b1/S1/S1.bam``
``{dir}``      the folder part of ``{path}``; empty for a file at the project root
``{name}``     the file name: ``S1.vcf.gz``
``{stem}``     the name without its extension: ``S1``
``{ext}``      the extension without the leading dot: ``vcf.gz``; empty when there is none
``{project}``  the project's short name: ``wgs-cohort`` (of ``demo/wgs-cohort``)
``{owner}``    the project's owner: ``demo``
``{date}``     the export date, ``YYYY-MM-DD`` (given by the caller, never read from the clock here)

``{{`` and ``}}`` write literal braces.

How a name splits into stem and extension (``split_name``): the extension is the last dot-suffix,
widened to the left while it starts with a compression or index suffix, so the formats
bioinformatics files really use stay together (``a.vcf.gz`` -> ``a`` + ``vcf.gz``,
``S1.bam.bai`` -> ``S1`` + ``bam.bai``, ``x.vcf.gz.tbi`` -> ``x`` + ``vcf.gz.tbi``,
``run.tar.gz`` -> ``run`` + ``tar.gz``, ``R1.Aligned.out.bam`` -> ``R1.Aligned.out`` + ``bam``).
A leading dot belongs to the stem (``.bashrc`` has no extension), and ``README`` has none either.

Nothing is collapsed or repaired silently: a rendered key with an empty segment (``a//b``, or
``{dir}/{name}`` for a root file), ``.``/``..`` segments, a leading or trailing ``/``, control
characters or more than 1,024 bytes (volume prefix included) is refused with a reason.
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

MAX_KEY_BYTES = 1024
"""S3 and GCS object keys are at most 1,024 bytes of UTF-8."""

PLACEHOLDERS: dict[str, str] = {
    "path": "path inside the project, file name included",
    "dir": "folder path inside the project (empty at the project root)",
    "name": "file name",
    "stem": "file name without its extension",
    "ext": "extension without the dot (vcf.gz, bam.bai; empty if none)",
    "project": "project short name",
    "owner": "project owner",
    "date": "export date, YYYY-MM-DD",
}

KEEP_STRUCTURE = "{project}/{path}"
FLAT = "{name}"


@dataclass(frozen=True)
class TemplatePreset:
    id: str
    label: str
    template: str | None  # None: the user writes one ("custom")


PRESETS: tuple[TemplatePreset, ...] = (
    TemplatePreset("keep", "Keep the folder structure", KEEP_STRUCTURE),
    TemplatePreset("flat", "Flat (file names only)", FLAT),
    TemplatePreset("custom", "Custom template", None),
)
DEFAULT_TEMPLATE = KEEP_STRUCTURE

# Suffixes that wrap another format: the extension widens over them (see split_name).
WRAPPER_SUFFIXES = frozenset(
    {
        # compression
        "gz",
        "bgz",
        "bz2",
        "xz",
        "zst",
        "lz4",
        "z",
        "zip",
        "7z",
        # indexes and checksums
        "bai",
        "crai",
        "csi",
        "tbi",
        "fai",
        "gzi",
        "idx",
        "md5",
        "sha256",
    }
)
MAX_EXT_PARTS = 3

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class TemplateError(ValueError):
    """A template or a rendered key that cannot be used; ``reason`` says why, in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def split_name(name: str) -> tuple[str, str]:
    """``"a.vcf.gz"`` -> ``("a", "vcf.gz")``; ``"README"`` -> ``("README", "")``.

    See the module docstring for the rule. The stem is never empty.
    """
    lead = len(name) - len(name.lstrip("."))
    body = name[lead:]
    parts = body.split(".")
    if len(parts) < 2 or not parts[0]:
        return name, ""
    take = 1
    while (
        take < MAX_EXT_PARTS
        and take < len(parts) - 1
        and parts[len(parts) - take].lower() in WRAPPER_SUFFIXES
    ):
        take += 1
    ext_parts = parts[len(parts) - take :]
    if any(not p for p in ext_parts):  # "a..b" or a trailing dot: no clean extension
        ext_parts = parts[-1:]
        take = 1
        if not ext_parts[0]:
            return name, ""
    stem = name[:lead] + ".".join(parts[: len(parts) - take])
    return stem, ".".join(ext_parts)


def parse_template(template: str) -> list[tuple[str, str | None]]:
    """The template as ``(literal, placeholder or None)`` pieces; refuses broken ones."""
    if not isinstance(template, str):
        raise TemplateError("the template must be text")
    if not template.strip():
        raise TemplateError("the template is empty; write e.g. {project}/{path}")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        raise TemplateError(
            "the template has an unbalanced { or }; write placeholders as {name} and "
            "literal braces as {{ or }}"
        ) from None
    out: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in parsed:
        if name is None:
            out.append((literal, None))
            continue
        if spec or conversion:
            raise TemplateError(
                f"the placeholder {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} has a format; write plain placeholders like "
                "{path}"
            )
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            shown = "{" + name + "}" if name else "{}"
            raise TemplateError(f"unknown placeholder {shown}; use one of {known}")
        out.append((literal, name))
    if not any(name for _, name in out):
        raise TemplateError(
            "the template has no placeholder, so every file would get the same key; "
            "use {name} or {path}"
        )
    return out


def check_template(template: str) -> str | None:
    """None when the template is usable, else the reason (for a form field as the user types)."""
    try:
        parse_template(template)
    except TemplateError as e:
        return e.reason
    return None


def placeholder_values(
    *, path: str, project: str, today: date | str, needed: Collection[str] | None = None
) -> dict[str, str]:
    """The values of every placeholder for one file (``stem`` and ``ext`` empty unless
    ``needed`` is None or names one of them: they are the costly ones).

    ``path`` is the path inside the project (name included), ``project`` is ``owner/short-name``.
    """
    folder, _, name = path.rpartition("/")
    if needed is None or "stem" in needed or "ext" in needed:
        stem, ext = split_name(name)
    else:
        stem = ext = ""
    owner, _, short = project.partition("/")
    if not short:  # no owner part: the whole id is the short name
        owner, short = "", project
    day = today if isinstance(today, str) else today.isoformat()
    return {
        "path": path,
        "dir": folder,
        "name": name,
        "stem": stem,
        "ext": ext,
        "project": short,
        "owner": owner,
        "date": day,
    }


def join_key(prefix: str, location: str) -> str:
    """The bucket key of ``location`` on a volume with this ``prefix``: the two joined by exactly
    one '/'. The docs' object example: prefix ``input-files``, location ``20.intervals``, object
    ``input-files/20.intervals``; a prefix with a trailing '/' gives the same key."""
    root = prefix.strip("/")
    return f"{root}/{location}" if root else location


def check_key(location: str, prefix: str = "") -> str | None:
    """None when ``location`` is a valid destination (and its bucket key a valid key)."""
    if not location:
        return "the destination is empty"
    if _CONTROL_RE.search(location):
        return "the destination contains a control character (e.g. a newline or tab)"
    if location.startswith("/"):
        return "the destination starts with '/'; it must be relative to the volume's prefix"
    if location.endswith("/"):
        return "the destination ends with '/', which names a folder, not a file"
    for segment in location.split("/"):
        if segment == "":
            return "the destination has an empty folder name ('//')"
        if segment in (".", ".."):
            return f"the destination has a '{segment}' folder name, which is not allowed"
    try:
        size = len(join_key(prefix, location).encode("utf-8"))
    except UnicodeEncodeError:
        return "the destination cannot be written as UTF-8"
    if size > MAX_KEY_BYTES:
        return (
            f"the full key (volume prefix included) is {size} bytes; object keys can have at "
            f"most {MAX_KEY_BYTES}"
        )
    return None


def render(
    template: str | list[tuple[str, str | None]], values: Mapping[str, str], prefix: str = ""
) -> str:
    """The destination location for one file; raises ``TemplateError`` with the reason."""
    pieces = parse_template(template) if isinstance(template, str) else template
    out: list[str] = []
    empty: list[str] = []
    for literal, name in pieces:
        out.append(literal)
        if name is not None:
            value = values[name]
            if not value:
                empty.append(name)
            out.append(value)
    location = "".join(out)
    reason = check_key(location, prefix)
    if reason is not None:
        if empty and ("empty" in reason or "'/'" in reason):
            names = ", ".join("{" + n + "}" for n in dict.fromkeys(empty))
            reason += f" ({names} is empty for this file"
            if "dir" in empty:
                reason += "; {path} already includes the folders"
            reason += ")"
        raise TemplateError(reason)
    return location


def render_location(
    template: str, *, path: str, project: str, today: date | str, prefix: str = ""
) -> str:
    """Render ``template`` for the file at ``path`` in ``project``; raises ``TemplateError``."""
    return render(template, placeholder_values(path=path, project=project, today=today), prefix)


def with_counter(location: str, n: int) -> str:
    """``dir/a.vcf.gz`` -> ``dir/a (n).vcf.gz`` (the Platform import dialog's renaming)."""
    folder, sep, name = location.rpartition("/")
    stem, ext = split_name(name)
    new = f"{stem} ({n})" + (f".{ext}" if ext else "")
    return f"{folder}{sep}{new}"
