"""`vitaphone bot telegram|discord` and `vitaphone run`: the chat bots.

Without VITAPHONE_REDIS_URL the bot process renders its own jobs (the embedded default); with
it, jobs go to `vitaphone worker` processes. A missing or rejected token is one line, exit 2.
"""

from __future__ import annotations

import typer
from rich.console import Console

from vitaphone.cli import app

bot_app = typer.Typer(help="Run one chat bot (Telegram or Discord).", no_args_is_help=True)
app.add_typer(bot_app, name="bot")

_err = Console(stderr=True)


def _serve(platforms: list[str] | None, webhook: str | None, listen: str, port: int) -> None:
    import asyncio
    import logging

    from rich.markup import escape

    from vitaphone.bots.runtime import Webhook, configured_platforms, serve
    from vitaphone.config import load_settings
    from vitaphone.core.errors import UserFacingError

    # httpx logs every request URL at info, and Telegram's URLs hold the bot token.
    for noisy in ("httpx", "httpcore", "telegram.ext", "discord.gateway", "discord.client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = load_settings()
        chosen = platforms if platforms is not None else configured_platforms(settings)
        hook = Webhook(webhook, listen, port) if webhook else None
        asyncio.run(serve(settings, chosen, webhook=hook))
    except UserFacingError as exc:
        # soft_wrap: one line, never folded at the (80-column, when piped) console width.
        _err.print(f"[red]error:[/red] {escape(exc.message)} {escape(exc.hint)}".rstrip(),
                   highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


_WEBHOOK = typer.Option(None, "--webhook", metavar="URL",
                        help="Receive updates at this public HTTPS URL instead of polling.")
_LISTEN = typer.Option("0.0.0.0", "--listen", help="Webhook: the address to listen on.")
_PORT = typer.Option(8443, "--port", help="Webhook: the port to listen on.")


@bot_app.command("telegram")
def telegram(webhook: str | None = _WEBHOOK, listen: str = _LISTEN, port: int = _PORT) -> None:
    """Run the Telegram bot (VITAPHONE_TELEGRAM_TOKEN): polling, or --webhook URL."""
    _serve(["telegram"], webhook, listen, port)


@bot_app.command("discord")
def discord() -> None:
    """Run the Discord bot (VITAPHONE_DISCORD_TOKEN)."""
    _serve(["discord"], None, "", 0)


@app.command("run")
def run(webhook: str | None = _WEBHOOK, listen: str = _LISTEN, port: int = _PORT) -> None:
    """Run every bot whose token is set, in one process (jobs render here without Redis)."""
    _serve(None, webhook, listen, port)
