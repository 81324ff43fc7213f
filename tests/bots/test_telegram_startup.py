"""`vitaphone bot telegram` as a real process against the fake Bot API: a missing or rejected
token is one line and exit code 2; with --webhook, updates POSTed with the secret token the bot
registered are handled and any other request is refused with 403."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import httpx
import pytest

TOKEN = "123:TEST"  # the fake's


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VITAPHONE_TELEGRAM_TOKEN"}
    env.update(values)
    return env


async def _vitaphone(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "vitaphone", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _finished(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_missing_token_is_one_line() -> None:
    code, err = await _finished(await _vitaphone("bot", "telegram", env=_env()))
    assert code == 2
    assert err.splitlines() == ["error: VITAPHONE_TELEGRAM_TOKEN is not set. Create a bot with "
                                "@BotFather in Telegram and set its token."]


async def test_rejected_token_is_one_line_without_the_token(fake_telegram) -> None:
    fake = fake_telegram
    env = _env(VITAPHONE_TELEGRAM_TOKEN="999:WRONG-secret",
               VITAPHONE_TELEGRAM_BASE_URL=fake.base_url,
               VITAPHONE_TELEGRAM_BASE_FILE_URL=fake.base_file_url)
    code, err = await _finished(await _vitaphone("bot", "telegram", env=env))
    assert code == 2
    assert err.splitlines() == ["error: Telegram rejected VITAPHONE_TELEGRAM_TOKEN. Copy the "
                                "token again from @BotFather (/token)."]
    assert [c.method for c in fake.calls] == ["getMe"]  # it asked Telegram, once


@pytest.mark.slow
async def test_webhook_checks_the_secret_token(fake_telegram) -> None:
    fake = fake_telegram
    port = _free_port()
    hook = f"http://127.0.0.1:{port}/telegram-hook"
    env = _env(VITAPHONE_TELEGRAM_TOKEN=TOKEN, VITAPHONE_TELEGRAM_BASE_URL=fake.base_url,
               VITAPHONE_TELEGRAM_BASE_FILE_URL=fake.base_file_url)
    proc = await _vitaphone("bot", "telegram", "--webhook", hook, "--listen", "127.0.0.1",
                            "--port", str(port), env=env)
    try:
        registered = await fake.wait_for(lambda: fake.webhook, 60, "setWebhook")
        assert registered["url"] == hook
        secret = registered["secret_token"]
        assert len(secret) >= 32
        assert not fake.calls_of("getUpdates")  # a webhook bot does not poll

        def update(text: str) -> dict:
            return fake.update_json(fake.message(fake.user(851), fake.chat(851), text=text))

        async with httpx.AsyncClient(timeout=10) as client:
            async def post(text: str, headers: dict[str, str]) -> int:
                for _ in range(50):  # the listener may come up just after setWebhook
                    try:
                        return (await client.post(hook, json=update(text),
                                                  headers=headers)).status_code
                    except httpx.ConnectError:
                        await asyncio.sleep(0.1)
                raise AssertionError("the webhook never listened")

            assert await post("/emotions", {}) == 403
            assert await post("/emotions", {"X-Telegram-Bot-Api-Secret-Token": "guess"}) == 403
            assert await post("/help", {"X-Telegram-Bot-Api-Secret-Token": secret}) == 200
        answer = await fake.wait_for_text(851, "I turn a portrait and a quote", 20)
        await asyncio.sleep(0.5)  # a refused update answered late would show up here
        assert fake.sent_to(851) == [answer]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code, err = await _finished(proc)
    assert code == 0, err
    assert "Traceback" not in err and TOKEN not in err
