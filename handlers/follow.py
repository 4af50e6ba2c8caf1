"""/follow, /following, /unfollow and /mute."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.delivery.render import render_following, render_muted
from bot.service import UserError
from bot.wording import plural, verb
from handlers.common import arguments, ensure_chat, may_change_settings, page_number, reply, service


def story_number(text: str, command: str) -> int:
    text = text.strip().lstrip("#")
    if not text.isdigit() or len(text) > 12:
        raise UserError(f"Send /{command} and a story number from /stories, for example /{command} 12.")
    return int(text)


async def follow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/follow words` follows a topic; `/follow 12` (a number alone) story 12, as its Follow button does;
    `/follow` in reply to one of our alerts that story."""
    if not await may_change_settings(update, context):
        return
    await ensure_chat(update, context)
    chat_id, words = update.effective_chat.id, arguments(context)
    replied = update.effective_message.reply_to_message
    if not words and replied is not None and replied.from_user and replied.from_user.id == context.bot.id:
        story_ids = await service(context).stories_of_message(chat_id, replied.message_id)
        if not story_ids:
            raise UserError("That message is not an alert about one story: reply /follow to an alert.")
        if len(story_ids) > 1:
            numbers = ", ".join(str(n) for n in story_ids[:-1]) + f" and {story_ids[-1]}"
            raise UserError(f"That message is about stories {numbers}: which one? Open it with /story "
                            f"{story_ids[0]} (or another number) and press Follow there.")
        await follow_story(update, context, story_ids[0])
        return
    if words.strip().lstrip("#").isdigit():
        await follow_story(update, context, story_number(words, "follow"))
        return
    if words.lower().startswith("outlet "):
        name, is_new = await service(context).follow_outlet(chat_id, words[len("outlet "):])
        verb_phrase = "Following" if is_new else "This chat already follows"
        await reply(update, context, f"{verb_phrase} the outlet {name}: every story it reports in, as it develops.")
        return
    followed = await service(context).follow_topic(chat_id, words)
    text = f"Following “{followed.query}”." if followed.is_new else f"This chat already follows “{followed.query}”."
    if followed.matching_stories:
        matching = followed.matching_stories
        text += (f" {plural(matching, 'current story', 'current stories')} {verb(matching, 'matches', 'match')}: "
                 f"{verb(matching, 'its', 'their')} developments will be sent here too.")
    await reply(update, context, text)


async def follow_story(update: Update, context: ContextTypes.DEFAULT_TYPE, story_id: int) -> None:
    followed = await service(context).follow_story(update.effective_chat.id, story_id)
    verb = "Following" if followed.is_new else "Already following"
    await reply(update, context, f"{verb} story {story_id}: {followed.story.title}")


async def following(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    page = page_number(context, "following")
    entries = await service(context).following(update.effective_chat.id)
    await reply(update, context, render_following(entries, page))


async def unfollow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await may_change_settings(update, context):
        return
    removed = await service(context).unfollow(update.effective_chat.id, arguments(context))
    named = removed.kind in ("topic", "outlet")
    what = f"the {removed.kind} “{removed.query}”" if named else f"story {removed.story_id}"
    verb = "Unmuted" if removed.kind == "mute" else "No longer following"
    await reply(update, context, f"{verb} {what}.")


async def mute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await may_change_settings(update, context):
        return
    await ensure_chat(update, context)
    story_id = story_number(arguments(context), "mute")
    muted = await service(context).mute(update.effective_chat.id, story_id)
    await reply(update, context, f"Muted story {story_id}: {muted.story.title}. /unmute {story_id} to hear of it "
                                 "again.")




async def muted(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(update, context, render_muted(await service(context).muted(update.effective_chat.id)))


async def unmute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await may_change_settings(update, context):
        return
    story_id = story_number(arguments(context), "unmute")
    unmuted = await service(context).unmute(update.effective_chat.id, story_id)
    await reply(update, context, f"Unmuted story {story_id}: {unmuted.story.title}.")
