"""`vitaphone animate`: a portrait speaking a quote (or a recording), labelled and signed.

The CLI is a front end like the bots: it records consent and a job in the database (the
embedded SQLite by default), renders through `Studio`, and writes provenance. It refuses to run
without a consent basis; `--demo` animates the bundled public-domain Einstein portrait, so it
implies `public_domain_historical`.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from vitaphone.cli import app
from vitaphone.cli._files import (
    check_writable,
    print_engine_missing,
    print_user_error,
    read_input,
)

_console = Console()
_err = Console(stderr=True)

DEMO_QUOTE = (
    "Our age is proud of the progress it has made in men's intellectual development. "
    "The search and striving for truth and knowledge is one of the highest of men's qualities."
)
_STAGE_LABELS = {
    "portrait": "Finding the face", "speech": "Making speech", "motion": "Planning motion",
    "render": "Rendering frames", "finish": "Label, watermark, encode, sign",
}


@app.command()
def animate(
    out: Path = typer.Option(..., "-o", "--out", help="Where to write the MP4."),
    portrait: Path | None = typer.Option(None, "--portrait", help="Portrait image (JPEG, PNG, WebP…)."),
    text: str | None = typer.Option(None, "--text", help="The quote to speak (or the recording's transcript)."),
    audio: Path | None = typer.Option(None, "--audio", help="A recording to lip-sync instead of text-to-speech."),
    voice: Path | None = typer.Option(None, "--voice", help="A 5-60 s sample of the voice to clone."),
    language: str | None = typer.Option(None, "--language", help="ISO 639-1 language of the quote (default: from its script; Latin is English)."),
    base_voice: str | None = typer.Option(None, "--base-voice", help="Base TTS voice (see `vitaphone voices`)."),
    emotion: str = typer.Option("neutral", "--emotion", help="neutral, happy, sad, angry, surprised, fear, disgust or contempt."),
    intensity: float = typer.Option(0.7, "--intensity", help="Emotion intensity, 0 to 1."),
    seed: int = typer.Option(0, "--seed", help="Seed for blinks and head motion."),
    device: str = typer.Option("auto", "--device", help="cpu, cuda or auto."),
    size_budget_mb: float | None = typer.Option(None, "--size-budget-mb", help="Keep the file under this many MiB (Discord: 10)."),
    consent: str | None = typer.Option(None, "--consent", help="self | permission | public_domain_historical (required)."),
    demo: bool = typer.Option(False, "--demo", help="Animate the bundled Einstein portrait speaking his quote."),
    force: bool = typer.Option(False, "--force", help="Replace the output file if it exists."),
    queue: bool = typer.Option(False, "--queue", help="Submit to the configured queue (Redis "
                               "workers, or the in-process pool) and wait, showing progress."),
) -> None:
    """Make a labelled, watermarked, C2PA-signed video of a face speaking."""
    from vitaphone.config import load_settings
    from vitaphone.consent import ConsentBasis, parse_basis, statement_for
    from vitaphone.core.errors import UserFacingError

    try:  # cheap checks first: a bad input is refused before heavy imports or the database
        limits = load_settings().limits
        if demo:
            if consent not in (None, ConsentBasis.PUBLIC_DOMAIN_HISTORICAL.value):
                raise _bad("--demo animates a public-domain historical portrait, so its consent "
                           "basis is public_domain_historical.", "Leave --consent out with --demo.")
            basis = ConsentBasis.PUBLIC_DOMAIN_HISTORICAL
            portrait_bytes, portrait_name = _demo_portrait(), "einstein.jpg (bundled demo)"
            text = text or DEMO_QUOTE
            if base_voice is None and voice is None and audio is None:  # Einstein: a man's voice
                from vitaphone.core.speech.voice_names import DEMO_MAN_VOICE as base_voice
        else:
            basis = parse_basis(consent)
            if portrait is None:
                raise _bad("No portrait given.", "Pass --portrait IMAGE, or --demo.")
            portrait_bytes = read_input(portrait, "an image", limits.max_portrait_bytes)
            portrait_name = portrait.name
        check_writable(out, "out.mp4", inputs=[portrait, audio, voice], force=force)
        text, language, recording, sample = _checked(limits, portrait_bytes, portrait_name, text,
                                                     language, audio, voice)
        inputs = _inputs(portrait_bytes, portrait_name, text, audio, recording, voice, sample)
        options = _options(emotion, intensity, seed, language, base_voice, device, size_budget_mb)
    except UserFacingError as exc:
        print_user_error(exc)
        raise typer.Exit(2) from None
    _console.print(f"[dim]Consent ({basis.value}): {statement_for(basis)}[/dim]")
    _run(inputs, options, basis, out, queue)


def _run(inputs, options, basis, out: Path, use_queue: bool = False) -> None:
    import asyncio

    from vitaphone.config import load_settings
    from vitaphone.core.errors import EngineUnavailable, UserFacingError

    try:
        settings = load_settings()
    except UserFacingError as exc:
        print_user_error(exc)
        raise typer.Exit(2) from None
    try:
        rendered = asyncio.run(_submit_and_render(settings, inputs, options, basis, out,
                                                  use_queue))
    except KeyboardInterrupt:
        _err.print("[yellow]Interrupted:[/yellow] the job is cancelled and its partial files "
                   "are removed.")
        raise typer.Exit(130) from None
    except UserFacingError as exc:
        print_user_error(exc)
        raise typer.Exit(2) from None
    except EngineUnavailable as exc:
        print_engine_missing(exc)
        raise typer.Exit(1) from None
    for note in rendered.notes:
        _console.print(f"[yellow]note:[/yellow] {escape(note)}")
    seconds = rendered.seconds
    work = sum(v for k, v in seconds.items() if "." not in k)
    _console.print(
        f"[green]✔[/green] Wrote [bold]{escape(str(out))}[/bold]: {rendered.duration_s:.1f} s, "
        f"{rendered.size_bytes / 1e6:.1f} MB, made in {work:.1f} s "
        f"({work / max(rendered.duration_s, 1e-6):.2f} s per second of video)."
    )
    _console.print(f"  job {rendered.job_id} · watermark {rendered.watermark_payload_hex} · "
                   f"C2PA {rendered.manifest_id}", highlight=False)
    _console.print("  Labelled as AI-generated. Check it with: "
                   f"[bold]vitaphone verify {escape(str(out))}[/bold]", highlight=False)


async def _submit_and_render(settings, inputs, options, basis, out: Path,
                             use_queue: bool = False):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from vitaphone.core.pipeline import STAGES
    from vitaphone.storage.migrate import ensure_schema_async
    from vitaphone.studio import Requester, Studio

    # Only the embedded SQLite default migrates itself; any other database is migrated by
    # `vitaphone db upgrade` (SchemaOutOfDate says so).
    await ensure_schema_async(settings.database_url, embedded=settings.embedded_database)
    studio = Studio(settings)
    try:
        requester = Requester(platform="cli", user_id=getpass.getuser(),
                              display_name=getpass.getuser())
        await _clean_after_crashes(studio, out.parent)
        submitted = await studio.submit(inputs, options, basis, requester)
        if use_queue:
            from vitaphone.cli.queue_progress import submit_and_wait

            return await submit_and_wait(settings, studio, submitted.job_id, out, _err)
        with Progress(TextColumn("{task.description:<28}"), BarColumn(), TimeElapsedColumn(),
                      console=_err, transient=False) as bar:
            tasks = {s: bar.add_task(_STAGE_LABELS[s], total=1.0, start=False) for s in STAGES}

            def progress(stage: str, fraction: float) -> None:
                if stage in tasks:
                    if fraction == 0.0:
                        bar.start_task(tasks[stage])
                    bar.update(tasks[stage], completed=fraction)

            return await studio.run(submitted.job_id, out, progress)
    finally:
        await studio.aclose()


async def _clean_after_crashes(studio, folder: Path) -> None:
    """A render killed mid-way (a crash, `kill -9`) left a `.vitaphone-*` folder and a job
    `running`: remove the folder and cancel the job."""
    from vitaphone.queue.sweeper import sweep
    from vitaphone.workspace import clean_stale_work_dirs

    if clean_stale_work_dirs(folder):
        await sweep(studio.sessions, studio.settings.queue)


def _checked(limits, portrait_bytes: bytes, portrait_name: str, text: str | None,
             language: str | None, audio: Path | None, voice: Path | None):
    """The intake's cheap checks (no torch, no database): (text, language, recording bytes,
    voice sample bytes), the text cleaned and the language resolved from its script."""
    from vitaphone import intake

    if audio is None and not (text or "").strip():
        raise _bad("Nothing to say.", "Pass --text QUOTE, or --audio RECORDING.")
    if audio is not None and voice is not None:
        raise _bad("--audio and --voice were both given.",
                   "A recording already has its voice: pass one or the other.")
    if audio is None:
        quote = intake.check_quote(text, language=language, limits=limits)
        text, language = quote.text, quote.language
    else:
        text = intake.check_transcript(text, limits=limits)
    intake.check_portrait(portrait_bytes, name=portrait_name, limits=limits)
    recording = sample = None
    if audio is not None:
        recording = read_input(audio, "an audio file", intake.MAX_AUDIO_BYTES)
        intake.check_audio(recording, name=audio.name, limits=limits, role="recording")
    if voice is not None:
        sample = read_input(voice, "an audio file", intake.MAX_AUDIO_BYTES)
        intake.check_audio(sample, name=voice.name, limits=limits, role="voice_sample")
    return text, language, recording, sample


def _inputs(portrait_bytes: bytes, portrait_name: str, text: str | None, audio: Path | None,
            recording: bytes | None, voice: Path | None, sample: bytes | None):
    from vitaphone.core.pipeline import AnimateInputs

    return AnimateInputs(
        portrait=portrait_bytes, portrait_name=portrait_name, text=text,
        audio=recording, audio_name=audio.name if audio else "",
        voice_sample=sample, voice_sample_name=voice.name if voice else "",
    )


def _options(emotion, intensity, seed, language, base_voice, device, size_budget_mb):
    from vitaphone.core.motion.options import MotionOptions
    from vitaphone.core.pipeline import AnimateOptions

    if device not in ("auto", "cpu", "cuda"):
        raise _bad(f"Unknown device {device!r}.", "Use cpu, cuda or auto.")
    if size_budget_mb is not None and size_budget_mb <= 0:
        raise _bad("--size-budget-mb must be positive.", "Discord's default limit is 10.")
    MotionOptions(emotion=emotion, intensity=intensity, seed=seed)  # validates with clear errors
    return AnimateOptions(
        emotion=emotion, intensity=intensity, seed=seed, language=language, base_voice=base_voice,
        device=device,
        size_budget_bytes=int(size_budget_mb * 1024 * 1024) if size_budget_mb else None)


def _demo_portrait() -> bytes:
    from importlib.resources import files

    return files("vitaphone.assets").joinpath("einstein.jpg").read_bytes()


def _bad(message: str, hint: str):
    from vitaphone.core.errors import BadOption

    return BadOption(message, hint)
