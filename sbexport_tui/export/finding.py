"""Finding files by what the Platform knows of them: the outputs of a task, tags, metadata and
names anywhere in a project. One query for both front ends: ``sbexport export --task/--tag/
--metadata/--name-glob`` and the Find screen build a ``Query`` and hand it to
``selecting.build_selection``.

The rules are the API's own for its file filters (platform-api.md section 4.3): a term repeated
is any of them (``--tag a --tag b``: tagged a or b); ``--metadata`` of the same field repeated is
any of its values, of different fields all of them; terms of different kinds must all hold. Tasks
are where files come from (their outputs, folders and secondary files included); the other
terms keep the files that match. Without a task, the terms are matched across the ``--path``
folder and everything under it (the project, by default).

The terms are matched here, on the files a walk lists, not by the API's filters: those apply to
one folder's children only (the docs: the listing is not recursive) and the folders themselves
would have to be listed anyway to find the sub-folders. A walk lists each folder once, whatever
the query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .matching import compile_pattern


class QueryError(ValueError):
    """A term that cannot be a query (``--metadata`` without ``=``, a bad pattern)."""


def parse_metadata_term(text: str, *, typed: bool = False) -> tuple[str, str]:
    """``FIELD=VALUE`` -> (field, value); ``metadata.FIELD=VALUE`` (the API's own parameter)
    too. The field may not be empty; the value may. ``typed``: the error speaks of the Find
    screen's words, not of the command line's flag."""
    name, sep, value = text.partition("=")
    name = name.strip()
    name = name.removeprefix("metadata.") if name != "metadata." else ""
    if not sep or not name:
        what = "a metadata term" if typed else "--metadata"
        raise QueryError(f"{what} wants FIELD=VALUE (for example sample_id=S0101), not {text!r}")
    return name, value.strip()


@dataclass(frozen=True)
class Term:
    """One term of a query, as the user wrote it (``--tag final``), for what it matched."""

    kind: str  # task | tag | metadata | name
    value: str  # the task id, the tag, FIELD=VALUE, the pattern

    @property
    def label(self) -> str:
        flag = {"task": "--task", "tag": "--tag", "metadata": "--metadata", "name": "--name-glob"}
        return f"{flag[self.kind]} {self.value}"

    @property
    def typed(self) -> str:
        """The term as the Find screen's query writes it (``tag:final``, ``case_id=C1``)."""
        return {"task": "task:", "tag": "tag:"}.get(self.kind, "") + self.value


@dataclass(frozen=True)
class Query:
    tasks: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()
    name_globs: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        *,
        tasks: Iterable[str] = (),
        tags: Iterable[str] = (),
        metadata: Iterable[str] = (),
        name_globs: Iterable[str] = (),
        typed: bool = False,
    ) -> Query:
        """From the command line's words (``typed``: the Find screen's); ``QueryError`` says
        what is wrong with one, in the words the user wrote it with."""
        q = cls(
            tasks=tuple(dict.fromkeys(t.strip() for t in tasks if t.strip())),
            tags=tuple(dict.fromkeys(tags)),
            metadata=tuple(dict.fromkeys(parse_metadata_term(m, typed=typed) for m in metadata)),
            name_globs=tuple(dict.fromkeys(name_globs)),
        )
        for pattern in q.name_globs:
            try:
                compile_pattern(pattern)
            except ValueError as e:
                what = "the name pattern" if typed else "--name-glob"
                raise QueryError(f"{what} {pattern!r}: {e}") from None
        return q

    def __bool__(self) -> bool:
        return bool(self.tasks or self.filters)

    @property
    def filters(self) -> bool:
        """Terms that keep files by what they are (not where they come from)."""
        return bool(self.tags or self.metadata or self.name_globs)

    def terms(self) -> list[Term]:
        return [
            *(Term("task", t) for t in self.tasks),
            *(Term("tag", t) for t in self.tags),
            *(Term("metadata", f"{k}={v}") for k, v in self.metadata),
            *(Term("name", g) for g in self.name_globs),
        ]

    def matcher(self) -> Matcher:
        return Matcher(self)


@dataclass
class Matcher:
    """Matches files against a query's filters, and counts what each term matched."""

    query: Query
    counts: dict[Term, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        q = self.query
        self._globs = [(g, compile_pattern(g)) for g in q.name_globs]
        self._fields: dict[str, set[str]] = {}
        for k, v in q.metadata:
            self._fields.setdefault(k, set()).add(v)
        for t in q.terms():
            self.counts.setdefault(t, 0)

    def why(self, f: Any) -> list[str] | None:
        """The terms this file matches, or None when it does not match the query. Each term
        is counted for every file it matches, whether or not the file matches the rest (to say
        which term matched nothing). Tasks are not judged here (their outputs are the files
        given)."""
        q = self.query
        ok = True
        hits: list[Term] = []
        if q.tags:
            tags = set(getattr(f, "tags", ()) or ())
            got = [Term("tag", t) for t in q.tags if t in tags]
            ok = ok and bool(got)
            hits += got
        if self._fields:
            meta: Mapping[str, Any] = getattr(f, "metadata", None) or {}
            for name, values in self._fields.items():
                value = meta.get(name)
                if value is not None and str(value) in values:
                    hits.append(Term("metadata", f"{name}={value}"))
                else:
                    ok = False
        if self._globs:
            name = getattr(f, "name", None) or ""
            got = [Term("name", g) for g, match in self._globs if match(name)]
            ok = ok and bool(got)
            hits += got
        for t in hits:
            self.counts[t] = self.counts.get(t, 0) + 1
        return [t.label for t in hits] if ok else None

    def count(self, term: Term, n: int = 1) -> None:
        self.counts[term] = self.counts.get(term, 0) + n

    def unmatched(self) -> list[Term]:
        """The terms that matched no file."""
        return [t for t in self.query.terms() if not self.counts.get(t)]


FINISHED = ("COMPLETED", "FAILED", "ABORTED")  # a task that will make no more outputs


def parse_typed(text: str) -> Query:
    """A query as typed on the Find screen: words separated by spaces (quote one with spaces):
    ``tag:T``, ``task:ID``, ``FIELD=VALUE`` (or ``meta:FIELD=VALUE``), and anything else a
    name pattern (``*.cram``, ``re:REGEX``). ``QueryError`` says what is wrong."""
    import shlex

    try:
        words = shlex.split(text)
    except ValueError as e:
        raise QueryError(f"cannot read the query: {e} (close the quote)") from None
    tasks: list[str] = []
    tags: list[str] = []
    metadata: list[str] = []
    names: list[str] = []
    for w in words:
        head, sep, rest = w.partition(":")
        if sep and head == "tag":
            tags.append(rest)
        elif sep and head == "task":
            tasks.append(rest)
        elif sep and head == "meta":
            metadata.append(rest)
        elif head != "re" and "=" in w and not any(c in w.split("=", 1)[0] for c in "*?["):
            metadata.append(w)
        else:
            names.append(w)
    if any(not t for t in tags) or any(not t for t in tasks):
        raise QueryError("tag: and task: want a value right after the colon (tag:final)")
    return Query.of(tasks=tasks, tags=tags, metadata=metadata, name_globs=names, typed=True)


async def finished_tasks(client: Any, project: str) -> list[Any]:
    """The project's tasks that have ended (completed, failed or aborted), newest end first:
    what the Find screen offers to pick outputs from."""
    out = [t async for t in client.list_tasks(project, priority="interactive")]
    done = [t for t in out if (t.status or "") in FINISHED]
    done.sort(key=lambda t: (t.end_time is None, -(t.end_time.timestamp() if t.end_time else 0)))
    return done


NOTHING_MATCHED_HINT = "tags, metadata values and task ids are exact and case-sensitive"
NO_FILE_MATCHES_ALL_HINT = "terms of different kinds must all hold"


def nothing_matched_parts(
    query: Query, unmatched: Sequence[Term], scope: str, *, typed: bool = False
) -> tuple[str, str]:
    """What to say when a query selected nothing, and the hint that goes with it: which terms
    matched nothing (``typed``: written as the Find screen's query writes them, without the
    scope, which the screen shows above)."""
    # the Find screen names its project above, and its status line has 80 columns
    head = "" if typed else f"nothing matched in {scope}: "
    if unmatched:
        names = ", ".join(t.typed if typed else t.label for t in unmatched)
        return f"{head}{names} matched no file", NOTHING_MATCHED_HINT
    return (
        f"{head}each term matched some files, but no file matches all of them",
        NO_FILE_MATCHES_ALL_HINT,
    )


def nothing_matched(query: Query, unmatched: Sequence[Term], scope: str) -> str:
    """``nothing_matched_parts`` in one line (the command line's)."""
    said, hint = nothing_matched_parts(query, unmatched, scope)
    return f"{said} ({hint})"


__all__ = [
    "FINISHED",
    "Matcher",
    "Query",
    "QueryError",
    "Term",
    "finished_tasks",
    "nothing_matched",
    "nothing_matched_parts",
    "parse_metadata_term",
    "parse_typed",
]
