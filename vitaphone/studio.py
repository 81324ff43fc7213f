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
import contextlib
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vitaphone.config import Settings
from vitaphone.consent import ConsentBasis
from vitaphone.core.errors import Banned, UserFacingError
from vitaphone.core.request import AnimateInputs, AnimateOptions, InputLimits, Marking
from vitaphone.storage.states import JobState
from vitaphone.workspace import (
    RenderStopped,
    RunControl,
    StopReason,
    open_work_dir,
    remove_work_dir,
)

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
HEARTBEAT_S = 0.5  # stage, progress and heartbeat reach SQL at least this often while running


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
    state: str = "queued"  # or "awaiting_review" in a chat that requires review


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
    """A job ended in `failed` (or `cancelled`: code "cancelled"); message/hint/code are the
    stored user-facing ones."""


class NotClaimable(Exception):
    """`Studio.run` was given a job that is not `queued` (done, running elsewhere, cancelled)."""

    def __init__(self, job_id: str, state: JobState) -> None:
        super().__init__(f"job {job_id} is {state.value}, not queued")
        self.job_id, self.state = job_id, state


class JobLost(Exception):
    """The job stopped being ours mid-run (the sweeper re-queued it): nothing was recorded."""


# Platforms whose requests are not rate-limited: the CLI runs as the machine's own user.
UNMETERED_PLATFORMS = frozenset({"cli"})


class Studio:
    """Owns the database engine, blob store and signing credentials of one process."""

    def __init__(self, settings: Settings) -> None:
        from vitaphone.storage.blobs import open_blob_store
        from vitaphone.storage.engine import create_engine, make_sessionmaker, private_dir

        self.settings = settings
        private_dir(settings.data_dir)  # keys, the SQLite file, logs: the owner's alone
        self.engine = create_engine(settings.database_url)
        self.sessions = make_sessionmaker(self.engine)
        self.blobs = open_blob_store(settings)  # local disk, or S3 shared by a fleet
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
        return self.settings.limits.input_limits()

    # --- submit ----------------------------------------------------------------------------
    async def submit(self, inputs: AnimateInputs, options: AnimateOptions,
                     basis: ConsentBasis, requester: Requester) -> Submitted:
        """Record the consent, then the job: `queued`, or `awaiting_review` where the chat
        requires review.

        In this order: ban and hourly quotas (Banned, RateLimited), the intake's cheap checks of
        every input (`intake.check_request`: BadImage, BadAudio, TextTooLong, ...), and only
        then the blobs, the consent record and the job. A refused request stores nothing but
        the user and chat rows. The stored quote and names have no control characters, and
        `options.language` None is resolved from the quote's script."""
        from vitaphone import intake

        requester = _cleaned(requester)
        async with self.sessions.begin() as session:  # ban and quota first: they cost nothing
            await self._admit(session, requester)
        # Cheap checks of every input (milliseconds; PyAV decodes a clip in a thread): a
        # refused request stores nothing.
        inputs, options = await asyncio.to_thread(intake.check_request, inputs, options,
                                                  self.limits())
        fresh: list[str] = []  # blobs this request added, removed again if it fails
        try:
            portrait_sha = await self._store(inputs.portrait, fresh)
            voice_sha = await self._store(inputs.voice_sample, fresh)
            audio_sha = await self._store(inputs.audio, fresh)
            async with self.sessions.begin() as session:
                return await self._record(session, requester, inputs, options, basis,
                                          portrait_sha, voice_sha, audio_sha)
        except BaseException:
            for sha256 in fresh:
                await self.blobs.adelete(sha256)
            raise

    async def _admit(self, session: Any, requester: Requester) -> tuple[Any, Any]:
        """The user and chat rows; raises Banned, then RateLimited (the CLI is not metered:
        it is the operator's own machine)."""
        from vitaphone.storage import records
        from vitaphone.storage.quota import check_quota

        user = await records.get_or_create_user(session, requester.platform,
                                                requester.user_id, requester.display_name)
        if user.banned:
            raise Banned("You are banned from making videos here.",
                         user.ban_reason or "Ask an admin if you think this is a mistake.")
        chat = None
        if requester.chat_id is not None:
            chat = await records.get_or_create_chat(session, requester.platform,
                                                    requester.chat_id, requester.chat_title)
        if requester.platform not in UNMETERED_PLATFORMS:
            limits = self.settings.limits
            await check_quota(session, user, chat, user_jobs_per_hour=limits.user_jobs_per_hour,
                              chat_jobs_per_hour=limits.chat_jobs_per_hour)
        return user, chat

    async def _store(self, data: bytes | None, fresh: list[str]) -> str | None:
        if data is None:
            return None
        from vitaphone.storage.blobs import sha256_bytes

        if not await self.blobs.aexists(sha256_bytes(data)):
            fresh.append(await self.blobs.aput(data))
        return sha256_bytes(data)

    async def _record(self, session: Any, requester: Requester, inputs: AnimateInputs,
                      options: AnimateOptions, basis: ConsentBasis, portrait_sha: str | None,
                      voice_sha: str | None, audio_sha: str | None) -> Submitted:
        """Consent record, then the job, in the caller's transaction (ban and quota re-checked:
        another request may have landed while the inputs were checked)."""
        from vitaphone.storage import records
        from vitaphone.storage.states import JobState

        user, chat = await self._admit(session, requester)
        # The consent record comes first: no job exists without one.
        consent = await records.record_consent(
            session, user, basis, portrait_sha256=portrait_sha,
            voice_sample_sha256=voice_sha, chat_id=chat.id if chat else None)
        job = await records.create_job(
            session, user.id, chat_id=chat.id if chat else None, quote_text=inputs.text,
            portrait_sha256=portrait_sha, voice_sample_sha256=voice_sha,
            audio_sha256=audio_sha, params=_params(inputs, options), consent_id=consent.id)
        # A chat that requires review holds the job until a moderator approves it.
        state = (JobState.AWAITING_REVIEW if chat is not None and chat.review_required
                 else JobState.QUEUED)
        await records.transition_job(session, job.id, JobState.AWAITING_CONSENT)
        await records.transition_job(session, job.id, state, note=f"consent {basis.value}")
        return Submitted(job.id, consent.id, state=state.value)

    # --- run -------------------------------------------------------------------------------
    async def run(self, job_id: str, out_path: Path, progress: Progress | None = None, *,
                  worker_id: str | None = None, control: RunControl | None = None,
                  on_interrupt: str = "cancel", record_errors: bool = True) -> Rendered:
        """Claim a queued job, render it and move the video to `out_path` once its provenance
        row is committed. Raises JobFailed with the user-facing reason (code "cancelled" when a
        user or admin cancelled it), NotClaimable when the job is not `queued`.

        Stage, progress and a heartbeat go to SQL at least every second; a cancel request (or
        `control.stop`) stops the render at its next batch of frames. Partial output lives in
        `<out dir>/.vitaphone-<job_id>/` and is removed whatever happens. If this task is
        cancelled (Ctrl-C, worker shutdown) the job becomes `cancelled` (`on_interrupt=
        "cancel"`) or goes back to the queue (`"requeue"`), and the render thread stops within
        a batch. With `record_errors=False`, unexpected exceptions propagate without touching
        the job, for a queue that retries transient ones.
        """
        from vitaphone.core.pipeline import animate
        from vitaphone.storage import leases, records
        from vitaphone.storage.models import ConsentRecord

        worker_id = worker_id or leases.new_worker_id("cli")
        control = control or RunControl()
        async with self.sessions.begin() as session:
            job = await leases.claim(session, job_id, worker_id)
            if job is None:
                raise NotClaimable(job_id, (await records.get_job(session, job_id)).state)
            consent = await session.get(ConsentRecord, job.consent_id)
            basis = consent.basis.value if consent is not None else ""
        try:
            inputs, options = await self._inputs_of(job)
            if control.reason is StopReason.CANCEL:  # before the render, which checks itself
                raise RenderStopped(StopReason.CANCEL)
        except Exception as exc:
            if control.reason is StopReason.CANCEL or await self._cancel_requested(job_id):
                # /forgetme cancels, then erases the inputs this was reading: a cancel, not a
                # failure.
                await self._end(job_id, worker_id, JobState.CANCELLED, "stopped: cancel requested")
                raise JobFailed("The job was cancelled.", "", code="cancelled") from None
            if not isinstance(exc, UserFacingError):
                raise
            await self._end(job_id, worker_id, JobState.FAILED, "bad input", exc.code,
                            f"{exc.message} {exc.hint}".strip())
            raise JobFailed(exc.message, exc.hint, code=exc.code) from exc
        payload = records.new_watermark_payload()
        marking = Marking(watermark_payload_hex=payload, credentials=self.credentials,
                          consent_basis=basis, job_id=job_id,
                          label_text=self.settings.label_text,
                          label_corner=self.settings.label_position)
        work = open_work_dir(Path(out_path).parent, job_id)
        loop = asyncio.get_running_loop()
        stages: asyncio.Queue[str] = asyncio.Queue()

        def on_progress(stage: str, fraction: float) -> None:  # on the render thread
            control.report(stage, fraction)  # raises RenderStopped once stopped
            if fraction == 0.0:
                loop.call_soon_threadsafe(stages.put_nowait, stage)
            if progress is not None:
                progress(stage, fraction)

        def render() -> Any:
            try:
                return animate(inputs, options, marking, work / Path(out_path).name, on_progress)
            finally:
                if control.stopped:  # we were given up on: leave nothing behind
                    remove_work_dir(work)

        recorder = asyncio.create_task(self._record_stages(job_id, stages))
        beats_done = asyncio.Event()
        beater = asyncio.create_task(self._heartbeat(job_id, worker_id, control, beats_done))
        rendering = asyncio.ensure_future(asyncio.to_thread(render))
        try:
            try:
                result = await asyncio.shield(rendering)
            except asyncio.CancelledError:
                control.stop(StopReason.INTERRUPT)  # the render thread stops at its next batch
                raise
            finally:
                # Never cancel a beat mid-transaction: on SQLite the abandoned connection would
                # keep the write lock until it is garbage-collected.
                beats_done.set()
                await asyncio.shield(beater)
                await self._finish_stages(recorder, stages)
            output_sha = await self.blobs.aput_file(result.path)
            from vitaphone.core.marking.marks import fingerprint_video  # what verify compares
            fingerprint = await asyncio.to_thread(fingerprint_video, result.path)
            async with self.sessions.begin() as session:
                if not await leases.owns(session, job_id, worker_id):
                    raise RenderStopped(StopReason.LOST)
                record = await records.record_provenance(
                    session, job_id=job_id, output_sha256=output_sha,
                    watermark_payload_hex=payload,
                    params={**_params(inputs, options), "notes": list(result.notes),
                            "duration_s": result.duration_s, "size_bytes": result.size_bytes},
                    engines=result.engines, c2pa_manifest_id=result.manifest_id,
                    output_duration_s=result.duration_s,
                    content_fingerprint=fingerprint.as_json())
                await records.transition_job(session, job_id, JobState.DONE,
                                             output_sha256=output_sha)
                provenance_id = record.id
            os.replace(result.path, out_path)  # only now: the video has its provenance row
        except asyncio.CancelledError:
            control.stop(StopReason.INTERRUPT)
            await asyncio.wait({rendering}, timeout=0.8)  # a batch is well under that
            remove_work_dir(work)
            to = JobState.QUEUED if on_interrupt == "requeue" else JobState.CANCELLED
            await asyncio.shield(self._end(job_id, worker_id, to, "interrupted", "cancelled",
                                           "The render was interrupted."))
            raise
        except RenderStopped as exc:
            if exc.reason is StopReason.LOST:
                raise JobLost(job_id) from None
            await self._end(job_id, worker_id, JobState.CANCELLED, "stopped: cancel requested")
            raise JobFailed("The job was cancelled.", "", code="cancelled") from None
        except UserFacingError as exc:
            await self._end(job_id, worker_id, JobState.FAILED, "bad input", exc.code,
                            f"{exc.message} {exc.hint}".strip())
            raise JobFailed(exc.message, exc.hint, code=exc.code) from exc
        except Exception:
            if record_errors:
                ref = secrets.token_hex(4)
                log.exception("job %s failed (ref %s)", job_id, ref)
                await self._end(job_id, worker_id, JobState.FAILED, "internal error", "internal",
                                f"Something went wrong (ref {ref}).")
            raise
        finally:
            remove_work_dir(work)
        return Rendered(job_id, Path(out_path), output_sha, payload, result.manifest_id,
                        provenance_id, result.duration_s, result.size_bytes, result.seconds,
                        result.notes)

    async def _cancel_requested(self, job_id: str) -> bool:
        from vitaphone.storage import records

        async with self.sessions() as session:
            return (await records.get_job(session, job_id)).cancel_requested_at is not None

    async def _end(self, job_id: str, worker_id: str, to: JobState, note: str,
                   error_code: str | None = None, error_message: str | None = None) -> None:
        """Leave `running` (if the job is still ours) for `to`."""
        from vitaphone.storage import leases

        async with self.sessions.begin() as session:
            await leases.release(session, job_id, worker_id, to, note=note,
                                 error_code=error_code, error_message=error_message)

    async def _heartbeat(self, job_id: str, worker_id: str, control: RunControl,
                         done: asyncio.Event) -> None:
        """Every HEARTBEAT_S until `done`: stage, progress and heartbeat to SQL; stop the render
        on a cancel request or when the job is no longer ours. A database hiccup skips a beat."""
        from vitaphone.storage import leases

        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), HEARTBEAT_S)
            if done.is_set():
                return
            stage = control.stage
            try:
                async with self.sessions.begin() as session:
                    beat = await leases.beat(session, job_id, worker_id, stage,
                                             leases.overall_progress(stage, control.fraction))
            except Exception as exc:  # noqa: BLE001 - keep rendering; the sweeper has the lease
                log.warning("job %s: heartbeat not recorded: %s", job_id, exc)
                continue
            if beat is leases.Beat.CANCEL:
                control.stop(StopReason.CANCEL)
            elif beat is leases.Beat.LOST:
                control.stop(StopReason.LOST)

    async def _inputs_of(self, job: Any) -> tuple[AnimateInputs, AnimateOptions]:
        """Rebuild the pipeline's inputs from the job row and the blob store (as a worker on
        another host would: nothing but ids and hashes travel in the job)."""
        params = dict(job.params)
        names = params.pop("names", {})
        inputs = AnimateInputs(
            portrait=await self.blobs.aget(job.portrait_sha256),
            portrait_name=names.get("portrait", "the portrait"),
            text=job.quote_text,
            audio=await self.blobs.aget(job.audio_sha256) if job.audio_sha256 else None,
            audio_name=names.get("audio", "the recording"),
            voice_sample=(await self.blobs.aget(job.voice_sample_sha256)
                          if job.voice_sample_sha256 else None),
            voice_sample_name=names.get("voice_sample", "the voice sample"),
        )
        device = self.settings.device if params.get("device") in (None, "auto") else params["device"]
        options = AnimateOptions(
            emotion=params["emotion"], intensity=params["intensity"], seed=params["seed"],
            language=params["language"], base_voice=params.get("base_voice"), device=device,
            head_motion_amplitude=params.get("head_motion_amplitude", 1.0),
            size_budget_bytes=params.get("size_budget_bytes"), limits=self.limits(),
            max_side=params.get("max_side", AnimateOptions.max_side))
        return inputs, options

    async def _record_stages(self, job_id: str, stages: asyncio.Queue[str]) -> None:
        from vitaphone.storage import records

        while True:
            stage = await stages.get()
            if stage == "":
                return
            try:
                async with self.sessions.begin() as session:
                    job = await records.get_job(session, job_id, for_update=True)
                    if job.state is JobState.RUNNING:
                        await records.transition_job(session, job_id, JobState.RUNNING,
                                                     stage=stage)
            except Exception as exc:  # noqa: BLE001 - a missed stage row must not stop a render
                log.warning("job %s: stage %s not recorded: %s", job_id, stage, exc)

    async def _finish_stages(self, recorder: asyncio.Task[None], stages: asyncio.Queue[str]) -> None:
        await asyncio.sleep(0)  # let call_soon_threadsafe callbacks land first
        stages.put_nowait("")
        await recorder


def _cleaned(requester: Requester) -> Requester:
    """Platform ids, names and titles without control characters (NUL breaks PostgreSQL)."""
    from dataclasses import replace

    from vitaphone.intake import clean_name

    return replace(requester, user_id=clean_name(requester.user_id, max_chars=64) or "?",
                   display_name=clean_name(requester.display_name, max_chars=200),
                   chat_id=clean_name(requester.chat_id, max_chars=64),
                   chat_title=clean_name(requester.chat_title, max_chars=200))


def _params(inputs: AnimateInputs, options: AnimateOptions) -> dict[str, Any]:
    """JSON-safe render parameters stored with the job and its provenance."""
    params = {k: v for k, v in asdict(options).items() if k != "limits"}
    params["emotion"] = getattr(options.emotion, "value", options.emotion)
    params["names"] = {"portrait": inputs.portrait_name, "audio": inputs.audio_name,
                       "voice_sample": inputs.voice_sample_name}
    return params
