"""Telegram's sending limits, applied before each message rather than discovered through errors: one Pacer
for everything the bot sends, alerts, digests and command replies alike (replies reach it through
`PacingRateLimiter`, PTB's hook on every request)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
import warnings
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)

_EPSILON = 1e-9
# Set while a send that has already waited its turn (`Pacer.turn`) is under way, so that PacingRateLimiter lets
# it through instead of taking a second slot for it.
_PACED: contextvars.ContextVar[bool] = contextvars.ContextVar("storywatch_paced", default=False)


@dataclass(frozen=True)
class Limits:
    """Telegram's published limits for bots (https://core.telegram.org/bots/faq#broadcasting-to-users)."""

    messages_per_second: float = 30.0
    private_chat_interval: float = 1.0  # seconds between messages to one chat
    group_messages_per_minute: int = 20
    # The "minute" of the group limit, with a second of margin: what we send at the 60th second can reach
    # Telegram a little earlier or later than the one before, over a network whose delays vary.
    group_window_seconds: float = 61.0


class Pacer:
    """Hands out send times: at most `messages_per_second` overall, one message a second per chat and
    twenty a minute per group.

    Each call reserves the earliest slot that respects every limit and then sleeps until it, so concurrent
    senders never take the same slot. A chat that has to wait for its own turn takes a later slot and leaves
    the earlier ones to the other chats. `clock` and `sleep` are injectable, so that a benchmark can pace ten
    thousand messages on a virtual clock without waiting for them.
    """

    def __init__(
        self,
        limits: Limits = Limits(),
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        # Overall slots handed out, in time order, back to one interval before now: a chat that must wait for
        # its own turn takes a later slot without moving the others' slots after it.
        self._taken: list[float] = []
        self._next_for_chat: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}
        self._paused_until = 0.0

    def reserve(self, chat_id: int, *, is_group: bool) -> float:
        """Reserve the next send slot for a chat; returns its time on the pacer's clock."""
        now = self._clock()
        earliest = max(now, self._next_for_chat.get(chat_id, 0.0), self._paused_until)
        recent = None
        if is_group:
            recent = self._group_sends.setdefault(chat_id, deque(maxlen=self.limits.group_messages_per_minute))
            if len(recent) == recent.maxlen:
                earliest = max(earliest, recent[0] + self.limits.group_window_seconds)
        slot = self._overall_slot(earliest, now)
        if recent is not None:
            recent.append(slot)
        self._next_for_chat[chat_id] = slot + self.limits.private_chat_interval
        self._forget_idle_chats(now)
        return slot

    def _overall_slot(self, earliest: float, now: float) -> float:
        """The first time from `earliest` on that is at least 1/messages_per_second from every slot handed out."""
        gap = 1.0 / self.limits.messages_per_second
        taken = self._taken
        del taken[: bisect_left(taken, now - gap)]  # long enough ago to constrain nothing
        slot = earliest
        for other in taken[bisect_right(taken, earliest - gap + _EPSILON) :]:
            if other >= slot + gap - _EPSILON:
                break
            slot = other + gap
        insort(taken, slot)
        return slot

    async def wait_turn(self, chat_id: int, *, is_group: bool) -> None:
        """Wait until this chat may be sent its next message. A pause that Telegram asked for while waiting
        holds this message back too: the slot is taken again after it."""
        while True:
            delay = self.reserve(chat_id, is_group=is_group) - self._clock()
            if delay > 0:
                await self._sleep(delay)
            if self._paused_until <= self._clock() + _EPSILON:
                return

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: int, *, is_group: bool) -> AsyncIterator[None]:
        """Wait for the chat's turn, then send inside the block: PacingRateLimiter lets what is sent there
        through without taking another slot."""
        await self.wait_turn(chat_id, is_group=is_group)
        token = _PACED.set(True)
        try:
            yield
        finally:
            _PACED.reset(token)

    def seed(self, chat_id: int, *, is_group: bool, seconds_ago: Iterable[float]) -> None:
        """Messages sent to the chat before this pacer existed (a restarted bot's last sends, from the
        outbox), `seconds_ago` each: its next message keeps its distance from them."""
        now = self._clock()
        moments = sorted(now - max(0.0, ago) for ago in seconds_ago)
        if not moments:
            return
        self._next_for_chat[chat_id] = max(
            self._next_for_chat.get(chat_id, 0.0), moments[-1] + self.limits.private_chat_interval
        )
        if is_group:
            window_start = now - self.limits.group_window_seconds
            known = self._group_sends.get(chat_id, ())
            merged = sorted([*known, *(moment for moment in moments if moment > window_start)])
            self._group_sends[chat_id] = deque(merged, maxlen=self.limits.group_messages_per_minute)

    def pause(self, seconds: float) -> None:
        """Telegram asked us to wait (RetryAfter): nothing is sent to anyone before then."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _forget_idle_chats(self, now: float) -> None:
        # Ten thousand chats each sent one alert must not stay in memory forever.
        if len(self._next_for_chat) > 4096:
            self._next_for_chat = {chat: at for chat, at in self._next_for_chat.items() if at > now}
            window = self.limits.group_window_seconds
            self._group_sends = {chat: sends for chat, sends in self._group_sends.items() if sends[-1] + window > now}


def retry_seconds(exc: RetryAfter) -> float:
    """`retry_after` is an int today and a timedelta in PTB's next major version; read either, quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# Requests that put a message in a chat: Telegram's limits count these. Others (answering a button press,
# getMe, setMyCommands) are not held back.
_SENDING = ("send", "copyMessage", "forwardMessage", "editMessage")
_NOT_A_MESSAGE = frozenset({"sendChatAction"})


def is_group_chat(chat_id: int | str) -> bool:
    """Group and channel ids are negative (a channel may also be named by its @username)."""
    return isinstance(chat_id, str) or chat_id < 0


class PacingRateLimiter(BaseRateLimiter[None]):
    """PTB's hook on every request of the bot, pacing the messages that do not come through the Sender or the
    digests (command replies, the answers to buttons) on the same Pacer, so the alerts' pacing knows the
    capacity replies used. A flood wait (RetryAfter) pauses the Pacer for everyone; a reply is sent again
    once after it."""

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        paced_here = (
            not _PACED.get() and chat_id is not None and endpoint.startswith(_SENDING)
            and endpoint not in _NOT_A_MESSAGE
        )
        for attempt in range(2):
            if paced_here:
                chat = chat_id if isinstance(chat_id, str) else int(chat_id)
                await self.pacer.wait_turn(chat, is_group=is_group_chat(chat))
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                self.pacer.pause(seconds)
                if not paced_here or attempt:
                    raise
                log.warning("Telegram asked to wait %g s before sending more; %s waits too", seconds, endpoint)
        raise AssertionError("unreachable")
