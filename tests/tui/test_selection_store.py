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


def test_unmark_takes_those_files_and_a_folder_marked_whole_that_held_one_is_no_longer_whole():
    store = SelectionStore()
    a, b, c = (
        SelectedFile(file_id=ch * 24, project="o/p", path=f"d/{ch}.txt", name=f"{ch}.txt", size=1)
        for ch in "abc"
    )
    for item in (a, b, c):
        store.add(item)
    store.marked_folders["d" * 24] = [a.file_id, b.file_id]  # folder d/, marked whole
    store.marked_folders["e" * 24] = [c.file_id]
    assert store.unmark([a.file_id, "z" * 24]) == 1  # one not marked: left alone
    assert [f.file_id for f in store] == [b.file_id, c.file_id]
    assert store.marked_folders == {"e" * 24: [c.file_id]}
