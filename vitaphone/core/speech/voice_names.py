"""Names a person can choose a base voice by ("woman, US"), for the bots and `--help` texts.

A plain table, no engine imports: a bots-only host (no speech engines installed) shows the same
choices the workers will speak with. The renderer still checks the voice exists when it runs.
"""

from __future__ import annotations

# engine voice name -> what a person sees, in the order the bots offer them.
HUMAN_VOICE_NAMES: dict[str, str] = {
    "slt": "woman, US",
    "rms": "man, US",
    "awb": "man, Scottish",
    "kal16": "man, US, robotic",
    "festival-slt": "woman, US, smoother",
    "espeak-female": "woman, any language",
    "espeak-male": "man, any language",
}

DEFAULT_ENGLISH_VOICE = "slt"  # what synthesize.DEFAULT_ENGLISH_VOICE picks
DEMO_MAN_VOICE = "rms"  # a man's voice for the bundled Einstein demo


def human_voice_name(voice: str) -> str:
    """'rms' -> 'man, US'; an unknown name comes back unchanged."""
    return HUMAN_VOICE_NAMES.get(voice, voice)


def voice_from_human(name: str) -> str | None:
    """'man, Scottish' (any case/spacing) or an engine name -> the engine voice name, or None."""
    wanted = " ".join(name.lower().replace(",", " ").split())
    for voice, human in HUMAN_VOICE_NAMES.items():
        if wanted in (voice, " ".join(human.lower().replace(",", " ").split())):
            return voice
    return None
