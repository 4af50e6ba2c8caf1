"""/alerts: which alerts a chat receives."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import arguments, ensure_chat, may_change_settings, reply, service

ALERT_MODES_TEXT = {
    "all": "all alerts about what this chat follows: new stories, developments and contradictions",
    "contradictions": "only contradictions in what this chat follows",
    "off": "no alerts",
}


async def alerts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    mode = arguments(context).lower()
    if not mode:
        chat = await service(context).chat(update.effective_chat.id)
        current = chat.alert_mode if chat else "all"
        await reply(update, context, f"This chat gets {ALERT_MODES_TEXT[current]}. "
                                     "Change it with /alerts all, /alerts contradictions or /alerts off.")
        return
    if not await may_change_settings(update, context):
        return
    await ensure_chat(update, context)
    await service(context).set_alerts(update.effective_chat.id, mode)
    await reply(update, context, f"This chat now gets {ALERT_MODES_TEXT[mode]}.")
