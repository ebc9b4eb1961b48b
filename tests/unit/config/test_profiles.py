from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sbexport_tui.config import (
    CommandSource,
    ConfigError,
    CredentialsSource,
    EnvSource,
    ExportPreset,
    FileSource,
    Paths,
    Profile,
    ProfilesConfig,
    ProfileStore,
    import_credentials,
    load_profiles,
    resolve_token,
    save_profiles,
)

from .conftest import OTHER_TOKEN, TOKEN, write_credentials


def full_config() -> ProfilesConfig:
    config = ProfilesConfig()
    config = config.with_profile(
        Profile(
            "lab",
            "aws-eu",
            CredentialsSource("default"),
            ExportPreset(
                volume="me/results",
                location="{project}/{path}",
                mode="move",
                on_conflict="rename",
                sse_algorithm="aws:kms",
                kms_key_id="arn:aws:kms:eu-west-1:111122223333:key/abcd",
                canned_acl="bucket-owner-full-control",
            ),
        )
    )
    config = config.with_profile(
        Profile("local", "http://127.0.0.1:8080/v2/", EnvSource("LOCAL_TOKEN"))
    )
    config = config.with_profile(
        Profile("cmd", "cgc", CommandSource("pass show sb/cgc", timeout=3))
    )
    config = config.with_profile(
        Profile(
            "filed", "f4c", FileSource("tokens/filed.token"), ExportPreset(sse_algorithm="none")
        )
    )
    return config.with_default("cmd")


def test_round_trip_keeps_everything(paths: Paths) -> None:
    config = full_config()
    save_profiles(paths, config)
    loaded, warnings = load_profiles(paths)
    assert loaded == config
    assert warnings == []
    assert loaded.default_profile == "cmd"
    assert loaded.get("local").region == "http://127.0.0.1:8080/v2"
    assert loaded.get("lab").export.kms_key_id == "arn:aws:kms:eu-west-1:111122223333:key/abcd"
    # Saving what was loaded gives the same bytes.
    first = paths.profiles_file.read_bytes()
    save_profiles(paths, loaded)
    assert paths.profiles_file.read_bytes() == first


def test_saved_file_is_readable_toml_for_humans(paths: Paths) -> None:
    save_profiles(paths, full_config())
    text = paths.profiles_file.read_text()
    assert 'default_profile = "cmd"' in text
    assert "[profiles.lab]" in text
    assert 'region = "aws-eu"' in text
    assert 'mode = "move"' in text


def test_missing_file_is_an_empty_config(paths: Paths) -> None:
    config, warnings = load_profiles(paths)
    assert len(config) == 0 and config.default_profile is None and warnings == []


def test_saved_file_is_private_and_no_temp_files_remain(paths: Paths) -> None:
    save_profiles(paths, full_config())
    paths.profiles_file.chmod(0o644)
    save_profiles(paths, full_config())
    assert stat.S_IMODE(os.stat(paths.profiles_file).st_mode) == 0o600
    assert [p.name for p in paths.config_dir.iterdir()] == ["profiles.toml"]


def test_a_failed_save_leaves_the_old_file_and_no_temp_file(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_profiles(paths, full_config())
    before = paths.profiles_file.read_bytes()

    def boom(*a, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sbexport_tui.config.fileio.os.replace", boom)
    with pytest.raises(OSError):
        save_profiles(paths, ProfilesConfig())
    assert paths.profiles_file.read_bytes() == before
    assert [p.name for p in paths.config_dir.iterdir()] == ["profiles.toml"]


def test_profile_defaults() -> None:
    p = Profile("lab", "aws-us", EnvSource("T"))
    assert p.export.mode == "copy"
    assert p.export.on_conflict == "skip"
    assert p.export.sse_algorithm is None  # the volume's own settings
    assert p.export.copy_only
    kms = ExportPreset(sse_algorithm="aws:kms", kms_key_id="k1", canned_acl="private")
    assert kms.to_toml()["sse_algorithm"] == "aws:kms"
    assert "sse_algorithm" not in p.export.to_toml()  # left out: the volume's own settings
    assert ExportPreset(sse_algorithm="none").sse_algorithm == "none"


def test_url_region_matching_a_built_in_one_is_stored_as_its_id() -> None:
    assert Profile("x", "https://cgc-api.sbgenomics.com/v2/", EnvSource("T")).region == "cgc"


# ---------------------------------------------------------------- store operations


def test_store_add_edit_rename_delete_and_default(paths: Paths) -> None:
    store = ProfileStore(paths)
    store.add(Profile("a", "aws-us", EnvSource("A")))
    store.add(Profile("b", "cgc", EnvSource("B")), make_default=True)
    assert store.load().config.default_profile == "b"

    store.edit("a", region="aws-eu", export=ExportPreset(volume="me/vol"))
    a = store.load().config.get("a")
    assert a.region == "aws-eu" and a.export.volume == "me/vol"

    store.rename("b", "c")
    config = store.load().config
    assert config.names() == ["a", "c"]
    assert config.default_profile == "c"
    assert config.get("c").token == EnvSource("B")

    store.set_default("a")
    assert store.load().config.default_profile == "a"

    store.delete("a")
    config = store.load().config
    assert config.names() == ["c"]
    assert config.default_profile == "c"  # the default moved to a profile that exists


def test_store_refuses_duplicates_and_unknown_names(paths: Paths) -> None:
    store = ProfileStore(paths)
    store.add(Profile("a", "aws-us", EnvSource("A")))
    store.add(Profile("b", "aws-us", EnvSource("B")))
    with pytest.raises(ConfigError, match="already exists"):
        store.add(Profile("a", "cgc", EnvSource("A")))
    with pytest.raises(ConfigError, match="already exists"):
        store.rename("a", "b")
    with pytest.raises(ConfigError, match=r"no profile named 'zz'.*Use one of: a, b"):
        store.delete("zz")
    with pytest.raises(ConfigError, match="no profile named"):
        store.set_default("zz")
    with pytest.raises(ConfigError, match="profile name"):
        store.rename("a", "bad name!")
    with pytest.raises(ConfigError, match="rename"):
        store.edit("a", name="x")
    assert store.load().config.names() == ["a", "b"]


def test_invalid_edits_are_refused_before_saving(paths: Paths) -> None:
    store = ProfileStore(paths)
    store.add(Profile("a", "aws-us", EnvSource("A")))
    with pytest.raises(ConfigError) as info:
        store.edit("a", region="http://sb.example.org/v2")
    assert info.value.key == "region"
    assert store.load().config.get("a").region == "aws-us"


def test_add_with_token_stores_a_private_file(paths: Paths) -> None:
    store = ProfileStore(paths)
    config = store.add(Profile("lab", "aws-us", EnvSource("X")), token=TOKEN)
    prof = config.get("lab")
    assert prof.token == FileSource("tokens/lab.token")
    assert stat.S_IMODE(os.stat(paths.token_file("lab")).st_mode) == 0o600
    assert resolve_token(prof, paths=paths).reveal() == TOKEN
    assert TOKEN not in paths.profiles_file.read_text()


def test_rename_moves_the_token_file_and_delete_removes_it(paths: Paths) -> None:
    store = ProfileStore(paths)
    store.add(Profile("lab", "aws-us", EnvSource("X")), token=TOKEN)
    store.rename("lab", "lab2")
    prof = store.load().config.get("lab2")
    assert prof.token == FileSource("tokens/lab2.token")
    assert not paths.token_file("lab").exists()
    assert resolve_token(prof, paths=paths).reveal() == TOKEN
    # A new profile reusing the old name does not clobber the renamed one's token.
    store.add(Profile("lab", "aws-us", EnvSource("X")), token=OTHER_TOKEN)
    assert resolve_token(store.load().config.get("lab2"), paths=paths).reveal() == TOKEN
    store.delete("lab2")
    assert not paths.token_file("lab2").exists()
    assert paths.token_file("lab").exists()


def test_set_token_switches_the_source(paths: Paths) -> None:
    store = ProfileStore(paths)
    store.add(Profile("lab", "aws-us", EnvSource("X")))
    store.set_token("lab", OTHER_TOKEN)
    prof = store.load().config.get("lab")
    assert resolve_token(prof, env={}, paths=paths).reveal() == OTHER_TOKEN


# ---------------------------------------------------------------- import credentials


CREDS = f"""\
[default]
api_endpoint = https://api.sbgenomics.com/v2
auth_token = {TOKEN}

[my cgc]
api_endpoint = https://cgc-api.sbgenomics.com/v2/
auth_token = {OTHER_TOKEN}

[onprem]
api_endpoint = https://sb.example.org/v2
auth_token = {TOKEN}

[insecure]
api_endpoint = http://sb.example.org/v2
auth_token = {TOKEN}

[no-token]
api_endpoint = https://api.sbgenomics.com/v2
"""


def test_import_credentials(home: Path, paths: Paths) -> None:
    write_credentials(home, CREDS)
    result = import_credentials(paths)
    assert result.added == ["default", "my-cgc", "onprem"]
    skipped = dict(result.skipped)
    assert set(skipped) == {"insecure", "no-token"}
    assert "http" in skipped["insecure"]
    assert "auth_token" in skipped["no-token"]

    config = load_profiles(paths).config
    assert config.get("default").region == "aws-us"
    assert config.get("my-cgc").region == "cgc"
    assert config.get("onprem").region == "https://sb.example.org/v2"
    assert config.get("my-cgc").token == CredentialsSource("my cgc")
    assert config.default_profile == "default"
    # Tokens were read in place, never copied.
    text = paths.profiles_file.read_text()
    assert TOKEN not in text and OTHER_TOKEN not in text
    assert not paths.tokens_dir.exists()
    assert resolve_token(config.get("my-cgc"), paths=paths).reveal() == OTHER_TOKEN
    assert TOKEN not in repr(result)


def test_import_twice_adds_nothing_new(home: Path, paths: Paths) -> None:
    write_credentials(home, CREDS)
    import_credentials(paths)
    again = import_credentials(paths)
    assert again.added == []
    assert ("default", "already imported") in again.skipped
    assert len(load_profiles(paths).config) == 3


def test_import_keeps_existing_profiles_and_avoids_name_clashes(home: Path, paths: Paths) -> None:
    write_credentials(home, CREDS)
    ProfileStore(paths).add(Profile("default", "cgc", EnvSource("MINE")))
    result = import_credentials(paths)
    assert "default-2" in result.added
    config = load_profiles(paths).config
    assert config.get("default").token == EnvSource("MINE")
    assert config.get("default-2").token == CredentialsSource("default")
    assert config.default_profile == "default"


def test_import_from_another_path_remembers_it(tmp_path: Path, paths: Paths) -> None:
    other = tmp_path / "elsewhere.ini"
    other.write_text(f"[x]\napi_endpoint = https://eu-api.sbgenomics.com/v2\nauth_token={TOKEN}\n")
    result = import_credentials(paths, other)
    assert result.added == ["x"]
    prof = load_profiles(paths).config.get("x")
    assert prof.region == "aws-eu"
    assert prof.token == CredentialsSource("x", str(other))
    assert resolve_token(prof, paths=paths).reveal() == TOKEN


def test_import_from_a_missing_file_is_a_clear_error(home: Path, paths: Paths) -> None:
    with pytest.raises(ConfigError) as info:
        import_credentials(paths)
    assert "does not exist" in str(info.value)
    assert str(home / ".sevenbridges" / "credentials") in str(info.value)
    assert not paths.profiles_file.exists()


# ---------------------------------------------------------------- permission warnings


def test_token_file_readable_by_others_is_warned_about(paths: Paths) -> None:
    store = ProfileStore(paths)
    store.add(Profile("lab", "aws-us", EnvSource("X")), token=TOKEN)
    assert store.load().warnings == []
    paths.token_file("lab").chmod(0o644)
    warnings = store.load().warnings
    assert len(warnings) == 1
    assert warnings[0].path == paths.token_file("lab")
    assert "mode 0644" in str(warnings[0])
    assert "chmod 600" in str(warnings[0])
    assert TOKEN not in str(warnings[0])


def test_profiles_file_readable_by_others_warned_only_when_it_points_to_a_token(
    paths: Paths,
) -> None:
    store = ProfileStore(paths)
    store.add(Profile("env", "aws-us", EnvSource("X")))
    paths.profiles_file.chmod(0o644)
    assert store.load().warnings == []  # no token in or behind it
    paths.profiles_file.chmod(0o600)
    store.add(Profile("lab", "aws-us", EnvSource("X")), token=TOKEN)
    paths.profiles_file.chmod(0o640)
    warned = [w.path for w in store.load().warnings]
    assert warned == [paths.profiles_file]


def test_credentials_file_readable_by_others_is_warned_about(home: Path, paths: Paths) -> None:
    creds = write_credentials(home, CREDS, mode=0o604)
    import_credentials(paths)
    warnings = load_profiles(paths).warnings
    assert [w.path for w in warnings] == [creds]  # once, though three profiles point to it


def test_the_environment_profile_cannot_be_saved(paths: Paths) -> None:
    adhoc = Profile("(environment)", "aws-us", EnvSource("SB_AUTH_TOKEN"))
    with pytest.raises(ConfigError, match="profile name"):
        ProfileStore(paths).add(adhoc)
    with pytest.raises(ConfigError, match="profile name"):
        ProfilesConfig().with_profile(adhoc)
    assert not paths.profiles_file.exists()


def test_the_old_overwrite_key_is_read_as_on_conflict_and_saved_under_the_new_name(paths: Paths):
    """profiles.toml written before the names were unified says export.overwrite."""
    paths.profiles_file.parent.mkdir(parents=True, exist_ok=True)
    paths.profiles_file.write_text(
        '[profiles.lab]\nregion = "aws-us"\ntoken = { source = "env", var = "T" }\n'
        '[profiles.lab.export]\noverwrite = "rename"\n'
    )
    store = ProfileStore(paths)
    assert store.load().config.get("lab").export.on_conflict == "rename"
    store.set_default("lab")  # any change writes the file again
    text = paths.profiles_file.read_text()
    assert 'on_conflict = "rename"' in text and "overwrite" not in text
    assert store.load().config.get("lab").export.on_conflict == "rename"


# profiles.toml as the version before one export-settings model (issue 28) wrote it
SAVED_BEFORE_ONE_SETTINGS_MODEL = """\
# sbexport profiles. Edit with care: sbexport checks every key when it starts.
# Tokens are never stored here; each profile says where its token comes from.

version = 1
default_profile = "cmd"

[profiles.lab]
region = "aws-eu"

[profiles.lab.token]
source = "credentials"
profile = "default"

[profiles.lab.export]
volume = "me/results"
location = "{project}/{path}"
mode = "move"
on_conflict = "rename"
sse_algorithm = "aws:kms"
kms_key_id = "arn:aws:kms:eu-west-1:111122223333:key/abcd"
canned_acl = "bucket-owner-full-control"

[profiles.local]
region = "http://127.0.0.1:8080/v2"

[profiles.local.token]
source = "env"
var = "LOCAL_TOKEN"

[profiles.local.export]
location = "{project}/{path}"
mode = "copy"
on_conflict = "skip"

[profiles.cmd]
region = "cgc"

[profiles.cmd.token]
source = "command"
command = "pass show sb/cgc"
timeout = 3.0

[profiles.cmd.export]
location = "{project}/{path}"
mode = "copy"
on_conflict = "skip"

[profiles.filed]
region = "f4c"

[profiles.filed.token]
source = "file"
path = "tokens/filed.token"

[profiles.filed.export]
location = "{project}/{path}"
mode = "copy"
on_conflict = "skip"
sse_algorithm = "none"
"""


def test_a_profiles_file_saved_by_the_last_version_loads_and_is_written_back_the_same(
    paths: Paths,
) -> None:
    """The preset is now the shared export-settings model (``ExportSettings``): a file the
    last version saved loads into the same presets and plans, and is saved byte for byte."""
    from sbexport_tui.export.plan import ExportOptions

    paths.profiles_file.parent.mkdir(parents=True, exist_ok=True)
    paths.profiles_file.write_text(SAVED_BEFORE_ONE_SETTINGS_MODEL)
    config = load_profiles(paths).config
    assert config == full_config()
    lab = config.get("lab")
    assert lab.export.volume == "me/results" and lab.export.mode == "move"
    options = ExportOptions.from_preset(lab.export)
    assert options.to_dict() == {
        "volume_id": "me/results",
        "location": "{project}/{path}",
        "mode": "move",
        "on_conflict": "rename",
        "sse_algorithm": "aws:kms",
        "kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/abcd",
        "canned_acl": "bucket-owner-full-control",
    }
    assert options.as_preset() == lab.export
    # and the regions it names are the one Region (api and config alike), by id or by URL
    from sbexport_tui.api.regions import get_region

    assert lab.resolved_region is get_region("aws-eu")
    assert lab.api_url == "https://eu-api.sbgenomics.com/v2"
    local = config.get("local").resolved_region
    assert local.custom and local.api_url == "http://127.0.0.1:8080/v2"
    save_profiles(paths, config)
    assert paths.profiles_file.read_text() == SAVED_BEFORE_ONE_SETTINGS_MODEL
