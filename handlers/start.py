"""/start and /help."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.delivery.render import Rendered
from handlers.common import ensure_chat, is_bot_admin, reply, service

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
    ("quiet", "quiet hours: /quiet 23:00-07:00"),
    ("help", "what this bot does"),
]

# Shown to the bot's admins only: in /help, and in the command menu of their private chats.
ADMIN_COMMANDS = [
    ("feeds", "the shared feed pool and its health"),
    ("addfeed", "add a feed: /addfeed https://example.com/rss"),
    ("removefeed", "remove a feed: /removefeed 3"),
    ("export", "the feed pool as an OPML file"),
]

ADMIN_HELP = """

<b>For the bot's admins</b>
/feeds: the shared feed pool and each feed's health
/addfeed <i>address</i>, /removefeed <i>n</i>: add or remove a feed; an OPML file sent here adds its feeds
/export: the pool as an OPML file"""

HELP = """<b>storywatch</b> follows how news stories develop. It groups reports from many outlets into stories \
and tells you when a new report contradicts an earlier one.

/follow <i>words</i>: alerts for new stories with these words and for their developments; /follow outlet \
<i>name</i>: every story an outlet reports in
/following: what this chat follows; /unfollow <i>n</i>
/stories [<i>words</i>] [<i>page</i>]: the most active stories; /story <i>n</i>: a story's timeline
/mute <i>n</i>: no more alerts about story <i>n</i>; /muted lists them, /unmute <i>n</i>
/alerts all | contradictions | off: which alerts this chat gets; /quiet <i>23:00-07:00</i>: alerts wait \
through those hours (a contradiction does not)
/digest: a digest now; /digest at <i>08:00</i> or /digest off for the daily one; /timezone <i>Europe/Berlin</i>

/follow <i>n</i>, a reply /follow to an alert, or Follow under a story's timeline (/story <i>n</i>) follows that story.

The daily digest comes at {digest_time} ({timezone}, or the chat's /timezone) once this chat follows \
something, or after /digest on; the first at the next digest time. A /digest asked for counts as the last \
digest."""


def _help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Rendered:
    defaults = service(context).settings.digest
    text = HELP.format(digest_time=defaults.default_time, timezone=defaults.default_timezone)
    return Rendered(text + (ADMIN_HELP if is_bot_admin(update, context) else ""))


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await ensure_chat(update, context)
    await reply(update, context, _help(update, context))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(update, context, _help(update, context))
