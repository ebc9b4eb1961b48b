"""o in browse visibly does something: the sorted column's header says so, the status line says
by what, and a sort that leaves the order as it was says that too (issue 27, item 14)."""

from __future__ import annotations

from .pilot import open_path, table_names

SIZE = (80, 24)


def header(screen) -> str:
    return " ".join(c.label for c in screen.table.columns)


def status(screen) -> str:
    return str(screen.query_one("#status").render())


async def test_the_first_o_in_a_folder_listed_by_name_says_what_it_did(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot, "scatter-gather", "chunks")
        screen = demo_app.screen
        listed = table_names(screen)
        assert listed == sorted(listed, key=str.lower)  # the Platform listed it by name
        assert "▲" not in header(screen) and "▼" not in header(screen)
        await pilot.press("o")
        assert table_names(screen) == listed
        notes = [n.message for n in demo_app.said]
        assert notes == [
            "Sorted by name, A to Z: the order it already had. o again: by name, Z to A."
        ], notes
        assert "Name ▲" in header(screen)
        assert "5000 items, by name, A to Z" in status(screen)
        await pilot.press("o")  # the order changes: the header and the status say it
        assert table_names(screen) == listed[::-1]
        assert "Name ▼" in header(screen) and "Name ▲" not in header(screen)
        assert "by name, Z to A" in status(screen)
        assert len(demo_app.said) == 1
        await pilot.press("o", "o")  # size, smallest first; then largest first
        assert "Size ▼" in header(screen) and "Name" in header(screen).split()
        assert "by size, largest first" in status(screen)
        await pilot.press("o", "o", "o")  # date both ways, then as listed: no arrow left
        assert "▲" not in header(screen) and "▼" not in header(screen)
        assert table_names(screen) == listed
        assert "by " not in status(screen).split("·")[0]


async def test_a_sort_that_changes_the_order_shows_it_without_a_note(demo_app):
    async with demo_app.run_test(size=SIZE) as pilot:
        await open_path(pilot)
        screen = demo_app.screen
        listed = table_names(screen)
        await pilot.press("o")
        assert table_names(screen) != listed and "Name ▲" in header(screen)
        assert list(demo_app.said) == []
        # the header is drawn with the arrow at 80 columns
        line = screen.table.render_line(0).text
        assert "Name ▲" in line, line
