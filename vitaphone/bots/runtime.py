"""One bot process: the studio, the queue, the service, and the adapters whose tokens are set.

`vitaphone bot telegram`, `vitaphone bot discord` and `vitaphone run` all call `serve`. Without
VITAPHONE_REDIS_URL the process runs its own jobs (the in-process queue); with it, jobs go to
`vitaphone worker` processes. A missing or rejected token is a `ConfigError` (one line).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vitaphone.core.errors import ConfigError

if TYPE_CHECKING:
    from vitaphone.bots.service import BotService
    from vitaphone.config import Settings

log = logging.getLogger(__name__)
PLATFORMS = ("telegram", "discord")


@dataclass(frozen=True)
class Webhook:
    """Telegram webhook: Telegram posts to `url`; we listen on `listen`:`port` at `url`'s path
    and refuse requests without the secret token we registered."""

    url: str
    listen: str = "0.0.0.0"
    port: int = 8443


_TOKEN_HINTS = {
    "telegram": "Create a bot with @BotFather in Telegram and set its token.",
    "discord": "Create a bot in the Discord developer portal and set its token.",
}


def _token(settings: Settings, platform: str) -> str:
    secret = getattr(settings, f"{platform}_token", None)
    return secret.get_secret_value().strip() if secret is not None else ""


def configured_platforms(settings: Settings) -> list[str]:
    return [p for p in PLATFORMS if _token(settings, p)]


def check_tokens(settings: Settings, platforms: list[str]) -> None:
    """Refuse at once (before the database, studio and queue open) when a token is missing."""
    if not platforms:
        raise ConfigError("No bot token is set.",
                          "Set VITAPHONE_TELEGRAM_TOKEN and/or VITAPHONE_DISCORD_TOKEN.")
    for platform in platforms:
        if not _token(settings, platform):
            raise ConfigError(f"VITAPHONE_{platform.upper()}_TOKEN is not set.",
                              _TOKEN_HINTS[platform])


async def start_telegram(settings: Settings, service: BotService,
                         webhook: Webhook | None = None) -> Any:
    """Build, check the token (getMe) and start receiving updates."""
    from telegram.error import InvalidToken, NetworkError

    from vitaphone.bots.telegram import build_application

    check_tokens(settings, ["telegram"])
    token = _token(settings, "telegram")
    app = build_application(token, service, base_url=settings.telegram_base_url,
                            base_file_url=settings.telegram_base_file_url)
    try:
        await app.initialize()
    except InvalidToken:
        raise ConfigError("Telegram rejected VITAPHONE_TELEGRAM_TOKEN.",
                          "Copy the token again from @BotFather (/token).") from None
    except NetworkError as exc:
        raise ConfigError(f"Could not reach Telegram to log in ({type(exc).__name__}).",
                          "Check the network (or VITAPHONE_TELEGRAM_BASE_URL) and retry.") from None
    await app.start()
    assert app.updater is not None
    if webhook is None:
        await app.updater.start_polling(drop_pending_updates=False)
    else:
        from urllib.parse import urlparse

        await app.updater.start_webhook(
            listen=webhook.listen, port=webhook.port,
            url_path=urlparse(webhook.url).path.lstrip("/"), webhook_url=webhook.url,
            secret_token=secrets.token_urlsafe(32))
    log.info("telegram: @%s is %s", app.bot.username, "polling" if webhook is None
             else "on its webhook")
    return app


async def stop_telegram(app: Any) -> None:
    with contextlib.suppress(Exception):
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()


async def serve(settings: Settings, platforms: list[str], *,
                webhook: Webhook | None = None, stop: asyncio.Event | None = None) -> None:
    """Run the bots of `platforms` until SIGINT/SIGTERM (or `stop` is set)."""
    from vitaphone.bots.service import BotService
    from vitaphone.queue import open_queue
    from vitaphone.storage.migrate import ensure_schema_async
    from vitaphone.studio import Studio

    check_tokens(settings, platforms)
    await ensure_schema_async(settings.database_url, embedded=settings.embedded_database)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not on Windows' event loop, nor outside the main thread (tests run it in one):
        # there the caller's `stop` event is the only way to end.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    studio = Studio(settings)
    queue = await open_queue(settings, studio)
    service = BotService(settings, studio, queue)
    telegram_app, discord_bot, tasks = None, None, []
    try:
        if "telegram" in platforms:
            telegram_app = await start_telegram(settings, service, webhook)
        if "discord" in platforms:
            from vitaphone.bots.discord import login_discord

            discord_bot = await login_discord(settings, service)
            tasks.append(asyncio.create_task(discord_bot.connect(reconnect=True)))
        await service.start()
        tasks.append(asyncio.create_task(stop.wait()))
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await service.aclose()
        if telegram_app is not None:
            await stop_telegram(telegram_app)
        if discord_bot is not None:
            await discord_bot.close()
        await queue.aclose()
        await studio.aclose()
