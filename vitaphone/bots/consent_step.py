"""The consent step as buttons: who is in the portrait -> (whose voice) -> label -> Confirm.

The answers live on the `bot_requests` row, so any bot process (or the same one after a restart)
can take the next tap. Button actions are short strings (Telegram allows 64 bytes):

    c:<request id>:p:<basis>   who is in the portrait       c:<id>:ack   the label is understood
    c:<id>:v:<basis>           whose voice is in the sample c:<id>:ok    Confirm
    c:<id>:no                  Cancel                       k:<id>:sample|recording  audio kind
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vitaphone.bots import wording
from vitaphone.bots.contract import Button, Reply
from vitaphone.consent import ConsentBasis

_CODES = {ConsentBasis.SELF: "self", ConsentBasis.PERMISSION: "perm",
          ConsentBasis.PUBLIC_DOMAIN_HISTORICAL: "pd"}
_BASES = {code: basis for basis, code in _CODES.items()}


@dataclass(frozen=True)
class Action:
    """A parsed button action."""

    kind: str  # "c" consent, "k" audio kind, "r" report, "d" delete
    target: str  # request id or job id
    op: str = ""
    arg: str = ""


def parse_action(action: str) -> Action | None:
    parts = action.split(":")
    if len(parts) < 2 or parts[0] not in ("c", "k", "r", "d", "f") or not parts[1].isalnum():
        return None
    return Action(parts[0], parts[1], parts[2] if len(parts) > 2 else "",
                  parts[3] if len(parts) > 3 else "")


def basis_of(code: str) -> ConsentBasis | None:
    return _BASES.get(code)


def _cancel(rid: str) -> Button:
    return Button("Cancel", f"c:{rid}:no", "danger")


def ask_kind(rid: str) -> Reply:
    return Reply("Is this audio a voice sample to copy the voice from, or the recording the "
                 "face should lip-sync?",
                 ((Button("A voice sample", f"k:{rid}:sample", "primary"),
                   Button("The recording", f"k:{rid}:recording", "primary")), (_cancel(rid),)),
                 private=True)


def next_question(rid: str, request: dict[str, Any], answers: dict[str, Any],
                  allowed: list[str]) -> Reply:
    """The question after the answers so far (the whole step is private to the requester)."""
    bases = [b for b in ConsentBasis if b.value in allowed]
    if "portrait" not in answers:
        rows = tuple((Button(wording.PORTRAIT_CHOICES[b], f"c:{rid}:p:{_CODES[b]}"),)
                     for b in bases)
        return Reply(wording.ask_portrait(request.get("quote"),
                                          recording=bool(request.get("recording")),
                                          sample=bool(request.get("voice_sample"))),
                     rows + ((_cancel(rid),),),
                     private=True)
    if request.get("voice_sample") and "voice" not in answers:
        rows = tuple((Button(wording.VOICE_CHOICES[b], f"c:{rid}:v:{_CODES[b]}"),)
                     for b in bases)
        return Reply(wording.ask_voice(), rows + ((_cancel(rid),),), private=True)
    if not answers.get("label"):
        return Reply(wording.ask_label(record_basis(answers)),
                     ((Button(wording.LABEL_ACK, f"c:{rid}:ack", "primary"),), (_cancel(rid),)),
                     private=True)
    return Reply(wording.ask_confirm(),
                 ((Button("Confirm", f"c:{rid}:ok", "success"), _cancel(rid)),), private=True)


def record_basis(answers: dict[str, Any]) -> ConsentBasis:
    """The basis the consent record states. One record covers portrait and voice, so a voice
    used with permission makes the whole record `permission` (its statement names the voice);
    otherwise the portrait's basis."""
    portrait = ConsentBasis(answers["portrait"])
    voice = answers.get("voice")
    if voice is not None and ConsentBasis(voice) is not portrait:
        return ConsentBasis.PERMISSION
    return portrait
