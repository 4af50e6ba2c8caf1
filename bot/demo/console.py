"""A chat in the terminal: stands in for Telegram's Bot API where the sender and the digest send messages,
and prints each message as Telegram would show it (bold, links, buttons, replies)."""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass
from typing import Any, TextIO

from telegram import InlineKeyboardMarkup, ReplyParameters

_BOLD = re.compile(r"<b>(.*?)</b>", re.DOTALL)
_ITALIC = re.compile(r"<i>(.*?)</i>", re.DOTALL)
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class ConsoleMessage:
    message_id: int
    chat_id: int
    text: str


class ConsoleChat:
    """Implements the part of `telegram.Bot` that delivery uses: `send_message`."""

    def __init__(self, out: TextIO, *, color: bool) -> None:
        self.out = out
        self.color = color
        self.messages: list[ConsoleMessage] = []
        self._ids = itertools.count(1)

    def show(self, text: str, parse_mode: str | None = None) -> str:
        """Telegram HTML as a terminal shows it: bold stays bold (when the terminal has colour), a link keeps
        its address on the next line."""
        if parse_mode != "HTML":
            return text
        bold = (lambda m: f"\033[1m{m.group(1)}\033[0m") if self.color else (lambda m: m.group(1))
        text = _BOLD.sub(bold, _ITALIC.sub(lambda m: m.group(1), text))
        text = _LINK.sub(lambda m: f"{m.group(2)}\n  ↗ {m.group(1)}", text)
        return html.unescape(_TAG.sub("", text))

    async def send_message(
        self, chat_id: int, text: str, parse_mode: str | None = None,
        reply_markup: InlineKeyboardMarkup | None = None, reply_parameters: ReplyParameters | None = None,
        **_: Any,
    ) -> ConsoleMessage:
        message = ConsoleMessage(next(self._ids), chat_id, text)
        self.messages.append(message)
        lines = self.show(text, parse_mode).splitlines()
        header = f"── message {message.message_id}"
        if reply_parameters is not None:
            header += f", in reply to message {reply_parameters.message_id}"
        print(f"\n{header} " + "─" * max(0, 60 - len(header)), file=self.out)
        for line in lines:
            print(f"  {line}", file=self.out)
        if reply_markup is not None:
            buttons = "  ".join(f"[ {b.text} ]" for row in reply_markup.inline_keyboard for b in row)
            print(f"  {buttons}", file=self.out)
        self.out.flush()
        return message
