"""A chat request from /animate to a queued job: check early, ask for consent, submit.

    start()      ban, quota and queued-job cap -> text and options -> audio claims -> download
                 the portrait and find a face -> a `bot_requests` row -> the first question
    answer()     a consent button: record the answer, ask the next question, or on Confirm
                 write consent + job (`Studio.submit`), enqueue it, and hand it to delivery
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from vitaphone.bots import checks, consent_step, store, wording
from vitaphone.bots.contract import AnimateRequest, Attachment, Context, Reply
from vitaphone.core.errors import BadOption, Banned, RateLimited
from vitaphone.storage.states import JobState

if TYPE_CHECKING:
    from vitaphone.bots.service import BotService
    from vitaphone.storage.models import BotRequest

log = logging.getLogger(__name__)

_ACTIVE = (JobState.AWAITING_REVIEW, JobState.QUEUED, JobState.RUNNING)
_PORTRAIT_CACHE = 32  # portraits kept between the check and Confirm (else downloaded again)


def attachment_dict(att: Attachment | None) -> dict[str, Any] | None:
    return asdict(att) if att is not None else None


def attachment_of(data: dict[str, Any] | None) -> Attachment | None:
    return Attachment(**data) if data else None


class RequestFlow:
    def __init__(self, service: BotService) -> None:
        self.service = service
        self._portraits: OrderedDict[str, bytes] = OrderedDict()

    # --- before consent ---------------------------------------------------------------------
    async def start(self, ctx: Context, req: AnimateRequest, *,
                    audio_kind_unknown: Attachment | None = None) -> Reply:
        svc = self.service
        limits = svc.studio.limits()
        messenger = svc.messenger(ctx.chat.platform)
        user_id, chat_id, allowed = await self.admit(ctx)
        recording = req.recording
        quote = req.quote
        emotion, intensity, language = checks.check_options(req.emotion, req.intensity_percent,
                                                            req.language)
        if recording is None and audio_kind_unknown is None and not (quote or "").strip():
            raise BadOption(*wording.no_quote(ctx.chat.platform))
        if recording is None and audio_kind_unknown is None:
            from vitaphone.intake import check_quote

            checked = check_quote(req.quote, language=req.language, limits=limits)
            quote, language = checked.text, checked.language
        elif quote:
            from vitaphone.intake import check_transcript

            quote = check_transcript(quote, limits=limits)
        base_voice = checks.check_base_voice(req.base_voice)
        for att, as_sample in ((req.voice_sample, True), (recording, False)):
            if att is not None:
                checks.check_audio_claims(att, limits, messenger.max_download_bytes,
                                          as_sample=as_sample)
        portrait = await checks.fetch_portrait(messenger, req.portrait, limits)
        request = {
            "portrait": attachment_dict(req.portrait), "quote": quote,
            "voice_sample": attachment_dict(req.voice_sample),
            "recording": attachment_dict(recording),
            "audio": attachment_dict(audio_kind_unknown), "emotion": emotion,
            "intensity": intensity, "language": language, "base_voice": base_voice,
            "display_name": ctx.user.display_name, "max_upload_bytes": ctx.max_upload_bytes,
        }
        where = {"chat": store.ref_dict(ctx.chat), "origin": store.ref_dict(ctx.message)}
        async with svc.studio.sessions.begin() as session:
            row = await store.create_request(session, platform=ctx.chat.platform,
                                             user_id=user_id, chat_id=chat_id,
                                             request=request, where=where)
            rid = row.id
        self._remember(rid, portrait.data)
        log.info("request %s: portrait checked (%d face(s)), asking for consent", rid,
                 portrait.faces_found)
        if audio_kind_unknown is not None:
            return consent_step.ask_kind(rid)
        return consent_step.next_question(rid, request, {}, allowed)

    async def admit(self, ctx: Context) -> tuple[int, int | None, list[str]]:
        """Ban, hourly quota and queued-job cap, before anything is downloaded. Returns the
        user's and chat's row ids and the chat's allowed consent bases."""
        from sqlalchemy import func, select

        from vitaphone.storage import records
        from vitaphone.storage.models import Ban, Job
        from vitaphone.storage.quota import check_quota

        svc = self.service
        lim = svc.settings.limits
        async with svc.studio.sessions.begin() as session:
            user = await records.get_or_create_user(session, ctx.user.platform, ctx.user.user_id,
                                                    _name(ctx.user.display_name))
            chat = await records.get_or_create_chat(session, ctx.chat.platform, ctx.chat.chat_id,
                                                    _name(ctx.chat.title))
            chat_ban = (await session.execute(select(Ban.id).where(
                Ban.user_id == user.id, Ban.chat_id == chat.id, Ban.lifted_at.is_(None))
            )).first()
            if user.banned or chat_ban is not None:
                raise Banned("You are not allowed to make videos here.",
                             "Ask this chat's administrators if you think this is a mistake.")
            await check_quota(session, user, chat, user_jobs_per_hour=lim.user_jobs_per_hour,
                              chat_jobs_per_hour=lim.chat_jobs_per_hour)
            active = (await session.execute(select(func.count()).select_from(Job).where(
                Job.user_id == user.id, Job.state.in_(_ACTIVE)))).scalar_one()
            cap = svc.max_active_jobs
            if active >= cap:
                raise RateLimited(f"You already have {active} videos waiting; the limit is {cap}.",
                                  "Wait for one to finish, or /cancel one.")
            return user.id, chat.id, list(chat.allowed_consent_bases)

    # --- consent buttons --------------------------------------------------------------------
    async def answer(self, ctx: Context, action: consent_step.Action) -> Reply | None:
        from vitaphone.storage.models import Chat, User

        svc = self.service
        async with svc.studio.sessions.begin() as session:
            row = await store.get_request(session, action.target)
            if row is None or row.state != store.ASKING:
                return Reply(wording.expired())
            user = await session.get(User, row.user_id)
            if user is None or user.platform_user_id != ctx.user.user_id:
                return Reply(wording.not_yours(), private=True)
            chat = await session.get(Chat, row.chat_id) if row.chat_id else None
            allowed = list(chat.allowed_consent_bases) if chat else []
            if action.kind == "k":
                return self._set_kind(row, action.op, allowed)
            if action.op == "no":
                row.state, row.closed_at = store.CANCELLED, _now()
                row.request = {}  # nothing kept: the quote is personal
                self._portraits.pop(row.id, None)
                return Reply(wording.cancelled())
            answers = dict(row.answers)
            if action.op in ("p", "v"):
                basis = consent_step.basis_of(action.arg)
                if basis is None or basis.value not in allowed:
                    return Reply("This chat does not accept that consent basis.", private=True)
                answers["portrait" if action.op == "p" else "voice"] = basis.value
            elif action.op == "ack":
                answers["label"] = True
            elif action.op == "ok":
                if not _complete(row.request, answers):
                    return consent_step.next_question(row.id, row.request, answers, allowed)
            row.answers = answers
            if action.op != "ok":
                return consent_step.next_question(row.id, row.request, answers, allowed)
            rid = row.id
        return await self._submit(ctx, rid)

    def _set_kind(self, row: BotRequest, kind: str, allowed: list[str]) -> Reply:
        request = dict(row.request)
        audio = request.pop("audio", None)
        if audio is None or kind not in ("sample", "recording"):
            return Reply(wording.expired())
        att = attachment_of(audio)
        assert att is not None
        limits = self.service.studio.limits()
        checks.check_audio_claims(att, limits, self.service.messenger(row.platform)
                                  .max_download_bytes, as_sample=kind == "sample")
        request["voice_sample" if kind == "sample" else "recording"] = audio
        if kind == "sample" and not request.get("quote"):
            from vitaphone.core.errors import BadOption

            raise BadOption("A voice sample needs a quote to speak.",
                            "Send the audio again with the quote as its caption.")
        row.request = request
        return consent_step.next_question(row.id, request, dict(row.answers), allowed)

    async def _submit(self, ctx: Context, rid: str) -> Reply | None:
        from vitaphone.core.request import AnimateInputs, AnimateOptions
        from vitaphone.studio import Requester

        svc = self.service
        async with svc.studio.sessions() as session:
            row = await store.get_request(session, rid)
            assert row is not None
            request, answers = dict(row.request), dict(row.answers)
        messenger = svc.messenger(ctx.chat.platform)
        limits = svc.studio.limits()
        portrait = self._portraits.pop(rid, None)
        if portrait is None:  # another process or a restart: fetch it again (checked again)
            portrait = (await checks.fetch_portrait(
                messenger, attachment_of(request["portrait"]), limits)).data
        sample = await self._download(messenger, request.get("voice_sample"))
        recording = await self._download(messenger, request.get("recording"))
        inputs = AnimateInputs(portrait=portrait, portrait_name="the photo",
                               text=request.get("quote"), audio=recording,
                               audio_name="the recording", voice_sample=sample,
                               voice_sample_name="the voice sample")
        upload = min(messenger.max_upload_bytes,
                     request.get("max_upload_bytes") or messenger.max_upload_bytes)
        options = AnimateOptions(
            emotion=request["emotion"], intensity=request["intensity"],
            language=request["language"], base_voice=request.get("base_voice"),
            size_budget_bytes=int(upload * 0.95), limits=limits)
        chat = ctx.chat
        requester = Requester(chat.platform, ctx.user.user_id, _name(ctx.user.display_name),
                              chat.chat_id, _name(chat.title))
        submitted = await svc.studio.submit(inputs, options, consent_step.record_basis(answers),
                                            requester)
        async with svc.studio.sessions.begin() as session:
            row = await store.get_request(session, rid)
            assert row is not None
            row.state, row.job_id = store.SUBMITTED, submitted.job_id
            row.answers = {**answers, "consent_id": submitted.consent_id}
            store.update_where(row, progress=store.ref_dict(ctx.message))
        if submitted.state == JobState.QUEUED.value:
            await svc.queue.enqueue(submitted.job_id)
        log.info("request %s: consent %d, job %s %s", rid, submitted.consent_id,
                 submitted.job_id, submitted.state)
        status = await svc.queue.status(submitted.job_id)
        text = wording.progress(status.state.value, status.stage, status.progress,
                                status.queue_position, submitted.job_id)
        if ctx.message is not None:
            await messenger.edit_text(ctx.message, Reply(text, private=True))
        svc.delivery.track(rid)
        return None if ctx.message is not None else Reply(text, private=True)

    async def _download(self, messenger: Any, data: dict[str, Any] | None) -> bytes | None:
        att = attachment_of(data)
        if att is None:
            return None
        return await messenger.download(att, messenger.max_download_bytes)

    def _remember(self, rid: str, data: bytes) -> None:
        self._portraits[rid] = data
        while len(self._portraits) > _PORTRAIT_CACHE:
            self._portraits.popitem(last=False)


def _complete(request: dict[str, Any], answers: dict[str, Any]) -> bool:
    return ("portrait" in answers and bool(answers.get("label"))
            and (not request.get("voice_sample") or "voice" in answers))


def _name(value: str | None) -> str | None:
    from vitaphone.intake import clean_name

    return clean_name(value)


def _now():
    from vitaphone.storage.base import utcnow

    return utcnow()
