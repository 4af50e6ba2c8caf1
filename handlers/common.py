"""What every handler needs: the service, the chat's zone, replies, and who may change a chat's settings."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ContextTypes

from bot.delivery.render import Rendered, esc, zone
from bot.delivery.sender import send_rendered
from bot.service import StoryWatch, UserError

# Longer arguments are refused before any work: no command of ours needs more.
MAX_ARGUMENT_CHARS = 300


def service(context: ContextTypes.DEFAULT_TYPE) -> StoryWatch:
    return context.bot_data["service"]


def arguments(context: ContextTypes.DEFAULT_TYPE) -> str:
    text = " ".join(context.args or [])
    if len(text) > MAX_ARGUMENT_CHARS:
        raise UserError(f"That is too long: send at most {MAX_ARGUMENT_CHARS} characters after the command.")
    return text


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Rendered | str) -> None:
    """Answer in the chat the update came from. A `str` is plain text and is escaped here."""
    rendered = message if isinstance(message, Rendered) else Rendered(esc(message))
    await send_rendered(context.bot, update.effective_chat.id, rendered)


async def chat_zone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> ZoneInfo:
    chat = await service(context).chat(update.effective_chat.id)
    return zone(chat.timezone if chat and chat.timezone else service(context).settings.digest.default_timezone)


async def ensure_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    await service(context).start_chat(chat.id, chat.type, chat.title or chat.full_name)


async def may_change_settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """In a group only its admins change what it follows and how it is alerted; in a private chat, its
    user. Tells the user when they may not."""
    chat, user = update.effective_chat, update.effective_user
    if chat.type == ChatType.PRIVATE:
        return True
    message = update.effective_message
    if message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous admin posts as the group itself
    if user is not None:
        member = await context.bot.get_chat_member(chat.id, user.id)
        if member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
            return True
    text = "Only this group's admins can change what it follows and its alerts."
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await reply(update, context, text)
    return False


def is_bot_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return user is not None and user.id in service(context).settings.telegram.admins


def page_number(context: ContextTypes.DEFAULT_TYPE, command: str) -> int:
    """The page a list command asks for: `/feeds 2`; 1 without one."""
    text = arguments(context).strip()
    if not text:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise UserError(f"Send /{command}, or /{command} and a page number, for example /{command} 2.")
    return int(text)
