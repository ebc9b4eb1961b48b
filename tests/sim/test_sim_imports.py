"""The sim's imports (volume -> project, issue 31): bulk create and get, the list, the single
job, states and the file each makes (an alias of the object, which cannot be exported), name
clashes (fail by default, refused at submission under the variant; overwrite; autorename),
the echo variant, and the official client's imports resource against it."""

from __future__ import annotations

import pytest

from sbexport_tui.sim.demo import DELIVERY_RUN, DELIVERY_VOLUME

from .helpers import item

RUN = f"{DELIVERY_RUN}/Project_DemoLab/Sample_DL001"
R1 = f"{RUN}/DL001_S1_L001_R1_001.fastq.gz"
R2 = f"{RUN}/DL001_S1_L001_R2_001.fastq.gz"


def an_import(location=R1, *, project="demo/rnaseq-pilot", parent=None, **kw):
    destination = {"parent": parent} if parent else {"project": project}
    return {
        "source": {"volume": DELIVERY_VOLUME, "location": location},
        "destination": destination,
        **kw,
    }


async def create(sim, *items):
    r = await sim.post("/bulk/storage/imports/create", {"items": list(items)})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def finish(sim, ids):
    sim.clock.advance(24 * 3600)
    r = await sim.post("/bulk/storage/imports/get", {"import_ids": ids})
    return [x["resource"] for x in r.json()["items"]]


async def test_an_import_makes_an_alias_of_the_object_which_cannot_be_exported(sim):
    [answer] = await create(sim, an_import(R1))
    job = answer["resource"]
    assert job["state"] == "PENDING"
    assert job["source"] == {"volume": DELIVERY_VOLUME, "location": R1}  # as passed
    assert job["destination"] == {"project": "demo/rnaseq-pilot"}
    [done] = await finish(sim, [job["id"]])
    assert done["state"] == "COMPLETED" and "finished_on" in done
    made = done["result"]
    size = sim.world.volumes[DELIVERY_VOLUME].objects["lab-demo/" + R1]
    assert made["name"] == R1.rsplit("/", 1)[-1] and made["size"] == size
    assert made["storage"] == {"type": "VOLUME", "volume": DELIVERY_VOLUME, "location": R1}
    root = sim.world.projects["demo/rnaseq-pilot"].root_folder
    assert made["parent"] == root and made["id"] in sim.world.files[root].children
    # the docs: an alias cannot be exported (9006)
    [refused] = (
        await sim.post("/bulk/storage/exports/create", {"items": [item(made["id"], location="x")]})
    ).json()["items"]
    assert refused["error"]["code"] == 9006
    # the list, filtered, and the single job
    listed = (await sim.get("/storage/imports", volume=DELIVERY_VOLUME, fields="_all")).json()
    assert [j["id"] for j in listed["items"]] == [job["id"]]
    assert (await sim.get("/storage/imports", project="demo/gcp-study")).json()["items"] == []
    assert (await sim.get("/storage/imports", state="RUNNING")).json()["items"] == []
    one = (await sim.get(f"/storage/imports/{job['id']}")).json()
    assert one["state"] == "COMPLETED" and one["result"]["id"] == made["id"]


async def test_into_a_folder_with_a_name_and_the_checks_at_submission(sim):
    folder = sim.folder("demo/rnaseq-pilot", "summary")
    answers = await create(
        sim,
        an_import(R2, parent=folder.id),
        an_import(R1, parent=folder.id)
        | {"destination": {"parent": folder.id, "name": "r1.fq.gz"}},
        {
            "source": {"volume": "demo/nope", "location": R1},
            "destination": {"project": "demo/rnaseq-pilot"},
        },
        an_import(R1, project="demo/nope"),
        an_import(R1, parent="no-such-folder"),
        {"source": {"volume": DELIVERY_VOLUME, "location": R1}, "destination": {}},
        an_import(f"{RUN}/"),  # a folder's import: not simulated, said so
        an_import("nothing/here.fastq.gz"),  # accepted: the job fails (the docs' 9105 example)
    )
    codes = [a.get("error", {}).get("code") for a in answers]
    assert codes[:2] == [None, None]
    assert codes[2:5] == [9104, 3002, 9109]
    assert answers[5]["error"]["status"] == 400 and answers[6]["error"]["status"] == 400
    assert "error" not in answers[7]
    done = await finish(sim, [answers[i]["resource"]["id"] for i in (0, 1, 7)])
    assert [d["state"] for d in done] == ["COMPLETED", "COMPLETED", "FAILED"]
    assert done[1]["result"]["name"] == "r1.fq.gz" and done[1]["result"]["parent"] == folder.id
    assert done[2]["error"]["code"] == 9105


@pytest.mark.parametrize("variant", [None, "import-conflict-at-submit"])
async def test_a_name_clash_fails_the_job_or_is_refused_at_submission(sim_factory, variant):
    sim = sim_factory(variants=frozenset({variant} if variant else ()))
    [first] = await create(sim, an_import(R1))
    await finish(sim, [first["resource"]["id"]])
    [again] = await create(sim, an_import(R1))
    if variant:
        assert again["error"]["code"] == 9108
        return
    [done] = await finish(sim, [again["resource"]["id"]])
    assert done["state"] == "FAILED" and done["error"]["code"] == 9108


async def test_overwrite_replaces_and_autorename_prefixes_an_underscore_and_a_number(sim):
    [first] = await create(sim, an_import(R1))
    [made] = await finish(sim, [first["resource"]["id"]])
    jobs = await create(sim, an_import(R1, autorename=True), an_import(R1, autorename=True))
    renamed = await finish(sim, [j["resource"]["id"] for j in jobs])
    name = R1.rsplit("/", 1)[-1]
    assert sorted(r["result"]["name"] for r in renamed) == [f"_1_{name}", f"_2_{name}"]
    [over] = await create(sim, an_import(R1, overwrite=True))
    [replaced] = await finish(sim, [over["resource"]["id"]])
    assert replaced["state"] == "COMPLETED" and replaced["result"]["name"] == name
    assert made["result"]["id"] not in sim.world.files  # the file of that name was replaced


async def test_the_echo_variant_prefixes_the_source_location(sim_factory):
    sim = sim_factory(variants=frozenset({"import-echo-prefixed"}))
    [answer] = await create(sim, an_import(R1))
    assert answer["resource"]["source"]["location"] == "lab-demo/" + R1
    assert sim.world.imports[answer["resource"]["id"]].location == R1  # what was asked


async def test_a_job_that_does_not_exist_is_a_per_item_error(sim):
    r = await sim.post("/bulk/storage/imports/get", {"import_ids": ["x" * 32]})
    assert r.json()["items"][0]["error"]["code"] == 9008
    assert (await sim.get(f"/storage/imports/{'x' * 32}")).status_code == 404
