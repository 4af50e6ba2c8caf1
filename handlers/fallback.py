"""Commands we do not know, and what the user sees when a command fails."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.service import UserError
from handlers.common import reply

log = logging.getLogger(__name__)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = update.effective_message.text or ""
    command, _, addressee = text.split()[0].partition("@")
    if addressee and addressee.lower() != (context.bot.username or "").lower():
        return  # a command for another bot in the same group
    await reply(update, context, f"I don't know {command}. Send /help for the commands.")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A `UserError` is the answer to the user; anything else is logged with where it happened, and the user
    hears that it failed on our side."""
    error = context.error
    if not isinstance(update, Update) or update.effective_chat is None:
        log.error("Error outside an update: %s", error, exc_info=error)
        return
    if isinstance(error, UserError):
        text = str(error)
    else:
        command = (update.effective_message.text or "").split()[:1] if update.effective_message else []
        log.error("Handling %s in chat %s failed", command[0] if command else "an update",
                  update.effective_chat.id, exc_info=error)
        text = "Sorry, that failed on our side; it has been logged. Please try again later."
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(text[:200], show_alert=True)
        except TelegramError:
            log.warning("Could not answer a button press in chat %s", update.effective_chat.id)
        return
    try:
        await reply(update, context, text)
    except TelegramError as exc:
        log.warning("Could not tell chat %s about an error: %s", update.effective_chat.id, exc)
