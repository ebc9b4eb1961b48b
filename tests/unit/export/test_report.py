"""The report says how each object was encrypted and with which ACL, as sent."""

from __future__ import annotations

import pytest

from sbexport_tui.export.journal import RunRecord
from sbexport_tui.export.report import REPORT_FIELDS, VOLUME_DEFAULT, sent_properties


def run_with(properties) -> RunRecord:
    options = {"volume_id": "lab/bucket", "properties": properties}
    return RunRecord(1, 0.0, "lab", None, "lab/bucket", options, "copy", "done", None, 0.0)


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        (None, (None, None, None)),  # not S3: nothing of the kind exists
        ({}, (VOLUME_DEFAULT, None, VOLUME_DEFAULT)),  # nothing sent: the volume's settings
        ({"sse_algorithm": None}, ("none", None, VOLUME_DEFAULT)),  # null: no encryption
        (
            {"sse_algorithm": "aws:kms", "sse_aws_kms_key_id": "k1", "aws_canned_acl": "private"},
            ("aws:kms", "k1", "private"),
        ),
    ],
)
def test_encryption_and_acl_as_sent(properties, expected):
    got = sent_properties(run_with(properties))
    assert (got["sse_algorithm"], got["kms_key_id"], got["canned_acl"]) == expected
    assert set(got) <= set(REPORT_FIELDS)


def test_an_unverified_item_says_what_it_means_and_what_to_do():
    from sbexport_tui.export.journal import ItemRecord
    from sbexport_tui.export.report import report_row
    from sbexport_tui.export.states import UNVERIFIED_MESSAGE

    item = ItemRecord(
        *(7, 3, "f1", "lab/p", "a.txt", "a.txt", 10, "lab/bucket", "out/a.txt", "out/a.txt"),
        *(False, "unverified", None, "job-1", None, UNVERIFIED_MESSAGE, 1, 0.0, 1.0, 2.0, 2.0),
    )
    row = report_row(run_with({}), item)
    assert row["state"] == "unverified" and row["job_id"] == "job-1"
    assert row["error"].startswith(UNVERIFIED_MESSAGE)
    assert "sbexport jobs watch --run 7" in row["error"]
    assert "--state unverified" in row["error"]
