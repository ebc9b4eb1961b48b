"""Import in the TUI (issue 31), keyboard only at 80x24: i on a project opens the volumes, a
volume's folders are browsed and marked (Space, a pattern, a whole folder), i shows the
pre-flight, y sends, and the jobs pane watches the run. An overwrite is typed back before
anything is sent. The sim's own record of the import jobs is the proof."""

from __future__ import annotations

from collections import Counter

import pytest

from sbexport_tui.sim.demo import DELIVERY_RUN, DELIVERY_VOLUME
from sbexport_tui.tui.screens.dialogs import ConfirmScreen, TypedConfirmScreen
from sbexport_tui.tui.screens.importing import ImportBrowseScreen, ImportVolumesScreen
from sbexport_tui.tui.screens.jobs import JobsScreen

from .pilot import footer_cut, footer_keys, make_app, settle, table_names, wait_for

SIZE = (80, 24)


def world(app):
    return app.session.extra["platform"].world  # the demo's in-process sim


async def to_the_delivery(
    pilot, project: str = "RNA-seq pilot", volume: str = DELIVERY_VOLUME
) -> ImportBrowseScreen:
    await settle(pilot)
    rows = table_names(pilot.app.screen, "#projects")
    await pilot.press(*["down"] * rows.index(project), "i")
    await settle(pilot)
    volumes = pilot.app.screen
    assert isinstance(volumes, ImportVolumesScreen)
    ids = [str(volumes.query_one("#import-volumes").get_row_at(i)[0]) for i in range(9)]
    await pilot.press(*["down"] * ids.index(volume), "enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ImportBrowseScreen)
    return screen


def names(screen: ImportBrowseScreen) -> list[str]:
    t = screen.query_one("#import-objects")
    return [str(t.get_row_at(i)[1]) for i in range(t.row_count)]


async def open_named(pilot, screen: ImportBrowseScreen, *folders: str) -> None:
    for name in folders:
        t = screen.query_one("#import-objects")
        t.move_cursor(row=names(screen).index(name + "/"))
        await pilot.press("enter")
        await settle(pilot)


async def test_mark_a_pattern_and_a_whole_folder_then_import_and_watch(tmp_path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_the_delivery(pilot)
        assert names(screen) == [f"{DELIVERY_RUN}/"]
        keys = footer_keys(app)
        assert keys[:2] == ["esc Back", "f1 Help"] and footer_cut(app) == []
        await open_named(pilot, screen, DELIVERY_RUN, "Project_DemoLab")
        assert names(screen)[0] == "Sample_DL001/"
        await pilot.press("space")  # Sample_DL001, whole (8 objects)
        await open_named(pilot, screen, "Sample_DL003")
        await pilot.press("v", "down", "down", "v")  # a range: three objects
        await settle(pilot)
        assert len(screen.objects) == 3
        await pilot.press("A")  # and unmarked again
        assert not screen.objects
        await pilot.press("backspace")
        await settle(pilot)
        await open_named(pilot, screen, "Sample_DL002")
        await pilot.press("plus")
        await settle(pilot)
        await pilot.press(*"*_R1_001.fastq.gz", "enter")  # two of Sample_DL002's objects
        await settle(pilot)
        assert len(screen.objects) == 2 and screen.folders == {
            f"{DELIVERY_RUN}/Project_DemoLab/Sample_DL001"
        }
        await pilot.press("backspace")
        await settle(pilot)
        assert str(screen.query_one("#import-objects").get_row_at(0)[0]) == "*"  # DL001 marked
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        question = str(app.screen.query_one(".dialog-question").render())
        assert "10 objects from demo/seqcore-delivery into demo/rnaseq-pilot" in question
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen), what="the jobs pane")
        made = [j for j in world(app).imports.values()]
        assert len(made) == 10 and set(Counter(j.location for j in made).values()) == {1}
        assert {j.project for j in made} == {"demo/rnaseq-pilot"}


async def test_keep_folders_into_a_new_folder(tmp_path) -> None:
    """F keeps the marked folders (each with its name), d names a folder not there yet: the
    pre-flight counts the folders made, y makes each once and sends each object into its
    own; the sim's own record of files and jobs is the proof."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_the_delivery(pilot)
        await open_named(pilot, screen, DELIVERY_RUN, "Project_DemoLab")
        await pilot.press("space", "space")  # Sample_DL001 and Sample_DL002, whole (Space moves on)
        await pilot.press("F", "d")
        await settle(pilot)
        await pilot.press(*"incoming/0417", "enter")
        await settle(pilot)
        marked = str(screen.query_one("#import-marked").render())
        assert "folders kept" in marked
        assert screen.target.folder == "incoming/0417"
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        question = str(app.screen.query_one(".dialog-question").render())
        assert "16 objects" in question and "into demo/rnaseq-pilot/incoming/0417/" in question
        assert "folders kept, 4 new folders" in question
        text = str(app.screen.query_one(".dialog-detail").render())
        assert "incoming, incoming/0417, incoming/0417/Sample_DL001 and 1 more" in text
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen), what="the jobs pane")
        w = world(app)
        made = list(w.imports.values())
        assert len(made) == 16 and set(Counter(j.location for j in made).values()) == {1}
        project = w.projects["demo/rnaseq-pilot"]
        for job in made:
            sample = job.location.split("/")[-2]
            assert w.files[job.parent].name == sample  # its own folder ...
            assert job.parent == w.node_at(project, f"incoming/0417/{sample}").id  # ... once
        incoming = w.node_at(project, "incoming/0417")
        assert sorted(w.files[c].name for c in incoming.children) == [
            "Sample_DL001",
            "Sample_DL002",
        ]


async def test_an_overwrite_is_counted_and_typed_back(tmp_path) -> None:
    """demo/wgs-cohort's README.txt (a Platform file) and the object wgs-cohort/README.txt on
    demo/us-east-results: importing the object with overwrite replaces the project's file."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_the_delivery(pilot, "WGS cohort 2026", "demo/us-east-results")
        await open_named(pilot, screen, "wgs-cohort")
        t = screen.query_one("#import-objects")
        t.move_cursor(row=names(screen).index("README.txt"))
        await pilot.press("space", "i")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        # on a clash, skip (the default): nothing can come
        assert "Nothing can be imported" in str(app.screen.query_one(".dialog-question").render())
        await pilot.press("escape")
        await pilot.press("c")  # skip -> overwrite
        assert screen.on_clash == "overwrite"
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, TypedConfirmScreen))
        text = str(app.screen.query_one("Static").render())
        assert "REPLACES 1 file" in text and "1 file of demo/wgs-cohort will be REPLACED" in text
        await pilot.press(*"yes", "enter")  # not the words asked for: nothing is sent
        await settle(pilot)
        assert not world(app).imports
        await pilot.press(*"replace 1", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen), what="the jobs pane")
        (job,) = world(app).imports.values()
        assert job.overwrite and job.location == "wgs-cohort/README.txt"


async def test_an_object_imported_before_is_not_imported_again(tmp_path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_the_delivery(pilot)
        await open_named(pilot, screen, DELIVERY_RUN)
        t = screen.query_one("#import-objects")
        t.move_cursor(row=names(screen).index("SampleSheet.csv"))
        await pilot.press("space", "i")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        await wait_for(
            pilot,
            lambda: (
                app.screen.journal is not None and app.screen.journal.counts(1)["verified"] == 1
            ),
            what="the first import to be verified",
            timeout=60,
        )
        app.leave_jobs()
        await settle(pilot)
        assert app.screen is screen and not screen.objects  # what was sent is unmarked
        t.move_cursor(row=names(screen).index("SampleSheet.csv"))
        await pilot.press("space", "c", "i")  # even with overwrite
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = str(app.screen.query_one(".dialog-question").render())
        assert "Nothing can be imported" in question
        detail = str(app.screen.query_one(".dialog-detail").render())
        assert "Already imported" in detail
        await pilot.press("escape")
        assert len(world(app).imports) == 1


@pytest.mark.parametrize("theme", ["textual-dark", "ansi-dark", "no-color"])
def test_snapshot_the_volume_browser(snap_compare, tmp_path, monkeypatch, theme) -> None:
    """At 80x24, in the default theme, the 16-colour one and without colour: the marks are a
    character (*), and the cursor row stays visible."""
    from sbexport_tui.config.paths import Paths
    from sbexport_tui.session import demo_session
    from sbexport_tui.tui.app import SbexportApp
    from sbexport_tui.tui.screens.projects import ProjectsScreen

    if theme == "no-color":
        monkeypatch.setenv("NO_COLOR", "1")
    name = "textual-dark" if theme == "no-color" else theme
    app = SbexportApp(ProjectsScreen, demo=True, theme_name=name)
    app.session = demo_session(Paths.under(tmp_path / "home", demo=True))

    async def before(pilot) -> None:
        screen = await to_the_delivery(pilot)
        await open_named(pilot, screen, DELIVERY_RUN, "Project_DemoLab", "Sample_DL001")
        await pilot.press("space", "down", "space")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=before)


async def test_a_manifest_that_cannot_be_read_is_said_plainly(tmp_path) -> None:
    """The engine's manifest reading (export.selecting.read_manifest): a path with brackets
    that does not exist, and a file that is not text, each one line, nothing marked."""
    app = make_app(tmp_path)
    (tmp_path / "binary.bin").write_bytes(b"\xff\xfe\x00" * 10)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_the_delivery(pilot)
        for path, why in (
            (str(tmp_path / "[final] keys.txt"), "[final] keys.txt"),
            (str(tmp_path / "binary.bin"), "not UTF-8 text"),
        ):
            app.clear_notifications()
            await pilot.press("m")
            await settle(pilot)
            await pilot.press(*path, "enter")
            await settle(pilot)
            assert isinstance(app.screen, ImportBrowseScreen)
            assert not screen.manifest
            said = [str(n.message) for n in app._notifications]
            assert any(why in m for m in said), said
