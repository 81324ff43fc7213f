"""Settings from `VITAPHONE_*` environment variables and an optional `.env` file.

The defaults give a working single machine: SQLite and blobs under one data directory, the
in-process queue (no Redis), no bots. The data directory defaults to the platform's per-user data
directory (`~/.local/share/vitaphone` on Linux) so every `vitaphone` command finds the same
database whatever the current directory; set `VITAPHONE_DATA_DIR` to move it.

`VITAPHONE_ENV_FILE` names another env file. Nested limits are set with a double underscore: `VITAPHONE_LIMITS__MAX_QUOTE_CHARS=200`.
`load_settings()` turns every validation failure into one `ConfigError` line naming the variable.
Secrets (bot tokens, passwords inside URLs) never appear in `repr`, logs or error messages.
"""

from __future__ import annotations

import os
import re
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from vitaphone.core.errors import ConfigError
from vitaphone.core.limits import InputLimits

ENV_PREFIX = "VITAPHONE_"
NESTED_DELIMITER = "__"

PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]

# Async drivers we run on, and what a plain scheme is taken to mean.
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_SCHEME_ALIASES = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+psycopg",
}


def default_data_dir() -> Path:
    """The per-user data directory (`~/.local/share/vitaphone` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("vitaphone", appauthor=False))


def mask_url(url: str | None) -> str:
    """`url` with any password replaced by `***` (safe to print)."""
    if not url:
        return ""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


_CORE_LIMITS = InputLimits()  # the input limits' defaults live in the core, once


class Limits(BaseModel):
    """Input limits and rate limits; every number must be positive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_portrait_bytes: PositiveInt = _CORE_LIMITS.max_portrait_bytes
    max_portrait_pixels: PositiveInt = _CORE_LIMITS.max_portrait_pixels
    max_quote_chars: PositiveInt = _CORE_LIMITS.max_quote_chars
    max_audio_s: PositiveFloat = _CORE_LIMITS.max_audio_s
    min_voice_sample_s: PositiveFloat = _CORE_LIMITS.min_voice_sample_s
    max_voice_sample_s: PositiveFloat = _CORE_LIMITS.max_voice_sample_s
    user_jobs_per_hour: PositiveInt = 10
    chat_jobs_per_hour: PositiveInt = 60
    # Synthesised speech longer than this is refused before rendering (a 299-digit quote is
    # 300 characters but over four minutes of speech).
    max_speech_s: PositiveFloat = _CORE_LIMITS.max_speech_s

    @model_validator(mode="after")
    def _voice_sample_range(self) -> Limits:
        if self.min_voice_sample_s > self.max_voice_sample_s:
            raise ValueError(
                f"{ENV_PREFIX}LIMITS__MIN_VOICE_SAMPLE_S ({self.min_voice_sample_s:g}) is greater "
                f"than {ENV_PREFIX}LIMITS__MAX_VOICE_SAMPLE_S ({self.max_voice_sample_s:g})"
            )
        return self

    def input_limits(self) -> InputLimits:
        """The core's view: the input limits without the rate limits."""
        return InputLimits(**{f.name: getattr(self, f.name) for f in fields(InputLimits)})


class QueueSettings(BaseModel):
    """The job queue and its workers (`VITAPHONE_QUEUE__LEASE_S=30`, ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field("vitaphone", min_length=1, max_length=100)  # arq queue (Redis key)
    concurrency: PositiveInt = 1  # jobs at once per worker process / in-process pool
    lease_s: PositiveFloat = 15.0  # a running job with no heartbeat for this long is re-queued
    sweep_s: PositiveInt = 5  # how often the sweeper looks for lost jobs
    max_attempts: PositiveInt = 3  # runs of one job before it is failed for good
    retry_base_s: PositiveFloat = 2.0  # transient errors retry after 2, 4, 8 ... s
    poll_s: PositiveFloat = 0.02  # how often an idle arq worker asks Redis for work
    drain_s: PositiveInt = 60  # on SIGTERM, how long running jobs may finish before re-queueing
    job_timeout_s: PositiveInt = 3600


class Retention(BaseModel):
    """How long `vitaphone gc` keeps blobs (`VITAPHONE_RETENTION__INPUT_DAYS=3`, ...).

    Inputs (portraits, voice samples, recordings) of done jobs go `input_days` after the job
    finished; those of failed, cancelled or rejected jobs at the next gc. An output video stays
    while a posted message references it, else `output_days` after it was made; a taken-down
    video and everything of a forgotten user goes at the next gc. Hashes stay in SQL, so a
    copy someone kept still verifies.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_days: PositiveFloat = 7.0
    output_days: PositiveFloat = 30.0


LabelPosition = Literal["top", "bottom", "top-left", "top-right", "bottom-left", "bottom-right"]


class Settings(BaseSettings):
    """Everything a Vitaphone process reads from its environment. Build with `load_settings()`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED_DELIMITER,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    # Empty means `sqlite+aiosqlite:///<data_dir>/vitaphone.db`; filled in after validation.
    database_url: str = Field("", repr=False)
    # None: jobs run on the in-process queue of the same process (no Redis, no arq worker).
    redis_url: str | None = Field(None, repr=False)
    # Empty means `<data_dir>/blobs`.
    blob_dir: Path | None = None
    # Blob store: unset = local `blob_dir`; a directory; or s3://bucket/prefix, shared by a fleet
    # (storage/blobs_s3.py). The S3 settings apply to s3:// only; unset keys come from AWS_* / roles.
    blob_url: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = Field(None, repr=False)
    s3_secret_access_key: SecretStr | None = None
    # Local cache of S3 blobs for libraries that want a file path (least recently used go first).
    blob_cache_max_bytes: PositiveInt = 2 * 1024**3
    discord_token: SecretStr | None = None
    telegram_token: SecretStr | None = None
    # A local Bot API server (lifts the 20 MB download limit); the token is appended to each.
    telegram_base_url: str | None = None
    telegram_base_file_url: str | None = None
    # Bot owners, admins everywhere: "telegram:123,discord:456".
    admins: str = ""
    limits: Limits = Field(default_factory=Limits)
    retention: Retention = Field(default_factory=Retention)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    label_text: str = Field("AI-generated · synthetic", min_length=1, max_length=80)
    label_position: LabelPosition = "bottom"
    c2pa_cert_path: Path | None = None
    c2pa_key_path: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return normalize_database_url(value) if value.strip() else ""

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not re.match(r"^(redis|rediss|unix)://", value):
            raise ValueError(
                "not a Redis URL (expected redis://host:6379/0, rediss://… or unix://…)"
            )
        return value

    @field_validator("admins")
    @classmethod
    def _check_admins(cls, value: str) -> str:
        for item in (a.strip() for a in value.split(",")):
            if item and not re.match(r"^(telegram|discord):\d+$", item, re.IGNORECASE):
                raise ValueError(f"{item!r} is not platform:user_id (e.g. telegram:123)")
        return value

    @field_validator("blob_url")
    @classmethod
    def _check_blob_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if value.startswith("s3://"):
            from vitaphone.storage.blobs_s3 import parse_s3_url

            bucket, prefix = parse_s3_url(value)
            return f"s3://{bucket}/{prefix}".rstrip("/")
        value = value.removeprefix("file://")
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://", value):
            raise ValueError("expected s3://bucket/prefix or a local directory")
        return str(Path(value).expanduser().absolute())

    @field_validator("s3_endpoint_url")
    @classmethod
    def _check_s3_endpoint_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.match(r"^https?://[^/\s]+", value.strip()):
            raise ValueError("not an http(s) URL (expected e.g. http://minio.internal:9000)")
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _s3_key_pair(self) -> Settings:
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise ValueError(f"{ENV_PREFIX}S3_ACCESS_KEY_ID and {ENV_PREFIX}S3_SECRET_ACCESS_KEY "
                             "must be set together")
        return self

    @field_validator("c2pa_cert_path", "c2pa_key_path")
    @classmethod
    def _check_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_file():
            raise ValueError(f"no such file: {value}")
        return value.expanduser() if value is not None else None

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().absolute()
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{(self.data_dir / 'vitaphone.db')}"
        if self.blob_dir is None:
            self.blob_dir = self.data_dir / "blobs"
        self.blob_dir = self.blob_dir.expanduser().absolute()
        if (self.c2pa_cert_path is None) != (self.c2pa_key_path is None):
            raise ValueError(
                f"{ENV_PREFIX}C2PA_CERT_PATH and {ENV_PREFIX}C2PA_KEY_PATH must be set together"
            )
        return self

    @property
    def blobs_path(self) -> Path:
        """`blob_dir`, never None after validation."""
        assert self.blob_dir is not None
        return self.blob_dir

    @property
    def admin_ids(self) -> frozenset[str]:
        """`admins` as "platform:user_id" strings."""
        return frozenset(a.strip().lower() for a in self.admins.split(",") if a.strip())

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def embedded_database(self) -> bool:
        """The default SQLite file in the data dir: created and migrated on first use. Any
        other database is migrated only by `vitaphone db upgrade`."""
        return self.database_url == f"sqlite+aiosqlite:///{self.data_dir / 'vitaphone.db'}"

    def redacted(self) -> dict[str, Any]:
        """Settings as plain values with secrets masked, for `vitaphone doctor` and logs."""
        out = self.model_dump(mode="json")
        out["database_url"] = mask_url(self.database_url)
        out["redis_url"] = mask_url(self.redis_url) or None
        for key in ("discord_token", "telegram_token", "s3_secret_access_key"):
            out[key] = "**********" if getattr(self, key) is not None else None
        return out


def normalize_database_url(value: str) -> str:
    """Parse a database URL and give it an async driver (`postgres://` -> `postgresql+asyncpg://`).

    Raises ValueError (without echoing the URL, which may hold a password) when SQLAlchemy cannot
    parse it or the backend is not SQLite or PostgreSQL.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    value = value.strip()
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise ValueError(
            "not a database URL SQLAlchemy can parse "
            "(expected e.g. postgresql+asyncpg://user:password@host:5432/vitaphone "
            "or sqlite+aiosqlite:///path/to/vitaphone.db)"
        ) from None
    driver = _SCHEME_ALIASES.get(url.drivername, url.drivername)
    if driver == "postgresql+psycopg":
        driver = "postgresql+asyncpg"  # one async PostgreSQL driver to test and support
    if driver not in _ASYNC_DRIVERS.values():
        raise ValueError(
            f"unsupported driver {url.drivername!r} "
            "(use postgresql+asyncpg://… or sqlite+aiosqlite:///…)"
        )
    if driver.startswith("postgresql") and not url.database:
        raise ValueError("no database name (expected postgresql+asyncpg://user@host:5432/NAME)")
    return url.set(drivername=driver).render_as_string(hide_password=False)


def _env_name(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if isinstance(p, str)]
    return ENV_PREFIX + NESTED_DELIMITER.join(parts).upper()


_SECRET_FIELDS = {"database_url", "redis_url", "discord_token", "telegram_token",
                  "s3_access_key_id", "s3_secret_access_key"}


def _error_line(exc: ValidationError) -> ConfigError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = first.get("loc", ())
    msg = str(first.get("msg", "is invalid"))
    msg = msg.removeprefix("Value error, ")
    if msg.startswith(ENV_PREFIX):  # a cross-field check; its message names the variables
        line = f"{msg}."
    elif not loc:
        line = f"Invalid configuration: {msg}."
    else:
        name = _env_name(loc)
        shown = ""
        if not (set(map(str, loc)) & _SECRET_FIELDS) and "input" in first:
            shown = f" (got {first['input']!r})"
        if isinstance(first.get("input"), dict):
            shown = ""
        line = f"{name}: {msg[:1].lower()}{msg[1:]}{shown}."
    more = len(errors) - 1
    if more:
        line = line[:-1] + f" (and {more} more problem{'s' if more > 1 else ''})."
    return ConfigError(line, "Fix the variable in the environment or in .env.")


def load_settings(env_file: str | Path | None = "", **overrides: Any) -> Settings:
    """Read settings from the environment (and `env_file` when it exists).

    `env_file` defaults to `$VITAPHONE_ENV_FILE`, else `.env` in the current directory; None
    reads no file.
    `overrides` take precedence over the environment (used by tests and CLI options).
    Raises ConfigError whose message is one line naming the offending `VITAPHONE_*` variable.
    """
    if env_file == "":
        env_file = os.environ.get(f"{ENV_PREFIX}ENV_FILE") or ".env"
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise _error_line(exc) from None
    except SettingsError as exc:
        # Raised for nested values that are not valid JSON, e.g. VITAPHONE_LIMITS=oops.
        field = re.search(r'field "([^"]+)"', str(exc))
        name = ENV_PREFIX + (field.group(1).upper() if field else "*")
        raise ConfigError(
            f"{name} could not be parsed (expected JSON for a nested setting, or set "
            f"{name}{NESTED_DELIMITER}<FIELD> variables).",
            "Fix the variable in the environment or in .env.",
        ) from None
