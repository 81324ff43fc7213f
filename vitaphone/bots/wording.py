"""Every sentence the bots say, in one place, so the wording can be read (and fixed) as a whole.

Refusals are one sentence that says what to do. Nothing here quotes what a user sent back at
length (a quote is shown shortened), and nothing names internal ids except job ids, which users
need for /status, /cancel and /report.
"""

from __future__ import annotations

from vitaphone.consent import ConsentBasis, statement_for
from vitaphone.core.speech.voice_names import DEFAULT_ENGLISH_VOICE, HUMAN_VOICE_NAMES

EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised", "fear", "disgust", "contempt")

PORTRAIT_CHOICES: dict[ConsentBasis, str] = {
    ConsentBasis.SELF: "This is me",
    ConsentBasis.PERMISSION: "I have this person's permission",
    ConsentBasis.PUBLIC_DOMAIN_HISTORICAL: "A public-domain historical figure",
}
VOICE_CHOICES: dict[ConsentBasis, str] = {
    ConsentBasis.SELF: "This is my voice",
    ConsentBasis.PERMISSION: "I have this person's permission",
    ConsentBasis.PUBLIC_DOMAIN_HISTORICAL: "A public-domain historical recording",
}
LABEL_ACK = "I understand the video will be labelled as AI-generated."

STAGE_NAMES = {
    "start": "starting",
    "portrait": "reading the face",
    "speech": "speaking the quote",
    "motion": "planning the motion",
    "render": "drawing the frames",
    "finish": "labelling and signing",
}


def short(text: str | None, limit: int = 60) -> str:
    """A quote shortened for display: the user sees which request we mean, no more."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def help_text(platform: str) -> str:
    default = HUMAN_VOICE_NAMES[DEFAULT_ENGLISH_VOICE]
    if platform == "telegram":
        how = ("Send a photo of a face with the quote as its caption (in a group, start the "
               "caption with /animate), or reply to a photo with /animate and the quote.\n"
               "To use your own voice, reply to the photo with a voice note or an audio file "
               "and the quote as its caption.")
        verify = "Send a video with the caption /verify (or reply /verify to a video)"
        report = "Reply /report REASON to a video, or press its Report button"
        options = ("Options go in brackets after the quote, e.g. \"Hello there! [happy 60; "
                   "voice: man, Scottish]\".")
    else:
        how = ("Use /animate with a portrait image and a quote; add a voice sample to clone "
               "a voice, or a recording to lip-sync it.")
        verify = "/verify with a video attached"
        report = "Press a video's Report button"
        options = ("/animate's options choose the emotion, its intensity, the base voice and "
                   "the language.")
    return "\n".join([
        "I turn a portrait and a quote into a short talking video. Every video is labelled as "
        "AI-generated, watermarked and signed, and you must have the right to use the face.",
        "",
        how,
        options,
        f"Without a voice sample you hear the base voice \"{default}\"; /voices lists the "
        "others, /emotions the emotions.",
        "",
        "/status – your videos in progress",
        "/cancel JOB – stop one (or /cancel for your latest)",
        "/emotions – the emotions you can ask for",
        "/voices – the base voices",
        f"{verify} – is a video one of ours?",
        f"{report} – tell the moderators about a video",
        "/forgetme – delete your personal data and take down your videos",
    ])


def emotions_text(platform: str = "telegram") -> str:
    how = ("Put one after the quote in brackets, e.g. \"Hello there! [happy 60]\" (the number "
           "is the intensity, 0-100)." if platform == "telegram" else
           "Choose one in /animate's emotion option, and how strongly in intensity (0-100).")
    return "Emotions: " + ", ".join(EMOTIONS) + ". " + how


def voices_text(platform: str = "telegram") -> str:
    lines = [f"• {human}" + (" (default)" if voice == DEFAULT_ENGLISH_VOICE else "")
             for voice, human in HUMAN_VOICE_NAMES.items()]
    how = ("say e.g. [voice: man, Scottish] after the quote" if platform == "telegram" else
           "choose one in /animate's base_voice option")
    return f"Base voices ({how}):\n" + "\n".join(lines)


def no_quote(platform: str) -> tuple[str, str]:
    """(message, hint) for a portrait that came without words to speak."""
    if platform == "telegram":
        return ("This photo has no quote to speak.",
                "Send it again with the quote as its caption, or reply to the photo with "
                "/animate and the quote, or with a voice note or an audio file.")
    return ("There is no quote to speak.", "Give /animate a quote, or a recording as audio.")


# --- consent step ---------------------------------------------------------------------------
def ask_portrait(quote: str | None, *, recording: bool = False, sample: bool = False) -> str:
    if recording:
        about = "lip-syncing your recording."
    elif quote:
        about = f"saying “{short(quote)}”" + (" in the voice of your sample." if sample else "")
    else:
        about = "speaking your recording."
    return (f"Got it: a video of this face {about}\n\n"
            "Before I make it: who is in the portrait?")


def ask_voice() -> str:
    return "Whose voice is in the voice sample?"


def ask_label(basis: ConsentBasis) -> str:
    return (f"You agree: {statement_for(basis)}\n\n"
            "The video will carry a visible “AI-generated” label, an invisible watermark and "
            "a signed record of where it came from.")


def ask_confirm() -> str:
    return "Ready. Make the video?"


def cancelled() -> str:
    return "Cancelled: nothing was made and nothing was kept."


def not_yours() -> str:
    return "Only the person who sent this request can answer it."


def expired() -> str:
    return "This request is no longer open; send the photo again to start over."


def report_for_mods(report_id: int, job_id: str, reason: str, chat_title: str | None) -> str:
    where = f" in “{short(chat_title, 40)}”" if chat_title else ""
    return (f"Report {report_id} on job {job_id}{where}: {short(reason, 200)}\n"
            f"Take it down with /mod takedown {job_id} REASON")


# --- progress and delivery ------------------------------------------------------------------
def progress(state: str, stage: str | None, fraction: float, position: int | None,
             job_id: str) -> str:
    if state == "awaiting_review":
        return f"Waiting for a moderator to approve it (job {job_id})."
    if state == "queued":
        where = f"number {position} in the queue" if position else "in the queue"
        return f"Queued: {where} (job {job_id})."
    if state == "running":
        # A job between stages (just claimed, or a stage without a name) is still starting.
        doing = STAGE_NAMES.get(stage or "", "starting")
        percent = round(100 * fraction)
        done = f", {percent}%" if percent else ""
        return f"Making your video: {doing}{done} (job {job_id})."
    return f"Job {job_id}: {state}."


def finished(job_id: str) -> str:
    return f"Done: your video is below (job {job_id})."


def failed(message: str | None) -> str:
    return f"I could not make this video: {message or 'something went wrong.'}"


def cancelled_job(job_id: str) -> str:
    return f"Cancelled: no video will be made (job {job_id})."


def rejected(job_id: str, reason: str | None) -> str:
    return f"A moderator did not approve job {job_id}: {reason or 'no reason given'}."


def caption(requester: str | None, quote: str | None, label_text: str) -> str:
    who = f" for {requester}" if requester else ""
    return (f"{label_text} video made with Vitaphone{who}. The person shown never said this. "
            "Check any copy with /verify.")


def forgotten(taken_down: int, cancelled: int) -> str:
    text = f"Done: I forgot you and took down {_count(taken_down, 'video')}"
    if cancelled:
        text += f", and stopped {cancelled} still in progress"
    return text + "."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def taken_down_notice(job_id: str, reason: str) -> str:
    return f"A moderator took down your video (job {job_id}): {reason}."


def deleted_by_requester(job_id: str) -> str:
    return f"Deleted: your video is down everywhere I posted it (job {job_id})."


def too_big_to_post(size_mb: float, limit_mb: float) -> str:
    return (f"The video is {size_mb:.0f} MB, more than the {limit_mb:.0f} MB this chat "
            "accepts; send a shorter quote.")
