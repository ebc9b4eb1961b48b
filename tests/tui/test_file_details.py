"""Enter on a file, in browse and in Find: its details (id, size, tags, metadata, the task that
made it, where it is stored), read from the Platform, in a modal that scrolls at 80x24 and that
Esc closes. Enter on a folder still opens it."""

from __future__ import annotations

from sbexport_tui.api.errors import NetworkError
from sbexport_tui.session import DEMO_TOKEN
from sbexport_tui.tui.screens.browse import BrowseScreen
from sbexport_tui.tui.screens.details import FileDetailsScreen
from sbexport_tui.tui.screens.find import FindScreen

from .flow_helpers import world
from .pilot import open_path, settle, table_names

SIZE = (80, 24)
VARIANTS = ("batches", "batch-02", "S0201", "variants")


def screen_text(app) -> str:
    """What the screen draws, line by line, as a user reads it."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def box_text(app) -> str:
    """The details box's lines, without its borders."""
    return "\n".join(line.strip().strip("│").strip() for line in screen_text(app).splitlines())


async def enter_on(pilot, name: str) -> None:
    screen = pilot.app.screen
    screen.table.move_cursor(row=table_names(screen).index(name))
    await pilot.press("enter")
    await settle(pilot)


async def test_enter_on_a_file_shows_what_the_platform_knows_of_it(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "batches")  # Enter on folders: they open, as before
        await open_path(pilot, *VARIANTS[1:])
        browse = demo_app.screen
        assert isinstance(browse, BrowseScreen) and browse.crumbs[-1].name == "variants"
        await enter_on(pilot, "S0201.vcf.gz")
        assert isinstance(demo_app.screen, FileDetailsScreen)
        node = next(
            f
            for f in world(demo_app).files.values()
            if f.name == "S0201.vcf.gz" and f.project == "demo/wgs-cohort"
        )
        task = world(demo_app).tasks[node.origin_task]
        text = box_text(demo_app)
        assert f"Id           {node.id}" in text, text
        assert "Path         batches/batch-02/S0201/variants/S0201.vcf.gz" in text
        assert f"({node.size:,} bytes)" in text
        assert "Stored       by the Platform, in aws:us-east-1" in text
        assert "Export       can be exported" in text
        assert f"Origin task  {node.origin_task}" in text
        assert f"{task.name} (completed" in text  # the task's name beside its id
        assert "Tags         final" in text
        assert "Metadata     case_id: CASE-02A" in text and "sample_id: S0201" in text
        assert DEMO_TOKEN not in screen_text(demo_app)
        await pilot.press("escape")
        await settle(pilot)
        assert demo_app.screen is browse
        assert browse.current() is not None and browse.current().name == "S0201.vcf.gz"


async def test_an_alias_says_which_volume_and_where(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "imported-from-archive")
        await enter_on(pilot, "S9901.fastq.gz")
        text = box_text(demo_app)
        assert "Stored       on volume demo/lab-archive (an alias of its object)" in text, text
        assert "Location     raw/2025/run01/S9901.fastq.gz" in text
        assert "Export       cannot: the file already lives on a volume" in text


async def test_a_long_record_scrolls_at_80x24(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, *VARIANTS)
        node = next(
            f
            for f in world(demo_app).files.values()
            if f.name == "S0201.vcf.gz.tbi" and f.project == "demo/wgs-cohort"
        )
        node.metadata = {f"field_{i:02d}": f"value {i}" for i in range(40)}
        await enter_on(pilot, "S0201.vcf.gz.tbi")
        box = demo_app.screen.query_one("#filedetail-box")
        assert "field_00: value 0" in box_text(demo_app)
        assert "field_39: value 39" not in box_text(demo_app)
        assert box.max_scroll_y > 0 and box.has_focus
        await pilot.press("end")
        await settle(pilot)
        assert "field_39: value 39" in box_text(demo_app)
        assert "Esc closes" in screen_text(demo_app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(demo_app.screen, BrowseScreen)


async def test_when_the_platform_cannot_be_asked_the_listings_record_is_shown(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, *VARIANTS)

        async def offline(file_id: str):
            raise NetworkError("connection refused", method="GET", url="https://x/v2/files/1")

        demo_app.session.client.get_file = offline
        await enter_on(pilot, "S0201.vcf.gz")
        text = box_text(demo_app)
        assert "Could not read the Platform's record of it" in text, text
        assert "As the folder's listing had it:" in text
        assert "Tags         final" in text


async def test_enter_on_a_finds_result_shows_its_details(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot)
        await pilot.press("f")
        await settle(pilot)
        find = demo_app.screen
        assert isinstance(find, FindScreen)
        await pilot.press(*"tag:final case_id=CASE-02A", "enter")
        await settle(pilot)
        assert find.table.has_focus and find.order
        first = find.results[find.table.cursor_key()][0]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(demo_app.screen, FileDetailsScreen)
        text = box_text(demo_app)
        assert f"Id           {first.file_id}" in text and f"Path         {first.path}" in text
        assert "case_id: CASE-02A" in text
        await pilot.press("escape")
        await settle(pilot)
        assert demo_app.screen is find and len(find.order) > 0
