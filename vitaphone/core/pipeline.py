"""The whole media pipeline: portrait + quote (or recording) in, a marked, signed MP4 out.

    inputs ──► portrait ──► face mesh ─┐
           └─► speech (TTS [+ clone] | recording + alignment) ──► motion ──► render
    render ──► finish: invisible watermark, visible label, encode (H.264 + AAC), C2PA sign

Render and finish overlap: this thread renders batches of frames while one worker thread marks
the previous batch and another encodes the one before (`overlap`, queues of two batches:
memory stays bounded); only the encoder's flush and the signing wait for the last frame.

Every output is labelled, watermarked and signed: there is no switch to skip a mark. The caller
(the CLI or the worker) owns consent and provenance records; this module owns no SQL.
Cheap validation of every input happens before any heavy stage, so bad input fails in
milliseconds with a `UserFacingError`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vitaphone import __version__
from vitaphone.core.errors import BadOption, SpeechTooLong
from vitaphone.core.face.types import FaceMesh
from vitaphone.core.marking.c2pa_credentials import (
    ProvenanceAssertion,
    SigningCredentials,
)
from vitaphone.core.marking.marks import FinishedVideo, FinishStream
# The request types live in a light module (bots import them without the media stack).
from vitaphone.core.request import (  # noqa: F401  (re-exported)
    AnimateInputs,
    AnimateOptions,
    InputLimits,
    Marking,
)
from vitaphone.core.media.types import FrameFormat
from vitaphone.core.speech.types import Speech

if TYPE_CHECKING:  # the renderer pulls in torch: imported when a render starts
    from vitaphone.core.render.renderer import FrameStream

# progress(stage, fraction of that stage done in [0, 1])
Progress = Callable[[str, float], None]
STAGES = ("portrait", "speech", "motion", "render", "finish")


@dataclass(frozen=True)
class AnimateResult:
    path: Path
    sha256: str
    size_bytes: int
    duration_s: float
    size_wh: tuple[int, int]
    manifest_id: str
    speech: Speech
    mesh: FaceMesh
    portrait_sha256: str
    engines: dict[str, str]
    # Wall time per stage (they add up to the whole run). "render" runs until the last frame is
    # handed to the finish worker (marks + encode overlap it); "finish" is what remains after
    # that (the encoder's tail, signing). "render.<step>" and "finish.<step>" (marks, encode,
    # sign) are the busy seconds of each step, summed over batches: marks and encode overlap
    # "render", so they may add up to more than the stage walls.
    seconds: dict[str, float]
    notes: tuple[str, ...] = field(default_factory=tuple)  # for the user, e.g. "2 faces found"


def animate(inputs: AnimateInputs, options: AnimateOptions, marking: Marking, out_path: Path,
            progress: Progress | None = None) -> AnimateResult:
    """Run every stage and write the signed MP4 to `out_path`. Raises UserFacingError subclasses
    for bad input (before heavy work wherever possible)."""
    from vitaphone.core.face.analyze import analyze_face
    from vitaphone.core.face.features import smile_iod, smirk_side
    from vitaphone.core.face.image_io import load_portrait
    from vitaphone.core.motion.options import MotionOptions, OwnExpression
    from vitaphone.core.motion.track import plan_motion
    from vitaphone.core.render.renderer import pick_device, render_batches
    from vitaphone.core.render.types import RenderOptions

    report = progress or (lambda stage, fraction: None)
    seconds: dict[str, float] = {}
    clock = _StageClock(seconds, report)
    limits = options.limits
    # Validate options first: they are free to check and a typo should not cost a render.
    motion_options = MotionOptions(emotion=options.emotion, intensity=options.intensity,
                                   seed=options.seed,
                                   head_motion_amplitude=options.head_motion_amplitude)
    render_options = RenderOptions(device=options.device, max_side=options.max_side)  # type: ignore[arg-type]

    with clock("portrait"):
        portrait = load_portrait(inputs.portrait, name=inputs.portrait_name,
                                 max_bytes=limits.max_portrait_bytes,
                                 max_pixels=limits.max_portrait_pixels)
        mesh = analyze_face(portrait, name=inputs.portrait_name)
    notes = list(portrait.notes)
    if mesh.faces_found > 1:
        notes.append(f"{mesh.faces_found} faces were found in {inputs.portrait_name}; "
                     "the largest, most central one speaks.")
    with clock("speech"):
        speech = _speech(inputs, options)
    if inputs.audio is None and speech.duration_s > limits.max_speech_s:
        raise SpeechTooLong(  # before any frame is rendered
            f"The quote takes {speech.duration_s:.0f} s to say; the limit is "
            f"{limits.max_speech_s:g} s of speech.",
            "Shorten it (long numbers are read out in full: write them in words or round them).")
    with clock("motion"):
        side = smirk_side(mesh.landmarks, mesh.yaw_deg)
        own = OwnExpression(smile_iod=smile_iod(mesh.landmarks))
        track = plan_motion(speech, replace(motion_options, smirk_side=side, own_expression=own))
    started = time.perf_counter()
    report("render", 0.0)
    stream = render_batches(portrait, mesh, track, render_options)
    fmt = stream.format
    with _start_finish(fmt, speech, marking, options, out_path) as finish:
        finished, overlapped = render_and_finish(stream, finish, report, started=started)
    seconds.update(overlapped)
    return AnimateResult(
        path=out_path, sha256=finished.sha256, size_bytes=finished.encoded.bytes,
        duration_s=fmt.duration_s, size_wh=(fmt.width, fmt.height),
        manifest_id=finished.c2pa_manifest_id,
        speech=speech, mesh=mesh, portrait_sha256=portrait.source_sha256,
        engines=engine_versions(speech, pick_device(render_options.device).type),
        seconds=seconds,
        notes=tuple(notes),
    )


def render_and_finish(stream: FrameStream, finish: FinishStream, report: Progress,
                      *, started: float | None = None) -> tuple[FinishedVideo, dict[str, float]]:
    """Render `stream` here while one worker marks each batch and another encodes it; sign.

    Reports "render" per batch (fraction of frames) and "finish" from the last frame on.
    Returns the video and its seconds: "render" (wall, from `started`, default now, until the
    last frame is handed over), "finish" (wall after that), "render.*" and "finish.*" (busy
    seconds per step, see `AnimateResult.seconds`)."""
    started = time.perf_counter() if started is None else started
    n_frames, done = stream.format.n_frames, 0
    seconds: dict[str, float] = {}

    def handed(batch: np.ndarray) -> None:
        nonlocal done
        done += len(batch)
        report("render", done / n_frames)
        if done == n_frames:  # everything rendered: what is left is the finish stage
            seconds["render"] = time.perf_counter() - started
            report("finish", 0.0)

    # Three threads: render (here) | watermark + label | encode (x264 adds its own threads).
    overlap(stream, finish.mark, finish.encode, on_handed=handed)
    seconds.setdefault("render", time.perf_counter() - started)
    finished = finish.close()
    seconds["finish"] = time.perf_counter() - started - seconds["render"]
    report("finish", 1.0)
    seconds.update({f"render.{k}": v for k, v in stream.times().__dict__.items()})
    seconds.update({f"finish.{k}": v for k, v in finished.timings_s.items()})
    return finished, seconds


_END = object()


def overlap(batches: Iterable, *stages: Callable[[object], None], depth: int = 2,
            on_handed: Callable[[object], None] | None = None) -> None:
    """Produce `batches` on this thread while each of `stages` runs on its own worker thread:
    every batch goes through stage 1, then stage 2, ..., in order (a bounded queue of `depth`
    batches between neighbours: the producer blocks when the workers lag, memory stays bounded).

    Returns once every batch has passed every stage. A failure anywhere stops everything and is
    raised here as the original exception: a producer error cancels the batches still queued; a
    stage error stops the producer at its next batch (every worker keeps draining its queue
    until the end marker, so no thread ever blocks on a full queue). `on_handed(batch)` runs
    here after each batch is handed to the first stage."""
    queues: list[queue.Queue] = [queue.Queue(maxsize=depth) for _ in stages]
    failed: list[BaseException] = []
    cancelled = threading.Event()

    def work(inbox: queue.Queue, consume: Callable[[object], None],
             outbox: queue.Queue | None) -> None:
        while (batch := inbox.get()) is not _END:
            if failed or cancelled.is_set():
                continue  # drain without work until the end marker
            try:
                consume(batch)
            except BaseException as exc:  # noqa: BLE001 - re-raised on the producer's thread
                failed.append(exc)
                continue
            if outbox is not None:
                outbox.put(batch)
        if outbox is not None:
            outbox.put(_END)

    workers = [threading.Thread(target=work, name=f"vitaphone-finish-{i}", daemon=True,
                                args=(queues[i], stage, queues[i + 1] if i + 1 < len(stages)
                                      else None))
               for i, stage in enumerate(stages)]
    for worker in workers:
        worker.start()
    try:
        for batch in batches:
            if failed:
                break
            queues[0].put(batch)
            if on_handed is not None:
                on_handed(batch)
    except BaseException:
        cancelled.set()
        raise
    finally:
        queues[0].put(_END)  # the workers always drain, so this cannot block for long
        for worker in workers:
            worker.join()
    if failed:
        raise failed[0]


def _speech(inputs: AnimateInputs, options: AnimateOptions) -> Speech:
    from vitaphone.core.speech.synthesize import (
        SpeechOptions,
        speech_from_recording,
        synthesize_speech,
    )
    from vitaphone.core.speech.script import language_for_text

    limits = options.limits
    if options.language:
        language = options.language
    else:  # not chosen: the quote's script decides (a recording's transcript is only aligned)
        language = language_for_text(inputs.text or "", None) if inputs.audio is None else "en"
    speech_options = SpeechOptions(
        language=language, base_voice=options.base_voice,
        max_chars=limits.max_quote_chars, seed=options.seed,
        voice_sample=inputs.voice_sample, voice_sample_name=inputs.voice_sample_name,
        sample_min_s=limits.min_voice_sample_s, sample_max_s=limits.max_voice_sample_s,
        recording_max_s=limits.max_audio_s,
    )
    if inputs.audio is not None:
        return speech_from_recording(inputs.audio, name=inputs.audio_name,
                                     transcript=inputs.text, options=speech_options)
    return synthesize_speech(inputs.text or "", speech_options)


def _start_finish(fmt: FrameFormat, speech: Speech, marking: Marking, options: AnimateOptions,
                  out_path: Path) -> FinishStream:
    """Watermark, label, encode and sign, batch by batch (marks.start_finish: no step can be
    skipped)."""
    from vitaphone.core.marking.label import LabelOptions
    from vitaphone.core.marking.marks import FinishOptions, start_finish

    assertion = ProvenanceAssertion(watermark_payload_hex=marking.watermark_payload_hex,
                                    consent_basis=marking.consent_basis, job_id=marking.job_id)
    finish = FinishOptions(label=LabelOptions(text=marking.label_text, corner=marking.label_corner),
                           size_budget_bytes=options.size_budget_bytes)
    return start_finish(fmt, speech.samples, speech.sample_rate_hz, out_path,
                        assertion=assertion, credentials=marking.credentials,
                        version=__version__, options=finish)


def engine_versions(speech: Speech, device: str) -> dict[str, str]:
    """Names and versions of every engine that shaped the output (stored with provenance)."""
    import av
    import torch

    engines = {
        "vitaphone": __version__,
        "speech": f"{speech.source.engine} ({speech.source.voice or speech.source.kind})",
        "timing": speech.timing,
        "face": "mediapipe face_detection_short_range + face_landmark (LiteRT)",
        "renderer": f"vitaphone warp {__version__} (torch {torch.__version__}, {device})",
        "encoder": f"PyAV {av.__version__} libx264 + aac",
    }
    if speech.source.converter:
        engines["voice_converter"] = speech.source.converter
    return engines


class _StageClock:
    """Times stages and reports progress at their edges."""

    def __init__(self, seconds: dict[str, float], report: Progress) -> None:
        self.seconds, self.report = seconds, report

    def __call__(self, stage: str) -> _StageClock:
        self._stage = stage
        return self

    def __enter__(self) -> None:
        self._t0 = time.perf_counter()
        self.report(self._stage, 0.0)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.seconds[self._stage] = time.perf_counter() - self._t0
            self.report(self._stage, 1.0)
