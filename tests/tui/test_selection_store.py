"""The TUI's selection store: marked folders belong to the selection."""

from sbexport_tui.export.selection import SelectedFile
from sbexport_tui.tui.selection import SelectionStore


def test_one_clear_forgets_the_files_and_the_folders_marked_whole():
    store = SelectionStore()
    item = SelectedFile(file_id="a" * 24, project="o/p", path="d/x.bam", name="x.bam", size=1)
    assert store.add(item) and not store.add(item)
    store.marked_folders["f" * 24] = [item.file_id]
    store.clear()
    assert len(store) == 0 and store.marked_folders == {}
