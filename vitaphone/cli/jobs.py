"""`vitaphone jobs`: list jobs, show one's transitions and error, cancel one (from SQL, so it
works from any host that reaches the database)."""

from __future__ import annotations

import getpass

import typer
from rich.console import Console
from rich.markup import escape

from vitaphone.cli import app

jobs_app = typer.Typer(help="List, inspect and cancel jobs.", invoke_without_command=True)
app.add_typer(jobs_app, name="jobs")

_console = Console()
_err = Console(stderr=True)


def _settings():
    from vitaphone.config import load_settings
    from vitaphone.core.errors import ConfigError

    try:
        return load_settings()
    except ConfigError as exc:
        _err.print(f"[red]error:[/red] {exc.message}\n{exc.hint}")
        raise typer.Exit(2) from None


async def _with_sessions(settings, work):
    from vitaphone.storage.engine import create_engine, make_sessionmaker

    engine = create_engine(settings.database_url)
    try:
        return await work(make_sessionmaker(engine))
    finally:
        await engine.dispose()


def _run(work):
    import asyncio

    from vitaphone.storage.states import JobNotFound

    settings = _settings()
    try:
        return asyncio.run(_with_sessions(settings, work))
    except JobNotFound as exc:
        _err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


@jobs_app.callback()
def list_jobs(
    ctx: typer.Context,
    state: str | None = typer.Option(None, "--state", help="Only jobs in this state "
                                     "(queued, running, done, failed, cancelled, ...)."),
    user: str | None = typer.Option(None, "--user", help="Only this user's jobs: a platform "
                                    "user id, or platform:id (e.g. telegram:42)."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many, newest first."),
) -> None:
    """List jobs, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlalchemy import select

    from vitaphone.storage.models import Job, User
    from vitaphone.storage.states import JobState

    if state is not None and state not in {s.value for s in JobState}:
        _err.print(f"[red]error:[/red] unknown state {state!r}. Use one of: "
                   + ", ".join(s.value for s in JobState))
        raise typer.Exit(2)

    async def work(sessions):
        query = (select(Job, User).join(User, User.id == Job.user_id)
                 .order_by(Job.created_at.desc()).limit(limit))
        if state:
            query = query.where(Job.state == JobState(state))
        if user:
            platform, _, uid = user.rpartition(":")
            query = query.where(User.platform_user_id == uid)
            if platform:
                query = query.where(User.platform == platform)
        async with sessions() as session:
            return (await session.execute(query)).all()

    from rich.table import Table

    rows = _run(work)
    table = Table(show_lines=False, box=None)
    table.add_column("job", no_wrap=True, min_width=32)
    for column in ("state", "stage", "done"):
        table.add_column(column, no_wrap=True)
    table.add_column("user", overflow="ellipsis", no_wrap=True, max_width=24)
    table.add_column("error", overflow="ellipsis", no_wrap=True)  # `jobs show ID`: all of it
    for job, owner in rows:
        table.add_row(job.id, job.state.value, job.stage or "", f"{job.progress:.0%}",
                      f"{owner.platform}:{owner.platform_user_id or '-'}",
                      escape((job.error_message or "")[:60]))
    _console.print(table if rows else "No jobs.")


@jobs_app.command("show")
def show(job_id: str = typer.Argument(..., help="The job id.")) -> None:
    """Show a job: state, stage, progress, worker, every transition and its error."""
    from vitaphone.storage import leases, records

    async def work(sessions):
        async with sessions() as session:
            job = await records.get_job(session, job_id)
            return job, await leases.queue_position(session, job), \
                await records.job_transitions(session, job_id)

    job, position, transitions = _run(work)
    _console.print(f"[bold]job {job.id}[/bold]  {job.state.value}"
                   + (f" · stage {job.stage} · {job.progress:.0%}" if job.stage else "")
                   + (f" · queue position {position}" if position else "")
                   + f" · attempts {job.attempts}", highlight=False)
    if job.worker_id:
        beat = job.heartbeat_at.strftime("%H:%M:%S") if job.heartbeat_at else "never"
        _console.print(f"  worker {job.worker_id} (last heartbeat {beat})", highlight=False)
    if job.cancel_requested_at and not job.state.is_final:
        _console.print("  cancel requested: it stops at its next batch of frames")
    if job.error_message:
        _console.print(f"  [red]{escape(job.error_code or 'error')}:[/red] "
                       f"{escape(job.error_message)}")
    if job.output_sha256:
        _console.print(f"  output blob {job.output_sha256}", highlight=False)
    for t in transitions:
        move = f"{t.from_state.value if t.from_state else '-'} → {t.to_state.value}"
        extra = " · ".join(x for x in (t.stage, escape(t.note or "")) if x)
        _console.print(f"  {t.at.strftime('%H:%M:%S.%f')[:-3]}  {move:<28} {extra}",
                       highlight=False)


@jobs_app.command("cancel")
def cancel(
    job_id: str = typer.Argument(..., help="The job id."),
    reason: str | None = typer.Option(None, "--reason", help="Why (kept in the audit log)."),
) -> None:
    """Cancel a job: at once if it waits, at its next batch of frames if it runs."""
    from vitaphone.storage import leases
    from vitaphone.storage.states import JobState

    actor = f"cli:{getpass.getuser()}"

    async def work(sessions):
        async with sessions.begin() as session:
            return await leases.request_cancel(session, job_id, actor=actor, reason=reason)

    state = _run(work)
    if state is JobState.CANCELLED:
        _console.print(f"[green]✔[/green] job {job_id} cancelled.", highlight=False)
    elif state is JobState.RUNNING:
        _console.print(f"[green]✔[/green] job {job_id} is running: it stops at its next batch "
                       "of frames.", highlight=False)
    else:
        _console.print(f"job {job_id} is already {state.value}; nothing to cancel.",
                       highlight=False)
        raise typer.Exit(1)
