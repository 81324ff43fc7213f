"""The platform-free application service: consent, job, render, provenance.

Every front end (the CLI today; the queue worker and the bots later) goes through `Studio`:

    submit():  user + chat -> ban check -> consent record -> inputs into the blob store -> job
               (received -> awaiting_consent -> queued)
    run():     queued -> running(stage...) -> pipeline (label, watermark, C2PA always) ->
               output blob + provenance record -> done; a UserFacingError -> failed with its
               code and message (kept for the user), anything else -> failed "internal".

No render can happen without a consent record and a job, and every output gets a provenance
record whose watermark payload and manifest id lead back to them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vitaphone.config import Settings
from vitaphone.consent import ConsentBasis
from vitaphone.core.errors import Banned, UserFacingError
from vitaphone.core.pipeline import AnimateInputs, AnimateOptions, InputLimits, Marking

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Requester:
    """Who asks, in platform terms (the CLI uses platform "cli" and the OS user)."""

    platform: str
    user_id: str
    display_name: str | None = None
    chat_id: str | None = None
    chat_title: str | None = None


@dataclass(frozen=True)
class Submitted:
    job_id: str
    consent_id: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rendered:
    job_id: str
    path: Path
    output_sha256: str
    watermark_payload_hex: str
    manifest_id: str
    provenance_id: int
    duration_s: float
    size_bytes: int
    seconds: dict[str, float]
    notes: tuple[str, ...]


class JobFailed(UserFacingError):
    """A job ended in `failed`; message/hint/code are the stored user-facing ones."""


class Studio:
    """Owns the database engine, blob store and signing credentials of one process."""

    def __init__(self, settings: Settings) -> None:
        from vitaphone.storage.blobs import LocalBlobStore
        from vitaphone.storage.engine import create_engine, make_sessionmaker

        self.settings = settings
        self.engine = create_engine(settings.database_url)
        self.sessions = make_sessionmaker(self.engine)
        self.blobs = LocalBlobStore(settings.blobs_path)
        self._credentials = None

    async def aclose(self) -> None:
        await self.engine.dispose()

    @property
    def credentials(self):
        """The C2PA signing chain: the operator's, or ours (created on first use)."""
        if self._credentials is None:
            from vitaphone.core.marking.c2pa_credentials import (
                load_or_create_credentials,
            )

            self._credentials = load_or_create_credentials(
                self.settings.data_dir / "c2pa", cert_path=self.settings.c2pa_cert_path,
                key_path=self.settings.c2pa_key_path)
        return self._credentials

    def limits(self) -> InputLimits:
        lim = self.settings.limits
        return InputLimits(
            max_portrait_bytes=lim.max_portrait_bytes, max_portrait_pixels=lim.max_portrait_pixels,
            max_quote_chars=lim.max_quote_chars, max_audio_s=lim.max_audio_s,
            min_voice_sample_s=lim.min_voice_sample_s, max_voice_sample_s=lim.max_voice_sample_s)

    # --- submit ----------------------------------------------------------------------------
    async def submit(self, inputs: AnimateInputs, options: AnimateOptions,
                     basis: ConsentBasis, requester: Requester) -> Submitted:
        """Record the request and its consent; the job ends `queued`. Raises Banned."""
        from vitaphone.storage import records
        from vitaphone.storage.states import JobState

        portrait_sha = self.blobs.put(inputs.portrait)
        voice_sha = self.blobs.put(inputs.voice_sample) if inputs.voice_sample else None
        audio_sha = self.blobs.put(inputs.audio) if inputs.audio else None
        async with self.sessions.begin() as session:
            user = await records.get_or_create_user(session, requester.platform,
                                                    requester.user_id, requester.display_name)
            if user.banned:
                raise Banned("You are banned from making videos here.",
                             user.ban_reason or "Ask an admin if you think this is a mistake.")
            chat = None
            if requester.chat_id is not None:
                chat = await records.get_or_create_chat(session, requester.platform,
                                                        requester.chat_id, requester.chat_title)
            job = await records.create_job(
                session, user.id, chat_id=chat.id if chat else None, quote_text=inputs.text,
                portrait_sha256=portrait_sha, voice_sample_sha256=voice_sha,
                audio_sha256=audio_sha, params=_params(inputs, options))
            await records.transition_job(session, job.id, JobState.AWAITING_CONSENT)
            consent = await records.record_consent(
                session, user, basis, portrait_sha256=portrait_sha,
                voice_sample_sha256=voice_sha, chat_id=chat.id if chat else None)
            await records.transition_job(session, job.id, JobState.QUEUED,
                                         consent_id=consent.id, note=f"consent {basis.value}")
            return Submitted(job.id, consent.id)

    # --- run -------------------------------------------------------------------------------
    async def run(self, job_id: str, out_path: Path, progress: Progress | None = None) -> Rendered:
        """Render a queued job to `out_path`. Raises JobFailed with the user-facing reason."""
        from vitaphone.core.pipeline import animate
        from vitaphone.storage import records
        from vitaphone.storage.models import ConsentRecord
        from vitaphone.storage.states import JobState

        async with self.sessions.begin() as session:
            job = await records.transition_job(session, job_id, JobState.RUNNING, stage="start")
            consent = await session.get(ConsentRecord, job.consent_id)
            inputs, options = self._inputs_of(job)
            basis = consent.basis.value if consent is not None else ""
        payload = records.new_watermark_payload()
        marking = Marking(watermark_payload_hex=payload, credentials=self.credentials,
                          consent_basis=basis, job_id=job_id,
                          label_text=self.settings.label_text,
                          label_corner=self.settings.label_position)
        loop = asyncio.get_running_loop()
        stages: asyncio.Queue[str] = asyncio.Queue()

        def on_progress(stage: str, fraction: float) -> None:
            if fraction == 0.0:
                loop.call_soon_threadsafe(stages.put_nowait, stage)
            if progress is not None:
                progress(stage, fraction)

        recorder = asyncio.create_task(self._record_stages(job_id, stages))
        try:
            result = await asyncio.to_thread(animate, inputs, options, marking, out_path,
                                             on_progress)
        except UserFacingError as exc:
            await self._finish_stages(recorder, stages)
            await self._fail(job_id, exc.code, exc.message, exc.hint)
            raise JobFailed(exc.message, exc.hint, code=exc.code) from exc
        except Exception:
            await self._finish_stages(recorder, stages)
            ref = secrets.token_hex(4)
            log.exception("job %s failed (ref %s)", job_id, ref)
            await self._fail(job_id, "internal", f"Something went wrong (ref {ref}).", "")
            raise
        await self._finish_stages(recorder, stages)
        output_sha = self.blobs.put_file(result.path)
        async with self.sessions.begin() as session:
            record = await records.record_provenance(
                session, job_id=job_id, output_sha256=output_sha, watermark_payload_hex=payload,
                params={**_params(inputs, options), "notes": list(result.notes)},
                engines=result.engines, c2pa_manifest_id=result.manifest_id)
            await records.transition_job(session, job_id, JobState.DONE, output_sha256=output_sha)
            provenance_id = record.id
        return Rendered(job_id, result.path, output_sha, payload, result.manifest_id,
                        provenance_id, result.duration_s, result.size_bytes, result.seconds,
                        result.notes)

    def _inputs_of(self, job: Any) -> tuple[AnimateInputs, AnimateOptions]:
        """Rebuild the pipeline's inputs from the job row and the blob store (as a worker on
        another host would: nothing but ids and hashes travel in the job)."""
        params = dict(job.params)
        names = params.pop("names", {})
        inputs = AnimateInputs(
            portrait=self.blobs.get(job.portrait_sha256),
            portrait_name=names.get("portrait", "the portrait"),
            text=job.quote_text,
            audio=self.blobs.get(job.audio_sha256) if job.audio_sha256 else None,
            audio_name=names.get("audio", "the recording"),
            voice_sample=self.blobs.get(job.voice_sample_sha256) if job.voice_sample_sha256 else None,
            voice_sample_name=names.get("voice_sample", "the voice sample"),
        )
        device = self.settings.device if params.get("device") in (None, "auto") else params["device"]
        options = AnimateOptions(
            emotion=params["emotion"], intensity=params["intensity"], seed=params["seed"],
            language=params["language"], base_voice=params.get("base_voice"), device=device,
            head_motion_amplitude=params.get("head_motion_amplitude", 1.0),
            size_budget_bytes=params.get("size_budget_bytes"), limits=self.limits())
        return inputs, options

    async def _record_stages(self, job_id: str, stages: asyncio.Queue[str]) -> None:
        from vitaphone.storage import records
        from vitaphone.storage.states import JobState

        while True:
            stage = await stages.get()
            if stage == "":
                return
            async with self.sessions.begin() as session:
                await records.transition_job(session, job_id, JobState.RUNNING, stage=stage)

    async def _finish_stages(self, recorder: asyncio.Task[None], stages: asyncio.Queue[str]) -> None:
        await asyncio.sleep(0)  # let call_soon_threadsafe callbacks land first
        stages.put_nowait("")
        await recorder

    async def _fail(self, job_id: str, code: str, message: str, hint: str) -> None:
        from vitaphone.storage import records
        from vitaphone.storage.states import JobState

        text = f"{message} {hint}".strip()
        async with self.sessions.begin() as session:
            await records.transition_job(session, job_id, JobState.FAILED, error_code=code,
                                         error_message=text)


def _params(inputs: AnimateInputs, options: AnimateOptions) -> dict[str, Any]:
    """JSON-safe render parameters stored with the job and its provenance."""
    params = {k: v for k, v in asdict(options).items() if k != "limits"}
    params["emotion"] = getattr(options.emotion, "value", options.emotion)
    params["names"] = {"portrait": inputs.portrait_name, "audio": inputs.audio_name,
                       "voice_sample": inputs.voice_sample_name}
    return params
