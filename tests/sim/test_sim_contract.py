"""The sim answers in the shapes of the docs' own examples (tests/fixtures/oas), and those
answers parse with the client's models: the two sides are checked against the same facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sbexport_tui.api import models

FIXTURES = Path(__file__).parent.parent / "fixtures" / "oas"
# keys the docs show only in legacy examples, which the current API does not promise
LEGACY = {"hostname", "sse_enabled", "updated_on", "_fixture_note"}


def doc(name: str):
    return json.loads((FIXTURES / name).read_text())


def missing_keys(example: dict, actual: dict, path: str = "") -> list[str]:
    """Keys of the doc example (recursively, for objects) that the sim's record lacks."""
    out = []
    for key, value in example.items():
        if key in LEGACY:
            continue
        if key not in actual:
            out.append(path + key)
        elif isinstance(value, dict) and isinstance(actual[key], dict) and value:
            if key in ("metadata", "credentials", "properties"):  # free-form per file/volume
                continue
            out += missing_keys(value, actual[key], f"{path}{key}.")
    return out


async def first_file(sim):
    folder = sim.folder("demo/wgs-cohort", "batches/batch-01/S0101/qc")
    return sim.world.files[folder.children[0]]


@pytest.mark.parametrize(
    ("fixture", "path", "model"),
    [
        ("user_200_result.json", "/user", models.User),
        ("project_get_200_result.json", "/projects/demo/wgs-cohort", models.Project),
        ("volume_get_200_result.json", "/storage/volumes/demo/us-east-results", models.Volume),
        ("rate_limit_200_result.json", "/rate_limit", None),
        ("api_root_200_result.json", "/", None),
    ],
)
async def test_details_have_every_documented_key(sim, fixture, path, model):
    actual = (await sim.get(path)).json()
    assert missing_keys(doc(fixture), actual) == []
    if model is not None:
        model.model_validate(actual)


async def test_file_record_has_the_documented_keys_and_parses(sim):
    # the docs' example is an alias (storage type VOLUME): compare with one of the sim's aliases
    folder = sim.folder("demo/wgs-cohort", "imported-from-archive")
    alias = sim.world.files[folder.children[0]]
    actual = (await sim.get(f"/files/{alias.id}")).json()
    assert missing_keys(doc("file_get_200_result.json"), actual) == []
    assert models.File.model_validate(actual).is_alias
    f = await first_file(sim)
    stored = (await sim.get(f"/files/{f.id}")).json()
    assert missing_keys(doc("file_get_200_result.json"), stored) == [
        "storage.volume",
        "storage.location",
    ]
    assert not models.File.model_validate(stored).is_alias


@pytest.mark.parametrize(
    ("fixture", "path"),
    [
        ("projects_list_200_result.json", "/projects"),
        ("volumes_list_200_result.json", "/storage/volumes"),
        ("exports_list_200_ok.json", "/storage/exports"),
    ],
)
async def test_list_envelopes_and_default_items_match_the_docs(sim, fixture, path):
    if "exports" in path:
        f = await first_file(sim)
        await sim.post(
            "/storage/exports",
            {
                "source": {"file": f.id},
                "destination": {"volume": "demo/us-east-results", "location": "c/x"},
            },
        )
    example, actual = doc(fixture), (await sim.get(path)).json()
    assert set(example) <= set(actual)
    assert set(example["items"][0]) == set(actual["items"][0])


async def test_folder_list_items_match_the_docs(sim):
    folder = sim.folder("demo/wgs-cohort", "batches")
    actual = (await sim.get(f"/files/{folder.id}/list")).json()
    example = doc("folder_list_200_result.json")
    assert set(example["items"][0]) - LEGACY == set(actual["items"][0])


async def test_export_job_records_have_the_documented_keys(sim):
    f = await first_file(sim)
    body = {
        "source": {"file": f.id},
        "destination": {"volume": "demo/us-east-results", "location": "c/y"},
    }
    created = (await sim.post("/storage/exports", body)).json()
    assert missing_keys(doc("export_create_200_ok.json"), created) == []
    bulk = (
        await sim.post(
            "/bulk/storage/exports/create",
            {
                "items": [
                    body | {"destination": {"volume": "demo/us-east-results", "location": "c/z"}}
                ]
            },
        )
    ).json()
    assert (
        missing_keys(doc("bulk_export_create_200_result.json")["items"][0], bulk["items"][0]) == []
    )
    sim.clock.advance(120)
    done = (await sim.get(f"/storage/exports/{created['id']}")).json()
    assert missing_keys(doc("export_get_200_successfully_completed_export.json"), done) == []
    models.ExportJob.model_validate(done)


async def test_error_bodies_have_the_documented_keys(sim):
    r = await sim.get("/files/" + "0" * 24)
    assert set(doc("error_9105.json")) == set(r.json())
    r = await sim.get("/nowhere")
    assert r.json() == doc("error_router_404.json")


async def test_volume_listing_and_objects_match_the_docs(sim):
    """The listing's envelope is the docs' (href, prefix, limit, truncated, items, prefixes,
    links); its objects have the object example's keys, and the same relation between
    ``location`` and ``metadata.name``: "20.intervals" and "input-files/20.intervals" on a
    volume whose prefix is "input-files" (no trailing slash), as the demo vault's is."""
    vault = "demo/kms-vault"
    listing = (
        await sim.get(f"/storage/volumes/{vault}/list", prefix="wgs-cohort/", fields="_all")
    ).json()
    assert set(doc("volume_list_200_result.json")) <= set(listing)
    [obj] = listing["items"]
    example = doc("volume_object_get_200_result.json")
    assert missing_keys(example, obj) == []
    prefix = sim.world.volumes[vault].prefix
    assert not prefix.endswith("/")
    assert example["metadata"]["name"] == "input-files/" + example["location"]
    assert obj["metadata"]["name"] == prefix + "/" + obj["location"]
    assert obj["href"].endswith("/object?location=wgs-cohort%2Fsample_sheet.csv")
    models.VolumeObject.model_validate(obj)


async def test_export_properties_are_the_documented_keys_with_the_volume_defaults(sim):
    f = await first_file(sim)
    body = {
        "source": {"file": f.id},
        "destination": {"volume": "demo/us-east-results", "location": "p"},
    }
    job = (await sim.post("/storage/exports", body)).json()
    example = doc("bulk_export_create_200_result.json")["items"][0]["resource"]["properties"]
    # nothing was sent: the record shows what applied, the volume's defaults (AES256 here)
    assert job["properties"] == example
