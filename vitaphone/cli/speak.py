"""`vitaphone speak` (a quote to a WAV file, with phone timings) and `vitaphone voices`."""

from __future__ import annotations

import json
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

_out = Console()
_err = Console(stderr=True)


@app.command()
def speak(
    text: str = typer.Option(..., "--text", "-t", help="The words to speak."),
    output: Path = typer.Option(..., "--output", "-o", help="WAV file to write."),
    voice: Path | None = typer.Option(
        None, "--voice", help="A 5-60 s sample (wav, mp3, m4a, ogg, webm, flac) to sound like."
    ),
    language: str = typer.Option("en", "--language", "-l", help="ISO code: en, de, fr, pt-BR..."),
    base_voice: str | None = typer.Option(
        None, "--base-voice", help="Base voice (see `vitaphone voices`); default per language."
    ),
    timings: Path | None = typer.Option(
        None, "--timings", help="Also write the phone and word timeline as JSON."
    ),
    max_chars: int = typer.Option(1000, "--max-chars", help="Longest text accepted."),
    force: bool = typer.Option(False, "--force", help="Replace the output files if they exist."),
) -> None:
    """Speak TEXT into a loudness-normalised WAV, optionally in the voice of a sample."""
    from vitaphone.core.errors import EngineUnavailable, UserFacingError
    from vitaphone.core.speech.audio_io import write_wav
    from vitaphone.core.speech.synthesize import SpeechOptions, synthesize_speech

    try:
        check_writable(output, "out.wav", inputs=[voice], force=force)  # before any work
        if timings is not None:
            check_writable(timings, "timings.json", inputs=[voice, output], force=force)
        sample = read_input(voice, "an audio file") if voice is not None else None
        options = SpeechOptions(
            language=language,
            base_voice=base_voice,
            max_chars=max_chars,
            voice_sample=sample,
            voice_sample_name=voice.name if voice is not None else "voice sample",
        )
        with _progress("Cloning the voice" if sample else "Speaking"):
            speech = synthesize_speech(text, options)
        write_wav(output, speech.samples, speech.sample_rate_hz)
        if timings is not None:
            timings.write_text(_dump(timeline_json(speech)), encoding="utf-8")
    except UserFacingError as exc:
        print_user_error(exc)
        raise typer.Exit(2) from None
    except EngineUnavailable as exc:  # this host lacks a part: the operator's to fix, not a bug
        print_engine_missing(exc)
        raise typer.Exit(1) from None
    src = speech.source
    _out.print(
        f"[green]wrote[/green] {escape(str(output))} · {speech.duration_s:.2f} s · {src.engine} {src.voice}"
        f"{' (cloned)' if src.kind == 'cloned' else ''} · {len(speech.phones)} phones",
        highlight=False,
    )


@app.command()
def voices() -> None:
    """List the base voices and the languages they speak."""
    from rich.table import Table

    from vitaphone.core.speech.synthesize import available_voices, default_engines

    engines = default_engines()
    table = Table(title="Base voices", show_lines=False)
    for column in ("voice", "engine", "gender", "languages", "description"):
        table.add_column(column)
    for engine in engines.installed():
        langs = ", ".join(engine.languages())
        short = langs if len(langs) < 40 else f"{len(engine.languages())} languages (below)"
        for v in engine.voices():
            table.add_row(v.name, f"{engine.name} {engine.version}", v.gender, short, v.description)
    _out.print(table)
    other = [e for e in engines.installed() if len(e.languages()) > 3]
    for engine in other:
        _out.print(
            f"[bold]{engine.name} languages[/bold] (--language): " + ", ".join(engine.languages())
        )
    if not available_voices(engines):
        _err.print("[red]error:[/red] no text-to-speech engine is installed.")
        _err.print("  Run `vitaphone doctor` (apt-get install flite espeak-ng).")
        raise typer.Exit(1)


def timeline_json(speech) -> dict:
    """The Speech's timeline and provenance as plain JSON-able data (seconds, 3 decimals)."""
    src = speech.source
    return {
        "duration_s": round(speech.duration_s, 3),
        "sample_rate_hz": speech.sample_rate_hz,
        "timing": speech.timing,
        "text": speech.text,
        "source": {
            "kind": src.kind,
            "engine": src.engine,
            "voice": src.voice,
            "language": src.language,
            "converter": src.converter,
        },  # fmt: skip
        "phones": [[p.phone, round(p.start_s, 3), round(p.end_s, 3)] for p in speech.phones],
        "words": [[w.word, round(w.start_s, 3), round(w.end_s, 3)] for w in speech.words],
    }


def _dump(data: dict) -> str:
    """Indented JSON with one phone or word per line (readable, and diffs stay small)."""
    lines = []
    for key, value in data.items():
        if isinstance(value, list):
            rows = ",\n".join("    " + json.dumps(row, ensure_ascii=False) for row in value)
            lines.append(f'  "{key}": [\n{rows}\n  ]' if value else f'  "{key}": []')
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _progress(label: str):
    """A spinner on stderr (synthesis takes from 0.1 s to a few seconds with cloning)."""
    return _err.status(f"{label}…", spinner="dots")
