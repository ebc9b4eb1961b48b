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
    "unknown",
)
UNSENT_STATES = ("planned", "submitting")
WATCHED_STATES = ("submitted", "pending", "running")  # have a job id, not finished
FINAL_STATES = ("rejected", "skipped", "completed", "failed", "verified", "unknown")
RUN_STATES = ("planned", "submitting", "stopped", "watching", "done")
