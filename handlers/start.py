"""/start and /help."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.delivery.render import Rendered
from handlers.common import ensure_chat, reply, service

COMMANDS = [
    ("follow", "follow a topic: /follow iran syria"),
    ("following", "what this chat follows"),
    ("unfollow", "stop following: /unfollow 2"),
    ("stories", "the most active stories now"),
    ("story", "one story's timeline: /story 12"),
    ("mute", "silence a story: /mute 12"),
    ("muted", "the muted stories; /unmute 12"),
    ("alerts", "which alerts: /alerts all | contradictions | off"),
    ("digest", "a digest now; /digest at 08:00 or /digest off"),
    ("timezone", "this chat's time zone: /timezone Europe/Berlin"),
    ("help", "what this bot does"),
]

HELP = """<b>storywatch</b> follows how news stories develop. It groups reports from many outlets into stories \
and tells you when a new report contradicts an earlier one.

/follow <i>words</i>: alerts for new stories with these words and for their developments
/following: what this chat follows; /unfollow <i>n</i>
/stories [<i>words</i>] [<i>page</i>]: the most active stories; /story <i>n</i>: a story's timeline
/mute <i>n</i>: no more alerts about story <i>n</i>; /muted lists them, /unmute <i>n</i>
/alerts all | contradictions | off: which alerts this chat gets
/digest: a digest now; /digest at <i>08:00</i> or /digest off for the daily one; /timezone <i>Europe/Berlin</i>

Reply /follow to an alert, or press Follow under a story's timeline (/story <i>n</i>), to follow that story.

The daily digest comes at {digest_time} ({timezone}, or the chat's /timezone) once this chat follows \
something, or after /digest on; the first at the next digest time. A /digest asked for counts as the last \
digest."""


def _help(context: ContextTypes.DEFAULT_TYPE) -> Rendered:
    defaults = service(context).settings.digest
    return Rendered(HELP.format(digest_time=defaults.default_time, timezone=defaults.default_timezone))


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await ensure_chat(update, context)
    await reply(update, context, _help(context))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(update, context, _help(context))
