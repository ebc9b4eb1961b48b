"""The states of a run and of its items, as the journal records them. Standard library only:
the command line's parser reads them without loading the engine."""

ITEM_STATES = (
    "planned",
    "submitting",
    "submitted",
    "rejected",
    "skipped",
    "pending",
    "running",
    "completed",
    "failed",
    "verified",
    "unverified",
    "unknown",
)
UNSENT_STATES = ("planned", "submitting")
WATCHED_STATES = ("submitted", "pending", "running")  # have a job id, not finished
FINAL_STATES = (
    "rejected",
    "skipped",
    "completed",
    "failed",
    "verified",
    "unverified",
    "unknown",
)
RUN_STATES = ("planned", "submitting", "stopped", "watching", "done")
# what a retry takes by default ("retry all", ``jobs retry``), and what it may take when named:
# an unknown or unverified item's export may well have happened (``export.retry``)
RETRY_STATES = ("failed", "rejected")
# what ended without an export: the job failed, the item was refused, or its outcome cannot be
# known (the jobs pane's "failed" filter and its failure groups)
FAILED_STATES = (*RETRY_STATES, "unknown")
RETRYABLE_STATES = (*FAILED_STATES, "unverified")

# ``unverified``: the job said COMPLETED, but the volume's listing, read to its end, did not show
# the object. Not a failure (the journal's ``failed`` only ever comes from the Platform's FAILED)
# and not retried by default: exporting again could write a second copy. A later verification
# that sees the object makes it ``verified``. Both front ends show these words.
UNVERIFIED_MESSAGE = (
    "the job said COMPLETED, but the volume's listing, read to its end, did not show the object"
)


def unverified_hint(run: int | str = "RUN") -> str:
    """What to do about a run's ``unverified`` items."""
    return (
        f"check the object on the volume; `sbexport jobs watch --run {run}` reads the listing "
        "again (verified when it is there). Not retried by default, as the export may have "
        "happened; if the object is really missing: "
        f"`sbexport jobs retry --run {run} --state unverified`"
    )


# what a run's finished items are called, by its direction (runs.direction)
DONE_WORD = {"export": "exported", "import": "imported"}
# where they are checked
CHECK_WHERE = {
    "export": "checking the volume for the exported objects",
    "import": "checking the project for the imported files",
}
