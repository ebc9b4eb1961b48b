"""The demo world: deterministic from the seed, realistic enough to exercise every export rule.

Projects (owner ``demo``):
- ``demo/wgs-cohort``   aws:us-east-1  nested batches of samples (BAM+BAI, CRAM+CRAI, VCF.GZ+TBI,
  paired FASTQ, QC), a 5,000-file folder, public reference copies, aliases, awkward names.
- ``demo/rnaseq-pilot`` aws:us-west-2  a smaller RNA-seq project.
- ``demo/gcp-study``    gcp:us-central1 a project on Google Cloud.
- ``demo/eu-biobank``   aws:eu-central-1 a project in the EU.

Volumes (the region of each is known to the simulator only; no volume record has one):
- ``demo/us-east-results``  RW S3, us-east-1, prefix ``sbexport/`` (trailing slash), AES256
- ``demo/kms-vault``        RW S3, us-east-1, prefix ``vault/exports`` (no trailing slash), its
  defaults ``aws:kms`` with a key id
- ``demo/us-west-scratch``  RW S3, us-west-2, the default endpoint ``s3.amazonaws.com``
- ``demo/eu-results``       RW S3, eu-central-1, default endpoint, prefix ``biobank``
- ``demo/lab-archive`` RO S3; ``demo/old-bucket`` inactive (an older record without an
  endpoint); ``demo/gcs-exchange`` RW GCS; ``demo/azure-share`` RO Azure.
"""

from __future__ import annotations

from .world import OutFile, OutFolder, Project, Volume, World, s3_defaults

BASE_TIME = 1_767_225_600.0  # 2026-01-01T00:00:00Z: demo data never depends on today's date
KiB, MiB, GiB = 2**10, 2**20, 2**30
KMS_KEY = "arn:aws:kms:us-east-1:111122223333:key/0d1e2f3a-demo-4b5c-8d9e-vault0000001"

BIG_FOLDER = "scatter-gather/chunks"  # in demo/wgs-cohort
BIG_FOLDER_FILES = 5000


def _size(world: World, lo: int, hi: int) -> int:
    return world.rng.randint(lo, hi)


def _sample(world: World, project: Project, folder: str, sample: str, t: float) -> None:
    r = world.rng
    base = world.mkdirs(project, folder)
    base.created = t
    reads = world.add_node(base.id, "reads", folder=True, created=t)
    for lane in (1, 2):
        for mate in (1, 2):
            world.add_node(
                reads.id,
                f"{sample}_L00{lane}_R{mate}.fastq.gz",
                size=_size(world, 8 * GiB, 40 * GiB),
                created=t,
            )
    aln = world.add_node(base.id, "alignments", folder=True, created=t)
    bam = _size(world, 60 * GiB, 180 * GiB)
    world.add_node(aln.id, f"{sample}.bam", size=bam, created=t + 3600)
    world.add_node(aln.id, f"{sample}.bam.bai", size=_size(world, 4 * MiB, 12 * MiB), created=t)
    world.add_node(aln.id, f"{sample}.cram", size=bam // 3, created=t + 7200)
    world.add_node(aln.id, f"{sample}.cram.crai", size=_size(world, 200 * KiB, 900 * KiB))
    calls = world.add_node(base.id, "variants", folder=True, created=t)
    world.add_node(calls.id, f"{sample}.vcf.gz", size=_size(world, 80 * MiB, 900 * MiB))
    world.add_node(calls.id, f"{sample}.vcf.gz.tbi", size=_size(world, 100 * KiB, 2 * MiB))
    if r.random() < 0.5:
        world.add_node(calls.id, f"{sample}.g.vcf.gz", size=_size(world, 2 * GiB, 9 * GiB))
        world.add_node(calls.id, f"{sample}.g.vcf.gz.csi", size=_size(world, 1 * MiB, 4 * MiB))
    qc = world.add_node(base.id, "qc", folder=True, created=t)
    world.add_node(qc.id, f"{sample}_fastqc.html", size=_size(world, 300 * KiB, 900 * KiB))
    world.add_node(qc.id, f"{sample}.flagstat.txt", size=_size(world, 400, 900))
    world.add_node(qc.id, f"{sample}.insert_size_metrics.txt", size=_size(world, 2 * KiB, 9 * KiB))


TAGS = {"alignments": "aligned", "variants": "final", "qc": "qc"}  # a sample's folder -> tag


def _provenance(world: World, wgs: Project, t0: float) -> None:
    """What a finder searches by, in demo/wgs-cohort: each sample's files carry the metadata
    ``sample_id``, ``case_id`` (two samples a case) and ``experimental_strategy``, and a tag by
    the folder they are in (``aligned``, ``final``, ``qc``); tasks made some of them. Set on the
    files already there (the world's random draws, and so every id, stay as they were)."""
    for b in range(1, 4):
        for s in range(1, 5):
            sample = f"S{b:02d}{s:02d}"
            meta = {
                "sample_id": sample,
                "case_id": f"CASE-{b:02d}{'AB'[(s - 1) // 2]}",
                "experimental_strategy": "WGS",
            }
            for sub in world.files[
                world.node_at(wgs, f"batches/batch-{b:02d}/{sample}").id
            ].children:
                folder = world.files[sub]
                for node in world.walk_files(folder.id):
                    if not node.is_folder:
                        node.metadata.update(meta)
                        if folder.name in TAGS:
                            node.tags.append(TAGS[folder.name])

    def out(path: str, *secondary: str) -> OutFile:
        return OutFile(
            world.node_at(wgs, path).id, tuple(world.node_at(wgs, p).id for p in secondary)
        )

    day = 86400
    aligned = [f"batches/batch-01/S01{s:02d}/alignments/S01{s:02d}" for s in range(1, 5)]
    world.add_task(
        wgs,
        "BWA-MEM alignment, batch 01",
        "demo/wgs-cohort/bwa-mem-align/3",
        "COMPLETED",
        created=t0 + 10 * day,
        started=t0 + 10 * day + 60,
        ended=t0 + 10 * day + 9 * 3600,
        outputs={
            "aligned_reads": [out(f"{a}.bam", f"{a}.bam.bai") for a in aligned],
            "qc_report": OutFolder(world.node_at(wgs, "batches/batch-01/S0101/qc/multiqc").id),
        },
    )
    calls = [f"batches/batch-02/S02{s:02d}/variants/S02{s:02d}" for s in range(1, 5)]
    world.add_task(
        wgs,
        "Joint genotyping, batch 02",
        "demo/wgs-cohort/joint-genotyping/7",
        "COMPLETED",
        created=t0 + 12 * day,
        started=t0 + 12 * day + 120,
        ended=t0 + 12 * day + 5 * 3600,
        outputs={
            "calls": [out(f"{c}.vcf.gz", f"{c}.vcf.gz.tbi") for c in calls],
            "summary": out("results/final run (v2)/results[final].txt"),
            "log": None,
        },
    )
    world.add_task(
        wgs,
        "Joint genotyping, batch 03",
        "demo/wgs-cohort/joint-genotyping/7",
        "FAILED",
        created=t0 + 13 * day,
        started=t0 + 13 * day + 120,
        ended=t0 + 13 * day + 600,
        outputs={"calls": None, "summary": None},
    )
    world.add_task(
        wgs,
        "BWA-MEM alignment, batch 03",
        "demo/wgs-cohort/bwa-mem-align/3",
        "RUNNING",
        created=t0 + 14 * day,
        started=t0 + 14 * day + 60,
        ended=None,
        outputs={},
    )


def build_demo_world(seed: int = 0) -> World:
    world = World(seed)
    t0 = BASE_TIME

    # ---- volumes --------------------------------------------------------------------------
    results = world.add_volume(
        Volume(
            "demo/us-east-results",
            "s3",
            "RW",
            True,
            "demo-lab-results-use1",
            "sbexport/",
            "aws:us-east-1",
            t0,
            description="Lab results bucket (us-east-1), exports land under sbexport/",
        )
    )
    vault = world.add_volume(
        Volume(
            "demo/kms-vault",
            "s3",
            "RW",
            True,
            "demo-lab-vault-use1",
            "vault/exports",
            "aws:us-east-1",
            t0,
            description="Controlled-access bucket: objects must be encrypted with the lab's key",
            properties=s3_defaults(sse_algorithm="aws:kms", sse_aws_kms_key_id=KMS_KEY),
        )
    )
    world.add_volume(
        Volume(
            "demo/us-west-scratch",
            "s3",
            "RW",
            True,
            "demo-lab-scratch-usw2",
            "",
            "aws:us-west-2",
            t0,
            description="Scratch bucket in us-west-2",
        )
    )
    world.add_volume(
        Volume(
            "demo/eu-results",
            "s3",
            "RW",
            True,
            "demo-lab-results-euc1",
            "biobank",
            "aws:eu-central-1",
            t0,
            description="EU results bucket (eu-central-1)",
        )
    )
    archive = world.add_volume(
        Volume(
            "demo/lab-archive",
            "s3",
            "RO",
            True,
            "demo-lab-archive",
            "",
            "aws:us-east-1",
            t0,
            description="Read-only archive of raw data",
        )
    )
    world.add_volume(
        Volume(
            "demo/old-bucket",
            "s3",
            "RW",
            False,
            "demo-lab-2019",
            "",
            "aws:us-east-1",
            t0,
            description="Deactivated 2019 bucket",
            endpoint=None,  # an older record: no endpoint at all
        )
    )
    world.add_volume(
        Volume(
            "demo/gcs-exchange",
            "gcs",
            "RW",
            True,
            "demo-lab-exchange",
            "incoming/",
            "gcp:us-central1",
            t0,
            description="Exchange bucket on Google Cloud",
        )
    )
    world.add_volume(
        Volume(
            "demo/azure-share",
            "azure",
            "RO",
            True,
            "shared",
            "",
            "azure:eastus",
            t0,
            description="Collaborator share on Azure (read-only)",
        )
    )

    # ---- demo/wgs-cohort (aws:us-east-1) ----------------------------------------------------
    wgs = world.add_project("demo/wgs-cohort", "WGS cohort 2026", "aws:us-east-1", t0)
    wgs.description = "Whole-genome sequencing of the 2026 cohort: reads, alignments, calls."
    for b in range(1, 4):
        for s in range(1, 5):
            sample = f"S{b:02d}{s:02d}"
            _sample(world, wgs, f"batches/batch-{b:02d}/{sample}", sample, t0 + b * 86400 + s)
    # deep nesting: batches/batch-01/S0101/qc/multiqc/plots/...
    plots = world.mkdirs(wgs, "batches/batch-01/S0101/qc/multiqc/plots")
    for name in ("coverage.png", "gc_content.png", "duplication.png"):
        world.add_node(plots.id, name, size=_size(world, 40 * KiB, 300 * KiB))
    world.add_node(
        world.mkdirs(wgs, "batches/batch-01/S0101/qc/multiqc").id,
        "multiqc_report.html",
        size=3 * MiB,
    )
    # the large folder
    chunks = world.mkdirs(wgs, BIG_FOLDER)
    for i in range(BIG_FOLDER_FILES):
        world.add_node(
            chunks.id,
            f"chunk_{i:05d}.interval_list.vcf.gz",
            size=_size(world, 50 * KiB, 40 * MiB),
            created=t0 + 5 * 86400 + i,
        )
    # public reference copies (cannot be exported: 9006)
    ref = world.mkdirs(wgs, "reference")
    for name, size in (
        ("human_g1k_v37_decoy.fasta", 3_189_750_467),
        ("human_g1k_v37_decoy.fasta.fai", 3_212),
        ("dbsnp_138.b37.vcf.gz", 1_600_000_000),
        ("dbsnp_138.b37.vcf.gz.tbi", 2_100_000),
    ):
        world.add_node(
            ref.id,
            name,
            size=size,
            public_copy=True,
            metadata={"sbg_public_files_category": "reference"},
        )
    # aliases of objects on the read-only archive volume (cannot be exported: 9006)
    imported = world.mkdirs(wgs, "imported-from-archive")
    for i in range(1, 7):
        key = f"raw/2025/run{i:02d}/S99{i:02d}.fastq.gz"
        size = _size(world, 2 * GiB, 20 * GiB)
        archive.objects[key] = size
        world.add_node(
            imported.id,
            f"S99{i:02d}.fastq.gz",
            size=size,
            storage_volume=archive.id,
            storage_location=key,
        )
    # awkward names: brackets (Rich markup if shown carelessly), unicode, spaces, %; never a
    # "/", which a Platform name cannot hold (it is the separator of the paths it shows)
    odd = world.mkdirs(wgs, "results/final run (v2)")
    for name, size in (
        ("results[final].txt", 12_345),
        ("[bold red]not markup.tsv", 4_321),
        ("Ünïcødé séquence.fa", 88_000),
        ("样本_001.vcf.gz", 9_000_000),
        ("name with  two spaces.bam", 2 * GiB),
        ("name with  two spaces.bam.bai", 5 * MiB),
        ("100%_done.log", 777),
    ):
        world.add_node(odd.id, name, size=size)
    world.add_node(world.files[wgs.root_folder].id, "README.txt", size=2_048)
    world.add_node(world.files[wgs.root_folder].id, "sample_sheet.csv", size=9_876)
    # an object already at the default destination of one file: a collision (9107) to find
    results.put("wgs-cohort/README.txt", 1_999)
    # the same on the vault (a prefix without a trailing slash), and an object of the bucket
    # outside the volume's prefix, which the volume never shows
    vault.put("wgs-cohort/sample_sheet.csv", 8_000)
    vault.objects["elsewhere/wgs-cohort/README.txt"] = 10

    _provenance(world, wgs, t0)

    # ---- demo/rnaseq-pilot (aws:us-west-2) --------------------------------------------------
    rna = world.add_project("demo/rnaseq-pilot", "RNA-seq pilot", "aws:us-west-2", t0 + 100)
    for s in range(1, 9):
        sample = f"R{s:03d}"
        folder = world.mkdirs(rna, f"samples/{sample}/star")
        world.add_node(folder.id, f"{sample}.Aligned.sortedByCoord.out.bam", size=6 * GiB + s)
        world.add_node(folder.id, f"{sample}.Aligned.sortedByCoord.out.bam.bai", size=3 * MiB)
        counts = world.mkdirs(rna, f"samples/{sample}/counts")
        world.add_node(counts.id, f"{sample}.ReadsPerGene.out.tab", size=1_200_000 + s)
        reads = world.mkdirs(rna, f"samples/{sample}/reads")
        for mate in (1, 2):
            world.add_node(reads.id, f"{sample}_R{mate}.fastq.gz", size=3 * GiB + mate)
    world.add_node(world.mkdirs(rna, "summary").id, "multiqc_report.html", size=4 * MiB)

    # ---- demo/gcp-study (gcp:us-central1) ---------------------------------------------------
    gcp = world.add_project("demo/gcp-study", "GCP study", "gcp:us-central1", t0 + 200)
    for s in range(1, 5):
        folder = world.mkdirs(gcp, f"cohort/G{s:03d}")
        world.add_node(folder.id, f"G{s:03d}.cram", size=18 * GiB + s)
        world.add_node(folder.id, f"G{s:03d}.cram.crai", size=600 * KiB)
        world.add_node(folder.id, f"G{s:03d}.vcf.gz", size=300 * MiB)
        world.add_node(folder.id, f"G{s:03d}.vcf.gz.tbi", size=900 * KiB)

    # ---- demo/eu-biobank (aws:eu-central-1) -------------------------------------------------
    eu = world.add_project("demo/eu-biobank", "Zurich biobank (EU)", "aws:eu-central-1", t0 + 300)
    for s in range(1, 4):
        folder = world.mkdirs(eu, f"participants/P{s:03d}")
        world.add_node(folder.id, f"P{s:03d}.cram", size=15 * GiB + s)
        world.add_node(folder.id, f"P{s:03d}.cram.crai", size=700 * KiB)
        world.add_node(folder.id, f"P{s:03d}.g.vcf.gz", size=4 * GiB + s)
    world.add_node(world.files[eu.root_folder].id, "consent_manifest.tsv", size=31_000)
    _delivery(world, t0)
    return world


DELIVERY_VOLUME = "demo/seqcore-delivery"
DELIVERY_RUN = "2026-11-30_A01234_0417_BHVNKJDSX7"


def _delivery(world: World, t0: float) -> None:
    """A sequencing provider's delivery into the lab's bucket (read-only to the lab), to import
    (issue 31): a run folder, a sample sheet, per sample and lane the paired FASTQs, each with
    its .md5, and the run's md5sums.txt. Sizes by arithmetic, not the world's random numbers:
    every other demo object and id stays as it was."""
    delivery = world.add_volume(
        Volume(
            DELIVERY_VOLUME,
            "s3",
            "RO",
            True,
            "seqcore-delivery-use1",
            "lab-demo/",
            "aws:us-east-1",
            t0,
            description="Sequencing core's deliveries to the lab (read-only)",
        )
    )
    run = f"{DELIVERY_RUN}/Project_DemoLab"
    delivery.put(f"{DELIVERY_RUN}/SampleSheet.csv", 4_321)
    sums = []
    for s in range(1, 7):
        sample = f"DL{s:03d}"
        for lane in (1, 2):
            for mate in (1, 2):
                name = f"{sample}_S{s}_L00{lane}_R{mate}_001.fastq.gz"
                size = (3 + s % 3) * GiB + 7_919 * s + 131 * lane + mate
                delivery.put(f"{run}/Sample_{sample}/{name}", size)
                delivery.put(f"{run}/Sample_{sample}/{name}.md5", 33 + len(name) + 1)
                sums.append(name)
    delivery.put(f"{DELIVERY_RUN}/md5sums.txt", sum(34 + len(n) + 1 for n in sums))


# ---- the cohort world: the demo plus one large project, for scale ------------------------------
COHORT_PROJECT = "demo/cohort"
COHORT_KINDS = (  # (folder, name suffix, size range): six files a sample
    ("fastq", "_R1.fastq.gz", (2 * GiB, 9 * GiB)),
    ("fastq", "_R2.fastq.gz", (2 * GiB, 9 * GiB)),
    ("alignments", ".bam", (20 * GiB, 90 * GiB)),
    ("alignments", ".bam.bai", (2 * MiB, 9 * MiB)),
    ("variants", ".vcf.gz", (80 * MiB, 900 * MiB)),
    ("variants", ".vcf.gz.tbi", (100 * KiB, 2 * MiB)),
)
MAX_COHORT_FILES = 1_000_000


def build_cohort_world(files: int, seed: int = 0) -> World:
    """The demo world plus ``demo/cohort`` (aws:us-east-1): ``files`` files of a sequencing
    cohort, six a sample (paired FASTQ, BAM+BAI, VCF.GZ+TBI) in three flat folders ``fastq/``,
    ``alignments/`` and ``variants/``, as a pipeline's outputs land. Deterministic by seed; built
    whole (about 0.5 KB a file)."""
    world = build_demo_world(seed)
    project = world.add_project(
        COHORT_PROJECT, f"Cohort ({files:,} files)", "aws:us-east-1", BASE_TIME
    )
    folders = {name: world.mkdirs(project, name) for name, _, _ in COHORT_KINDS}
    # the same cohort delivered to a bucket, to import (issue 31): one object per file, in the
    # same folders and of the same sizes (no random number of its own: every id stays)
    delivery = world.add_volume(
        Volume(
            COHORT_DELIVERY,
            "s3",
            "RO",
            True,
            "cohort-delivery-use1",
            "cohort/",
            "aws:us-east-1",
            BASE_TIME,
            description=f"The cohort's delivery ({files:,} objects, read-only)",
        )
    )
    for i in range(files):
        sample, kind = divmod(i, len(COHORT_KINDS))
        folder, suffix, (lo, hi) = COHORT_KINDS[kind]
        size = _size(world, lo, hi)
        name = f"C{sample:06d}{suffix}"
        world.add_node(folders[folder].id, name, size=size, created=BASE_TIME + sample)
        delivery.put(f"{folder}/{name}", size)
    return world


COHORT_DELIVERY = "demo/cohort-delivery"


def build_world(spec: str, seed: int = 0) -> World:
    """``demo`` or ``cohort:N`` (``sbexport sim --world``)."""
    name, _, arg = spec.partition(":")
    if name == "demo" and not arg:
        return build_demo_world(seed)
    if name == "cohort":
        try:
            n = int(arg.replace("_", "").replace(",", ""))
        except ValueError:
            n = -1
        if 1 <= n <= MAX_COHORT_FILES:
            return build_cohort_world(n, seed)
    raise ValueError(
        f"--world {spec!r}: use demo, or cohort:N with N from 1 to {MAX_COHORT_FILES:,} "
        "(for example cohort:100000)"
    )
