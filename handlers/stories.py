"""/stories and /story."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.delivery.render import render_story, render_story_list
from handlers.common import arguments, chat_zone, reply, service
from handlers.follow import story_number


async def stories(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = arguments(context)
    found = await service(context).stories(query or None)
    if not found:
        text = f"No open story matches “{query}”." if query else "No stories yet: the feeds have not been read."
        await reply(update, context, text)
        return
    heading = f"Stories about “{query}”" if query else "Most active stories"
    await reply(update, context, render_story_list(found, await chat_zone(update, context), heading=heading))


async def story(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await send_timeline(update, context, story_number(arguments(context), "story"))


async def send_timeline(update: Update, context: ContextTypes.DEFAULT_TYPE, story_id: int) -> None:
    timeline = await service(context).story(story_id)
    followed = await service(context).follows_story(update.effective_chat.id, story_id)
    await reply(update, context, render_story(timeline, await chat_zone(update, context), followed=followed))
