"""Requests the sim tests build: export items, files of the demo world, advance access."""

from __future__ import annotations

AA = {"X-SBG-Advance-Access": "advance"}


def item(file_id, volume="demo/us-east-results", location="out/x.txt", **kw):
    return {
        "source": {"file": file_id},
        "destination": {"volume": volume, "location": location},
        **kw,
    }


def a_file(sim, path="batches/batch-01/S0101/qc", project="demo/wgs-cohort", index=0):
    folder = sim.folder(project, path)
    return sim.world.files[folder.children[index]]
