"""Settings: working defaults, one clear error line naming the variable, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from vitaphone.config import Settings, load_settings, mask_url
from vitaphone.core.errors import ConfigError


def test_defaults_give_a_single_machine(_isolated_settings: Path) -> None:
    settings = load_settings(env_file=None)
    assert settings.data_dir == _isolated_settings
    assert settings.database_url == f"sqlite+aiosqlite:///{_isolated_settings / 'vitaphone.db'}"
    assert settings.blobs_path == _isolated_settings / "blobs"
    assert settings.redis_url is None and settings.is_sqlite
    assert settings.limits.min_voice_sample_s == 5 and settings.limits.max_voice_sample_s == 60
    assert settings.device == "auto"


def test_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("VITAPHONE_LIMITS__MAX_QUOTE_CHARS=120\nVITAPHONE_DEVICE=cpu\n")
    monkeypatch.setenv("VITAPHONE_DATABASE_URL", "postgres://bot:pw@db.example:5432/vitaphone")
    monkeypatch.setenv("VITAPHONE_REDIS_URL", "redis://127.0.0.1:6379/2")
    settings = load_settings(env_file=env)
    assert settings.limits.max_quote_chars == 120 and settings.device == "cpu"
    assert settings.database_url == "postgresql+asyncpg://bot:pw@db.example:5432/vitaphone"
    assert not settings.is_sqlite and settings.redis_url == "redis://127.0.0.1:6379/2"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("VITAPHONE_DATABASE_URL", "not a url at all", "not a database URL"),
        ("VITAPHONE_DATABASE_URL", "mysql://u:p@h/d", "unsupported driver 'mysql'"),
        ("VITAPHONE_DATABASE_URL", "postgresql://h", "no database name"),
        ("VITAPHONE_LIMITS__MAX_QUOTE_CHARS", "-5", "greater than 0"),
        ("VITAPHONE_LIMITS__MAX_PORTRAIT_BYTES", "lots", "valid integer"),
        ("VITAPHONE_LIMITS__USER_JOBS_PER_HOUR", "0", "greater than 0"),
        ("VITAPHONE_LIMITS__MIN_VOICE_SAMPLE_S", "90", "is greater than VITAPHONE_LIMITS__MAX_VOICE_SAMPLE_S (60)"),
        ("VITAPHONE_LIMITS", "{oops", "could not be parsed"),
        ("VITAPHONE_DEVICE", "tpu", "'auto', 'cpu' or 'cuda'"),
        ("VITAPHONE_REDIS_URL", "http://localhost", "not a Redis URL"),
        ("VITAPHONE_C2PA_CERT_PATH", "/no/such/cert.pem", "no such file"),
        ("VITAPHONE_LABEL_TEXT", "", "at least 1 character"),
    ],
)
def test_bad_value_gives_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    line = str(caught.value)
    assert "\n" not in line
    assert line.startswith(variable), line
    assert expected in line, line
    assert caught.value.code == "bad_config"


def test_secrets_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITAPHONE_TELEGRAM_TOKEN", "123456:telegram-secret")
    monkeypatch.setenv("VITAPHONE_DISCORD_TOKEN", "discord-secret")
    monkeypatch.setenv("VITAPHONE_DATABASE_URL", "postgresql://u:db-secret@h/vitaphone")
    settings = load_settings(env_file=None)
    shown = repr(settings) + str(settings) + str(settings.redacted())
    for secret in ("telegram-secret", "discord-secret", "db-secret"):
        assert secret not in shown
    assert settings.telegram_token.get_secret_value() == "123456:telegram-secret"
    assert mask_url(settings.database_url) == "postgresql+asyncpg://u:***@h/vitaphone"
    # A bad value of a secret-bearing variable is not echoed back either.
    monkeypatch.setenv("VITAPHONE_DATABASE_URL", "mysql://u:db-secret@h/d")
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert "db-secret" not in str(caught.value)


def test_c2pa_paths_come_in_pairs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("VITAPHONE_C2PA_CERT_PATH", str(cert))
    with pytest.raises(ConfigError, match="VITAPHONE_C2PA_KEY_PATH"):
        load_settings(env_file=None)


def test_env_file_from_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = tmp_path / "prod.env"
    env.write_text("VITAPHONE_LABEL_POSITION=top-right\n")
    assert load_settings().label_position == "bottom"  # conftest points at an absent file
    monkeypatch.setenv("VITAPHONE_ENV_FILE", str(env))
    assert load_settings().label_position == "top-right"


def test_overrides_beat_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITAPHONE_DEVICE", "cuda")
    assert load_settings(env_file=None, device="cpu").device == "cpu"
    assert isinstance(load_settings(env_file=None), Settings)
