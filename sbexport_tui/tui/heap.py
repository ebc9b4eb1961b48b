"""Keeping Python's cycle collector off the screen's path once the jobs pane holds a big heap.

A jobs pane with 100,000 rows holds over a million long-lived objects. Every full collection
then walks them all: about 75 ms, at moments set by how many objects were made since the last
one, so a poll's 10,000 new rows now and then took twice as long to show. ``gc.freeze()`` moves
what exists into a generation the collector no longer walks. Rows are still freed by reference
counting when replaced (they hold no cycles). What the freeze would keep is cyclic garbage of
objects alive at that moment (a screen closed later): ``release_heap`` (the pane's unmount)
hands everything back to the collector. Only the jobs pane does this: it lives as long as the
session, where a browse screen comes and goes with each folder.
"""

from __future__ import annotations

import gc

BIG_HEAP_ROWS = 5_000  # below this, a full collection costs a few milliseconds: left alone


def settle_heap(rows: int) -> bool:
    """After a screen has loaded ``rows`` rows it keeps: freeze what exists when that is many.
    True when it did."""
    if rows < BIG_HEAP_ROWS:
        return False
    gc.freeze()
    return True


def release_heap(frozen: bool) -> None:
    """Undo ``settle_heap`` (when it froze): the collector walks everything again."""
    if frozen:
        gc.unfreeze()


__all__ = ["BIG_HEAP_ROWS", "release_heap", "settle_heap"]
