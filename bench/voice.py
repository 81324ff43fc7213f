"""Voice-cloning bench: speaker similarity, intelligibility and speed of `clone_voice`.

For each reference speaker the first N seconds (15 by default, less where the recording is
short, always leaving >= 5 s) are the voice sample; the REST of the recording is the judge's
reference for that speaker, so a clone is never scored against the audio it learnt from. Each
speaker's quote is spoken by a different base voice, converted, and judged:

- similarity: resemblyzer cosine of the base and the cloned speech to the held-out reference,
  and of the cloned speech to the base voice (the base voice speaking a different passage);
- intelligibility: pocketsphinx WER (bundled en-US LM) on the quote and four Harvard
  sentences (pooled), base vs cloned;
- speed: conversion and analysis time per second of speech on one CPU core (BLAS threads are
  pinned to 1 before numpy loads; CPU time is reported next to wall time, which other
  processes on a shared machine inflate).

Similarity is the mean over both texts. Speakers: the real recordings in ../shared/audio, and the flite voices as targets (a sample
passage and a different held-out passage). Needs the `eval` extra (resemblyzer), which the
product never imports.

    python3 bench/voice.py [--sample-s 15] [--speakers a,b,ack,awb] [--out /tmp/voice_bench]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # "one CPU core" is the target; set before numpy loads

import argparse
import json
import re
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_AUDIO = ROOT.parent / "shared" / "audio"
RATE_HZ = 16000

QUOTE = (
    "Our age is proud of the progress it has made in men's intellectual development. "
    "The search and striving for truth and knowledge is one of the highest of men's qualities."
)
# A second text (Harvard sentences) so that WER is pooled over ~60 words, not one quote's 30.
HARVARD = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish."
)
SAMPLE_PASSAGE = (
    "The north wind and the sun were disputing which was the stronger, when a traveler came "
    "along wrapped in a warm cloak. They agreed that the one who first succeeded in making the "
    "traveler take his cloak off should be considered stronger than the other."
)
HELD_OUT_PASSAGE = (
    "Then the north wind blew as hard as he could, but the more he blew the more closely did "
    "the traveler fold his cloak around him; and at last the north wind gave up the attempt. "
    "Then the sun shined out warmly, and immediately the traveler took off his cloak."
)
REAL_SPEAKERS = {
    "a": "voice_ref_speaker_a.mp3",
    "b": "voice_ref_speaker_b.mp3",
    "ack": "english_speech_acknowledgement.m4a",
}
FLITE_TARGETS = {"awb": "rms", "slt": "rms", "kal16": "rms", "rms": "awb"}  # target: base voice
REAL_BASE_VOICE = "rms"
MIN_HELD_OUT_S = 5.0


@dataclass
class Row:
    speaker: str
    base_voice: str
    sample_s: float
    held_out_s: float
    sim_base: float  # base speech -> held-out target (mean over the two texts)
    sim_clone: float  # cloned speech -> held-out target
    sim_clone_to_base: float  # cloned speech -> base voice (another passage)
    wer_base: float
    wer_clone: float
    analyze_rtf_cpu: float  # profile analysis CPU s per s of quote speech
    convert_rtf_cpu: float  # conversion CPU s per s of quote speech
    convert_rtf_wall: float
    notes: str


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower().replace("-", " ")).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over words / reference length."""
    ref, hyp = _words(reference), _words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(len(ref), 1)


class Judges:
    """resemblyzer speaker encoder and a pocketsphinx recogniser, loaded once."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder
        from resemblyzer import VoiceEncoder

        self._encoder = VoiceEncoder("cpu", verbose=False)
        self._decoder = Decoder(samprate=RATE_HZ, loglevel="FATAL")

    def embed(self, samples_16k: np.ndarray) -> np.ndarray:
        from resemblyzer import preprocess_wav

        return self._encoder.embed_utterance(
            preprocess_wav(samples_16k.astype(np.float32), RATE_HZ)
        )

    @staticmethod
    def cosine(a: np.ndarray, b: np.ndarray) -> float:
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    def transcribe(self, samples_16k: np.ndarray) -> str:
        pcm = (np.clip(samples_16k, -1, 1) * 32767).astype("<i2").tobytes()
        self._decoder.start_utt()
        self._decoder.process_raw(pcm, full_utt=True)
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        return hyp.hypstr if hyp else ""


def _at_16k(samples: np.ndarray, rate_hz: int) -> np.ndarray:
    from vitaphone.core.speech.clone_world import to_analysis_rate

    return to_analysis_rate(samples, rate_hz).astype(np.float32)


def _speakers(
    names: list[str], sample_s: float, engine, real_base_voice: str = REAL_BASE_VOICE
) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(speaker, base voice, sample 16 kHz, held-out 16 kHz) per requested speaker."""
    from vitaphone.core.speech.audio_io import decode_audio

    out = []
    for name in names:
        if name in REAL_SPEAKERS:
            path = SHARED_AUDIO / REAL_SPEAKERS[name]
            x, _ = decode_audio(path.read_bytes(), name=path.name, target_rate_hz=RATE_HZ)
            n = int(min(sample_s, len(x) / RATE_HZ - MIN_HELD_OUT_S) * RATE_HZ)
            out.append((name, real_base_voice, x[:n], x[n:]))
        elif name in FLITE_TARGETS:
            sample = engine.synthesize(SAMPLE_PASSAGE, name)
            held = engine.synthesize(HELD_OUT_PASSAGE, name)
            n = int(sample_s * sample.sample_rate_hz)
            out.append((
                f"flite-{name}", FLITE_TARGETS[name],
                _at_16k(sample.samples[:n], sample.sample_rate_hz),
                _at_16k(held.samples, held.sample_rate_hz),
            ))  # fmt: skip
        else:
            raise SystemExit(
                f"unknown speaker {name!r}; known: {', '.join([*REAL_SPEAKERS, *FLITE_TARGETS])}"
            )
    return out


def evaluate(
    names: list[str],
    sample_s: float,
    out_dir: Path | None,
    options: dict[str, object],
    real_base_voice: str = REAL_BASE_VOICE,
) -> list[Row]:
    from vitaphone.core.speech.clone import WorldKnnConverter, analyze_voice, clone_voice
    from vitaphone.core.speech.flite import FliteEngine

    engine, judges = FliteEngine(), Judges()
    converter = WorldKnnConverter(**options)
    rows = []
    for speaker, base_voice, sample, held in _speakers(names, sample_s, engine, real_base_voice):
        base = engine.synthesize(QUOTE, base_voice)
        base_16k = _at_16k(base.samples, base.sample_rate_hz)
        base_other = engine.synthesize(HELD_OUT_PASSAGE, base_voice)
        c0 = time.process_time()
        profile = analyze_voice(sample, RATE_HZ, name=speaker)
        c1, w1 = time.process_time(), time.perf_counter()
        cloned = clone_voice(base, sample, RATE_HZ, profile=profile, converter=converter)
        c2, w2 = time.process_time(), time.perf_counter()
        clone_16k = _at_16k(cloned.samples, cloned.sample_rate_hz)
        base2 = engine.synthesize(HARVARD, base_voice)
        cloned2 = clone_voice(base2, sample, RATE_HZ, profile=profile, converter=converter)
        base2_16k = _at_16k(base2.samples, base2.sample_rate_hz)
        clone2_16k = _at_16k(cloned2.samples, cloned2.sample_rate_hz)
        e_held = judges.embed(held)
        e_base_voice = judges.embed(_at_16k(base_other.samples, base_other.sample_rate_hz))
        e_base = [judges.embed(base_16k), judges.embed(base2_16k)]
        e_clone = [judges.embed(clone_16k), judges.embed(clone2_16k)]
        if out_dir is not None:
            _save(out_dir / f"{speaker}_cloned.wav", clone_16k)
            _save(out_dir / f"{speaker}_base.wav", base_16k)
        rows.append(Row(
            speaker=speaker, base_voice=base_voice,
            sample_s=len(sample) / RATE_HZ, held_out_s=len(held) / RATE_HZ,
            sim_base=float(np.mean([judges.cosine(e, e_held) for e in e_base])),
            sim_clone=float(np.mean([judges.cosine(e, e_held) for e in e_clone])),
            sim_clone_to_base=float(np.mean([judges.cosine(e, e_base_voice) for e in e_clone])),
            wer_base=_pooled_wer(judges, [base_16k, base2_16k]),
            wer_clone=_pooled_wer(judges, [clone_16k, clone2_16k]),
            analyze_rtf_cpu=(c1 - c0) / base.duration_s,
            convert_rtf_cpu=(c2 - c1) / base.duration_s,
            convert_rtf_wall=(w2 - w1) / base.duration_s,
            notes=" ".join(f"{k[6:]}={v}" for k, v in cloned.extras.items() if k.startswith("clone_")),
        ))  # fmt: skip
    return rows


def _pooled_wer(judges: Judges, utterances: list[np.ndarray]) -> float:
    """WER over QUOTE and HARVARD together (errors summed over both, over all their words)."""
    texts = (QUOTE, HARVARD)
    errors = sum(
        word_error_rate(t, judges.transcribe(u)) * len(_words(t)) for t, u in zip(texts, utterances)
    )
    return errors / sum(len(_words(t)) for t in texts)


def _save(path: Path, samples: np.ndarray) -> None:
    import soundfile

    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), samples, RATE_HZ)


def print_table(rows: list[Row]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Voice cloning: similarity (resemblyzer cosine), WER (pocketsphinx), speed")
    for col in ("speaker", "base", "sample s", "ref s", "sim base", "sim clone", "clone→base",
                "WER base", "WER clone", "RTF conv", "RTF conv wall", "RTF analyse", "pass"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("speaker", "base") else "right")
    for r in [*rows, _mean(rows)]:
        ok = (
            r.sim_clone >= 0.75
            and r.sim_clone > r.sim_clone_to_base
            and r.wer_clone <= r.wer_base + 0.05
        )
        table.add_row(
            r.speaker, r.base_voice, f"{r.sample_s:.1f}", f"{r.held_out_s:.1f}",
            f"{r.sim_base:.3f}", f"{r.sim_clone:.3f}", f"{r.sim_clone_to_base:.3f}",
            f"{r.wer_base:.3f}", f"{r.wer_clone:.3f}",
            f"{r.convert_rtf_cpu:.3f}", f"{r.convert_rtf_wall:.3f}", f"{r.analyze_rtf_cpu:.3f}",
            ("yes" if ok else "no") if r.speaker != "MEAN" else "",
        )  # fmt: skip
    Console(width=160).print(table)
    for r in rows:
        print(f"  {r.speaker}: {r.notes}")


def _mean(rows: list[Row]) -> Row:
    fields = {
        k: float(np.mean([getattr(r, k) for r in rows]))
        for k, v in asdict(rows[0]).items()
        if isinstance(v, float)
    }
    return Row(speaker="MEAN", base_voice="", notes="", **fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample-s", type=float, default=15.0, help="voice sample length (s)")
    parser.add_argument("--speakers", default=",".join([*REAL_SPEAKERS, *FLITE_TARGETS]))
    parser.add_argument(
        "--base-voice", default=REAL_BASE_VOICE, help="flite voice cloned to the real speakers"
    )
    parser.add_argument("--out", type=Path, default=None, help="write base/cloned wavs here")
    parser.add_argument("--json", type=Path, default=None, help="write the rows as JSON here")
    parser.add_argument(
        "--option", action="append", default=[], metavar="NAME=VALUE",
        help="WorldKnnConverter option for ablations, e.g. --option match_share=0.5",
    )  # fmt: skip
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    options = {k: json.loads(v) for k, v in (o.split("=", 1) for o in args.option)}
    rows = evaluate(args.speakers.split(","), args.sample_s, args.out, options, args.base_voice)
    print_table(rows)
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))


if __name__ == "__main__":
    main()
