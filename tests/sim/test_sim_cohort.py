"""`sbexport sim --world cohort:N`: the demo plus `demo/cohort`, N files of a cohort in three
flat folders, the same for the same seed."""

from __future__ import annotations

import pytest

from sbexport_tui.sim.demo import COHORT_PROJECT, build_world


def cohort_files(world):
    root = world.files[world.projects[COHORT_PROJECT].root_folder]
    out = {}
    for fid in root.children:
        folder = world.files[fid]
        out[folder.name] = [world.files[c] for c in folder.children]
    return out


def test_a_cohort_has_n_files_six_a_sample_in_three_folders():
    world = build_world("cohort:1000")
    files = cohort_files(world)
    assert sorted(files) == ["alignments", "fastq", "variants"]
    assert sum(len(v) for v in files.values()) == 1000
    names = {f.name for f in files["alignments"]}
    assert "C000000.bam" in names and "C000000.bam.bai" in names  # index pairs stay together
    assert "demo/wgs-cohort" in world.projects  # the demo is still there


def test_the_same_seed_gives_the_same_cohort():
    a, b = build_world("cohort:300", seed=3), build_world("cohort:300", seed=3)
    sig = [(f.name, f.size) for fs in cohort_files(a).values() for f in fs]
    assert sig == [(f.name, f.size) for fs in cohort_files(b).values() for f in fs]
    other = build_world("cohort:300", seed=4)
    assert sig != [(f.name, f.size) for fs in cohort_files(other).values() for f in fs]


@pytest.mark.parametrize("spec", ["cohort", "cohort:0", "cohort:x", "big:10", "demo:3"])
def test_a_bad_world_says_what_to_write(spec):
    with pytest.raises(ValueError, match="cohort:N with N from 1"):
        build_world(spec)
