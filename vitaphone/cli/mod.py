"""`vitaphone mod …`: the moderation actions of the bots' /mod, from the command line.

Actions are audited with the actor `cli:<OS user>`. A takedown marks the video revoked at once;
the bot serving the platform deletes the posted copies and tells the requester within seconds.
"""

from __future__ import annotations

import typer
from rich.console import Console

from vitaphone.cli import app

mod_app = typer.Typer(help="Moderate the bots: review queue, takedowns, bans, audit, settings.",
                      no_args_is_help=True)
app.add_typer(mod_app, name="mod")

_console = Console()
_err = Console(stderr=True)
_CHAT = typer.Option(None, "--chat", metavar="PLATFORM:CHAT_ID",
                     help="Limit to one chat, e.g. telegram:-1001234 (required for settings).")


def _run(action: str, args: list[str], chat: str | None = None) -> None:
    import asyncio

    from rich.markup import escape

    from vitaphone.core.errors import UserFacingError

    try:
        lines = asyncio.run(_act(action, args, chat))
    except UserFacingError as exc:
        _err.print(f"[red]error:[/red] {escape(exc.message)} {escape(exc.hint)}".rstrip(),
                   highlight=False)
        raise typer.Exit(2) from None
    for line in lines:
        _console.print(line, highlight=False, markup=False)


async def _act(action: str, args: list[str], chat: str | None) -> list[str]:
    import getpass

    from vitaphone.bots.moderation import ModActions, Moderator
    from vitaphone.config import load_settings
    from vitaphone.core.errors import BadOption
    from vitaphone.storage import records
    from vitaphone.storage.migrate import ensure_schema_async
    from vitaphone.studio import Studio

    settings = load_settings()
    await ensure_schema_async(settings.database_url, embedded=settings.embedded_database)
    studio = Studio(settings)
    try:
        scope, platform, here = None, None, None
        if chat:
            platform, _, chat_id = chat.partition(":")
            if platform not in ("telegram", "discord") or not chat_id:
                raise BadOption(f"--chat {chat!r} is not PLATFORM:CHAT_ID.",
                                "Use e.g. --chat telegram:-1001234.")
            async with studio.sessions.begin() as session:
                scope = (await records.get_or_create_chat(session, platform, chat_id)).id
            here = {"chat_id": chat_id}
        mod = Moderator(actor=f"cli:{getpass.getuser()}", scope=scope, platform=platform)
        # Approved jobs reach a queue: Redis when configured; else the bot process picks them
        # up from SQL (its sweeper resumes every queued job).
        queue = None
        if settings.redis_url:
            from vitaphone.queue import open_queue

            queue = await open_queue(settings, studio)
        try:
            return await ModActions(studio, queue).run(mod, action, args, here=here)
        finally:
            if queue is not None:
                await queue.aclose()
    finally:
        await studio.aclose()


@mod_app.command("queue")
def queue_(chat: str | None = _CHAT) -> None:
    """Jobs awaiting review."""
    _run("queue", [], chat)


@mod_app.command("approve")
def approve(job: str, chat: str | None = _CHAT) -> None:
    """Approve a job awaiting review: it is queued."""
    _run("approve", [job], chat)


@mod_app.command("reject")
def reject(job: str, reason: list[str] = typer.Argument(..., help="Why (told to the requester)."),
           chat: str | None = _CHAT) -> None:
    """Reject a job awaiting review."""
    _run("reject", [job, *reason], chat)


@mod_app.command("takedown")
def takedown(target: str = typer.Argument(..., help="JOB id, or CHAT_ID/MESSAGE_ID of a post."),
             reason: list[str] = typer.Argument(...), chat: str | None = _CHAT) -> None:
    """Delete every posted copy, mark the video revoked, tell the requester."""
    _run("takedown", [target, *reason], chat)


@mod_app.command("ban")
def ban(user: str = typer.Argument(..., help="user:N, or a JOB id (its requester)."),
        reason: list[str] = typer.Argument(...), chat: str | None = _CHAT) -> None:
    """Ban a user (everywhere, or in --chat)."""
    _run("ban", [user, *reason], chat)


@mod_app.command("unban")
def unban(user: str, chat: str | None = _CHAT) -> None:
    """Lift a user's bans."""
    _run("unban", [user], chat)


@mod_app.command("audit")
def audit(target: str | None = typer.Argument(None, help="user:N or a JOB id."),
          chat: str | None = _CHAT) -> None:
    """The last 20 moderation actions (on one user or job)."""
    _run("audit", [target] if target else [], chat)


@mod_app.command("settings")
def settings(change: list[str] = typer.Argument(None, help="review on|off, bases a,b, rate U C, "
                                                "modlog CHAT_ID|off"),
             chat: str | None = _CHAT) -> None:
    """Show or change a chat's settings (needs --chat)."""
    _run("settings", list(change or []), chat)


@mod_app.command("stats")
def stats(chat: str | None = _CHAT) -> None:
    """Jobs by state, open reports, takedowns."""
    _run("stats", [], chat)
