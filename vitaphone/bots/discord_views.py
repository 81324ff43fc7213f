"""Discord buttons that survive a restart: every button's custom_id is `vp:<Button.action>`.

`ActionButton` is a `DynamicItem`: discord.py routes any press whose custom_id matches the
template to it, with no view kept in memory, so a consent step or a video's Report/Delete
button still works after the bot restarts. The press goes to the bot's `on_action`.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from vitaphone.bots.contract import Button

_STYLES = {"primary": discord.ButtonStyle.primary, "secondary": discord.ButtonStyle.secondary,
           "danger": discord.ButtonStyle.danger, "success": discord.ButtonStyle.success}


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"vp:(?P<action>.+)"):
    def __init__(self, button: Button, *, row: int | None = None) -> None:
        # Discord limits: label 80 characters, custom_id 100.
        style = _STYLES.get(button.style, discord.ButtonStyle.secondary)
        super().__init__(discord.ui.Button(label=button.label[:80], style=style, row=row,
                                           custom_id=f"vp:{button.action}"[:100]))
        self.action = button.action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Button[Any], match: re.Match[str]
                             ) -> ActionButton:
        return cls(Button(label=item.label or "", action=match["action"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        on_action = getattr(interaction.client, "on_action", None)
        if on_action is not None:
            await on_action(interaction, self.action)
