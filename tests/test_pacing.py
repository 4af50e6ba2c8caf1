"""Telegram's limits applied before sending: checked on a virtual clock, so no test waits."""

from __future__ import annotations

import itertools

import pytest

from bot.delivery.pacing import Limits, Pacer


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_many_chats_share_thirty_messages_a_second() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time)
    slots = [pacer.reserve(chat, is_group=False) for chat in range(300)]
    assert slots[0] == 0.0
    assert slots[-1] == pytest.approx(299 / 30)
    assert all(b - a == pytest.approx(1 / 30) for a, b in itertools.pairwise(slots))


def test_one_private_chat_gets_one_message_a_second() -> None:
    pacer = Pacer(clock=VirtualTime())
    assert [pacer.reserve(7, is_group=False) for _ in range(4)] == [0.0, 1.0, 2.0, 3.0]


def test_a_group_gets_twenty_messages_a_minute() -> None:
    pacer = Pacer(clock=VirtualTime())
    slots = [pacer.reserve(-5, is_group=True) for _ in range(41)]
    assert slots[19] == pytest.approx(19.0)
    # The 21st waits for the first to leave the minute, and a second more: twenty per 61 s, so that a network's
    # varying delays never bring 21 to Telegram within 60 s.
    assert slots[20] == pytest.approx(61.0)
    assert slots[40] == pytest.approx(122.0)
    assert all(later - earlier >= 61.0 - 1e-9 for earlier, later in zip(slots, slots[20:], strict=False))


def test_retry_after_pauses_everyone() -> None:
    time = VirtualTime()
    pacer = Pacer(Limits(), clock=time)
    pacer.reserve(1, is_group=False)
    pacer.pause(5)
    assert pacer.reserve(2, is_group=False) == pytest.approx(5.0)


async def test_wait_turn_sleeps_until_the_slot() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time, sleep=time.sleep)
    for _ in range(3):
        await pacer.wait_turn(9, is_group=False)
    assert time.now == pytest.approx(2.0)


async def test_retry_after_holds_back_a_send_already_waiting_for_its_slot() -> None:
    time = VirtualTime()
    pacer = Pacer(clock=time, sleep=time.sleep)
    pacer.reserve(1, is_group=False)  # chat 1's next turn is at 1.0

    async def flood_wait_meanwhile(seconds: float) -> None:
        if time.now == 0.0:
            pacer.pause(5)  # Telegram answered another send with RetryAfter while this one slept
        await time.sleep(seconds)

    pacer._sleep = flood_wait_meanwhile
    await pacer.wait_turn(1, is_group=False)
    assert time.now >= 5.0


def test_a_restarted_pacer_keeps_its_distance_from_the_last_sends() -> None:
    pacer = Pacer(clock=VirtualTime())
    pacer.seed(7, is_group=False, seconds_ago=[0.3])
    assert pacer.reserve(7, is_group=False) == pytest.approx(0.7)
    pacer.seed(-5, is_group=True, seconds_ago=[40 - i for i in range(20)])  # twenty sent 21 to 40 s ago
    assert pacer.reserve(-5, is_group=True) == pytest.approx(61.0 - 40)
