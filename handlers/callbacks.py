"""The buttons under alerts and timelines: Timeline, Follow, Mute."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.service import UserError
from handlers.common import ensure_chat, may_change_settings, service
from handlers.stories import send_timeline


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    action, _, number = (query.data or "").partition(":")
    if action not in ("timeline", "follow", "mute") or not number.isdigit():
        await query.answer("This button is from an older version of the bot.")
        return
    story_id = int(number)
    if action == "timeline":
        await query.answer()
        await send_timeline(update, context, story_id)
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
