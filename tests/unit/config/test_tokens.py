from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from sbexport_tui.config import (
    CommandSource,
    ConfigError,
    CredentialsSource,
    EnvSource,
    FileSource,
    Paths,
    Profile,
    Secret,
    environment_profile,
    resolve_token,
    write_token_file,
)

from .conftest import OTHER_TOKEN, TOKEN, write_credentials


def profile(source, name: str = "lab", region: str = "aws-us") -> Profile:
    return Profile(name=name, region=region, token=source)


def py_command(code: str) -> str:
    """A token command that runs `code` in this Python (no shell involved)."""
    return f'"{sys.executable}" -c "{code}"'


def failure(prof: Profile, **kw) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        resolve_token(prof, **kw)
    return info.value


# ---------------------------------------------------------------- credentials


CREDS = f"""\
[default]
api_endpoint = https://api.sbgenomics.com/v2
auth_token   = {TOKEN}

[cgc]
api_endpoint = https://cgc-api.sbgenomics.com/v2
auth_token = {OTHER_TOKEN}
"""


def test_credentials_source_reads_the_named_section_in_place(home: Path) -> None:
    write_credentials(home, CREDS)
    assert resolve_token(profile(CredentialsSource())).reveal() == TOKEN
    assert resolve_token(profile(CredentialsSource("cgc"))).reveal() == OTHER_TOKEN


def test_credentials_source_with_explicit_path(tmp_path: Path) -> None:
    other = tmp_path / "creds.ini"
    other.write_text(f"[x]\napi_endpoint = https://api.sbgenomics.com/v2\nauth_token={TOKEN}\n")
    assert resolve_token(profile(CredentialsSource("x", str(other)))).reveal() == TOKEN


def test_credentials_token_with_percent_sign_is_not_interpolated(home: Path) -> None:
    write_credentials(home, "[default]\nauth_token = abc%(x)s%def\n")
    assert resolve_token(profile(CredentialsSource())).reveal() == "abc%(x)s%def"


def test_missing_credentials_file(home: Path) -> None:
    err = failure(profile(CredentialsSource()))
    assert "does not exist" in str(err)
    assert err.file == home / ".sevenbridges" / "credentials"
    assert "profile 'lab'" in str(err)


def test_missing_section_lists_the_sections_there(home: Path) -> None:
    write_credentials(home, CREDS)
    err = failure(profile(CredentialsSource("nope")))
    assert "[nope]" in str(err) and "[default]" in str(err) and "[cgc]" in str(err)
    assert TOKEN not in str(err) and OTHER_TOKEN not in str(err)


def test_section_without_auth_token(home: Path) -> None:
    write_credentials(home, "[default]\napi_endpoint = https://api.sbgenomics.com/v2\n")
    err = failure(profile(CredentialsSource()))
    assert "has no auth_token" in str(err)


def test_broken_ini_gives_a_line_number_not_the_line(home: Path) -> None:
    write_credentials(home, f"auth_token = {TOKEN}\n[default]\n")
    err = failure(profile(CredentialsSource()))
    assert "not valid INI at line 1" in str(err)
    assert TOKEN not in str(err) and TOKEN not in repr(err)
    write_credentials(home, f"[default]\n{TOKEN}\n")
    err = failure(profile(CredentialsSource()))
    assert "line 2" in str(err)
    assert TOKEN not in str(err)


# ---------------------------------------------------------------- env


def test_env_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_TOKEN", f"  {TOKEN}\n")
    assert resolve_token(profile(EnvSource("LAB_TOKEN"))).reveal() == TOKEN
    assert resolve_token(profile(EnvSource("X")), env={"X": TOKEN}).reveal() == TOKEN


def test_env_source_unset_says_how_to_fix() -> None:
    err = failure(profile(EnvSource("LAB_TOKEN")), env={})
    assert "environment variable LAB_TOKEN is not set" in str(err)
    assert "export LAB_TOKEN=" in str(err)


@pytest.mark.parametrize("bad", ["", "1ABC", "A-B", "A B", TOKEN + "-x"])
def test_env_var_name_is_checked_and_not_echoed(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        EnvSource(bad)
    assert info.value.key == "token.var"
    if bad:
        assert bad not in str(info.value)


# ---------------------------------------------------------------- command


def test_command_source_stdout_is_the_token() -> None:
    src = CommandSource(py_command(f"print('{TOKEN}')"))
    assert resolve_token(profile(src)).reveal() == TOKEN


def test_command_runs_without_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    # With a shell, `;` would run a second command; without one it is just an argument.
    src = CommandSource(py_command(f"print('{TOKEN}')") + f" ; touch {marker}")
    assert resolve_token(profile(src)).reveal() == TOKEN
    assert not marker.exists()


def test_command_gets_the_given_environment() -> None:
    src = CommandSource(py_command("import os; print(os.environ['TOKEN_FOR_TEST'])"))
    env = {"TOKEN_FOR_TEST": TOKEN, "PATH": os.environ.get("PATH", "")}
    assert resolve_token(profile(src), env=env).reveal() == TOKEN


def test_failing_command_hides_its_output() -> None:
    code = f"import sys; print('{TOKEN}'); print('{OTHER_TOKEN}', file=sys.stderr); sys.exit(3)"
    err = failure(profile(CommandSource(py_command(code))))
    assert "exit status 3" in str(err)
    assert "Run the command yourself" in str(err)
    assert TOKEN not in str(err) and OTHER_TOKEN not in str(err)
    assert TOKEN not in repr(err) and OTHER_TOKEN not in repr(err)


def test_command_arguments_are_not_shown_in_errors() -> None:
    err = failure(profile(CommandSource(py_command(f"import sys; sys.exit(1)  # {TOKEN}"))))
    assert Path(sys.executable).name in str(err)
    assert TOKEN not in str(err)


def test_command_timeout() -> None:
    src = CommandSource(py_command("import time; time.sleep(30)"), timeout=0.5)
    err = failure(profile(src))
    assert "did not finish within 0.5 s" in str(err)


def test_command_not_found() -> None:
    err = failure(profile(CommandSource("/nonexistent/dir/get-token --x")))
    assert "'get-token' was not found" in str(err)


def test_command_multiline_output_is_refused() -> None:
    src = CommandSource(py_command(f"print('{TOKEN}'); print('login: me')"))
    err = failure(profile(src))
    assert "space or line break inside" in str(err)
    assert TOKEN not in str(err)


def test_command_binary_output_is_refused() -> None:
    src = CommandSource(py_command("import sys; sys.stdout.buffer.write(bytes([255, 254]))"))
    assert "not text" in str(failure(profile(src)))


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"command": ""}, "token.command"),
        ({"command": "pass show 'sb"}, "token.command"),
        ({"command": "pass", "timeout": 0}, "token.timeout"),
        ({"command": "pass", "timeout": 10_000}, "token.timeout"),
        ({"command": "pass", "timeout": True}, "token.timeout"),
        ({"command": "pass", "timeout": "10"}, "token.timeout"),
        ({"command": 5}, "token.command"),
    ],
)
def test_command_source_validation(kwargs: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        CommandSource(**kwargs)
    assert info.value.key == key


# ---------------------------------------------------------------- file


def test_write_token_file_is_private_and_resolves(paths: Paths) -> None:
    src = write_token_file(paths, "lab", f"  {TOKEN}\n")
    assert src == FileSource("tokens/lab.token")
    path = paths.token_file("lab")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(paths.tokens_dir).st_mode) == 0o700
    assert path.read_text() == TOKEN + "\n"
    assert resolve_token(profile(src), paths=paths).reveal() == TOKEN
    assert list(paths.tokens_dir.iterdir()) == [path]  # no temp files left


def test_token_file_found_through_sbexport_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SBEXPORT_HOME", str(tmp_path / "h"))
    src = write_token_file(Paths.from_env(), "lab", TOKEN)
    assert resolve_token(profile(src)).reveal() == TOKEN


def test_overwriting_a_token_file_keeps_mode_0600(paths: Paths) -> None:
    write_token_file(paths, "lab", TOKEN)
    paths.token_file("lab").chmod(0o644)
    write_token_file(paths, "lab", OTHER_TOKEN)
    assert stat.S_IMODE(os.stat(paths.token_file("lab")).st_mode) == 0o600
    assert paths.token_file("lab").read_text().strip() == OTHER_TOKEN


def test_token_file_is_never_world_readable_even_while_written(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sbexport_tui.config.fileio as fileio

    seen: list[int] = []
    real_fdopen = os.fdopen

    def spy(fd, *a, **kw):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_fdopen(fd, *a, **kw)

    monkeypatch.setattr(fileio.os, "fdopen", spy)
    os.umask(old := os.umask(0))  # even with a permissive umask
    try:
        write_token_file(paths, "lab", TOKEN)
    finally:
        os.umask(old)
    assert seen == [0o600]


def test_missing_token_file(paths: Paths) -> None:
    err = failure(profile(FileSource("tokens/lab.token")), paths=paths)
    assert "does not exist" in str(err)
    assert "Set the token again" in str(err)
    assert err.file == paths.token_file("lab")


def test_empty_token_file(paths: Paths) -> None:
    paths.tokens_dir.mkdir(parents=True)
    paths.token_file("lab").write_text("\n\n")
    assert "empty token" in str(failure(profile(FileSource("tokens/lab.token")), paths=paths))


def test_relative_token_path_cannot_escape_the_config_dir() -> None:
    with pytest.raises(ConfigError) as info:
        FileSource("../../etc/passwd")
    assert info.value.key == "token.path"


def test_absolute_token_file(tmp_path: Path, paths: Paths) -> None:
    f = tmp_path / "mytoken"
    f.write_text(TOKEN)
    assert resolve_token(profile(FileSource(str(f))), paths=paths).reveal() == TOKEN


# ---------------------------------------------------------------- token checks


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "empty token"),
        ("   \n", "empty token"),
        ("abc def", "space or line break inside"),
        ("abc\ndef", "space or line break inside"),
        ("abc\tdef", "space or line break inside"),
        ("abc\x00def", "cannot be sent in an HTTP header"),
        ("tökén", "cannot be sent in an HTTP header"),
    ],
)
def test_bad_tokens_are_refused_without_being_echoed(raw: str, problem: str) -> None:
    err = failure(profile(EnvSource("T")), env={"T": raw})
    assert problem in str(err)
    assert "environment variable T" in str(err)
    for part in raw.split():
        if len(part) > 2:
            assert part not in str(err)


def test_surrounding_whitespace_is_stripped() -> None:
    got = resolve_token(profile(EnvSource("T")), env={"T": f"\t {TOKEN} \r\n"})
    assert got == Secret(TOKEN)


def test_write_token_file_refuses_a_bad_token(paths: Paths) -> None:
    with pytest.raises(ConfigError):
        write_token_file(paths, "lab", "two words")
    assert not paths.token_file("lab").exists()


# ---------------------------------------------------------------- SB_API_ENDPOINT + SB_AUTH_TOKEN


def test_environment_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    assert environment_profile() is None
    monkeypatch.setenv("SB_API_ENDPOINT", "https://cgc-api.sbgenomics.com/v2/")
    monkeypatch.setenv("SB_AUTH_TOKEN", TOKEN)
    prof = environment_profile()
    assert prof is not None
    assert prof.name == "(environment)"
    assert prof.region == "cgc"
    assert prof.api_url == "https://cgc-api.sbgenomics.com/v2"
    assert resolve_token(prof).reveal() == TOKEN
    assert TOKEN not in repr(prof)


def test_environment_profile_with_custom_loopback_url() -> None:
    prof = environment_profile(
        {"SB_API_ENDPOINT": "http://127.0.0.1:8123/v2", "SB_AUTH_TOKEN": "t"}
    )
    assert prof is not None and prof.api_url == "http://127.0.0.1:8123/v2"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SB_API_ENDPOINT": "https://api.sbgenomics.com/v2"}, "SB_AUTH_TOKEN is not"),
        ({"SB_AUTH_TOKEN": TOKEN}, "SB_API_ENDPOINT is not"),
        ({"SB_API_ENDPOINT": "http://sb.example.org/v2", "SB_AUTH_TOKEN": TOKEN}, "https://"),
    ],
)
def test_environment_profile_errors(env: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        environment_profile(env)
    assert message in str(info.value)
    assert TOKEN not in str(info.value)


def test_credentials_token_with_inner_space_is_refused(home: Path) -> None:
    write_credentials(home, f"[default]\nauth_token = {TOKEN} {OTHER_TOKEN}\n")
    err = failure(profile(CredentialsSource()))
    assert "auth_token in section [default]" in str(err)
    assert "space or line break inside" in str(err)
    assert TOKEN not in str(err) and OTHER_TOKEN not in str(err)
    assert err.file == home / ".sevenbridges" / "credentials"


@pytest.mark.parametrize(
    "pasted", ["d41d8cd98f00b204e9800998ecf8427e", "a1B2c3D4e5F6g7H8i9J0k1L2m3"]
)
def test_a_token_pasted_as_variable_name_or_command_is_refused_without_echo(pasted):
    from sbexport_tui.config import CommandSource, ConfigError, EnvSource

    for make in (lambda: EnvSource(pasted), lambda: CommandSource(pasted)):
        with pytest.raises(ConfigError) as e:
            make()
        assert "looks like a token" in str(e.value)
        assert pasted not in str(e.value)
    # ordinary names still pass
    assert EnvSource("SB_AUTH_TOKEN").var == "SB_AUTH_TOKEN"
    assert EnvSource("LAB_TOKEN_2024").var == "LAB_TOKEN_2024"
