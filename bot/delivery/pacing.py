"""Telegram's sending limits, applied before each message rather than discovered through errors."""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

_EPSILON = 1e-9


@dataclass(frozen=True)
class Limits:
    """Telegram's published limits for bots (https://core.telegram.org/bots/faq#broadcasting-to-users)."""

    messages_per_second: float = 30.0
    private_chat_interval: float = 1.0  # seconds between messages to one chat
    group_messages_per_minute: int = 20


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
                earliest = max(earliest, recent[0] + 60.0)
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
        """Wait until this chat may be sent its next message."""
        delay = self.reserve(chat_id, is_group=is_group) - self._clock()
        if delay > 0:
            await self._sleep(delay)

    def pause(self, seconds: float) -> None:
        """Telegram asked us to wait (RetryAfter): nothing is sent to anyone before then."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _forget_idle_chats(self, now: float) -> None:
        # Ten thousand chats each sent one alert must not stay in memory forever.
        if len(self._next_for_chat) > 4096:
            self._next_for_chat = {chat: at for chat, at in self._next_for_chat.items() if at > now}
            self._group_sends = {chat: sends for chat, sends in self._group_sends.items() if sends[-1] + 60 > now}
