from __future__ import annotations

import copy
import logging
import pickle
import traceback

import pytest

from sbexport_tui.config import (
    ConfigError,
    EnvSource,
    Profile,
    ProfileStore,
    Secret,
    resolve_token,
)

from .conftest import TOKEN


def test_secret_hides_its_value_everywhere() -> None:
    s = Secret(TOKEN)
    assert repr(s) == "***"
    assert str(s) == "***"
    assert f"{s}" == "***"
    assert f"{s!r}" == "***"
    assert "%s %r" % (s, s) == "*** ***"  # noqa: UP031
    assert TOKEN not in repr([s, {"t": s}])
    assert s.reveal() == TOKEN


def test_secret_equality_and_truth() -> None:
    assert Secret(TOKEN) == Secret(TOKEN)
    assert Secret(TOKEN) != Secret("other")
    assert Secret(TOKEN) != TOKEN  # no accidental comparison with plain strings
    assert not Secret("")
    assert Secret("x")


def test_secret_cannot_be_pickled_or_changed() -> None:
    s = Secret(TOKEN)
    with pytest.raises(TypeError):
        pickle.dumps(s)
    with pytest.raises(AttributeError):
        s._value = "x"  # type: ignore[misc]
    assert copy.deepcopy(s) is s
    assert not hasattr(s, "__dict__")


def test_secret_in_a_log_record_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("token is %s (%r)", Secret(TOKEN), Secret(TOKEN))
    assert TOKEN not in caplog.text
    assert "***" in caplog.text


def test_resolved_token_in_a_traceback_is_masked() -> None:
    token = resolve_token(Profile("lab", "aws-us", EnvSource("T")), env={"T": TOKEN})
    try:
        raise RuntimeError(f"request failed with {token}")
    except RuntimeError:
        text = traceback.format_exc()
    assert TOKEN not in text


def test_profile_objects_never_contain_the_token(paths) -> None:
    store = ProfileStore(paths)
    config = store.add(Profile("lab", "aws-us", EnvSource("T")), token=TOKEN)
    assert TOKEN not in repr(config) and TOKEN not in str(config)
    assert TOKEN not in paths.profiles_file.read_text()
    loaded = store.load()
    assert TOKEN not in repr(loaded)


def test_config_errors_from_a_token_pasted_everywhere_never_echo_it(paths) -> None:
    places = [
        f'region = "{TOKEN}"\ntoken = {{ source = "env", var = "T" }}',
        f'region = "aws-us"\ntoken = "{TOKEN}"',
        f'region = "aws-us"\ntoken = {{ source = "env", var = "{TOKEN}" }}',
        f'region = "aws-us"\ntoken = {{ source = "{TOKEN}" }}',
        f'region = "aws-us"\ntoken = {{ source = "env", var = "T", token = "{TOKEN}" }}',
        f'region = "aws-us"\nauth_token = "{TOKEN}"\ntoken = {{ source = "env", var = "T" }}',
        f'region = "aws-us"\ntoken = {{ source = "env", var = "T" }}\n'
        f'export = {{ mode = "{TOKEN}" }}',
        f'region = "aws-us"\ntoken = {{ source = "env", var = "T" }}\n'
        f'export = {{ canned_acl = "{TOKEN}" }}',
        f'region = "aws-us"\ntoken = {{ source = "env", var = "T" }}\n'
        f'export = {{ volume = "{TOKEN}" }}',
        f'region = "https://{TOKEN}@api.sbgenomics.com/v2"\n'
        f'token = {{ source = "env", var = "T" }}',
    ]
    paths.config_dir.mkdir(parents=True)
    for body in places:
        paths.profiles_file.write_text("[profiles.lab]\n" + body + "\n")
        with pytest.raises(ConfigError) as info:
            ProfileStore(paths).load()
        assert TOKEN not in str(info.value), body
        assert TOKEN not in repr(info.value), body
        assert "profiles.lab" in str(info.value), body
