"""The digest job: every minute, send the digests that are due, each once per chat and local day."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from telegram import Bot
from telegram.error import Forbidden, TelegramError

from bot.config import DigestSettings
from bot.delivery.digest import GRACE, candidate_dates, chat_schedule, due_date, gather, render_digest
from bot.delivery.pacing import Pacer
from bot.delivery.sender import send_rendered
from storage import chats as chat_store
from storage import digests as digest_store
from storage.chats import Chat
from storage.db import AsyncDatabase, utcnow

log = logging.getLogger(__name__)


class DigestScheduler:
    """Checked every minute by the bot's scheduler: sends the digests that are due. Each chat's time and zone
    live in the database, so nothing is lost or changed by a restart."""

    def __init__(
        self, adb: AsyncDatabase, bot: Bot, defaults: DigestSettings, *, pacer: Pacer,
        clock: Callable[[], datetime] = utcnow, grace: timedelta = GRACE,
    ) -> None:
        self.adb = adb
        self.bot = bot
        self.defaults = defaults
        self.pacer = pacer
        self.clock = clock
        self.grace = grace

    async def due(self) -> list[tuple[Chat, date]]:
        now = self.clock()
        chats = await self.adb.run(digest_store.digest_chats)
        days = sorted({d for chat, _ in chats for d in candidate_dates(now, chat_schedule(chat, self.defaults)[1])})
        settled = await self.adb.run(digest_store.settled_dates, [chat.id for chat, _ in chats], days)
        due = []
        for chat, since in chats:
            at, tz = chat_schedule(chat, self.defaults)
            local_date = due_date(now, at, tz, {d for c, d in settled if c == chat.id}, self.grace, since)
            if local_date is not None:
                due.append((chat, local_date))
        return due

    async def send_due(self) -> int:
        """Send every digest that is due; returns how many went out."""
        sent = 0
        for chat, local_date in await self.due():
            sent += await self._send(chat, local_date)
        return sent

    async def _send(self, chat: Chat, local_date: date) -> bool:
        now = self.clock()
        if not await self.adb.run(digest_store.claim_digest, chat.id, local_date, now):
            return False
        stories, tz, today = await gather(self.adb, chat, self.defaults, now)
        if not stories and await self.adb.run(digest_store.last_digest_was_manual, chat.id):
            # The digest the chat asked for came after the last one at its time, and nothing moved since:
            # this one would repeat it. The day is settled without a message.
            await self.adb.run(digest_store.mark_digest, chat.id, local_date, status="sent", message_ids=[],
                               now=now)
            return False
        rendered = render_digest(stories, tz, today)
        try:
            async with self.pacer.turn(chat.id, is_group=chat.is_group):
                message = await send_rendered(self.bot, chat.id, rendered)
        except Forbidden as exc:
            log.info("Chat %s cannot be reached for its digest (%s): deactivated", chat.id, exc)
            await self.adb.run(chat_store.deactivate_chat, chat.id, self.clock(), f"chat unreachable: {exc.message}")
            await self.adb.run(digest_store.mark_digest, chat.id, local_date, status="failed", message_ids=[],
                               now=self.clock())
            return False
        except TelegramError as exc:
            # Left pending: the next check sends it while the grace period lasts.
            log.warning("The digest for chat %s failed (%s); trying again at the next check", chat.id, exc)
            return False
        await self.adb.run(digest_store.mark_digest, chat.id, local_date, status="sent",
                           message_ids=[message.message_id], now=self.clock())
        return True
