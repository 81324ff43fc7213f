"""The fake Discord server and the harness, checked with a tiny client through real discord.py:
login, command sync, an attachment option downloaded from the fake CDN, an ephemeral answer with
a persistent button, the press routed by custom_id, webhook edits, channel posts with a file,
deletes, and an expired interaction token."""

from __future__ import annotations

import io

import discord
import pytest
from discord import app_commands
from discord_harness import DiscordHarness
from fake_discord import EPHEMERAL, FakeDiscord


class Knock(discord.ui.DynamicItem[discord.ui.Button], template=r"knock:(?P<n>\d+)"):
    def __init__(self, n: int) -> None:
        super().__init__(discord.ui.Button(label="Knock", custom_id=f"knock:{n}"))
        self.n = n

    @classmethod
    async def from_custom_id(cls, interaction, item, match):  # type: ignore[override]
        return cls(int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"knocked {self.n}", view=None)


@pytest.fixture
async def harness(fake_discord: FakeDiscord):
    client = discord.Client(intents=discord.Intents.none())
    tree = app_commands.CommandTree(client)

    @tree.command(description="Echo a file's size")
    async def echo(interaction: discord.Interaction, file: discord.Attachment, times: int = 1
                   ) -> None:
        data = await file.read()
        view = discord.ui.View(timeout=None)
        view.add_item(Knock(len(data)))
        await interaction.response.send_message(f"{len(data)} bytes x{times}", view=view,
                                                ephemeral=True)

    @tree.command(description="Post to the channel")
    async def post(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.edit_original_response(content="working")
        channel = client.get_partial_messageable(interaction.channel_id)
        sent = await channel.send("clip", file=discord.File(io.BytesIO(b"\x00" * 10), "clip.mp4"))
        await interaction.edit_original_response(content=f"posted {sent.id}")

    client.add_dynamic_items(Knock)
    await client.login(fake_discord.token)
    await tree.sync()
    yield DiscordHarness(fake_discord, client, tree)
    await client.close()


async def test_login_and_sync_reach_the_fake(harness: DiscordHarness,
                                             fake_discord: FakeDiscord) -> None:
    assert [c.path for c in fake_discord.calls[:2]] == ["/users/@me", "/oauth2/applications/@me"]
    assert {c["name"] for c in fake_discord.commands["global"]} == {"echo", "post"}


async def test_attachment_option_ephemeral_answer_and_button(harness: DiscordHarness,
                                                             fake_discord: FakeDiscord) -> None:
    alice = harness.user("alice")
    file = harness.attachment("a.png", b"x" * 123, "image/png")
    interaction = await harness.slash(alice, "echo", file=file, times=2)
    assert await harness.answered(interaction) == 4
    message = harness.original(interaction)
    assert message.content == "123 bytes x2" and message.flags & EPHEMERAL
    assert any(c.path.startswith("/cdn/") for c in fake_discord.calls)

    press = await harness.press(alice, message, "knock:123")
    assert await harness.answered(press) == 7
    assert message.content == "knocked 123" and message.buttons() == []
    assert message.history == ["123 bytes x2"]


async def test_channel_post_with_file_and_webhook_edits(harness: DiscordHarness,
                                                        fake_discord: FakeDiscord) -> None:
    interaction = await harness.slash(harness.user("bob"), "post")
    posted = await fake_discord.wait_for(lambda: harness.channel_messages())
    assert posted[0].content == "clip" and posted[0].attachments[0]["filename"] == "clip.mp4"
    await fake_discord.wait_for(lambda: harness.original(interaction).content.startswith("posted"))
    original = harness.original(interaction)
    assert original.history == ["", "working"] and original.ephemeral


async def test_expired_token_and_wrong_bot_token(harness: DiscordHarness,
                                                 fake_discord: FakeDiscord) -> None:
    interaction = await harness.slash(harness.user("carol"), "post")
    await fake_discord.wait_for(lambda: harness.original(interaction).content.startswith("posted"))
    fake_discord.expire_token(interaction.token)
    webhook = discord.Webhook.partial(harness.client.application_id, interaction.token,
                                      client=harness.client)
    with pytest.raises(discord.HTTPException) as raised:
        await webhook.edit_message(interaction.original_id, content="late")
    assert raised.value.status == 401 and raised.value.code == 50027

    message = harness.channel_messages()[0]
    await harness.client.http.delete_message(harness.channel_id, message.id)
    assert harness.channel_messages() == []

    stranger = discord.Client(intents=discord.Intents.none())
    with pytest.raises(discord.LoginFailure):
        await stranger.login("wrong")
    await stranger.close()
