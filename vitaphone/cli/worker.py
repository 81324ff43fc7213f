"""`vitaphone worker`: take jobs from Redis and render them (see docs/operations.md)."""

from __future__ import annotations

import typer

from vitaphone.cli import app


@app.command()
def worker(
    device: str = typer.Option("auto", "--device", help="cpu, cuda, cuda:N (one GPU) or auto."),
    concurrency: int | None = typer.Option(
        None, "--concurrency", min=1,
        help="Jobs at once (default VITAPHONE_QUEUE__CONCURRENCY; 2-4 keep a GPU busy)."),
    check: bool = typer.Option(False, "--check", help="Say whether a worker is alive on the "
                                                      "queue (arq's health check), then exit."),
    warm: bool = typer.Option(True, "--warm/--no-warm", help="Warm the engines before the "
                                                             "first job."),
) -> None:
    """Render queued jobs from Redis until SIGTERM (running jobs finish or go back)."""
    import asyncio
    import sys

    from vitaphone.config import load_settings
    from vitaphone.core.errors import ConfigError
    from vitaphone.queue.worker import StartupError, WorkerOptions, apply_device, health, serve

    try:
        settings = apply_device(load_settings(), device)
        if check:
            if settings.redis_url is None:
                raise StartupError("VITAPHONE_REDIS_URL is not set: there are no workers")
            alive, detail = asyncio.run(health(settings))
            print(("alive: " if alive else "not alive: ") + detail)
            raise typer.Exit(0 if alive else 1)
        # Logging is set up by the CLI (vitaphone.logs): INFO to <data dir>/logs, warnings to
        # stderr.
        asyncio.run(serve(settings, WorkerOptions(device=device, concurrency=concurrency,
                                                  warm=warm)))
    except (typer.Exit, KeyboardInterrupt):
        raise
    except ConfigError as exc:
        print(f"vitaphone worker: {exc.message}", file=sys.stderr)
        raise typer.Exit(2) from None
    except StartupError as exc:
        print(f"vitaphone worker: {exc}", file=sys.stderr)
        raise typer.Exit(1) from None
    except Exception as exc:  # e.g. Redis gone at --check
        from vitaphone.config import mask_url

        first = (mask_url(str(exc)).strip().splitlines() or [""])[0][:200]
        print(f"vitaphone worker: {type(exc).__name__}: {first}", file=sys.stderr)
        raise typer.Exit(1) from None
