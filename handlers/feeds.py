"""The feed pool, for the bot's admins (`telegram.admins`): /feeds, /addfeed, /removefeed, OPML files."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes, filters

from bot.delivery.render import render_feeds, render_lines
from bot.service import UserError
from bot.wording import plural, verb
from handlers.common import arguments, chat_zone, is_bot_admin, may_change_settings, page_number, reply, service

# An OPML file of ten thousand feeds is under 2 MB.
MAX_OPML_BYTES = 2_000_000

NOT_ADMIN = "Only the bot's admins manage the feeds."

# Documents that could be an OPML feed list: by name (.opml, .xml) or by declared type.
OPML_DOCUMENTS = (
    filters.Document.FileExtension("opml") | filters.Document.FileExtension("xml")
    | filters.Document.MimeType("text/x-opml") | filters.Document.MimeType("text/xml")
    | filters.Document.MimeType("application/xml")
)


async def feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not is_bot_admin(update, context):
        raise UserError(NOT_ADMIN)
    page = page_number(context, "feeds")
    await reply(update, context, render_feeds(await service(context).feeds(), await chat_zone(update, context), page))


def _chat_may_add(context: ContextTypes.DEFAULT_TYPE) -> bool:
    return service(context).settings.feeds.anyone_may_add


async def add_feed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    admin = is_bot_admin(update, context)
    if not admin and not _chat_may_add(context):
        raise UserError(NOT_ADMIN)
    if not admin and not await may_change_settings(update, context):
        return
    url = arguments(context)
    if not url or " " in url:
        raise UserError("Send /addfeed and one feed address, for example /addfeed https://example.com/rss.")
    if admin:
        added = await service(context).add_feed(url)
    else:
        added = await service(context).add_chat_feed(update.effective_chat.id, url)
    found = f" (found on {added.discovered_from})" if added.discovered_from else ""
    await reply(update, context, f"Added feed {added.feed.id}: {added.feed.name}{found}, "
                                 f"{added.items_available} items available now.")


async def remove_feed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    admin = is_bot_admin(update, context)
    if not admin and not _chat_may_add(context):
        raise UserError(NOT_ADMIN)
    if not admin and not await may_change_settings(update, context):
        return
    number = arguments(context)
    if not number:
        raise UserError("Send /removefeed and a feed's number from /feeds.")
    if admin:
        removed = await service(context).remove_feed(number)
    else:
        removed = await service(context).remove_chat_feed(update.effective_chat.id, number)
    await reply(update, context, f"Removed feed {removed.id}: {removed.name}. Its reports and stories stay.")


async def opml_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A feed list sent to the bot: an admin's is imported into the pool. In a group, anyone else's file is
    none of the bot's business; in a private chat the sender is told who may."""
    if not is_bot_admin(update, context):
        if update.effective_chat.type == ChatType.PRIVATE:
            raise UserError(NOT_ADMIN + " Send /help for what you can do.")
        return
    document = update.effective_message.document
    if document.file_size and document.file_size > MAX_OPML_BYTES:
        raise UserError(f"That file is too large for a feed list (over {MAX_OPML_BYTES:,} bytes).")
    content = bytes(await (await document.get_file()).download_as_bytearray())
    if len(content) > MAX_OPML_BYTES:
        raise UserError(f"That file is too large for a feed list (over {MAX_OPML_BYTES:,} bytes).")
    imported = await service(context).import_opml(content)
    present = len(imported.already_present)
    lines = [f"Imported {plural(len(imported.added), 'new feed')} "
             f"({present} {verb(present, 'was', 'were')} already in the pool)."]
    if imported.failed:
        lines.append(f"Not added, {plural(len(imported.failed), 'feed')} that could not be read as one:")
        lines += [f"• {url}: {reason}" for url, reason in imported.failed]
    await reply(update, context, render_lines(lines))


async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The pool as an OPML file, for a feed reader."""
    if not is_bot_admin(update, context):
        raise UserError(NOT_ADMIN)
    opml = await service(context).export_opml()
    await context.bot.send_document(update.effective_chat.id, document=opml.encode("utf-8"),
                                    filename="storywatch-feeds.opml", caption="The feed pool, as OPML.")
