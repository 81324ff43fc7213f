"""Phone timings for recorded speech: forced alignment, then recognition, then energy.

pocketsphinx 5 (its en-US acoustic model and 135k-word dictionary ship in the wheel):

1. **forced_alignment** — the known transcript, normalised and looked up in the dictionary
   (out-of-vocabulary words get flite's letter-to-sound pronunciation via `t2p`, or are dropped),
   is aligned with `set_align_text`, then `set_alignment()/get_alignment()` give word and phone
   spans. The alignment is accepted only if its acoustic score per speech frame is not much worse
   than a free phone-loop decode of the same audio would give (a likelihood-ratio test): words
   that are not in the audio cannot be aligned without paying for it.
2. **recognition** — no transcript, a rejected one, or a language other than English: the
   phone loop's phones, no words (the en-US phones are close enough for a mouth, in any
   language). Word recognition with the bundled LM was tried and dropped: 2-4x slower than real
   time here and mostly wrong on accented speech, while the mouth only needs phones.
3. **energy** — when not even the phone loop finds phones, see `energy.py`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from vitaphone.core.speech.energy import energy_track
from vitaphone.core.speech.phones import to_arpabet
from vitaphone.core.speech.types import SILENCE, TimingMethod

RATE_HZ = 16000
FRAME_S = 0.01  # pocketsphinx frames are 10 ms
# Accept a forced alignment when its acoustic log-likelihood per speech frame is at most this much
# below the free phone loop's (pocketsphinx log units). Measured: true transcripts 2.5-10 (16
# flite sentences in 4 voices, the noisy narrative 7); wrong ones 18-69 (tests/.../test_align.py).
MAX_SCORE_GAP_PER_FRAME = 13.0
# ...and when its words cover at least this share of the phone loop's speech frames (a short
# transcript can hide in a long recording at a small cost per frame).
MIN_COVERAGE = 0.5
# Fewer recognised phones than this and the phone loop has found no speech worth following.
_MIN_PHONES = 3
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Timeline:
    """Phone and word spans in seconds from the start of the audio that was aligned."""

    phones: tuple[tuple[str, float, float], ...]  # (ARPAbet or SIL, start_s, end_s)
    words: tuple[tuple[str, float, float], ...]
    method: TimingMethod
    score_gap: float | None = None  # forced-alignment score gap per frame, when one was tried


def time_recording(samples: np.ndarray, transcript: str | None, language: str = "en") -> Timeline:
    """Phone/word timeline of 16 kHz mono float32 speech, by the best method that works.

    transcript: normalised text of what is said (None or "" when unknown). language: ISO code.
    Only English transcripts are force-aligned: pocketsphinx's model and dictionary are en-US
    (tried: other languages' words pronounced by espeak-ng and mapped to ARPAbet do not align;
    even English espeak-ng audio fails to align), so other languages go to the phone loop.
    """
    try:
        loop_phones, loop_score = phone_loop(samples)
    except RuntimeError:
        loop_phones, loop_score = (), 0.0
    gap = None
    english = language.split("-")[0].lower() == "en"
    if transcript and transcript.strip() and english:
        aligned = align_words(samples, *dictionary_words(transcript))
        if aligned is not None:
            timeline, score = aligned
            gap = loop_score - score
            speech = sum(e - s for p, s, e in loop_phones if p != SILENCE)
            covered = sum(e - s for _, s, e in timeline.words)
            if gap <= MAX_SCORE_GAP_PER_FRAME and covered >= MIN_COVERAGE * speech:
                return Timeline(timeline.phones, timeline.words, timeline.method, gap)
    if sum(p != SILENCE for p, _, _ in loop_phones) >= _MIN_PHONES:
        return Timeline(loop_phones, (), "recognition", gap)
    return Timeline(energy_track(samples, RATE_HZ), (), "energy", gap)


def _model_dir() -> Path:
    from pocketsphinx import get_model_path

    return Path(get_model_path()) / "en-us"


@lru_cache(maxsize=1)
def _aligner():
    """The forced-alignment decoder, built once (~0.5 s: acoustic model and dictionary)."""
    from pocketsphinx import Decoder

    return Decoder(samprate=RATE_HZ, loglevel="FATAL", cmn="batch")


@lru_cache(maxsize=1)
def _phone_loop():
    """A free phone-loop decoder with the bundled phone language model."""
    from pocketsphinx import Decoder

    model = str(_model_dir() / "en-us-phone.lm.bin")
    return Decoder(
        samprate=RATE_HZ,
        loglevel="FATAL",
        cmn="batch",
        allphone=model,
        lw=2.0,
        beam=1e-20,
        pbeam=1e-20,
    )


def _pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def align_words(
    samples: np.ndarray, words: list[str], prons: dict[str, list[str]] | None = None
) -> tuple[Timeline, float] | None:
    """Force-align `words` (dictionary spellings) to 16 kHz mono float samples.

    prons: pronunciations (ARPAbet) of words the dictionary lacks (see `dictionary_words`).
    Returns the timeline and the acoustic score of the speech (non-silence) frames per speech
    frame, or None when pocketsphinx finds no alignment.
    """
    if not words:
        return None
    pcm = _pcm(samples)
    with _LOCK:
        for _attempt in range(2):
            # pocketsphinx keeps search state between utterances that can make a later
            # alignment fail (measured: 3 of 16 flite sentences after a voice change) or leave
            # the decoder unable to start; a fresh decoder (~0.5 s) then aligns them all.
            aligner = _aligner()
            try:
                for word, pron in (prons or {}).items():
                    if aligner.lookup_word(word) is None:
                        aligner.add_word(word, " ".join(pron), True)
                result = _align(aligner, pcm, words)
            except RuntimeError:
                result = None
            if result is not None:
                return result
            _aligner.cache_clear()
    return None


def _align(aligner, pcm: bytes, words: list[str]) -> tuple[Timeline, float] | None:
    """Two passes as pocketsphinx 5 wants them: word alignment, then phone/state alignment."""
    aligner.set_align_text(" ".join(words))
    for second_pass in (False, True):
        if second_pass:
            aligner.set_alignment()
        aligner.start_utt()
        aligner.process_raw(pcm, full_utt=True)
        aligner.end_utt()
        if not second_pass and aligner.hyp() is None:
            return None
    word_spans, phone_spans, score, frames = [], [], 0.0, 0
    for word in aligner.get_alignment():
        name = re.sub(r"\(\d+\)$", "", word.name)
        if name not in ("<sil>", "<s>", "</s>") and not name.startswith("["):
            word_spans.append((name, word.start * FRAME_S, (word.start + word.duration) * FRAME_S))
            score += word.score
            frames += word.duration
        for phone in word:
            p0 = phone.start * FRAME_S
            phone_spans.append((to_arpabet(phone.name), p0, p0 + phone.duration * FRAME_S))
    if not word_spans:
        return None
    timeline = Timeline(tuple(phone_spans), tuple(word_spans), "forced_alignment")
    return timeline, score / max(frames, 1)


def phone_loop(samples: np.ndarray) -> tuple[tuple[tuple[str, float, float], ...], float]:
    """Free phone recognition of 16 kHz samples: (phone spans, mean acoustic score per frame).

    The score is what an alignment of the true words could at best reach, so it is the
    reference of the forced-alignment test.
    """
    loop = _phone_loop()
    with _LOCK:
        loop.start_utt()
        loop.process_raw(_pcm(samples), full_utt=True)
        loop.end_utt()
        logmath = loop.get_logmath()
        # Segment.ascore comes back as a probability; back to log units like the aligner's.
        lattice_scores = [
            (logmath.log(s.ascore) if s.ascore > 0 else -1e9, s.start_frame, s.end_frame, s.word)
            for s in loop.seg()
        ]
    spans, score, frames = [], 0.0, 0
    for ascore, f0, f1, name in lattice_scores:
        phone = to_arpabet(name)
        spans.append((phone, f0 * FRAME_S, (f1 + 1) * FRAME_S))
        if phone != SILENCE:
            score += ascore
            frames += f1 + 1 - f0
    return tuple(spans), score / max(frames, 1)


def dictionary_words(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """Normalised English text -> (words to align, pronunciations of out-of-vocabulary ones).

    Unknown words (names, coinages) get flite's letter-to-sound pronunciation; a word no
    pronunciation can be found for is dropped rather than failing the alignment.
    """
    words, prons = [], {}
    for raw in re.findall(r"[a-z0-9']+", text.lower()):
        word = raw.strip("'")
        if not word:
            continue
        with _LOCK:
            known = _aligner().lookup_word(word) is not None
        if not known and word not in prons:
            pron = letter_to_sound(word)
            if not pron:
                continue
            prons[word] = pron
        words.append(word)
    return words, prons


def letter_to_sound(word: str) -> list[str]:
    """ARPAbet pronunciation of one word from flite's lexicon and LTS rules (`t2p`); [] if none."""
    t2p = shutil.which("t2p")
    if t2p is None:
        return []
    out = subprocess.run([t2p, word], capture_output=True, text=True, timeout=10).stdout
    phones = [to_arpabet(p) for p in out.split()]
    return [p for p in phones if p != SILENCE]
