"""The buttons under alerts and timelines: Timeline, Follow, Mute. Every press is answered, whatever it holds."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import ContextTypes

from bot.service import UserError
from handlers.common import ensure_chat, may_change_settings, reply, service
from handlers.stories import send_timeline

# What our buttons carry. A story id is an SQLite integer: 18 digits always fit, and anything longer (a forged
# "mute:99999999999999999999") would overflow it.
_BUTTON_DATA = re.compile(r"(timeline|follow|mute):([0-9]{1,18})")


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    pressed = _BUTTON_DATA.fullmatch(query.data or "")
    if pressed is None:
        await query.answer("This button is from an older version of the bot.")
        return
    if update.effective_chat is None:  # a button on a message sent inline, through another chat
        await query.answer("This button works only under the bot's own messages, in the chat they were sent to.")
        return
    action, story_id = pressed.group(1), int(pressed.group(2))
    if action == "timeline":
        await query.answer()
        try:
            await send_timeline(update, context, story_id)
        except UserError as exc:
            await reply(update, context, str(exc))
        return
    if not await may_change_settings(update, context):
        return
    await ensure_chat(update, context)
    chat_id = update.effective_chat.id
    try:
        if action == "follow":
            done = await service(context).follow_story(chat_id, story_id)
            text = f"Following story {story_id}." if done.is_new else f"Already following story {story_id}."
        else:
            done = await service(context).mute(chat_id, story_id)
            text = f"Muted story {story_id}." if done.is_new else f"Story {story_id} was already muted."
    except UserError as exc:
        text = str(exc)
    await query.answer(text)
