"""Issue 26: the answers the docs leave open, each a named variant, and hostile mode, which takes
each of them at random per request (seeded). Each test shows an answer's shape under its variant
and not without it; the sim's own record (/_sim/exports) stays what was asked."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from sbexport_tui.sim.server import add_arguments, settings_from_args
from sbexport_tui.sim.settings import (
    FAULT_KINDS,
    HOSTILE_VARIANTS,
    VARIANTS,
    SettingsError,
    SimSettings,
)

from .helpers import a_file, item

EAST = "demo/us-east-results"  # prefix "sbexport/"
WEST = "demo/us-west-scratch"  # no prefix, aws:us-west-2
BULK = "/bulk/storage/exports/create"
GET = "/bulk/storage/exports/get"


def chunk(sim, index: int):
    """A file of the 5,000-file folder (aws:us-east-1, like EAST)."""
    return sim.world.files[sim.folder("demo/wgs-cohort", "scatter-gather/chunks").children[index]]


async def export(sim, *items_, **params):
    r = await sim.post(BULK, {"items": list(items_)}, **params)
    assert r.status_code == 200, r.text
    return [i["resource"] for i in r.json()["items"]]


async def every_echo(sim, job_id: str) -> list[dict]:
    """The destination of one job as each read of it says it: get one, bulk get, the list."""
    one = (await sim.get(f"/storage/exports/{job_id}")).json()
    [bulk] = (await sim.post(GET, {"export_ids": [job_id]})).json()["items"]
    listed = (await sim.get("/storage/exports", fields="_all")).json()["items"]
    [in_list] = [j for j in listed if j["id"] == job_id]
    return [one["destination"], bulk["resource"]["destination"], in_list["destination"]]


async def sim_record(sim) -> dict[str, dict]:
    return {
        j["id"]: j
        for j in (await sim.client.get("http://sim.invalid/_sim/exports")).json()["exports"]
    }


# ---- the settings -----------------------------------------------------------------------------
def test_hostile_variants_are_variants_and_applies_says_named_or_rolled():
    assert set(HOSTILE_VARIANTS) <= set(VARIANTS)
    assert not {"clock-ahead", "clock-behind", "offset-cap"} & set(HOSTILE_VARIANTS)
    assert "job_forbidden" in FAULT_KINDS
    s = SimSettings(variants=frozenset({"echo-prefixed"}))
    assert s.applies("echo-prefixed") and not s.applies("echo-slashes")
    assert s.applies("echo-slashes", frozenset({"echo-slashes"}))
    import random

    assert s.roll_hostile(random.Random(1)) == frozenset()  # not hostile: nothing rolled
    hostile = SimSettings(hostile=True, hostile_rate=1.0)
    assert hostile.roll_hostile(random.Random(1)) == frozenset(HOSTILE_VARIANTS)
    assert hostile.fault_rate("misorder") > 0 and hostile.fault_rate("5xx") == 0
    assert SimSettings().fault_rate("misorder") == 0
    with pytest.raises(SettingsError, match="hostile rate"):
        SimSettings(hostile=True, hostile_rate=2.0)


def test_sim_command_takes_hostile():
    p = argparse.ArgumentParser()
    add_arguments(p)
    assert "--hostile" in p.format_help()  # every variant's text renders in the help
    settings = settings_from_args(p.parse_args(["--hostile", "--seed", "7"]))
    assert settings.hostile and settings.seed == 7
    assert not settings_from_args(p.parse_args([])).hostile


def test_readme_lists_every_variant_and_fault():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## The simulated Platform", 1)[1].split("\n## ", 1)[0]
    for name in VARIANTS:
        assert re.search(rf"^\| `{re.escape(name)}`", section, re.M) or (
            f"`{name}`" in section and name.startswith("clock-")
        ), name
    for kind in FAULT_KINDS:
        assert f"`{kind}`" in section, kind
    assert "--hostile" in section


# ---- the echo variants -------------------------------------------------------------------------
async def test_echo_prefixed_prepends_the_volume_prefix_in_every_answer(sim_factory):
    plain = sim_factory()
    [job] = await export(plain, item(chunk(plain, 0).id, EAST, "dir/x.bam"))
    assert job["destination"] == {"volume": EAST, "location": "dir/x.bam"}
    assert all(d["location"] == "dir/x.bam" for d in await every_echo(plain, job["id"]))

    sim = sim_factory(variants=frozenset({"echo-prefixed"}))
    [job] = await export(sim, item(chunk(sim, 0).id, EAST, "dir/x.bam"))
    assert job["destination"] == {"volume": EAST, "location": "sbexport/dir/x.bam"}
    assert [d["location"] for d in await every_echo(sim, job["id"])] == ["sbexport/dir/x.bam"] * 3
    single = (await sim.post("/storage/exports", item(chunk(sim, 1).id, EAST, "y.bam"))).json()
    assert single["destination"]["location"] == "sbexport/y.bam"
    # a volume without a prefix: nothing to prepend
    west = a_file(sim, "samples/R001/counts", "demo/rnaseq-pilot")
    [job_w] = await export(sim, item(west.id, WEST, "w/z.tab"))
    assert job_w["destination"]["location"] == "w/z.tab"
    # the sim's record keeps what was asked
    assert (await sim_record(sim))[job["id"]]["destination"]["location"] == "dir/x.bam"


async def test_echo_odd_volume_echoes_the_example_answers_shape(sim_factory):
    plain = sim_factory()
    [job] = await export(plain, item(chunk(plain, 0).id, EAST, "output.vcf"))
    assert job["destination"]["volume"] == EAST

    sim = sim_factory(variants=frozenset({"echo-odd-volume"}))
    f, g = chunk(sim, 0), chunk(sim, 1)
    # the bulk export page: sent to rfranklin/output at output.vcf, echoed "rfranklin/output.vcf"
    vcf, readme = await export(sim, item(f.id, EAST, "out/output.vcf"), item(g.id, EAST, "README"))
    assert vcf["destination"] == {"volume": f"{EAST}.vcf", "location": "out/output.vcf"}
    assert readme["destination"]["volume"] == "demo/README"  # no extension: owner/name
    assert {d["volume"] for d in await every_echo(sim, vcf["id"])} == {f"{EAST}.vcf"}
    assert (await sim_record(sim))[vcf["id"]]["destination"]["volume"] == EAST


async def test_echo_slashes_wraps_the_location_in_slashes(sim_factory):
    sim = sim_factory(variants=frozenset({"echo-slashes"}))
    files = [chunk(sim, i) for i in range(8)]
    jobs = await export(sim, *(item(f.id, EAST, f"dir/x{i}.bam") for i, f in enumerate(files)))
    echoes = [j["destination"]["location"] for j in jobs]
    for i, echo in enumerate(echoes):
        assert echo != f"dir/x{i}.bam" and echo.strip("/") == f"dir/x{i}.bam"
    assert any(e.startswith("/") for e in echoes)
    assert all(
        d["location"].strip("/") == "dir/x0.bam" for d in await every_echo(sim, jobs[0]["id"])
    )
    record = await sim_record(sim)
    assert [record[j["id"]]["destination"]["location"] for j in jobs] == [
        f"dir/x{i}.bam" for i in range(8)
    ]


# ---- bulk get and the list ---------------------------------------------------------------------
@pytest.mark.parametrize("variant", [None, "bulk-get-unordered"])
async def test_bulk_get_order(sim_factory, variant):
    sim = sim_factory(variants=frozenset({variant} if variant else ()))
    jobs = await export(sim, *(item(chunk(sim, i).id, location=f"o/{i}") for i in range(6)))
    asked = [j["id"] for j in jobs] + ["0" * 32]  # and one that does not exist
    items = (await sim.post(GET, {"export_ids": asked})).json()["items"]
    answered = [i["resource"]["id"] if "resource" in i else None for i in items]
    assert sorted(answered, key=str) == sorted([*asked[:-1], None], key=str)
    [error] = [i["error"] for i in items if "error" in i]
    assert error["code"] == 9008 and "0" * 32 not in json.dumps(error)
    if variant is None:
        assert answered == [*asked[:-1], None]
    else:
        assert answered != [*asked[:-1], None]


async def test_lean_export_list_ignores_fields_all(sim_factory):
    for variant, keys in (
        (None, {"href", "id", "state", "source", "destination"}),
        ("lean-export-list", {"href", "id", "state"}),
    ):
        sim = sim_factory(variants=frozenset({variant} if variant else ()))
        await export(sim, item(chunk(sim, 0).id))
        [listed] = (await sim.get("/storage/exports", fields="_all")).json()["items"]
        if variant is None:
            assert keys <= set(listed)
        else:
            assert set(listed) == keys


@pytest.mark.parametrize("variant", [None, "job-forbidden"])
async def test_job_forbidden_answers_9005_for_jobs_that_exist(sim_factory, variant):
    sim = sim_factory(variants=frozenset({variant} if variant else ()))
    folder = sim.folder("demo/wgs-cohort", "scatter-gather/chunks")
    jobs = await export(
        sim, *(item(c, location=f"o/{i}") for i, c in enumerate(folder.children[:40]))
    )
    items = (await sim.post(GET, {"export_ids": [j["id"] for j in jobs]})).json()["items"]
    errors = [i["error"] for i in items if "error" in i]
    if variant is None:
        assert errors == []
        return
    assert 0 < len(errors) < len(jobs)
    assert all(
        (e["status"], e["code"], e["message"])
        == (403, 9005, "Insufficient privileges to access the requested job.")
        for e in errors
    )
    assert len(await sim_record(sim)) == 40  # every job exists and goes on


async def test_job_forbidden_fault(sim_factory):
    sim = sim_factory(faults={"job_forbidden": 1.0})
    [job] = await export(sim, item(chunk(sim, 0).id))
    [answer] = (await sim.post(GET, {"export_ids": [job["id"]]})).json()["items"]
    assert answer["error"]["code"] == 9005
    assert (await sim.get(f"/storage/exports/{job['id']}")).json()["id"] == job["id"]


# ---- refusing a whole bulk call ----------------------------------------------------------------
async def test_refuse_whole_call_answers_the_items_own_status(sim_factory):
    plain = sim_factory()
    alias = a_file(plain, "imported-from-archive")
    r = await plain.post(BULK, {"items": [item(chunk(plain, 0).id), item(alias.id, location="a")]})
    assert r.status_code == 200 and r.json()["items"][1]["error"]["code"] == 9006

    sim = sim_factory(variants=frozenset({"refuse-whole-call"}))
    ok = chunk(sim, 0)
    west = a_file(sim, "samples/R001/counts", "demo/rnaseq-pilot")
    for bad, (status, code) in (
        (item(alias.id, location="a"), (403, 9006)),  # an alias
        (item(west.id, EAST, "w"), (403, 9027)),  # another region
        (item("f" * 24, location="a"), (404, 9009)),  # no such file
        (item(ok.id, "demo/nope", "a"), (404, 9007)),  # no such volume
        (item(ok.id, location="dir/"), (400, 9072)),
    ):
        r = await sim.post(BULK, {"items": [item(ok.id, location="fine"), bad]})
        body = r.json()
        assert (r.status_code, body["status"], body["code"]) == (status, status, code), body
        assert body["message"].startswith("items[1]: ")
    readme = sim.world.node_at(sim.world.projects["demo/wgs-cohort"], "README.txt")
    both = {"refuse-whole-call", "conflict-at-submit"}
    sim2 = sim_factory(variants=frozenset(both))
    r = await sim2.post(BULK, {"items": [item(readme.id, EAST, "wgs-cohort/README.txt")]})
    assert (r.status_code, r.json()["code"]) == (409, 9107)
    assert sim.world.exports == {} and sim2.world.exports == {}  # nothing created


# ---- the volume listing ------------------------------------------------------------------------
async def test_listing_folder_name_reads_prefix_as_a_folders_name(sim_factory):
    url = f"/storage/volumes/{EAST}/list"
    plain = sim_factory()
    default = (await plain.get(url, prefix="wgs-cohort")).json()
    assert default["items"] == [] and [p["prefix"] for p in default["prefixes"]] == ["wgs-cohort/"]
    inside = (await plain.get(url, prefix="wgs-cohort/")).json()
    assert [o["location"] for o in inside["items"]] == ["wgs-cohort/README.txt"]

    sim = sim_factory(variants=frozenset({"listing-folder-name"}))
    named = (await sim.get(url, prefix="wgs-cohort")).json()
    assert [o["location"] for o in named["items"]] == ["wgs-cohort/README.txt"]
    assert named["prefix"] == "wgs-cohort" and named["prefixes"] == []
    slashed = (await sim.get(url, prefix="wgs-cohort/")).json()
    assert slashed["items"] == [] and slashed["prefixes"] == []  # dir// holds nothing
    # a folder's entry still ends with '/', and its href names the folder without it
    root = (await sim.get(url)).json()
    [entry] = root["prefixes"]
    assert entry["prefix"] == "wgs-cohort/" and entry["href"].endswith("prefix=wgs-cohort")
    followed = (await sim.client.get(entry["href"])).json()
    assert [o["location"] for o in followed["items"]] == ["wgs-cohort/README.txt"]


@pytest.mark.parametrize("variant", [None, "listing-small-pages"])
async def test_listing_small_pages_are_short_and_truncated_until_the_end(sim_factory, variant):
    sim = sim_factory(variants=frozenset({variant} if variant else ()))
    vol = sim.world.volumes[WEST]
    expected = [f"many/o{i:03}" for i in range(60)]
    for loc in expected:
        vol.put(loc, 1)
    pages: list[dict] = []
    page = (await sim.get(f"/storage/volumes/{WEST}/list", prefix="many/", limit=10)).json()
    while True:
        pages.append(page)
        if not page["links"]:
            break
        page = (await sim.client.get(page["links"][0]["next"])).json()
    seen = [o["location"] for p in pages for o in p["items"]]
    assert seen == expected  # every object once, in order
    assert all(p["truncated"] for p in pages[:-1]) and not pages[-1]["truncated"]
    assert all(p["limit"] == 10 for p in pages)
    sizes = [len(p["items"]) for p in pages]
    if variant is None:
        assert sizes == [10] * 6
    else:
        assert all(1 <= n <= 10 for n in sizes) and len(pages) > 6


# ---- hostile mode ------------------------------------------------------------------------------
async def hostile_session(sim) -> list:
    """A fixed sequence of requests; what each answered (status and body, hrefs and all)."""
    out = []
    files = [chunk(sim, i) for i in range(6)]
    for round_ in range(4):
        r = await sim.post(
            BULK, {"items": [item(f.id, EAST, f"r{round_}/f{i}.bam") for i, f in enumerate(files)]}
        )
        out.append((r.status_code, r.json()))
        ids = [i["resource"]["id"] for i in r.json().get("items", []) if "resource" in i]
        r = await sim.post(GET, {"export_ids": ids})
        out.append((r.status_code, r.json()))
        r = await sim.get("/storage/exports", fields="_all")
        out.append((r.status_code, r.json()))
        r = await sim.get(f"/storage/volumes/{EAST}/list", prefix="wgs-cohort", limit=5)
        out.append((r.status_code, r.json()))
        sim.clock.advance(1)
    return out


async def test_hostile_mode_varies_per_request_and_repeats_with_its_seed(sim_factory):
    first = sim_factory(hostile=True, seed=5)
    answers = await hostile_session(first)
    log = [rolled for _, _, rolled in first.platform.gate.hostile_log]
    assert len(log) == 16  # one roll per request
    assert len(set(log)) > 8  # the choices differ from request to request
    for name in HOSTILE_VARIANTS:  # and each is taken sometimes, and sometimes not
        assert 0 < sum(name in rolled for rolled in log) < len(log), name

    again = sim_factory(hostile=True, seed=5)
    assert await hostile_session(again) == answers
    assert [r for _, _, r in again.platform.gate.hostile_log] == log
    other = sim_factory(hostile=True, seed=6)
    await hostile_session(other)
    assert [r for _, _, r in other.platform.gate.hostile_log] != log


async def test_hostile_answers_differ_but_the_sims_record_is_what_was_asked(sim_factory):
    sim = sim_factory(hostile=True, seed=3)
    answers = await hostile_session(sim)
    shapes = set()
    for status, body in answers[::4]:  # the bulk creates
        if status != 200:
            shapes.add(("refused", status))
            continue
        for rec in body["items"]:
            dest = rec["resource"]["destination"]
            shapes.add(
                (
                    dest["volume"] == EAST,
                    re.fullmatch(r"r\d/f\d\.bam", dest["location"]) is not None,
                )
            )
    assert len(shapes) >= 2  # hostile: the same call is answered in more than one way
    record = await sim_record(sim)
    assert record  # something was made, and each job is as it was asked
    for job in record.values():
        assert job["destination"]["volume"] == EAST
        assert re.fullmatch(r"r\d/f\d\.bam", job["destination"]["location"])
        assert job["key"] == "sbexport/" + job["destination"]["location"]


async def test_hostile_is_off_by_default(sim_factory):
    sim = sim_factory(seed=5)
    answers = await hostile_session(sim)
    assert list(sim.platform.gate.hostile_log) == []
    for status, body in answers[::4]:
        assert status == 200
        assert all(i["resource"]["destination"]["volume"] == EAST for i in body["items"])
