"""Shared bot fixtures: a migrated database, the studio, the in-process queue and the service.

Platform fixtures live here too: the fake Telegram server and a running python-telegram-bot
Application; the fake Discord server and the real Discord adapter logged in to it (the harness
itself is tests/bots/discord_harness.py). Keep additions additive: both adapters use `bot_stack`.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # fake servers import as top-level modules

ASSETS = Path(__file__).resolve().parents[1] / "assets"
PORTRAIT = ASSETS / "portraits" / "einstein.jpg"


@dataclass
class BotStack:
    settings: Any
    studio: Any
    queue: Any
    service: Any


async def open_stack(**overrides: Any) -> BotStack:
    """Settings from the (isolated) environment, a migrated SQLite database in the test's data
    dir, the in-process queue with one slot, and a BotService sweeping every 0.2 s."""
    from vitaphone.bots.service import BotService
    from vitaphone.config import load_settings
    from vitaphone.queue import open_queue
    from vitaphone.storage.migrate import upgrade_database_async
    from vitaphone.studio import Studio

    settings = load_settings(None, **overrides)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade_database_async(settings.database_url)
    studio = Studio(settings)
    queue = await open_queue(settings, studio, concurrency=1)
    return BotStack(settings, studio, queue, BotService(settings, studio, queue, sweep_s=0.2))


async def close_stack(stack: BotStack) -> None:
    await stack.service.aclose()
    await stack.queue.aclose()
    await stack.studio.aclose()


async def assert_taken_down(stack: BotStack, job_id: str, reason: str) -> None:
    """The flows' end: the one video's provenance record is taken down for `reason`, the audit
    log says so, and the one report filed names `job_id`."""
    from sqlalchemy import select

    from vitaphone.storage.models import AuditLog, Provenance, Report

    async with stack.studio.sessions() as session:
        record = (await session.execute(select(Provenance))).scalar_one()
        assert record.taken_down and record.takedown_reason == reason
        actions = [a.action for a in (await session.execute(select(AuditLog))).scalars()]
        assert "take_down" in actions
        assert (await session.execute(select(Report))).scalar_one().job_id == job_id


@pytest.fixture
async def bot_stack() -> AsyncIterator[BotStack]:
    stack = await open_stack(device="cpu", admins="telegram:9000")
    try:
        yield stack
    finally:
        await close_stack(stack)


# --- Telegram ---------------------------------------------------------------------------------
@pytest.fixture
async def fake_telegram():
    from fake_telegram import FakeTelegram

    server = await FakeTelegram().start()
    try:
        yield server
    finally:
        await server.close()


async def start_telegram(stack: BotStack, fake: Any):
    """A real python-telegram-bot Application polling the fake server, service started."""
    from vitaphone.bots.telegram import build_application

    app = build_application(fake.token, stack.service, base_url=fake.base_url,
                            base_file_url=fake.base_file_url)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await stack.service.start()
    return app


async def stop_telegram(app: Any) -> None:
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()


@pytest.fixture
async def telegram_bot(bot_stack: BotStack, fake_telegram: Any):
    app = await start_telegram(bot_stack, fake_telegram)
    try:
        yield app
    finally:
        await stop_telegram(app)


# --- Discord ----------------------------------------------------------------------------------
@pytest.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch):
    """The fake Discord REST server, with every discord.py REST call pointed at it."""
    from discord_harness import point_discord_at
    from fake_discord import FakeDiscord

    server = FakeDiscord()
    await server.start()
    point_discord_at(server, monkeypatch)
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def discord_bot(bot_stack: BotStack, fake_discord: Any):
    """The real Discord adapter logged in to the fake, its service started (a DiscordHarness)."""
    from discord_harness import start_discord

    harness = await start_discord(bot_stack, fake_discord)
    try:
        yield harness
    finally:
        await harness.client.close()
