"""The export engine: selection -> plan -> journal -> runner. No Textual here.

The TUI and the headless CLI drive the same steps::

    selection = Selection([SelectedFile.from_file(f, folder=..., project_location=...), ...])
    plan = await prepare_plan(client, selection, volume, ExportOptions(volume=volume.id))
    plan.groups(); plan.requests()          # pre-flight reasons; the dry run
    run_id = journal.create_run(plan, profile=..., api_base_url=client.base_url)
    await submit_run(client, journal, run_id, on_progress=..., stop_event=...)
    await poll_run(client, journal, run_id, until_done=True)
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes

if TYPE_CHECKING:
    from .client import EngineClient, ExportClient, FilesClient, VolumeClient
    from .journal import (
        FINAL_STATES,
        ITEM_STATES,
        RUN_STATES,
        WATCHED_STATES,
        ItemRecord,
        Journal,
        JournalError,
        RunRecord,
    )
    from .plan import (
        ExportOptions,
        ExportPlan,
        PlanItem,
        Reason,
        ReasonGroup,
        build_plan,
        cloud_mismatch,
        encryption_text,
        list_existing_locations,
        prepare_plan,
    )
    from .runner import (
        PollResult,
        Progress,
        RunBusy,
        RunStopped,
        SubmitResult,
        poll_once,
        poll_run,
        reconcile,
        submit_run,
        verify_run,
    )
    from .selection import SelectedFile, Selection
    from .templates import (
        DEFAULT_TEMPLATE,
        FLAT,
        KEEP_STRUCTURE,
        PLACEHOLDERS,
        PRESETS,
        TemplateError,
        check_key,
        check_template,
        join_key,
        render_location,
        split_name,
    )

# imported on first use, so that `sbexport --help` and `--version` stay light
_LAZY = {
    "EngineClient": ".client",
    "ExportClient": ".client",
    "FilesClient": ".client",
    "VolumeClient": ".client",
    "FINAL_STATES": ".journal",
    "ITEM_STATES": ".journal",
    "RUN_STATES": ".journal",
    "WATCHED_STATES": ".journal",
    "ItemRecord": ".journal",
    "Journal": ".journal",
    "JournalError": ".journal",
    "RunRecord": ".journal",
    "ExportOptions": ".plan",
    "ExportPlan": ".plan",
    "PlanItem": ".plan",
    "Reason": ".plan",
    "ReasonGroup": ".plan",
    "build_plan": ".plan",
    "cloud_mismatch": ".plan",
    "encryption_text": ".plan",
    "list_existing_locations": ".plan",
    "prepare_plan": ".plan",
    "PollResult": ".runner",
    "Progress": ".runner",
    "RunBusy": ".runner",
    "RunStopped": ".runner",
    "SubmitResult": ".runner",
    "poll_once": ".runner",
    "poll_run": ".runner",
    "reconcile": ".runner",
    "submit_run": ".runner",
    "verify_run": ".runner",
    "SelectedFile": ".selection",
    "Selection": ".selection",
    "DEFAULT_TEMPLATE": ".templates",
    "FLAT": ".templates",
    "KEEP_STRUCTURE": ".templates",
    "PLACEHOLDERS": ".templates",
    "PRESETS": ".templates",
    "TemplateError": ".templates",
    "check_key": ".templates",
    "check_template": ".templates",
    "join_key": ".templates",
    "render_location": ".templates",
    "split_name": ".templates",
}


__getattr__ = lazy_attributes(__name__, _LAZY, globals())


__all__ = [
    "DEFAULT_TEMPLATE",
    "FINAL_STATES",
    "FLAT",
    "ITEM_STATES",
    "KEEP_STRUCTURE",
    "PLACEHOLDERS",
    "PRESETS",
    "RUN_STATES",
    "WATCHED_STATES",
    "EngineClient",
    "ExportClient",
    "ExportOptions",
    "ExportPlan",
    "FilesClient",
    "ItemRecord",
    "Journal",
    "JournalError",
    "PlanItem",
    "PollResult",
    "Progress",
    "Reason",
    "ReasonGroup",
    "RunBusy",
    "RunRecord",
    "RunStopped",
    "SelectedFile",
    "Selection",
    "SubmitResult",
    "TemplateError",
    "VolumeClient",
    "build_plan",
    "check_key",
    "check_template",
    "cloud_mismatch",
    "encryption_text",
    "join_key",
    "list_existing_locations",
    "poll_once",
    "poll_run",
    "prepare_plan",
    "reconcile",
    "render_location",
    "split_name",
    "submit_run",
    "verify_run",
]
