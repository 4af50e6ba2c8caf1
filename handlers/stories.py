"""/stories and /story."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.delivery.render import render_story, render_story_list
from bot.wording import plural
from handlers.common import arguments, chat_zone, reply, service
from handlers.follow import story_number

PAGE_SIZE = 10


async def stories(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/stories [words] [page]`: a trailing number is the page ("/stories 2", "/stories copper 2")."""
    words = arguments(context).split()
    page = int(words.pop()) if words and words[-1].isdigit() and len(words[-1]) <= 3 else 1
    query = " ".join(words)
    more_words = f"{query} " if query else ""
    found, more, pages = await service(context).stories_page(query or None, page, PAGE_SIZE)
    if not found:
        if pages:
            last = f"/stories {more_words}{pages}" if pages > 1 else f"/stories {query}".rstrip()
            text = f"There is no page {page}: the list has {plural(pages, 'page')} ({last} for the last)."
        else:
            text = f"No open story matches “{query}”." if query else "No stories yet: the feeds have not been read."
        await reply(update, context, text)
        return
    heading = (f"Stories about “{query}”" if query else "Most active stories") + (f", page {page}" if page > 1 else "")
    await reply(update, context, render_story_list(found, await chat_zone(update, context), heading=heading,
                                                  next_page=f"/stories {more_words}{page + 1}" if more else None))


async def story(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await send_timeline(update, context, story_number(arguments(context), "story"))


async def send_timeline(update: Update, context: ContextTypes.DEFAULT_TYPE, story_id: int) -> None:
    timeline = await service(context).story(story_id)
    followed = await service(context).follows_story(update.effective_chat.id, story_id)
    await reply(update, context, render_story(timeline, await chat_zone(update, context), followed=followed))
