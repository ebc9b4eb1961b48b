"""The query of the Find screen and `export --task/--tag/--metadata/--name-glob`."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sbexport_tui.api.models import Task
from sbexport_tui.export.finding import Query, QueryError, Term, nothing_matched


def f(name="a.bam", tags=(), **meta):
    return SimpleNamespace(name=name, tags=list(tags), metadata=meta)


def test_the_apis_rules_any_within_a_kind_all_across_kinds() -> None:
    q = Query.of(
        tags=["final", "qc"],
        metadata=["sample_id=S1", "sample_id=S2", "case_id=C1"],
        name_globs=["*.bam", "*.cram"],
    )
    m = q.matcher()
    assert m.why(f(tags=["qc"], sample_id="S2", case_id="C1")) == [
        "--tag qc",
        "--metadata sample_id=S2",
        "--metadata case_id=C1",
        "--name-glob *.bam",
    ]
    assert m.why(f(tags=["qc"], sample_id="S2", case_id="C2")) is None  # case_id must hold
    assert m.why(f(tags=["other"], sample_id="S1", case_id="C1")) is None  # a tag must match
    assert m.why(f("a.vcf", tags=["final"], sample_id="S1", case_id="C1")) is None
    assert m.why(f(tags=["final"], case_id="C1")) is None  # no sample_id at all
    # each term is counted for the files it matched, whether or not they matched the rest
    assert m.counts[Term("tag", "qc")] == 2 and m.counts[Term("tag", "final")] == 2
    assert m.counts[Term("metadata", "case_id=C1")] == 4
    assert [t.label for t in m.unmatched()] == ["--name-glob *.cram"]


def test_metadata_values_compare_as_text_and_bad_terms_say_what_to_write() -> None:
    m = Query.of(metadata=["age=42"]).matcher()
    assert m.why(f(age=42)) == ["--metadata age=42"]
    with pytest.raises(QueryError, match="FIELD=VALUE"):
        Query.of(metadata=["age"])
    with pytest.raises(QueryError, match="FIELD=VALUE"):
        Query.of(metadata=["=42"])
    with pytest.raises(QueryError, match="--name-glob"):
        Query.of(name_globs=["re:("])
    assert not Query() and Query.of(tasks=["t"]) and not Query.of(tasks=["t"]).filters


def test_nothing_matched_names_the_terms() -> None:
    q = Query.of(tags=["x"], metadata=["a=b"])
    assert "--tag x matched no file" in nothing_matched(q, [Term("tag", "x")], "p/")
    assert "no file matches all of them" in nothing_matched(q, [], "p/")


def test_a_tasks_outputs_arrays_secondary_files_and_folders() -> None:
    task = Task.model_validate(
        {
            "id": "t1",
            "status": "completed",
            "outputs": {
                "bams": [
                    {"class": "File", "path": "f1", "name": "a.bam",
                     "secondaryFiles": [{"class": "File", "path": "f2", "name": "a.bam.bai"}]},
                    {"class": "file", "path": "f3"},
                ],
                "dir": {"class": "Directory", "path": "d1", "name": "qc"},
                "failed": None,
                "count": 3,
                "odd": {"class": "File"},  # no path: not a file to look up
                "again": {"class": "File", "path": "f1"},  # named twice: once
            },
        }
    )  # fmt: skip
    got = [(o.output, o.file_id, o.is_folder) for o in task.output_files()]
    assert got == [
        ("bams", "f1", False),
        ("bams", "f2", False),
        ("bams", "f3", False),
        ("dir", "d1", True),
    ]
    assert task.status == "COMPLETED"


def test_an_output_is_named_by_its_cwl_basename_else_its_name() -> None:
    """CWL names a File by ``basename``; the Platform's records (and the sim) carry ``name``
    too. ``basename`` comes first; without it, ``name``; without either, no name (the file's
    own record names it when it is looked up)."""
    from sbexport_tui.api.models import Task

    task = Task.model_validate(
        {
            "id": "t1",
            "outputs": {
                "both": {"class": "File", "path": "f1", "basename": "a.bam", "name": "old"},
                "cwl": {"class": "File", "path": "f2", "basename": "b.bam",
                        "secondaryFiles": [{"class": "File", "path": "f3",
                                            "basename": "b.bam.bai"}]},
                "named": {"class": "File", "path": "f4", "name": "c.bam"},
                "blank": {"class": "File", "path": "f5", "basename": "", "name": "d.bam"},
                "none": {"class": "Directory", "path": "d1", "basename": None},
            },
        }
    )  # fmt: skip
    got = {o.file_id: o.name for o in task.output_files()}
    assert got == {
        "f1": "a.bam",
        "f2": "b.bam",
        "f3": "b.bam.bai",
        "f4": "c.bam",
        "f5": "d.bam",
        "d1": None,
    }


def test_a_typed_query() -> None:
    from sbexport_tui.export.finding import parse_typed

    q = parse_typed("tag:final case_id=CASE-01A meta:sample_id=S1 *.cram 're:^S0[12]' task:t1")
    assert q.tags == ("final",) and q.tasks == ("t1",)
    assert q.metadata == (("case_id", "CASE-01A"), ("sample_id", "S1"))
    assert q.name_globs == ("*.cram", "re:^S0[12]")
    assert parse_typed("'two words.txt'").name_globs == ("two words.txt",)
    # the API's own parameter name works too
    assert parse_typed("metadata.case_id=C1").metadata == (("case_id", "C1"),)
    assert Query.of(metadata=["metadata.sample_id=S1"]).metadata == (("sample_id", "S1"),)
    assert parse_typed("a[=]b.txt").name_globs == ("a[=]b.txt",)  # a pattern, not FIELD=VALUE
    for bad in ("'open", "tag:", "meta:novalue", "metadata.=x"):
        with pytest.raises(QueryError):
            parse_typed(bad)


async def test_deep_first_lets_a_deeper_folder_go_before_a_shallower_one() -> None:
    import asyncio

    from sbexport_tui.export.selecting import DeepFirst

    gate = DeepFirst(1)
    order: list[str] = []
    await gate.acquire(0)  # the one slot is taken

    async def listing(name: str, depth: int) -> None:
        await gate.acquire(depth)
        order.append(name)
        gate.release()

    tasks = [asyncio.ensure_future(listing(n, d)) for n, d in (("a", 1), ("b", 3), ("c", 2))]
    doomed = asyncio.ensure_future(listing("gone", 9))
    await asyncio.sleep(0)
    doomed.cancel()  # a cancelled waiter never takes the slot
    gate.release()
    await asyncio.gather(*tasks)
    assert order == ["b", "c", "a"]
    assert gate.free == 1  # every slot given back


async def test_a_big_folders_first_matches_come_before_its_last_page(env, client) -> None:
    """The 5,000-file folder is 50 pages: a query's matches on its first page are handed on
    while the rest are still being listed, and each file is kept once."""
    from sbexport_tui.export.selecting import build_selection

    found: list[tuple[int, list[str]]] = []  # (pages listed so far, names)

    def pages() -> int:
        return sum(1 for p in env.hook.paths if p.endswith("/files"))

    def on_found(items) -> None:  # type: ignore[no-untyped-def]
        found.append((pages(), [it.name for it, _ in items]))

    report = await build_selection(
        client,
        "demo/wgs-cohort",
        path="scatter-gather/chunks",
        query=Query.of(name_globs=["chunk_0000*", "chunk_0499*"]),
        with_index=False,
        on_found=on_found,
    )
    total = pages()
    assert found[0][0] < total and found[0][1][0] == "chunk_00000.interval_list.vcf.gz"
    names = [n for _, batch in found for n in batch]
    assert len(names) == len(set(names)) == 20  # 10 + 10, each once
    assert len(report.selection) == 20


async def test_a_folder_output_that_is_not_a_folder_is_reported_not_fatal(env, client) -> None:
    """The docs do not show a folder output: one whose path names no folder is said, and the
    task's other outputs are still selected."""
    from sbexport_tui.export.selecting import build_selection
    from sbexport_tui.sim.world import OutFile, OutFolder

    w = env.world
    project = w.projects["demo/wgs-cohort"]
    readme = w.node_at(project, "README.txt")
    sheet = w.node_at(project, "sample_sheet.csv")  # a file named as a folder output
    task = w.add_task(
        project, "odd", "demo/wgs-cohort/odd/1", "COMPLETED", created=0.0, started=0.0,
        ended=1.0, outputs={"report": OutFile(readme.id), "dir": OutFolder(sheet.id)},
    )  # fmt: skip
    report = await build_selection(client, "demo/wgs-cohort", query=Query.of(tasks=[task.id]))
    assert [f.name for f in report.selection] == ["README.txt"]
    assert report.outputs_missing == [f"{sheet.id} (output dir of {task.id})"]
    assert report.not_found == []  # no manifest was given


def test_the_preflight_says_which_task_outputs_could_not_be_selected(env) -> None:
    from sbexport_tui.export import Selection
    from sbexport_tui.export.selecting import SelectionReport
    from sbexport_tui.headless.export_cmd import preflight_lines

    from .conftest import small_plan

    sel = SelectionReport(Selection(), outputs_missing=["f9 (output dir of t1)"])
    text = "\n".join(preflight_lines(small_plan(env), sel))
    assert "1 task output could not be selected" in text and "f9 (output dir of t1)" in text
    assert "manifest" not in text


def test_the_find_screen_is_answered_in_its_own_words_the_command_line_in_flags():
    from sbexport_tui.export.finding import nothing_matched_parts, parse_typed

    with pytest.raises(QueryError, match=r"^a metadata term wants FIELD=VALUE"):
        parse_typed("metadata.=x")
    with pytest.raises(QueryError, match=r"^--metadata wants FIELD=VALUE"):
        Query.of(metadata=["metadata.=x"])
    with pytest.raises(QueryError, match=r"^the name pattern 're:\('"):
        parse_typed("re:(")
    with pytest.raises(QueryError, match=r"^--name-glob 're:\('"):
        Query.of(name_globs=["re:("])
    terms = [Term("tag", "final"), Term("task", "t1"), Term("metadata", "a=b"), Term("name", "*")]
    assert [t.typed for t in terms] == ["tag:final", "task:t1", "a=b", "*"]
    said, hint = nothing_matched_parts(Query(), terms[:2], "the project", typed=True)
    assert said == "tag:final, task:t1 matched no file"
    assert "case-sensitive" in hint
