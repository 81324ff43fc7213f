"""Steps the Telegram tests share: a request answered through the consent buttons, a video
waited for, and the transcript of a chat as a user reads it."""

from __future__ import annotations

from typing import Any

from conftest import PORTRAIT

QUOTE = "Imagination rules."


async def consent_through(fake: Any, user: dict[str, Any], chat_id: int, *,
                          who: str = "A public-domain") -> Any:
    """Answer the consent questions (who is in the portrait, the label, Confirm); returns the
    message that became the progress message."""
    ask = await fake.wait_for_text(chat_id, "who is in the portrait?")
    fake.press(user, ask, who)
    label = await fake.wait_for_text(chat_id, "You agree:")
    fake.press(user, label, "I understand")
    ready = await fake.wait_for_text(chat_id, "Make the video?")
    fake.press(user, ready, "Confirm")
    await fake.wait_for(lambda: "(job " in (ready.text or ""), 30, "the progress message")
    return ready


async def request(fake: Any, user: dict[str, Any], chat: dict[str, Any],
                  quote: str = QUOTE) -> tuple[dict[str, Any], Any]:
    """Send the portrait captioned with `quote` (`/animate` in groups) and consent; returns the
    photo message and the progress message."""
    caption = quote if chat["type"] == "private" else f"/animate {quote}"
    photo = fake.message(user, chat, photo=PORTRAIT.read_bytes(), caption=caption)
    fake.push(photo)
    return photo, await consent_through(fake, user, chat["id"])


async def video_for(fake: Any, chat_id: int, progress: Any, timeout_s: float = 120) -> Any:
    """The video posted for the request whose progress message is `progress`."""
    await fake.wait_for(lambda: (progress.text or "").startswith("Done"), timeout_s,
                        "the progress message to say done")
    return await fake.wait_for(lambda: next(
        (m for m in fake.sent_to(chat_id) if m.video and m.message_id > progress.message_id),
        None), 10, "the video")


def job_of(progress: Any) -> str:
    """The job id a progress message names."""
    return (progress.text or "").rsplit("(job ", 1)[1].split(")")[0]


def transcript(fake: Any, chat_id: int) -> str:
    """Our messages in a chat as they read now (for eyeballing the wording with -s)."""
    lines = []
    for m in fake.sent_to(chat_id):
        body = m.text if m.text is not None else f"[video] {m.caption}"
        buttons = "  ".join(f"[{b['text']}]" for row in m.buttons for b in row)
        earlier = "".join(f"{text}\n  (edited to:)\n" for text in m.history)
        lines.append(("(deleted) " if m.deleted else "") + earlier + body
                     + (f"\n  {buttons}" if buttons else ""))
    return "\n---\n".join(lines)
