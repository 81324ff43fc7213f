"""`vitaphone db …` and `vitaphone doctor` as a user runs them."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vitaphone.cli import app
from vitaphone.cli import doctor as doctor_module
from vitaphone.storage.migrate import head_revision

runner = CliRunner(env={"COLUMNS": "250"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_db_upgrade_current_downgrade_on_the_default_sqlite(_isolated_settings: Path) -> None:
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 0, result.output
    assert "(empty)" in result.output and "run `vitaphone db upgrade`" in result.output

    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (_isolated_settings / "vitaphone.db").is_file()
    assert f"revision {head_revision()}" in result.output

    result = runner.invoke(app, ["db", "current"])
    assert "up to date" in result.output

    result = runner.invoke(app, ["db", "downgrade", "base", "--yes"])
    assert result.exit_code == 0, result.output
    assert "revision (empty)" in result.output


@pytest.mark.postgres
def test_db_upgrade_postgres_by_url(fresh_postgres_url: str) -> None:
    plain = fresh_postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    result = runner.invoke(app, ["db", "upgrade", "--url", plain])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["db", "current", "--url", plain])
    assert "up to date" in result.output


def test_db_bad_url_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITAPHONE_DATABASE_URL", "mysql://u:secret@h/d")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "VITAPHONE_DATABASE_URL" in result.output and "secret" not in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash


def test_db_unreachable_server_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql://u:secret@127.0.0.1:{_free_port()}/nothing"
    result = runner.invoke(app, ["db", "current", "--url", url])
    assert result.exit_code == 1
    assert result.output.startswith("error:") and "secret" not in result.output


@pytest.mark.slow
def test_doctor_tells_the_truth_on_this_machine() -> None:
    """.ci/run installs everything required, so here only warnings may remain."""
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    for name in ("Python packages (media)", "PyAV codecs libx264 + aac", "flite text-to-speech",
                 "espeak-ng text-to-speech", "pocketsphinx en-US model", "face model files", "database",
                 "Redis", "CUDA"):
        assert name in result.output
    assert "not created yet" in result.output  # the isolated data dir is empty


def test_doctor_fails_and_says_how_to_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no flite, espeak-ng or ffmpeg on PATH
    monkeypatch.setenv("VITAPHONE_REDIS_URL", f"redis://127.0.0.1:{_free_port()}/0")
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1, result.output
    assert "apt-get install -y flite" in result.output
    assert "flite text-to-speech" in result.output
    assert "redis-server --daemonize yes" in result.output
    assert "required thing(s) missing" in result.output


def test_binary_and_service_checks() -> None:
    assert doctor_module.check_binary("definitely-not-a-binary-x9", "pkg", True).status == "missing"
    assert doctor_module.check_binary("definitely-not-a-binary-x9", "pkg", False).status == "warn"
    assert doctor_module.check_redis(None).status == "warn"
    down = doctor_module.check_database(f"postgresql+asyncpg://u@127.0.0.1:{_free_port()}/x")
    assert down.status == "missing" and "PostgreSQL" in down.fix


@pytest.mark.redis
def test_doctor_redis_reachable(redis_url: str) -> None:
    assert doctor_module.check_redis(redis_url).status == "ok"


@pytest.mark.parametrize("command", [["db", "current"], ["doctor"]])
def test_a_bad_setting_with_markup_in_it_is_printed_literally(
        monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    monkeypatch.setenv("VITAPHONE_LABEL_POSITION", "[/bold]middle")
    result = runner.invoke(app, command)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.exception
    assert "[/bold]middle" in result.output  # was a rich MarkupError
