"""Every official response example parses; models accept case variants, nulls, unknown fields."""

import json
from pathlib import Path

import pytest

from sbexport_tui.api.models import (
    ApiErrorBody,
    BulkRecord,
    ExportItem,
    ExportJob,
    File,
    Page,
    Project,
    RateLimitStatus,
    User,
    Volume,
    VolumeObject,
    VolumePrefix,
)

OAS = Path(__file__).parents[2] / "fixtures" / "oas"


def load(name: str):
    return json.loads((OAS / name).read_text(encoding="utf-8"))


# fixture prefix -> (model of the record, is it a list page)
KINDS = {
    "user_": (User, False),
    "project_get": (Project, False),
    "project_create": (Project, False),
    "projects_list": (Project, True),
    "projects_owner_list": (Project, True),
    "files_list": (File, True),
    "folder_create": (File, False),
    "folder_list": (File, True),
    "file_get": (File, False),
    "file_patch": (File, False),
    "volumes_list": (Volume, True),
    "volume_get": (Volume, False),
    "volume_object_get": (VolumeObject, False),
    "exports_list": (ExportJob, True),
    "export_create": (ExportJob, False),
    "export_get": (ExportJob, False),
    "rate_limit": (RateLimitStatus, False),
    "error_": (ApiErrorBody, False),
    "import_get": (None, False),
    "volume_list": (None, False),
    "volume_member": (None, False),
    "api_root": (None, False),
    "bulk_export_create": (None, False),
}


def kind_of(name: str):
    for prefix, kind in KINDS.items():
        if name.startswith(prefix):
            return kind
    raise AssertionError(f"fixture {name} has no model assigned")


FIXTURES = sorted(p.name for p in OAS.glob("*.json"))


def test_fixtures_are_present():
    assert len(FIXTURES) >= 25


@pytest.mark.parametrize("name", FIXTURES)
def test_every_example_parses(name):
    data = load(name)
    model, is_list = kind_of(name)
    if model is None:
        return
    if is_list:
        page = Page.model_validate(data)
        assert page.items, name
        parsed = [model.model_validate(i) for i in page.items]
        assert all(getattr(p, "id", None) for p in parsed)
    else:
        parsed = model.model_validate(data)
        assert parsed is not None


def test_project_example_fields():
    p = Project.model_validate(load("project_create_200_result.json"))
    assert p.location == "aws:us-west-2" and p.cloud == "aws"
    assert p.root_folder == "567890abc9b0307bc0414164"
    g = Project.model_validate(load("project_get_200_result.json"))
    assert g.location is None  # the old GET example has no location: callers must cope
    assert g.permissions.write is True and g.permissions.copy_ is True


def test_file_examples_alias_and_folder_helpers():
    alias = File.model_validate(load("file_get_200_result.json"))
    assert alias.is_alias and not alias.is_folder
    assert alias.storage.volume == "rfranklin/my_test_volume_s3"
    assert alias.storage.location == "bemo/demo_omed"
    folder = File.model_validate(load("folder_create_200_result.json"))
    assert folder.is_folder and folder.type == "folder"  # "FOLDER" in the example
    listing = Page.model_validate(load("folder_list_200_result.json"))
    types = [File.model_validate(i).type for i in listing.items]
    assert types == ["folder", "file"]


def test_volume_example_normalised():
    v = Volume.model_validate(load("volume_get_200_result.json"))
    assert v.service_type == "s3" and v.bucket == "sbg-test-output" and v.is_rw
    assert v.active is True and v.prefix == ""
    assert v.model_extra["updated_on"]  # unknown fields are kept


def test_export_examples():
    done = ExportJob.model_validate(load("export_get_200_successfully_completed_export.json"))
    assert done.state == "COMPLETED" and done.is_final
    assert done.properties["aws_storage_class"] == "STANDARD"
    assert done.finished_on.year == 2016
    failed = ExportJob.model_validate(load("export_get_409_failed_export.json"))
    assert failed.error.code == 9107 and failed.location == "_4_s3_file.jpg"
    assert "already exists" in failed.error.explain()
    created = ExportJob.model_validate(load("export_create_200_ok.json"))
    assert created.file_id == "567890abc1e5339df0414123" and created.volume_id == "rfranklin/output"
    bulk = load("bulk_export_create_200_result.json")["items"]
    recs = [BulkRecord[ExportJob].model_validate(i) for i in bulk]
    assert [r.resource.state for r in recs] == ["PENDING", "PENDING"]
    assert all(r.ok for r in recs)


def test_import_job_error_and_result_parse_as_error_and_file():
    failed = load("import_get_404_failed_import_job.json")
    assert ApiErrorBody.model_validate(failed["error"]).code == 9105
    ok = load("import_get_200_successfully_completed_import.json")
    assert File.model_validate(ok["result"]).is_alias


def test_volume_listing_example():
    data = load("volume_list_200_result.json")
    prefixes = [VolumePrefix.model_validate(p) for p in data["prefixes"]]
    assert prefixes[0].prefix == "my-folder/"
    obj = VolumeObject.model_validate(load("volume_object_get_200_result.json"))
    assert obj.size == 9 and obj.type == "gcs"


def test_router_404_body_with_string_status():
    e = ApiErrorBody.model_validate(load("error_router_404.json"))
    assert e.status == "NOT_FOUND" and e.code is None and e.http_status is None


def test_rate_limit_example():
    r = RateLimitStatus.model_validate(load("rate_limit_200_result.json"))
    assert r.rate.limit == 1000 and r.rate.reset == 1489700093


@pytest.mark.parametrize("variant", ["file", "FILE", " File "])
def test_file_type_case_variants(variant):
    f = File.model_validate({"id": "x", "type": variant})
    assert f.type == "file" and not f.is_folder


@pytest.mark.parametrize(
    ("given", "norm"),
    [("S3", "s3"), ("gcs", "gcs"), ("GCS", "gcs"), ("OSS", "oss"), ("Azure", "azure")],
)
def test_volume_service_type_variants(given, norm):
    v = Volume.model_validate({"id": "o/v", "access_mode": "rw", "service": {"type": given}})
    assert v.service_type == norm and v.access_mode == "RW"


def test_nulls_everywhere_are_tolerated():
    f = File.model_validate(
        {
            "id": "a",
            "name": None,
            "tags": None,
            "metadata": None,
            "storage": None,
            "created_on": None,
            "modified_on": "not a date",
            "size": None,
        }
    )
    assert f.tags == [] and f.metadata == {} and f.modified_on is None and not f.is_alias
    v = Volume.model_validate({"id": "o/v", "service": {"type": None, "properties": None}})
    assert v.properties == {} and v.service_type is None and v.prefix == ""
    j = ExportJob.model_validate(
        {
            "id": "j",
            "state": "completed",
            "properties": None,
            "source": None,
            "destination": None,
            "error": None,
        }
    )
    assert j.state == "COMPLETED" and j.file_id is None and j.location is None


def test_public_copy_by_metadata_and_public_project():
    pub = File.model_validate({"id": "a", "metadata": {"sbg_public_files_category": "reference"}})
    assert pub.is_public_copy
    assert File.model_validate({"id": "b", "project": "admin/sbg-public-data"}).is_public_copy
    assert not File.model_validate({"id": "c", "metadata": {"x": 1}}).is_public_copy


def test_platform_file_hosted_locations():
    f = File.model_validate(
        {
            "id": "a",
            "type": "file",
            "storage": {"type": "platform", "hosted_on_locations": ["aws:us-east-1"]},
        }
    )
    assert f.storage.type == "PLATFORM" and f.hosted_on == ["aws:us-east-1"] and not f.is_alias


def test_bulk_record_error_entry():
    rec = BulkRecord[File].model_validate(
        {"error": {"status": 404, "code": 5002, "message": "nope", "more_info": "u"}}
    )
    assert not rec.ok and rec.error.code == 5002 and rec.resource is None


def test_export_item_body():
    item = ExportItem(
        file_id="f1", volume="o/v", location="a/b.txt", properties={"sse_algorithm": "AES256"}
    )
    assert item.to_body() == {
        "source": {"file": "f1"},
        "destination": {"volume": "o/v", "location": "a/b.txt"},
        "overwrite": False,
        "properties": {"sse_algorithm": "AES256"},
    }
    assert "properties" not in ExportItem(file_id="f", volume="o/v", location="x").to_body()


def test_user_example():
    u = User.model_validate(load("user_200_result.json"))
    assert u.username == "RFranklin" and u.tags[0].expires_at.year > 2050


def test_page_next_link_forms():
    rel = Page.model_validate({"items": [], "links": [{"href": "u2", "rel": "NEXT"}]})
    assert rel.next_href() == "u2"
    vol = Page.model_validate({"items": [], "links": [{"next": "u3"}]})
    assert vol.next_href() == "u3"
    prev_only = Page.model_validate({"items": [], "links": [{"href": "u0", "rel": "prev"}]})
    assert prev_only.next_href() is None
