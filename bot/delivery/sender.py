"""Drains the outbox into Telegram: paced to Telegram's limits, each alert marked sent only once Telegram
confirmed it, so a crash or restart re-sends what was not confirmed and nothing that was. The admins' notices of
feed health (storage/notices.py) go out the same way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import ModuleType

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.config import parse_hhmm
from bot.delivery.pacing import Pacer, retry_seconds
from bot.delivery.render import Rendered, render_alert, render_batch, render_notices, zone
from bot.logs import mask_credentials
from storage import alerts as alert_store
from storage import chats as chat_store
from storage import notices as notice_store
from storage.alerts import PendingAlert
from storage.db import AsyncDatabase, utcnow
from storage.notices import PendingNotice

log = logging.getLogger(__name__)

# Network trouble and 5xx: try again after 5 s, doubling up to 10 minutes, for as long as it takes.
RETRY_FIRST_SECONDS = 5.0
RETRY_MAX_SECONDS = 600.0
# A send that timed out may have been delivered; the next try waits at least this long.
TIMED_OUT_PAUSE_SECONDS = 10.0
# Checked at least this often even when nothing wakes the sender, so a retry falls due on time.
IDLE_CHECK_SECONDS = 60.0


def markup(rendered: Rendered) -> InlineKeyboardMarkup | None:
    rows = rendered.button_rows
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows])


def is_parse_error(exc: BadRequest) -> bool:
    return "can't parse entities" in exc.message.lower()


async def send_rendered(bot: Bot, chat_id: int, rendered: Rendered, *, reply_to: int | None = None) -> Message:
    """Send one message as HTML; when Telegram refuses the markup, send the same words as plain text. The
    credentials of any URL in it (a feed's address, a report's link) are masked: chats never see them."""
    rendered = replace(rendered, html=mask_credentials(rendered.html))
    reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    options = {"reply_markup": markup(rendered), "reply_parameters": reply,
               "link_preview_options": LinkPreviewOptions(is_disabled=True)}
    try:
        return await bot.send_message(chat_id, rendered.html, parse_mode=ParseMode.HTML, **options)
    except BadRequest as exc:
        if not is_parse_error(exc):
            raise
        log.warning("Telegram refused the HTML of a message to chat %s (%s); sending it as plain text", chat_id, exc)
        return await bot.send_message(chat_id, rendered.plain, **options)


def quiet_until(now: datetime, start: str | None, end: str | None, tz_name: str | None) -> datetime | None:
    """When the chat's quiet hours end, if `now` is within them; None otherwise. The hours are local
    ("23:00"-"07:00" runs past midnight); a time a daylight-saving jump skips falls right after the jump."""
    begin, finish = parse_hhmm(start or ""), parse_hhmm(end or "")
    if begin is None or finish is None or begin == finish:
        return None
    tz = zone(tz_name)
    local = now.astimezone(tz)
    for day in (local.date() - timedelta(days=1), local.date()):
        opens = datetime.combine(day, begin, tzinfo=tz)
        closes = datetime.combine(day + timedelta(days=1) if finish < begin else day, finish, tzinfo=tz)
        if opens <= now < closes:
            return closes
    return None


@dataclass(frozen=True)
class Outgoing:
    alerts: Sequence[PendingAlert | PendingNotice]
    rendered: Rendered
    reply_to: int | None
    # Where the outcome is recorded: the alert outbox, or the admins' notices (the same functions in each).
    ledger: ModuleType = alert_store

    @property
    def ids(self) -> list[int]:
        return [alert.id for alert in self.alerts]


def compose(alerts: Sequence[PendingAlert]) -> list[Outgoing]:
    """The messages for one chat's due alerts, in order. A contradiction always has a message of its own,
    with both reports; the other alerts of a burst share one message instead of one each."""
    contradictions = [a for a in alerts if a.kind == "contradiction"]
    others = [a for a in alerts if a.kind != "contradiction"]
    messages = [Outgoing([a], render_alert(a), a.reply_to) for a in contradictions]
    if len(others) == 1:
        messages.append(Outgoing(others, render_alert(others[0]), others[0].reply_to))
    elif others:
        # A burst about one story continues its thread; one about several stands on its own.
        one_story = len({alert.story_id for alert in others}) == 1
        messages.append(Outgoing(others, render_batch(others), others[-1].reply_to if one_story else None))
    return sorted(messages, key=lambda message: message.ids[0])


class Sender:
    """Delivers pending alerts. `run()` keeps draining until cancelled; `wake()` says there is new work."""

    def __init__(
        self,
        adb: AsyncDatabase,
        bot: Bot,
        *,
        pacer: Pacer | None = None,
        clock: Callable[[], datetime] = utcnow,
        concurrency: int = 8,
        batch_size: int = 1000,
    ) -> None:
        self.adb = adb
        self.bot = bot
        self.pacer = pacer or Pacer()
        self.clock = clock
        self.batch_size = batch_size
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        # One drain at a time: two would both read the same pending rows and send them twice.
        self._draining = asyncio.Lock()
        self.sent_messages = 0
        self.timed_out_sends = 0
        self._stopping = False

    async def remember_recent_sends(self) -> None:
        """Start pacing from the outbox's last sends, so that a restarted bot keeps its distance from the
        messages its previous run sent just before it stopped."""
        now = self.clock()
        since = now - timedelta(seconds=self.pacer.limits.group_window_seconds)
        for (chat_id, is_group), moments in (await self.adb.run(alert_store.recent_sends, since)).items():
            self.pacer.seed(chat_id, is_group=is_group, seconds_ago=[(now - at).total_seconds() for at in moments])

    def wake(self) -> None:
        self._wake.set()

    async def finish(self) -> None:
        """Stop sending after the messages on their way, recording their outcome: a send cut off while Telegram
        answers may have been delivered, and would be sent again after a restart. What is left stays in the
        outbox. `run()` still needs cancelling."""
        self._stopping = True
        await self.settle()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.drain()
                due = min((moment for moment in (await self.adb.run(alert_store.next_due_at),
                                                 await self.adb.run(notice_store.next_due_at)) if moment),
                          default=None)
            except Exception:
                log.exception("Delivering alerts failed; trying again in %s s", IDLE_CHECK_SECONDS)
                due = None
            wait = IDLE_CHECK_SECONDS if due is None else (due - self.clock()).total_seconds()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(wait, IDLE_CHECK_SECONDS))

    async def drain(self) -> int:
        """Send every alert that is due now; returns how many messages went out."""
        async with self._draining:
            return await self._drain()

    async def settle(self) -> None:
        """Wait for a drain in progress to finish recording its outcomes."""
        async with self._draining:
            pass

    async def _drain(self) -> int:
        sent_before = self.sent_messages
        await self._deliver_notices()
        while not self._stopping:
            alerts = await self.adb.run(alert_store.due_alerts, self.clock(), self.batch_size)
            if not alerts:
                break
            by_chat: dict[int, list[PendingAlert]] = {}
            for alert in alerts:
                by_chat.setdefault(alert.chat_id, []).append(alert)
            await asyncio.gather(*(self._deliver_chat(chat_alerts) for chat_alerts in by_chat.values()))
            if len(by_chat) < self.batch_size:  # due_alerts returns whole chats, at most batch_size of them
                break
        return self.sent_messages - sent_before

    async def _deliver_chat(self, alerts: list[PendingAlert]) -> None:
        """One chat's messages in order; the first that cannot go now holds back the rest, so the chat
        receives them in order later. A sending slot is held for one message at a time, not for the whole
        chat: a chat waiting for its next turn (a second a message, twenty a minute for a group) must not keep
        the other chats waiting."""
        first = alerts[0]
        until = quiet_until(self.clock(), first.quiet_start, first.quiet_end, first.chat_timezone)
        if until is not None:
            # Quiet hours: a contradiction still goes now, as its own message; the rest waits for the end of
            # the quiet hours and then arrives together.
            waiting = [alert.id for alert in alerts if alert.kind != "contradiction"]
            if waiting:
                await self.adb.run(alert_store.hold_until, waiting, until)
            alerts = [alert for alert in alerts if alert.kind == "contradiction"]
        for message in compose(alerts):
            if self._stopping:
                return
            async with self._slots:
                delivered = await self._deliver(alerts[0].chat_id, alerts[0].is_group, message)
            if not delivered:
                return

    async def _deliver_notices(self) -> None:
        """The admins' due notices of feed health, one message per admin."""
        by_chat: dict[int, list[PendingNotice]] = {}
        for notice in await self.adb.run(notice_store.due_notices, self.clock()):
            by_chat.setdefault(notice.chat_id, []).append(notice)
        for chat_id, notices in by_chat.items():
            if self._stopping:
                return
            async with self._slots:
                await self._deliver(chat_id, False, Outgoing(notices, render_notices(notices), None, notice_store))

    async def _deliver(self, chat_id: int, is_group: bool, message: Outgoing) -> bool:
        """Send one message and record the outcome; returns whether the chat's next message may follow."""
        try:
            async with self.pacer.turn(chat_id, is_group=is_group):
                sent = await send_rendered(self.bot, chat_id, message.rendered, reply_to=message.reply_to)
        except ChatMigrated as exc:
            log.info("Chat %s became supergroup %s; its follows and alerts move there", chat_id, exc.new_chat_id)
            await self.adb.run(chat_store.migrate_chat, chat_id, int(exc.new_chat_id))
            self.wake()
            return False
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            log.warning("Telegram asked to wait %s s before sending more (chat %s)", seconds, chat_id)
            self.pacer.pause(seconds)
            await self._retry(message, f"rate limited: retry after {seconds:g} s", seconds)
            return False
        except Forbidden as exc:
            await self._unreachable(chat_id, exc, message)
            return False
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                await self._unreachable(chat_id, exc, message)
                return False
            log.error("Telegram refused alert %s for chat %s: %s; it will not be retried", message.ids, chat_id, exc)
            await self.adb.run(message.ledger.give_up, message.ids, f"refused by Telegram: {exc.message}")
            return True
        except TimedOut as exc:
            # Telegram may have accepted the message and not answered in time: sending it again may deliver it
            # twice, not sending it may lose it. It is sent again, after a pause that gives Telegram time.
            self.timed_out_sends += 1
            attempts = max(alert.attempts for alert in message.alerts)
            delay = min(RETRY_MAX_SECONDS, max(TIMED_OUT_PAUSE_SECONDS, RETRY_FIRST_SECONDS * 2**attempts))
            log.warning(
                "Sending alert %s to chat %s timed out (%s); Telegram may have delivered it; sending it again in "
                "%.0f s (%d timed-out sends since start)", message.ids, chat_id, exc, delay, self.timed_out_sends,
            )
            await self._retry(message, f"timed out, may have been delivered: {exc}", delay)
            return False
        except (NetworkError, TelegramError, OSError) as exc:
            attempts = max(alert.attempts for alert in message.alerts)
            delay = min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2**attempts)
            log.warning("Sending to chat %s failed (%s); trying again in %.0f s", chat_id, exc, delay)
            await self._retry(message, f"{type(exc).__name__}: {exc}", delay)
            return False
        await self.adb.run(message.ledger.mark_sent, message.ids, sent.message_id, self.clock())
        self.sent_messages += 1
        return True

    async def _retry(self, message: Outgoing, error: str, seconds: float) -> None:
        await self.adb.run(message.ledger.retry_later, message.ids, self.clock() + timedelta(seconds=seconds), error)

    async def _unreachable(self, chat_id: int, exc: TelegramError, message: Outgoing) -> None:
        # Its pending alerts are dropped with the chat; a notice to an admin who never wrote to the bot (so it
        # has no chat) is given up too, rather than tried at every drain.
        log.info("Chat %s cannot be reached (%s): deactivated until it sends /start again", chat_id, exc)
        reason = f"chat unreachable: {exc.message}"
        await self.adb.run(chat_store.deactivate_chat, chat_id, self.clock(), reason)
        await self.adb.run(message.ledger.give_up, message.ids, reason)
