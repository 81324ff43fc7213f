"""`vitaphone doctor`: check every dependency this host needs and say how to fix what is missing.

Exit code 1 when something required is missing. Optional things (Redis when not configured, bot
libraries without a token, CUDA) are warnings.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

from vitaphone.cli import app
from vitaphone.core.errors import EngineUnavailable

if TYPE_CHECKING:
    from vitaphone.config import Settings

Status = Literal["ok", "warn", "missing"]

def _packages() -> dict[str, list[tuple[str, str]]]:
    """{extra: [(import name, distribution)]}: every third-party module the code imports,
    under the pyproject extra that declares it (`vitaphone.dependencies`), plus the packages
    used without an import statement (database drivers, pkg_resources for pyworld)."""
    from vitaphone.dependencies import USED_WITHOUT_IMPORT, declared_extras, modules_by_extra

    groups = modules_by_extra()
    declared = declared_extras()
    for module, (dist, _why) in USED_WITHOUT_IMPORT.items():
        groups.setdefault(declared.get(dist, "undeclared"), []).append((module, dist))
    return groups


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


def _sudo() -> str:
    return "" if os.geteuid() == 0 else "sudo "


def _apt(*packages: str) -> str:
    return f"{_sudo()}apt-get install -y {' '.join(packages)}"


def _pip(extra: str) -> str:
    if extra == "core":
        return "pip install -e ."
    prefix = "pip install torch==2.13.0 && " if extra == "media" else ""
    return f"{prefix}pip install -e '.[{extra}]'"


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _import_problem(module: str) -> str | None:
    """None if `module` imports; else why not (installed-but-broken counts as missing)."""
    if not _has(module):
        return "not installed"
    try:
        with warnings.catch_warnings():  # e.g. pyworld's pkg_resources deprecation notice
            warnings.simplefilter("ignore")
            importlib.import_module(module)
    except Exception as exc:  # a broken install raises anything from ImportError to OSError
        return f"import fails: {type(exc).__name__}: {str(exc)[:80]}"
    return None


def check_packages(extra: str, required: bool, why: str = "") -> Check:
    """Import every package the code needs from one pyproject extra (a few seconds for torch)."""
    name = f"Python packages ({extra})"
    packages = _packages().get(extra, [])
    problems = {dist: p for mod, dist in packages if (p := _import_problem(mod))}
    if not problems:
        return Check(name, "ok", f"{len(packages)} import fine")
    status: Status = "missing" if required else "warn"
    detail = "; ".join(f"{dist}: {p}" for dist, p in problems.items()) + (f" ({why})" if why else "")
    return Check(name, status, detail, _pip(extra))


def check_undeclared() -> Check:
    """Modules the code imports that no pyproject extra declares: a wheel would lack them."""
    undeclared = _packages().get("undeclared", [])
    if not undeclared:
        return Check("Declared dependencies", "ok", "every module the code imports is declared")
    names = ", ".join(sorted(module for module, _ in undeclared))
    return Check("Declared dependencies", "warn", f"imported but declared in no extra: {names}",
                 "add them to pyproject.toml (or reinstall: the install's metadata is stale)")


def check_codecs() -> Check:
    if not _has("av"):
        return Check("PyAV codecs libx264 + aac", "missing", "PyAV not installed", _pip("media"))
    import av

    missing = []
    for name in ("libx264", "aac"):
        try:
            av.codec.Codec(name, "w")
        except Exception:
            missing.append(name)
    if missing:
        fix = "pip install --force-reinstall av  # the PyPI wheels bundle libx264 and aac"
        return Check("PyAV codecs libx264 + aac", "missing", f"no encoder: {', '.join(missing)}", fix)
    return Check("PyAV codecs libx264 + aac", "ok", f"PyAV {av.__version__}")


def check_binary(name: str, apt_package: str, required: bool, note: str = "") -> Check:
    path = shutil.which(name)
    if path:
        return Check(f"{name} binary", "ok", path + (f" ({note})" if note else ""))
    status: Status = "missing" if required else "warn"
    return Check(f"{name} binary", status, "not on PATH" + (f" ({note})" if note else ""),
                 _apt(apt_package))


def check_tts(engine: str) -> Check:
    """Build the speech engine the product uses ("flite" or "espeak-ng"), as a job would.

    flite runs as a binary with its voices; espeak-ng through libespeak-ng and its data.
    """
    name = f"{engine} text-to-speech"
    fix = _apt("flite") if engine == "flite" else _apt("espeak-ng")  # pulls lib and data
    try:
        if engine == "flite":
            from vitaphone.core.speech.flite import FliteEngine as Engine
        else:
            from vitaphone.core.speech.espeak import EspeakEngine as Engine  # type: ignore[assignment]
        tts = Engine()
    except EngineUnavailable as exc:
        return Check(name, "missing", str(exc).split(" Fix:")[0], fix)
    except Exception as exc:  # e.g. the media extra is not installed
        return Check(name, "missing", f"{type(exc).__name__}: {str(exc)[:120]}", fix)
    voices = ", ".join(v.name for v in tts.voices())
    return Check(name, "ok", f"version {tts.version}; {len(tts.languages())} language(s); "
                             f"voices {voices}")


def check_pocketsphinx_model() -> Check:
    if not _has("pocketsphinx"):
        return Check("pocketsphinx en-US model", "missing", "pocketsphinx not installed", _pip("media"))
    import pocketsphinx

    model = Path(pocketsphinx.get_model_path()) / "en-us"
    needed = [model / "en-us", model / "cmudict-en-us.dict", model / "en-us.lm.bin"]
    absent = [p.name for p in needed if not p.exists()]
    if absent:
        return Check("pocketsphinx en-US model", "missing", f"missing in {model}: {', '.join(absent)}",
                     "pip install --force-reinstall pocketsphinx")
    return Check("pocketsphinx en-US model", "ok", str(model))


def check_face_models() -> Check:
    import vitaphone

    folder = Path(vitaphone.__file__).parent / "core" / "face" / "models"
    names = ("face_detection_short_range.tflite", "face_landmark.tflite", "triangles_852.npy")
    absent = [n for n in names if not (folder / n).is_file()]
    if absent:
        return Check("face model files", "missing", f"missing in {folder}: {', '.join(absent)}",
                     "git checkout -- vitaphone/core/face/models  # they ship with the source")
    return Check("face model files", "ok", f"{len(names)} files in {folder}")


def check_database(url: str) -> Check:
    """Connect, and compare the schema revision with the newest migration."""
    from vitaphone.config import mask_url
    from vitaphone.storage.migrate import current_revision, head_revision

    shown = mask_url(url)
    if url.startswith("sqlite") and "///" in url:
        path = Path(url.split("///", 1)[1])
        if not path.exists():
            return Check("database", "warn", f"{shown}: not created yet",
                         "vitaphone db upgrade  # also done automatically on first use")
    try:
        now = current_revision(url)
    except Exception as exc:
        first = mask_url(str(exc)).strip().splitlines()[0][:160]
        fix = ("check VITAPHONE_DATABASE_URL and that PostgreSQL is running "
               "(pg_ctlcluster <version> main start)") if "postgresql" in url else \
            "check VITAPHONE_DATABASE_URL / VITAPHONE_DATA_DIR"
        return Check("database", "missing", f"{shown}: {first}", fix)
    head = head_revision()
    if now != head:
        return Check("database", "warn", f"{shown}: reachable, revision {now or 'empty'}, newest {head}",
                     "vitaphone db upgrade")
    return Check("database", "ok", f"{shown}: reachable, schema at {head}")


def check_redis(url: str | None) -> Check:
    from vitaphone.config import mask_url

    if url is None:
        return Check("Redis", "warn", "not configured: jobs run on the in-process queue",
                     "set VITAPHONE_REDIS_URL=redis://127.0.0.1:6379/0 for separate GPU workers")
    if not _has("redis"):
        return Check("Redis", "missing", "redis package not installed", _pip("server"))
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        version = client.info("server").get("redis_version", "?")
        client.close()
    except Exception as exc:
        return Check("Redis", "missing", f"{mask_url(url)}: {mask_url(str(exc))[:160]}",
                     "start it: redis-server --daemonize yes  (or fix VITAPHONE_REDIS_URL)")
    return Check("Redis", "ok", f"{mask_url(url)}: reachable (Redis {version})")


def check_blob_store(settings: Settings) -> Check:
    """Write, read back and delete a small blob in the configured store."""
    from vitaphone.storage.blobs import BlobStoreUnavailable, open_blob_store, probe_blob_store

    s3 = (settings.blob_url or "").startswith("s3://")
    where = f"{settings.blob_url} at {settings.s3_endpoint_url or 'AWS S3'}" if s3 else \
        f"local {settings.blob_url or settings.blobs_path}"
    if s3 and not _has("obstore"):
        return Check("blob store", "missing", f"{where}: obstore not installed", _pip("server"))
    try:
        probe_blob_store(open_blob_store(settings))
    except BlobStoreUnavailable as exc:
        return Check("blob store", "missing", exc.message, exc.hint)
    except OSError as exc:
        return Check("blob store", "missing", f"{where}: {exc}",
                     "check VITAPHONE_BLOB_DIR / VITAPHONE_BLOB_URL and the folder's permissions")
    return Check("blob store", "ok", f"{where}: reachable and writable")


def check_queue(settings) -> Check:
    """Workers that beat in the last 15 s (from SQL), and the jobs waiting for them."""
    import asyncio

    from vitaphone.storage import leases
    from vitaphone.storage.engine import create_engine, make_sessionmaker

    async def read():
        engine = create_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return (await leases.live_workers(session, within_s=15),
                        await leases.queue_length(session))
        finally:
            await engine.dispose()

    backend = "Redis (arq)" if settings.redis_url else "in-process"
    try:
        workers, waiting = asyncio.run(read())
    except Exception as exc:
        return Check("queue and workers", "warn", f"cannot read the jobs table: "
                     f"{type(exc).__name__}", "vitaphone db upgrade")
    busy = sum(w.running_jobs for w in workers)
    names = ", ".join(f"{w.kind}@{w.host} ({w.device}, {w.running_jobs}/{w.concurrency})"
                      for w in workers[:6]) + (" …" if len(workers) > 6 else "")
    detail = (f"{backend} queue: {waiting} job(s) waiting, {busy} running; "
              f"{len(workers)} live worker(s)" + (f": {names}" if names else ""))
    if settings.redis_url and not workers:
        return Check("queue and workers", "warn", detail,
                     "start one: vitaphone worker --device cuda  (see docs/operations.md)")
    return Check("queue and workers", "ok", detail)


def check_cuda(device: str) -> Check:
    required = device == "cuda"
    if not _has("torch"):
        return Check("CUDA", "missing" if required else "warn", "torch not installed", _pip("media"))
    import torch

    if torch.cuda.is_available():
        return Check("CUDA", "ok", f"{torch.cuda.get_device_name(0)} (torch {torch.__version__})")
    detail = f"not available (torch {torch.__version__}); rendering runs on the CPU"
    if required:
        return Check("CUDA", "missing", "VITAPHONE_DEVICE=cuda but " + detail,
                     "install a CUDA build of torch and an NVIDIA driver, or set VITAPHONE_DEVICE=auto")
    return Check("CUDA", "warn", detail, "optional: a CUDA build of torch on a GPU host")


def check_c2pa_signing(cert: Path | None, data_dir: Path) -> Check:
    if cert is not None:
        return Check("C2PA signing certificate", "ok", f"operator certificate {cert}")
    return Check("C2PA signing certificate", "warn",
                 f"not set: videos are signed with a chain Vitaphone creates in {data_dir / 'c2pa'}"
                 " (valid, but verifiers call the signer untrusted)",
                 "set VITAPHONE_C2PA_CERT_PATH and VITAPHONE_C2PA_KEY_PATH")


def run_checks() -> list[Check]:
    """Every check, in display order. Reads settings; raises ConfigError on bad settings."""
    from vitaphone.config import load_settings

    settings = load_settings()
    uses_pg = settings.database_url.startswith("postgresql")
    checks: list[Callable[[], Check]] = [
        check_undeclared,
        lambda: check_packages("core", True),
        lambda: check_packages("media", True, "needed to render"),
        lambda: check_packages("server", uses_pg or settings.redis_url is not None,
                               "needed for PostgreSQL and Redis"),
        lambda: check_packages("bots", bool(settings.discord_token or settings.telegram_token),
                               "needed to run the bots"),
        check_codecs,
        lambda: check_tts("flite"),
        lambda: check_tts("espeak-ng"),
        lambda: check_binary("ffmpeg", "ffmpeg", False, "optional; PyAV bundles its own FFmpeg"),
        check_pocketsphinx_model,
        check_face_models,
        lambda: check_database(settings.database_url),
        lambda: check_redis(settings.redis_url),
        lambda: check_queue(settings),
        lambda: check_blob_store(settings),
        lambda: check_cuda(settings.device),
        lambda: check_c2pa_signing(settings.c2pa_cert_path, settings.data_dir),
    ]
    return [check() for check in checks]


_SYMBOL = {"ok": "[green]✔ ok[/green]", "warn": "[yellow]! warn[/yellow]", "missing": "[red]✘ missing[/red]"}


@app.command()
def doctor() -> None:
    """Check Python packages, codecs, TTS engines, models, database, Redis and CUDA."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from vitaphone.core.errors import ConfigError

    console = Console()
    try:
        with console.status("Checking…"):
            results = run_checks()
    except ConfigError as exc:
        Console(stderr=True).print(f"[red]✘ configuration:[/red] {escape(exc.message)}\n"
                                   f"{escape(exc.hint)}")
        raise typer.Exit(2) from None
    table = Table(title="vitaphone doctor", show_lines=False)
    table.add_column("check")
    table.add_column("status", no_wrap=True)
    table.add_column("detail", overflow="fold")
    table.add_column("fix", overflow="fold", style="cyan")
    for check in results:
        table.add_row(escape(check.name), _SYMBOL[check.status], escape(check.detail),
                      escape(check.fix))
    console.print(table)
    missing = [c for c in results if c.status == "missing"]
    if missing:
        console.print(f"[red]{len(missing)} required thing(s) missing.[/red] Run the fix commands above.")
        raise typer.Exit(1)
    warnings = sum(c.status == "warn" for c in results)
    console.print(f"[green]Everything required is here.[/green] {warnings} warning(s).")
