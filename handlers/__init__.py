"""Telegram's side of the bot: each module turns updates into calls on `bot.service.StoryWatch`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers import callbacks, fallback, feeds, follow, settings, start, stories

log = logging.getLogger(__name__)

BOT_COMMANDS = [BotCommand(name, description) for name, description in start.COMMANDS]
ADMIN_BOT_COMMANDS = BOT_COMMANDS + [BotCommand(name, description) for name, description in start.ADMIN_COMMANDS]


async def set_command_menus(bot: Bot, admins: Sequence[int]) -> None:
    """Everyone's command menu, and each admin's private chat's with the admin commands (Telegram's
    per-chat command scope). An admin who never talked to the bot has no chat to scope to yet: logged."""
    await bot.set_my_commands(BOT_COMMANDS)
    for admin in admins:
        try:
            await bot.set_my_commands(ADMIN_BOT_COMMANDS, scope=BotCommandScopeChat(admin))
        except TelegramError as exc:
            log.warning("Could not set the admin command menu for %s (%s)", admin, exc)


def register(application: Application) -> None:
    """Attach every handler. Commands come first; anything else that looks like a command is answered by
    `unknown_command`."""
    commands = {
        "start": start.start,
        "help": start.help_command,
        "follow": follow.follow,
        "following": follow.following,
        "unfollow": follow.unfollow,
        "mute": follow.mute,
        "muted": follow.muted,
        "unmute": follow.unmute,
        "stories": stories.stories,
        "story": stories.story,
        "alerts": settings.alerts,
        "digest": settings.digest,
        "timezone": settings.timezone,
        "quiet": settings.quiet,
        "feeds": feeds.feeds,
        "addfeed": feeds.add_feed,
        "removefeed": feeds.remove_feed,
        "export": feeds.export,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(callbacks.button))
    # Only a file that could be a feed list is ours to answer; a group's photos and holiday.jpg are not.
    application.add_handler(MessageHandler(feeds.OPML_DOCUMENTS, feeds.opml_file))
    application.add_handler(MessageHandler(filters.COMMAND, fallback.unknown_command))
    application.add_error_handler(fallback.on_error)
