from __future__ import annotations

from sbexport_tui.api import File
from sbexport_tui.export import SelectedFile, Selection

from .conftest import Env


def f(i: int, size: int = 10, **kw) -> SelectedFile:
    return SelectedFile(f"{i:024x}", "demo/p", f"dir/f{i}.txt", f"f{i}.txt", size, **kw)


def test_keeps_insertion_order_and_first_entry() -> None:
    sel = Selection()
    assert sel.add(f(3)) and sel.add(f(1)) and sel.add(f(2))
    assert not sel.add(f(1, size=999))  # already selected: the first entry stays
    assert [x.name for x in sel] == ["f3.txt", "f1.txt", "f2.txt"]
    assert sel.get(f"{1:024x}").size == 10


def test_add_remove_contains_clear_totals() -> None:
    sel = Selection([f(1, 100), f(2, 200), f(3, 300, is_folder=True)])
    assert sel.count == 3 and len(sel) == 3
    assert sel.total_bytes == 300  # a folder's size does not count
    assert f(2) in sel and f"{2:024x}" in sel
    assert sel.remove(f"{2:024x}") and not sel.remove(f"{2:024x}")
    assert f(2) not in sel and sel.total_bytes == 100
    assert sel.add_all([f(1), f(4), f(5)]) == 2
    sel.clear()
    assert not sel and sel.count == 0 and sel.total_bytes == 0


def test_round_trip_through_dicts() -> None:
    sel = Selection([f(1), f(2, public_copy=True, public_category="reference")])
    again = Selection(SelectedFile.from_dict(x.to_dict()) for x in sel)
    assert again.files == sel.files


def test_from_platform_records(env: Env) -> None:
    alias = env.selected("demo/wgs-cohort", "imported-from-archive/S9901.fastq.gz")
    assert alias.is_alias and alias.alias_volume == "demo/lab-archive"
    assert alias.alias_location == "raw/2025/run01/S9901.fastq.gz"

    public = env.selected("demo/wgs-cohort", "reference/human_g1k_v37_decoy.fasta")
    assert public.public_copy and public.public_category == "reference"
    assert public.size == 3_189_750_467

    folder = env.selected("demo/wgs-cohort", "batches")
    assert folder.is_folder

    bam = env.selected("demo/wgs-cohort", "batches/batch-01/S0101/alignments/S0101.bam")
    assert bam.path == "batches/batch-01/S0101/alignments/S0101.bam"
    assert bam.project == "demo/wgs-cohort" and bam.project_location == "aws:us-east-1"
    assert not (bam.is_alias or bam.public_copy or bam.is_folder)


def test_from_file_builds_the_path_and_falls_back_to_hosted_location() -> None:
    record = File.model_validate(
        {
            "id": "a" * 24,
            "name": "x.bam",
            "size": 5,
            "project": "demo/p",
            "type": "FILE",
            "storage": {"type": "PLATFORM", "hosted_on_locations": ["aws:us-west-2"]},
        }
    )
    s = SelectedFile.from_file(record, folder="/a/b/")
    assert s.path == "a/b/x.bam" and s.project_location == "aws:us-west-2"
    assert SelectedFile.from_file(record).path == "x.bam"
