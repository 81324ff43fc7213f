"""The SQL schema: users and chats, consent, jobs and their transitions, provenance, moderation.

Personal fields (display names, platform ids, quote text, posted message ids) are nullable so
`records.forget_user` can erase them; hashes and watermark ids stay so past videos still verify.
Hashes are lowercase hex sha256 (64 chars); times are timezone-aware UTC.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum as PyEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vitaphone.consent import ConsentBasis
from vitaphone.storage.base import Base, JsonType, UtcDateTime, utcnow
from vitaphone.storage.states import JobState

Sha256 = String(64)


def _enum(cls: type[PyEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR of the values plus a named CHECK constraint."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def new_job_id() -> str:
    """A random job id: 32 lowercase hex characters (also used as the arq job id)."""
    return uuid.uuid4().hex


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))  # "discord", "telegram", "cli"
    platform_user_id: Mapped[str | None] = mapped_column(String(64))  # None once forgotten
    display_name: Mapped[str | None] = mapped_column(String(200))
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    ban_reason: Mapped[str | None] = mapped_column(Text)
    forgotten_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Chat(Base):
    """A group chat, guild channel or private conversation, with its per-chat settings."""

    __tablename__ = "chats"
    __table_args__ = (
        UniqueConstraint("platform", "platform_chat_id"),
        CheckConstraint("user_jobs_per_hour IS NULL OR user_jobs_per_hour > 0", name="user_rate"),
        CheckConstraint("chat_jobs_per_hour IS NULL OR chat_jobs_per_hour > 0", name="chat_rate"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_chat_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    review_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Values of ConsentBasis this chat accepts.
    allowed_consent_bases: Mapped[list[str]] = mapped_column(
        JsonType, default=lambda: [b.value for b in ConsentBasis]
    )
    # None: use the global limits from settings.
    user_jobs_per_hour: Mapped[int | None] = mapped_column(Integer)
    chat_jobs_per_hour: Mapped[int | None] = mapped_column(Integer)
    # Where Report and moderation notices go (a platform chat/channel id); None: nowhere.
    mod_log_chat_id: Mapped[str | None] = mapped_column(String(64))


class ConsentRecord(Base):
    """Who agreed to which exact statement, covering which portrait and voice sample."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id"))
    platform: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    basis: Mapped[ConsentBasis] = mapped_column(_enum(ConsentBasis, "consent_basis"))
    statement_version: Mapped[str] = mapped_column(String(32))
    statement_text_sha256: Mapped[str] = mapped_column(Sha256)
    portrait_sha256: Mapped[str] = mapped_column(Sha256, index=True)
    voice_sample_sha256: Mapped[str | None] = mapped_column(Sha256)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship(lazy="raise")


class Job(Base):
    """One request to render a video, moving through the state machine in `states.py`.

    `version` is bumped by every UPDATE (optimistic locking: a stale write raises instead of
    silently overwriting); PostgreSQL additionally takes a row lock in `records.transition_job`.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        Index(None, "user_id", "created_at"),
        Index(None, "chat_id", "created_at"),
        Index(None, "state", "created_at"),  # queue length, queue position, the sweeper
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_job_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id"))
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent_records.id"))
    state: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), default=JobState.RECEIVED)
    stage: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    # The request: quote (personal, erased by forget_user), input blob hashes, options.
    quote_text: Mapped[str | None] = mapped_column(Text)
    portrait_sha256: Mapped[str | None] = mapped_column(Sha256)
    voice_sample_sha256: Mapped[str | None] = mapped_column(Sha256)
    audio_sha256: Mapped[str | None] = mapped_column(Sha256)
    params: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # Where to answer (platform chat/message ids; erased by forget_user).
    reply_to: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    output_sha256: Mapped[str | None] = mapped_column(Sha256)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Retention (`vitaphone gc`): when the input blobs of this finished job were deleted.
    inputs_deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Who runs it now (`kind:host:pid:tag`, see storage.leases) and when it last said so; a
    # stale heartbeat sends the job back to the queue. Heartbeats do not bump `version`.
    worker_id: Mapped[str | None] = mapped_column(String(100))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set by a user or admin; the running worker stops at its next batch of frames.
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Worker(Base):
    """A process that runs jobs (`vitaphone worker`, an in-process pool, a CLI render)."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "arq", "inprocess", "cli"
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    device: Mapped[str] = mapped_column(String(32))
    concurrency: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class JobTransition(Base):
    """One recorded move of a job (including running -> running stage changes)."""

    __tablename__ = "job_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[JobState | None] = mapped_column(_enum(JobState, "from_state"))
    to_state: Mapped[JobState] = mapped_column(_enum(JobState, "to_state"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    stage: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)


class Provenance(Base):
    """What made one output video: enough to verify it and to take it down later."""

    __tablename__ = "provenance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), unique=True)
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent_records.id"))
    portrait_sha256: Mapped[str | None] = mapped_column(Sha256)
    voice_sample_sha256: Mapped[str | None] = mapped_column(Sha256)
    audio_sha256: Mapped[str | None] = mapped_column(Sha256)
    output_sha256: Mapped[str] = mapped_column(Sha256, index=True)
    quote_text: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    engines: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    watermark_payload_hex: Mapped[str] = mapped_column(String(16), unique=True)
    c2pa_manifest_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    # The output's content fingerprint (core.marking.fingerprint): its duration and the
    # perceptual hashes of its frames, so verify tells an edited copy from a forged mark.
    output_duration_s: Mapped[float | None] = mapped_column(Float)
    content_fingerprint: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    posted_to: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    taken_down: Mapped[bool] = mapped_column(Boolean, default=False)
    takedown_reason: Mapped[str | None] = mapped_column(Text)
    taken_down_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Retention (`vitaphone gc`): when the output blob was deleted (the hashes stay: a copy
    # someone kept still verifies).
    output_deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditLog(Base):
    """Every moderator or operator action. Targets name internal ids (`user:12`, `job:ab12…`)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Ban(Base):
    """A ban of a user, everywhere (`chat_id` None) or in one chat; `lifted_at` ends it."""

    __tablename__ = "bans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id"))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Report(Base):
    """A user's report about a video (by provenance) or a job, for moderators to resolve."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    provenance_id: Mapped[int | None] = mapped_column(ForeignKey("provenance.id"), index=True)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)


class BotRequest(Base):
    """A chat request on its way through the consent step, then the job it became.

    `request` holds the attachments' platform handles and the raw options (the quote is personal:
    erased by forget); `answers` the consent answers so far; `where` the platform refs to answer
    in (chat, the user's message, our consent message, our progress message). `closed_at` is set
    once delivery has nothing left to do, so a restarted bot resumes only the open ones.
    """

    __tablename__ = "bot_requests"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id"))
    state: Mapped[str] = mapped_column(String(16), default="asking")  # asking|submitted|cancelled
    request: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    answers: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    where: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


class BotOutbox(Base):
    """One message the bots posted for a job (the video, a copy in the mod log).

    The row is claimed (unique job + kind) before posting and gets its message id after, so a
    restarted bot never posts the same video twice, and a takedown deletes every copy.
    """

    __tablename__ = "bot_outbox"
    __table_args__ = (UniqueConstraint("job_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "video"
    platform: Mapped[str] = mapped_column(String(32))
    platform_chat_id: Mapped[str | None] = mapped_column(String(64))
    platform_message_id: Mapped[str | None] = mapped_column(String(64))
    extra: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A takedown sets this; whichever bot process serves the platform deletes the message.
    delete_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
