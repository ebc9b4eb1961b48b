from __future__ import annotations

import json

import pytest

from sbexport_tui.api import ExportItem, Volume
from sbexport_tui.export import (
    ExportOptions,
    Reason,
    SelectedFile,
    Selection,
    build_plan,
    cloud_mismatch,
    list_existing_locations,
    prepare_plan,
)

from .conftest import TODAY, Env

WGS = "demo/wgs-cohort"
EAST = "demo/us-east-results"
VAULT = "demo/kms-vault"  # prefix "vault/exports" (no trailing slash), aws:kms defaults
WEST = "demo/us-west-scratch"  # us-west-2 behind the default endpoint s3.amazonaws.com


def plan_for(env: Env, sel, volume_id: str = EAST, existing=None, **opts):
    return build_plan(
        sel, env.volume(volume_id), ExportOptions(volume_id, **opts), existing, today=TODAY
    )


def only_reason(plan) -> Reason | None:
    reasons = {i.reason for i in plan.items}
    assert len(reasons) == 1, reasons
    return reasons.pop()


# ---- reasons in the demo world ----------------------------------------------------------------
def test_aliases_are_refused(env: Env) -> None:
    plan = plan_for(env, env.folder_files(WGS, "imported-from-archive"))
    assert plan.total_count == 6 and plan.exportable_count == 0
    assert only_reason(plan) is Reason.ALIAS
    assert "already lives on a volume" in plan.items[0].reason_text
    assert "demo/lab-archive" in plan.items[0].reason_text


def test_public_reference_copies_are_refused(env: Env) -> None:
    plan = plan_for(env, env.folder_files(WGS, "reference"))
    assert plan.total_count == 4 and only_reason(plan) is Reason.PUBLIC
    [group] = plan.groups()
    assert group.count == 4
    assert group.bytes == 3_189_750_467 + 3_212 + 1_600_000_000 + 2_100_000


def test_folders_are_refused_and_their_files_are_not(env: Env) -> None:
    sel = env.tree(WGS, "batches/batch-02/S0201")
    plan = plan_for(env, sel)
    folders = [i for i in plan.items if i.file.is_folder]
    assert [i.file.name for i in folders] == ["reads", "alignments", "variants", "qc"]
    assert all(i.reason is Reason.FOLDER for i in folders)
    assert all(i.exportable for i in plan.items if not i.file.is_folder)
    assert plan.exportable_count == plan.total_count - 4 > 0


def test_aws_project_to_gcs_volume_is_another_cloud(env: Env) -> None:
    # both clouds are documented: an aws:... project location, a volume of type gcs
    plan = plan_for(env, env.folder_files(WGS, "batches/batch-01/S0101/qc"), "demo/gcs-exchange")
    assert only_reason(plan) is Reason.OTHER_CLOUD
    assert "aws:us-east-1" in plan.items[0].reason_text
    assert "Google Cloud" in plan.items[0].reason_text


def test_an_undocumented_project_cloud_is_left_to_the_platform(env: Env) -> None:
    # only aws:... project locations are documented; the Platform judges gcp:... itself
    plan = plan_for(env, env.tree("demo/gcp-study", "cohort/G001"))
    assert plan.exportable_count == 4
    assert any("gcp:us-central1" in n and "9027" in n for n in plan.notes)


def test_gcp_project_to_gcs_volume_is_fine(env: Env) -> None:
    plan = plan_for(env, env.tree("demo/gcp-study", "cohort/G001"), "demo/gcs-exchange")
    assert plan.exportable_count == 4
    assert plan.items[0].key == "incoming/gcp-study/cohort/G001/G001.cram"
    assert plan.properties is None  # GCS: no properties are sent
    assert plan.encryption is None
    assert "properties" not in plan.requests()[0]["body"]["items"][0]


@pytest.mark.parametrize("volume_id", [EAST, WEST, "demo/eu-results"])
def test_no_region_is_guessed_from_a_volume_record(env: Env, volume_id: str) -> None:
    """A volume record has no region, and its endpoint is a connection setting: every S3 volume
    takes files of any aws:... project, and the pre-flight says the Platform checks."""
    for project, folder in (
        ("demo/rnaseq-pilot", "samples/R001/star"),  # aws:us-west-2
        ("demo/eu-biobank", "participants/P001"),  # aws:eu-central-1
        (WGS, "batches/batch-01/S0101/variants"),  # aws:us-east-1
    ):
        sel = env.tree(project, folder)
        plan = plan_for(env, sel, volume_id)
        assert plan.exportable_count == len(sel) > 0, (project, volume_id)
        [note] = plan.notes
        assert "checks that the volume is in" in note and "9027" in note
        assert env.world.projects[project].location in note


def test_cloud_mismatch_only_between_documented_clouds() -> None:
    def vol(kind: str) -> Volume:
        return Volume.model_validate({"id": "o/v", "service": {"type": kind}})

    assert cloud_mismatch("aws:us-east-1", vol("gcs")) == "gcp"
    assert cloud_mismatch("aws:eu-central-1", vol("OSS")) == "ali"
    assert cloud_mismatch("aws:us-west-2", vol("s3")) is None
    assert cloud_mismatch("gcp:us-central1", vol("s3")) is None  # not documented: the Platform's
    assert cloud_mismatch(None, vol("gcs")) is None
    assert cloud_mismatch("aws:us-east-1", vol("minio")) is None


@pytest.mark.parametrize(
    ("volume_id", "reason"),
    [
        ("demo/lab-archive", Reason.VOLUME_READ_ONLY),
        ("demo/old-bucket", Reason.VOLUME_INACTIVE),
        ("demo/azure-share", Reason.VOLUME_AZURE),
    ],
)
def test_volumes_that_take_no_exports(env: Env, volume_id: str, reason: Reason) -> None:
    plan = plan_for(env, env.folder_files(WGS, "scatter-gather/chunks", 5), volume_id)
    assert plan.exportable_count == 0 and only_reason(plan) is reason
    assert volume_id in plan.items[0].reason_text


def test_existing_key_on_the_volume_is_skipped_by_default(env: Env) -> None:
    readme = env.selected(WGS, "README.txt")
    existing = env.on_volume(EAST)
    assert existing == {"wgs-cohort/README.txt"}
    plan = plan_for(env, [readme, env.selected(WGS, "sample_sheet.csv")], existing=existing)
    first, second = plan.items
    assert first.reason is Reason.EXISTS and first.key == "sbexport/wgs-cohort/README.txt"
    assert second.exportable and second.key == "sbexport/wgs-cohort/sample_sheet.csv"
    assert plan.exportable_count == 1 and plan.exportable_bytes == 9_876


def test_template_refusal_gives_the_reason(env: Env) -> None:
    sel = [
        env.selected(WGS, "README.txt"),
        env.selected(WGS, "batches/batch-01/S0101/qc/S0101.flagstat.txt"),
    ]
    plan = plan_for(env, sel, location="{dir}/{name}")
    assert plan.items[0].reason is Reason.TEMPLATE
    assert "{dir} is empty" in plan.items[0].reason_text
    assert plan.items[1].location == "batches/batch-01/S0101/qc/S0101.flagstat.txt"
    broken = plan_for(env, sel, location="{project/{name}")
    assert only_reason(broken) is Reason.TEMPLATE
    assert "unbalanced" in broken.items[0].reason_text


def test_whole_project_groups_every_reason_and_totals(env: Env) -> None:
    sel = env.tree(WGS)
    plan = plan_for(env, sel, existing=env.on_volume(EAST))
    groups = {g.reason: g for g in plan.groups()}
    assert set(groups) == {Reason.FOLDER, Reason.ALIAS, Reason.PUBLIC, Reason.EXISTS}
    assert groups[Reason.ALIAS].count == 6 and groups[Reason.PUBLIC].count == 4
    assert groups[Reason.EXISTS].count == 1
    files = [s for s in sel if not s.is_folder]
    refused_files = 6 + 4 + 1
    assert plan.exportable_count == len(files) - refused_files
    assert plan.total_count == len(sel)  # nothing dropped
    refused_bytes = sum(g.bytes for g in groups.values())
    assert plan.exportable_bytes == sel.total_bytes - refused_bytes


# ---- collisions --------------------------------------------------------------------------------
def same_name_files() -> list[SelectedFile]:
    """Three files called sample.vcf.gz in different folders, plus one unrelated file."""
    return [
        SelectedFile(
            "a" * 24, WGS, "x/sample.vcf.gz", "sample.vcf.gz", 10, project_location="aws:us-east-1"
        ),
        SelectedFile(
            "b" * 24, WGS, "y/sample.vcf.gz", "sample.vcf.gz", 20, project_location="aws:us-east-1"
        ),
        SelectedFile(
            "c" * 24, WGS, "z/sample.vcf.gz", "sample.vcf.gz", 30, project_location="aws:us-east-1"
        ),
        SelectedFile(
            "d" * 24, WGS, "z/other.txt", "other.txt", 40, project_location="aws:us-east-1"
        ),
    ]


def test_flat_duplicates_with_skip(env: Env) -> None:
    plan = plan_for(env, same_name_files(), location="{name}", existing=set())
    assert [i.reason for i in plan.items] == [None, Reason.DUPLICATE, Reason.DUPLICATE, None]
    assert "x/sample.vcf.gz" in plan.items[1].reason_text  # names the file that keeps the key
    assert plan.items[0].key == "sbexport/sample.vcf.gz"


def test_overwrite_sends_overwrite_only_for_volume_collisions(env: Env) -> None:
    existing = {"sample.vcf.gz", "unrelated.txt"}
    plan = plan_for(
        env, same_name_files(), location="{name}", existing=existing, on_conflict="overwrite"
    )
    first, second, third, other = plan.items
    assert first.exportable and first.overwrite and first.replaces
    assert second.reason is Reason.DUPLICATE and third.reason is Reason.DUPLICATE
    assert other.exportable and not other.overwrite
    bodies = plan.requests()[0]["body"]["items"]
    assert [b["overwrite"] for b in bodies] == [True, False]


def test_what_a_plan_destroys_is_counted_and_typed_to_confirm(env: Env) -> None:
    existing = {"sample.vcf.gz"}
    copy = plan_for(env, same_name_files(), location="{name}", existing=existing)
    assert not copy.destructive and copy.damage() == [] and copy.confirm_phrase() is None
    over = plan_for(
        env, same_name_files(), location="{name}", existing=existing, on_conflict="overwrite"
    )
    assert over.destructive and over.confirm_phrase() == "replace 1"
    assert over.damage() == [f"1 existing object on {EAST} will be REPLACED"]
    both = plan_for(
        env,
        same_name_files(),
        location="{name}",
        existing=existing,
        on_conflict="overwrite",
        mode="move",
    )
    assert both.confirm_phrase() == "move 2"  # the move phrase; both lines are shown
    assert [line.split(" will")[0] for line in both.damage()] == [
        "2 Platform copies",
        f"1 existing object on {EAST}",
    ]
    assert both.headline().startswith("2 files (") and "MOVED to" in both.headline()


def test_rename_like_the_import_dialog(env: Env) -> None:
    existing = {"sample.vcf.gz", "sample (2).vcf.gz"}
    files = [
        *same_name_files(),
        SelectedFile(
            "e" * 24,
            WGS,
            "w/sample (1).vcf.gz",
            "sample (1).vcf.gz",
            5,
            project_location="aws:us-east-1",
        ),
    ]
    plan = plan_for(env, files, location="{name}", existing=existing, on_conflict="rename")
    keys = [i.key for i in plan.items]
    # the file really named "sample (1).vcf.gz" keeps its name; renames skip taken names
    assert keys == [
        "sbexport/sample (3).vcf.gz",
        "sbexport/sample (4).vcf.gz",
        "sbexport/sample (5).vcf.gz",
        "sbexport/other.txt",
        "sbexport/sample (1).vcf.gz",
    ]
    assert plan.items[0].renamed_from == "sample.vcf.gz"
    assert len(plan.renamed) == 3 and plan.exportable_count == 5
    assert len(set(keys)) == len(keys)
    assert not {i.location for i in plan.items} & existing
    assert all(not i.overwrite for i in plan.items)


# ---- what is sent -----------------------------------------------------------------------------
def test_s3_properties_are_only_what_the_user_sets(env: Env) -> None:
    sel = env.folder_files(WGS, "scatter-gather/chunks", 2)
    default = plan_for(env, sel)
    # nothing set: nothing sent, so the volume's own settings apply
    assert default.properties is None
    assert "properties" not in default.requests()[0]["body"]["items"][0]
    assert default.encryption == "the volume's default: AES256"
    kms = plan_for(
        env,
        sel,
        sse_algorithm="aws:kms",
        kms_key_id="arn:aws:kms:k",
        canned_acl="bucket-owner-full-control",
    )
    assert kms.requests()[0]["body"]["items"][0]["properties"] == {
        "sse_algorithm": "aws:kms",
        "sse_aws_kms_key_id": "arn:aws:kms:k",
        "aws_canned_acl": "bucket-owner-full-control",
    }
    assert kms.encryption is not None and kms.encryption.startswith("aws:kms, key arn:aws:kms:k")
    none = plan_for(env, sel, sse_algorithm="none")
    assert none.requests()[0]["body"]["items"][0]["properties"] == {"sse_algorithm": None}
    acl_only = plan_for(env, sel, canned_acl="bucket-owner-full-control")
    assert acl_only.properties == {"aws_canned_acl": "bucket-owner-full-control"}


def test_a_kms_volume_default_is_named_and_left_alone(env: Env) -> None:
    sel = env.folder_files(WGS, "scatter-gather/chunks", 2)
    plan = plan_for(env, sel, VAULT)
    assert plan.properties is None
    assert plan.encryption is not None
    assert plan.encryption.startswith("the volume's default: aws:kms, key arn:aws:kms:us-east-1:")
    data = json.loads(plan.to_json())
    assert data["encryption"] == plan.encryption


def test_requests_are_the_exact_bulk_bodies_in_chunks_of_100(env: Env) -> None:
    sel = env.folder_files(WGS, "scatter-gather/chunks", 250)
    plan = plan_for(env, sel)
    reqs = plan.requests()
    assert [len(r["body"]["items"]) for r in reqs] == [100, 100, 50]
    assert all(r["query"] == {"copy_only": "true"} for r in reqs)
    assert all(r["path"] == "bulk/storage/exports/create" for r in reqs)
    first = reqs[0]["body"]["items"][0]
    assert first == {
        "source": {"file": sel.files[0].file_id},
        "destination": {
            "volume": EAST,
            "location": "wgs-cohort/scatter-gather/chunks/chunk_00000.interval_list.vcf.gz",
        },
        "overwrite": False,
    }
    # the same bodies the API client builds
    assert (
        first
        == ExportItem(
            file_id=sel.files[0].file_id, volume=EAST, location=first["destination"]["location"]
        ).to_body()
    )
    move = plan_for(env, sel, mode="move").requests()
    assert move[0]["query"] == {"copy_only": "false"}


def test_to_json_saves_every_item_with_its_reason(env: Env) -> None:
    sel = Selection([*env.folder_files(WGS, "reference"), env.selected(WGS, "README.txt")])
    plan = plan_for(env, sel)
    data = json.loads(plan.to_json())
    assert data["volume"] == {"id": EAST, "prefix": "sbexport/", "type": "s3"}
    assert data["options"]["location"] == "{project}/{path}" and data["date"] == TODAY
    assert len(data["items"]) == 5
    assert [i["reason"] for i in data["items"]] == ["public"] * 4 + [None]
    assert data["items"][4]["key"] == "sbexport/wgs-cohort/README.txt"
    assert data["summary"]["groups"][0]["count"] == 4


def test_options_are_checked() -> None:
    """The preset's checks (one model, ``config.ExportSettings``), as a ValueError that names
    the setting."""
    with pytest.raises(ValueError, match=r'^mode must be one of "copy", "move"'):
        ExportOptions(EAST, mode="cut")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^kms_key_id is only used with"):
        ExportOptions(EAST, kms_key_id="k")
    with pytest.raises(ValueError, match=r'^canned_acl must be one of "private"'):
        ExportOptions(EAST, canned_acl="everyone")
    with pytest.raises(ValueError, match=r"^volume must be a volume id: owner/volume-name"):
        ExportOptions("nope")
    assert ExportOptions(EAST).mode == "copy"  # copy by default
    assert ExportOptions(EAST).on_conflict == "skip"


def test_options_a_journal_of_an_earlier_version_kept_load() -> None:
    """A run's options as journals keep them (``volume_id``; earlier still, ``template`` and
    ``collision``) load into the shared model and are kept under the same names."""
    old = {"volume_id": EAST, "template": "{name}", "collision": "rename", "mode": "move"}
    options = ExportOptions.from_dict(old)
    assert (options.volume, options.location, options.on_conflict, options.mode) == (
        EAST,
        "{name}",
        "rename",
        "move",
    )
    assert options.to_dict() == {
        "volume_id": EAST,
        "location": "{name}",
        "mode": "move",
        "on_conflict": "rename",
        "sse_algorithm": None,
        "kms_key_id": None,
        "canned_acl": None,
    }
    assert ExportOptions.from_dict(options.to_dict()) == options


def test_options_from_a_config_preset() -> None:
    from sbexport_tui.config import ExportPreset

    preset = ExportPreset(volume=EAST, location="{name}", mode="move", on_conflict="rename")
    opts = ExportOptions.from_preset(preset)
    assert (opts.volume, opts.location, opts.mode, opts.on_conflict) == (
        EAST,
        "{name}",
        "move",
        "rename",
    )
    # one vocabulary: the options saved as a preset are the preset they came from
    assert opts.as_preset() == preset
    assert ExportOptions.from_preset(opts.as_preset()) == opts


def test_options_written_by_older_versions_read_under_todays_names() -> None:
    """Journals and saved plans before the names were unified say template and collision."""
    old = {"volume_id": EAST, "template": "{name}", "mode": "copy", "collision": "overwrite"}
    opts = ExportOptions.from_dict(old)
    assert (opts.location, opts.on_conflict) == ("{name}", "overwrite")
    assert ExportOptions.from_dict(opts.to_dict()) == opts
    assert "template" not in opts.to_dict() and "collision" not in opts.to_dict()


# ---- with the volume listing -------------------------------------------------------------------
async def test_prepare_plan_lists_the_volume_for_collisions(env: Env, client) -> None:
    sel = Selection([env.selected(WGS, "README.txt"), env.selected(WGS, "sample_sheet.csv")])
    plan = await prepare_plan(client, sel, env.volume(EAST), ExportOptions(EAST), today=TODAY)
    assert plan.checked_existing
    assert [i.reason for i in plan.items] == [Reason.EXISTS, None]
    renamed = await prepare_plan(
        client, sel, env.volume(EAST), ExportOptions(EAST, on_conflict="rename"), today=TODAY
    )
    assert renamed.items[0].key == "sbexport/wgs-cohort/README (1).txt"


async def test_list_existing_locations_reads_only_the_needed_folders(env: Env, client) -> None:
    env.world.volumes[EAST].put("elsewhere/x.txt", 1)
    found = await list_existing_locations(client, EAST, ["wgs-cohort/a.txt"])
    assert found == {"wgs-cohort/README.txt": 1_999}  # relative to the volume's prefix
    # the folder asked by its name; the sim answers with the key prefix ``wgs-cohort/``,
    # which is listed in turn: one more listing, for that reading only
    assert env.hook.count("/list") == 2


@pytest.mark.parametrize("prefix", ["vault/exports", "vault/exports/", ""])
@pytest.mark.parametrize("policy", ["skip", "overwrite", "rename"])
async def test_collisions_on_a_prefixed_volume(env: Env, client, prefix: str, policy) -> None:
    """With and without a trailing slash on the prefix, the policy acts on what exists."""
    env.world.volumes[VAULT].prefix = prefix
    vol = env.world.volumes[VAULT]
    vol.objects.clear()
    vol.put("wgs-cohort/sample_sheet.csv", 8_000)
    vol.objects["elsewhere/wgs-cohort/README.txt"] = 5  # outside the prefix (when there is one)
    sel = Selection([env.selected(WGS, "sample_sheet.csv"), env.selected(WGS, "README.txt")])
    opts = ExportOptions(VAULT, on_conflict=policy)
    plan = await prepare_plan(client, sel, env.volume(VAULT), opts, today=TODAY)
    sheet, readme = plan.items
    root = "vault/exports/" if prefix else ""
    assert readme.exportable and readme.key == f"{root}wgs-cohort/README.txt"
    if policy == "skip":
        assert sheet.reason is Reason.EXISTS
        assert sheet.detail == f"{root}wgs-cohort/sample_sheet.csv"
    elif policy == "overwrite":
        assert sheet.exportable and sheet.overwrite and sheet.replaces
        assert len(plan.overwrites) == 1
    else:
        assert sheet.location == "wgs-cohort/sample_sheet (1).csv"
        assert sheet.key == f"{root}wgs-cohort/sample_sheet (1).csv"


def test_the_key_limit_counts_the_joined_key(env: Env) -> None:
    f = env.selected(WGS, "README.txt")
    vol = env.volume(VAULT)  # prefix "vault/exports": the key is 14 bytes longer than location
    fits = "x" * (1024 - len("vault/exports/") - len("README.txt")) + "{name}"
    ok = build_plan([f], vol, ExportOptions(VAULT, location=fits), today=TODAY)
    assert ok.exportable_count == 1 and len(ok.items[0].key.encode()) == 1024
    too_long = build_plan([f], vol, ExportOptions(VAULT, location="y" + fits), today=TODAY)
    assert too_long.items[0].reason is Reason.TEMPLATE
    assert "1025 bytes" in too_long.items[0].reason_text


async def test_prepare_plan_warns_when_the_volume_cannot_be_listed(env: Env, client) -> None:
    sel = Selection([env.selected(WGS, "README.txt")])
    env.world.volumes[EAST].active = False  # listing answers 409 now ...
    volume = env.volume(EAST).model_copy(update={"active": True})  # ... but the record was older
    plan = await prepare_plan(client, sel, volume, ExportOptions(EAST), today=TODAY)
    assert not plan.checked_existing and plan.exportable_count == 1
    assert "could not list the volume" in plan.warnings[0]
    assert json.loads(plan.to_json())["warnings"] == plan.warnings


def test_awkward_names_keep_their_exact_keys(env: Env) -> None:
    plan = plan_for(env, env.folder_files(WGS, "results/final run (v2)"))
    keys = [i.key for i in plan.items]
    assert plan.exportable_count == 7
    assert "sbexport/wgs-cohort/results/final run (v2)/[bold red]not markup.tsv" in keys
    assert "sbexport/wgs-cohort/results/final run (v2)/样本_001.vcf.gz" in keys
    assert "sbexport/wgs-cohort/results/final run (v2)/name with  two spaces.bam" in keys


async def test_folders_are_listed_side_by_side_and_an_error_stops_them_all() -> None:
    """``list_existing_locations`` lists up to LIST_CONCURRENCY folders at a time (each one's
    pages in turn); a folder that cannot be listed raises, and the others are stopped, not left
    running behind the error."""
    import asyncio

    from sbexport_tui.api.errors import ApiError
    from sbexport_tui.api.models import VolumeObject, VolumePage
    from sbexport_tui.export.plan import LIST_CONCURRENCY, list_existing_locations

    running: set[str] = set()  # folders with a page being read
    asked: list[str] = []
    most = 0

    class Volumes:
        """Each folder (asked by its name, as the docs say) answers in 3 pages."""

        def __init__(self, failing: str | None) -> None:
            self.failing = failing

        async def list_volume_page(self, volume_id, prefix="", *, after=None, priority=""):
            nonlocal most
            page = len(after.seen) if after is not None else 0
            asked.append(prefix)
            running.add(prefix)
            most = max(most, len(running))
            try:
                await asyncio.sleep(0.01)
                if prefix == self.failing and page == 1:
                    raise ApiError(503, None, "down", method="GET", url="u")
                entry = VolumeObject(location=f"{prefix}/f{page}", metadata={"size": page})
                more = f"{prefix}?page={page + 1}" if page < 2 else None
                return VolumePage((entry,), more, frozenset({*after.seen, str(page)}))
            finally:
                running.discard(prefix)

    folders = [f"d{i}/" for i in range(5)]
    found = await list_existing_locations(Volumes(None), "v", [f"{d}x" for d in folders])
    assert len(found) == 15 and found["d4/f2"] == 2
    assert most == LIST_CONCURRENCY > 1
    asked.clear()
    with pytest.raises(ApiError):
        await list_existing_locations(Volumes("d1"), "v", [f"{d}x" for d in folders])
    # none left running behind the error (each was cancelled and waited for), and the failed
    # folder's listing went no further
    assert running == set()
    assert {"d0", "d1", "d2"} <= set(asked) and asked.count("d1") == 2
