"""A fake Telegram Bot API server on 127.0.0.1 that the real python-telegram-bot talks to.

It answers the way Telegram does where a bot can get it wrong: HTML that Telegram refuses, text that is too long
or empty, replies to messages that are gone, oversized callback data, edits that change nothing, blocked users,
flood control, groups upgraded to supergroups. Tests play the users (`send_message`, `press_button`,
`send_document`) and read what the bot sent (`messages`, `wait_for_messages`). Standard library only; the server
runs in a background thread, like tests/feedserver.py.

Point PTB at it with `ApplicationBuilder().token(api.token).base_url(api.base_url).base_file_url(api.base_file_url)`.
The `wait_*` helpers block the calling thread: from a coroutine use the `await_*` twins, or the bot (which runs on
the same event loop) never gets to answer.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import mimetypes
import re
import select
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple

JSON = dict[str, Any]

MAX_TEXT_LENGTH = 4096  # UTF-16 code units, after entity parsing
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
DEFAULT_GROUP_USER = 1001
SUPERGROUP_IDS_BELOW = -1_000_000_000_000

# In a form body, string parameters arrive raw and every other value as JSON text ("42", "true", "{...}").
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "file_id",
        "language_code",
        "url",
        "inline_message_id",
        "description",
        "short_description",
        "name",
        "title",
        "emoji",
        "action",
        "business_connection_id",
        "message_effect_id",
        "custom_title",
    }
)
# Methods that put something in a chat: blocked users, kicked bots and flood control apply to these.
SEND_METHODS = frozenset({"sendMessage", "sendDocument", "sendChatAction", "editMessageText", "editMessageReplyMarkup"})
# Update types Telegram leaves out unless allowed_updates asks for them.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a current "
    "content and reply markup of the message"
)
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
ADMIN_RIGHTS: JSON = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": True,
    "can_edit_stories": True,
    "can_delete_stories": True,
    "can_pin_messages": True,
}


# ---------------------------------------------------------------------------------------------------------------------
# What the tests read


@dataclass(frozen=True)
class SentMessage:
    """One successful sendMessage or editMessageText, as the bot sent it."""

    chat_id: int
    message_id: int
    text: str  # as sent, markup included
    parse_mode: str | None
    reply_markup: JSON | None
    reply_to_message_id: int | None  # the message it actually replies to
    disable_web_page_preview: bool | None
    link_preview_options: JSON | None
    at: float  # the injected clock when the request arrived
    method: str
    plain_text: str = ""  # as Telegram shows it: tags removed, entities decoded, outer whitespace trimmed
    entities: tuple[JSON, ...] = ()


@dataclass(frozen=True)
class SentDocument:
    chat_id: int
    message_id: int
    filename: str
    content: bytes
    file_id: str
    caption: str | None
    parse_mode: str | None
    at: float


class Request(NamedTuple):
    method: str
    params: JSON
    at: float


@dataclass(frozen=True)
class Refusal:
    """A call the server answered with an error: the first thing to look at when an expected message is missing."""

    method: str
    params: JSON
    status: int
    description: str
    at: float


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    content_type: str | None


# ---------------------------------------------------------------------------------------------------------------------
# Errors


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


class EntityParseError(ValueError):
    """Text that Telegram refuses with "Bad Request: can't parse entities: ..."."""


# ---------------------------------------------------------------------------------------------------------------------
# HTML parse mode, after tdlib's parse_html (td/telegram/MessageEntity.cpp), which the Bot API server runs

HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "tg-emoji"}
    | {"code", "pre", "blockquote"}
)
SIMPLE_ENTITIES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
SPACES = " \t\r\n\v"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """The character that the entity starting at text[pos] ("&") stands for and where it ends; None if none."""
    end = pos + 1
    if text.startswith("#", end):
        end += 1
        hexadecimal = text.startswith("x", end)
        if hexadecimal:
            end += 1
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        start = end
        while end < len(text) and text[end] in digits:
            end += 1
        if end == start or end - pos >= 10:
            return None
        code = int(text[start:end], 16 if hexadecimal else 10)
        if code == 0 or code >= 0x10FFFF:
            return None
        char = chr(code)
    else:
        start = end
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        found = NAMED_ENTITIES.get(text[start:end])
        if found is None:
            return None
        char = found
    if text.startswith(";", end):
        end += 1
    return char, end


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int  # UTF-16 offset in the parsed text
    start: int  # index in the parsed text


class _HtmlParser:
    def __init__(self, text: str, *, strict_ampersand: bool) -> None:
        self.text = text
        self.strict_ampersand = strict_ampersand
        self.pos = 0
        self.out: list[str] = []
        self.utf16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JSON] = []

    def parse(self) -> tuple[str, list[JSON]]:
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "&":
                self._emit(self._ampersand())
            elif char == "<" and self.text.startswith("</", self.pos):
                self._end_tag()
            elif char == "<":
                self._start_tag()
            else:
                self._emit(char)
                self.pos += 1
        if self.stack:
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        result = "".join(self.out)
        if any(0xD800 <= ord(char) <= 0xDFFF for char in result):
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        return result, sorted(self.entities, key=lambda entity: (entity["offset"], -entity["length"]))

    def _emit(self, char: str) -> None:
        self.out.append(char)
        self.utf16 += utf16_len(char)

    def _offset(self, pos: int) -> int:
        return len(self.text[:pos].encode("utf-8", "surrogatepass"))

    def _at_end(self) -> bool:
        return self.pos >= len(self.text)

    def _skip_spaces(self) -> None:
        while not self._at_end() and self.text[self.pos] in SPACES:
            self.pos += 1

    def _skip_name(self, stops: str) -> None:
        while not self._at_end() and self.text[self.pos] not in SPACES and self.text[self.pos] not in stops:
            self.pos += 1

    def _ampersand(self) -> str:
        decoded = decode_html_entity(self.text, self.pos)
        if decoded is not None:
            char, self.pos = decoded
            return char
        if self.strict_ampersand:
            # Telegram itself shows a stray "&" as is; the Bot API documentation requires "&amp;", and an unescaped
            # "&" silently changes text that happens to continue like an entity ("&lt", "&#39").
            raise EntityParseError(f'Unescaped "&" at byte offset {self._offset(self.pos)}: write "&amp;"')
        self.pos += 1
        return "&"

    def _start_tag(self) -> None:
        begin = self.pos
        self.pos += 1
        self._skip_name(">")
        if self._at_end():
            raise EntityParseError(f"Unclosed start tag at byte offset {self._offset(begin)}")
        name = self.text[begin + 1 : self.pos].lower()
        if name not in HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {self._offset(begin)}')
        argument = self._attributes(name, begin)
        if name == "span" and argument != "spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {self._offset(begin)}')
        self.stack.append(_OpenTag(name, argument, self.utf16, len(self.out)))

    def _attributes(self, name: str, begin: int) -> str:
        argument = ""
        while True:
            self._skip_spaces()
            if self._at_end():
                raise EntityParseError(f"Unclosed start tag at byte offset {self._offset(begin)}")
            if self.text[self.pos] == ">":
                self.pos += 1
                return argument
            attribute_begin = self.pos
            self._skip_name("=>")
            attribute = self.text[attribute_begin : self.pos]
            if not attribute:
                raise EntityParseError(f'Empty attribute name in the tag "{name}" at byte offset {self._offset(begin)}')
            self._skip_spaces()
            if self._at_end():
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {self._offset(begin)}')
            if self.text[self.pos] != "=":  # an attribute without a value, like <blockquote expandable>
                argument = _tag_argument(name, attribute, "", argument)
                continue
            self.pos += 1
            self._skip_spaces()
            if self._at_end():
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {self._offset(begin)}')
            value = self._attribute_value()
            if self._at_end():
                raise EntityParseError(f"Unclosed start tag at byte offset {self._offset(begin)}")
            argument = _tag_argument(name, attribute, value, argument)

    def _attribute_value(self) -> str:
        quote = self.text[self.pos]
        if quote not in "'\"":
            # A name token: letters, digits, periods, hyphens; not case sensitive.
            start = self.pos
            while not self._at_end() and _is_token_char(self.text[self.pos]):
                self.pos += 1
            if self._at_end() or (self.text[self.pos] not in SPACES and self.text[self.pos] != ">"):
                raise EntityParseError(f"Unexpected end of name token at byte offset {self._offset(start)}")
            return self.text[start : self.pos].lower()
        self.pos += 1
        value: list[str] = []
        while not self._at_end() and self.text[self.pos] != quote:
            if self.text[self.pos] == "&":
                value.append(self._ampersand())
            else:
                value.append(self.text[self.pos])
                self.pos += 1
        if not self._at_end():
            self.pos += 1
        return "".join(value)

    def _end_tag(self) -> None:
        begin = self.pos
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {self._offset(begin)}")
        self.pos += 2
        self._skip_name(">")
        end_name = self.text[begin + 2 : self.pos].lower()
        self._skip_spaces()
        if self._at_end() or self.text[self.pos] != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {self._offset(begin)}")
        self.pos += 1
        tag = self.stack[-1]
        if end_name and end_name != tag.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {self._offset(begin)}, expected "</{tag.name}>", '
                f'found "</{end_name}>"'
            )
        self.stack.pop()
        if self.utf16 > tag.offset:
            self._add_entity(tag, tag.offset, self.utf16 - tag.offset)

    def _add_entity(self, tag: _OpenTag, offset: int, length: int) -> None:
        entity: JSON = {"offset": offset, "length": length}
        previous = self.entities[-1] if self.entities else {}
        same_range = previous.get("offset") == offset and previous.get("length") == length
        if tag.name in SIMPLE_ENTITIES:
            entity["type"] = SIMPLE_ENTITIES[tag.name]
        elif tag.name == "tg-emoji":
            if not re.fullmatch(r"[0-9]{1,19}", tag.argument) or not 0 < int(tag.argument) < 2**63:
                raise EntityParseError("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=tag.argument)
        elif tag.name == "a":
            url = tag.argument or "".join(self.out[tag.start :])
            if not url:
                return
            entity.update(type="text_link", url=url)
        elif tag.name == "pre" and same_range and previous["type"] == "code" and previous.get("language"):
            previous["type"] = "pre"
            return
        elif tag.name == "code" and same_range and previous["type"] == "pre" and tag.argument:
            previous["language"] = tag.argument
            return
        elif tag.name in ("pre", "code"):
            entity["type"] = tag.name
            if tag.argument:
                entity["language"] = tag.argument
        else:  # blockquote
            entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
        self.entities.append(entity)


def _is_token_char(char: str) -> bool:
    return (char.isascii() and char.isalnum()) or char in ".-"


def _tag_argument(name: str, attribute: str, value: str, current: str) -> str:
    if name == "a" and attribute == "href":
        return value
    if name == "code" and attribute == "class" and value.startswith("language-"):
        return value.removeprefix("language-")
    if name == "span" and attribute == "class" and value.startswith("tg-"):
        return value.removeprefix("tg-")
    if name == "tg-emoji" and attribute == "emoji-id":
        return value
    if name == "blockquote" and attribute == "expandable":
        return "expandable"
    return current


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[JSON]]:
    """The text and entities Telegram makes of `text` in HTML parse mode; EntityParseError where it refuses.

    strict_ampersand: refuse an "&" that starts no entity, as the Bot API documentation demands (Telegram itself
    lets it through as a literal "&").
    """
    return _HtmlParser(text, strict_ampersand=strict_ampersand).parse()


def format_text(
    text: str, parse_mode: str | None, entities: list[JSON] | None = None, *, strict_ampersand: bool = True
) -> tuple[str, list[JSON]]:
    """Text and entities as Telegram stores them: markup parsed, leading and trailing whitespace trimmed."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        plain, found = parse_html(text, strict_ampersand=strict_ampersand)
    elif mode in ("", "markdown", "markdownv2"):  # Markdown is passed through unchecked by this fake
        plain, found = text, list(entities or [])
    else:
        raise bad_request("unsupported parse_mode")
    return _trim(plain, found)


def _trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    left = text.lstrip(SPACES)
    shift = utf16_len(text) - utf16_len(left)
    trimmed = left.rstrip(SPACES)
    size = utf16_len(trimmed)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return trimmed, kept


def command_entities(text: str) -> list[JSON]:
    """The bot_command entity Telegram puts on a message that starts with a command ("/start@name_bot")."""
    match = re.match(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?", text)
    if match is None:
        return []
    rest = text[match.end() :]
    if rest and (rest[0].isalnum() or rest[0] in "_/<>@"):
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}]


# ---------------------------------------------------------------------------------------------------------------------
# Request bodies


def _header(value: str, name: str = "content-type") -> Message:
    header = Message()
    header[name] = value
    return header


def _decode_param(name: str, raw: str) -> Any:
    if name in STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # "@channelname" and other plain strings


def _parse_multipart(body: bytes, boundary: str) -> JSON:
    params: JSON = {}
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = _header(headers.get("content-disposition", ""), "content-disposition")
        name = str(disposition.get_param("name", header="content-disposition"))
        filename = disposition.get_filename()
        if filename is None:
            params[name] = _decode_param(name, data.decode("utf-8"))
        else:
            params[name] = Upload(filename, data, headers.get("content-type"))
    return params


def parse_params(content_type: str, body: bytes, query: str = "") -> JSON:
    """Parameters of a Bot API call, from the query string and a form, multipart or JSON body."""
    params: JSON = {name: _decode_param(name, value) for name, value in urllib.parse.parse_qsl(query)}
    header = _header(content_type or "application/x-www-form-urlencoded")
    kind = header.get_content_type()
    if kind == "application/json" and body:
        params.update(json.loads(body))
    elif kind == "multipart/form-data":
        params.update(_parse_multipart(body, str(header.get_param("boundary"))))
    elif body:
        form = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        params.update({name: _decode_param(name, value) for name, value in form})
    return params


# ---------------------------------------------------------------------------------------------------------------------
# State


@dataclass
class _Chat:
    info: JSON
    messages: dict[int, JSON] = field(default_factory=dict)  # message_id -> the message as it is now
    next_message_id: int = 1
    admins: list[int] = field(default_factory=list)
    creator: int | None = None

    @property
    def id(self) -> int:
        return int(self.info["id"])

    @property
    def type(self) -> str:
        return str(self.info["type"])


@dataclass(frozen=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str
    content: bytes

    def as_file(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }

    def as_document(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": mimetypes.guess_type(self.file_name)[0] or "application/octet-stream",
            "file_size": len(self.content),
        }


@dataclass
class _Fault:
    method: str | None  # None: any of SEND_METHODS
    chat_id: int | None
    error: ApiError | None  # None: only a delay
    delay: float
    times: int

    def matches(self, method: str, chat_id: int | None) -> bool:
        method_matches = method in SEND_METHODS if self.method is None else method == self.method
        return method_matches and (self.chat_id is None or self.chat_id == chat_id)


def _take(faults: list[_Fault], method: str, chat_id: int | None) -> _Fault | None:
    for fault in faults:
        if fault.matches(method, chat_id):
            fault.times -= 1
            if fault.times <= 0:
                faults.remove(fault)
            return fault
    return None


def _inline_keyboard(markup: JSON | None) -> list[list[JSON]]:
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard")
    return rows if isinstance(rows, list) else []


def _check_markup(markup: Any) -> None:
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in _inline_keyboard(markup):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
            if set(button) <= {"text"}:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )


def _content(message: JSON) -> tuple[Any, ...]:
    keys = ("text", "entities", "caption", "caption_entities", "reply_markup")
    return tuple(message.get(key) for key in keys)


# ---------------------------------------------------------------------------------------------------------------------
# HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: FakeBotAPI


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # otherwise every answer waits ~40 ms for a delayed ACK
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if url.path.startswith("/file/bot"):
            status, payload, content_type = self.server.api._download(url.path.removeprefix("/file/bot"))
        else:
            request_type = self.headers.get("Content-Type", "")
            status, payload = self.server.api._call(url.path, request_type, body, url.query, self._client_gone)
            content_type = "application/json"
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a cancelled long poll)
            self.close_connection = True

    def _client_gone(self) -> bool:
        """Whether the client has closed the connection, as PTB does with the long poll it cancels on stop."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


# ---------------------------------------------------------------------------------------------------------------------
# The server


class FakeBotAPI:
    """A Telegram Bot API server for one bot, with the users' side under the test's control."""

    def __init__(
        self,
        token: str = "123:TEST",
        bot_username: str = "storywatch_bot",
        clock: Callable[[], float] = time.monotonic,
        *,
        strict_html: bool = True,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.strict_html = strict_html
        self._clock = clock
        bot_id = token.partition(":")[0]
        self.bot_id = int(bot_id) if bot_id.isdigit() else 1
        self.bot_user: JSON = {"id": self.bot_id, "is_bot": True, "first_name": "Storywatch", "username": bot_username}

        self._cond = threading.Condition(threading.RLock())
        self._stopping = False
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, JSON] = {}
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._sent: list[SentMessage] = []
        self._documents: list[SentDocument] = []
        self._requests: list[Request] = []
        self._refusals: list[Refusal] = []
        self._faults: list[_Fault] = []
        self._delays: list[_Fault] = []
        self._blocked: set[int] = set()
        self._migrated: dict[int, int] = {}
        self._files: dict[str, _StoredFile] = {}
        self._file_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._query_ids = itertools.count(1)
        self._answered: list[JSON] = []
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._methods = self._method_table()

        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.api = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    # -- lifecycle ----------------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def start(self) -> FakeBotAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; held long polls and delayed answers are released at once."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- the users' side ----------------------------------------------------------------------------------------------

    def send_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        chat_title: str | None = None,
        reply_to_message_id: int | None = None,
        username: str | None = None,
    ) -> int:
        """A user writes to the bot; returns the update_id. A leading "/command" gets its bot_command entity."""
        with self._cond:
            user = self._sender(chat_id, chat_type, user_id, username)
            chat = self._user_chat(chat_id, chat_type, chat_title, user)
            content: JSON = {"text": text}
            if entities := command_entities(text):
                content["entities"] = entities
            if reply_to_message_id is not None:
                content["reply_to_message"] = self._existing_message(chat, reply_to_message_id)
            return self._queue_update("message", self._post(chat, user, content))

    def press_button(self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None) -> int:
        """A user presses the inline button with callback_data `data` on one of the bot's messages."""
        with self._cond:
            chat = self._chats.get(chat_id)
            if chat is None:
                raise LookupError(f"no chat {chat_id}")
            message = chat.messages.get(message_id)
            if message is None:
                raise LookupError(f"no message {message_id} in chat {chat_id}")
            keyboard = _inline_keyboard(message.get("reply_markup"))
            offered = [button.get("callback_data") for row in keyboard for button in row]
            if data not in offered:
                raise LookupError(f"message {message_id} in chat {chat_id} has no button {data!r}; it offers {offered}")
            user = self._sender(chat_id, chat.type, user_id, None)
            query_id = str(next(self._query_ids))
            self._open_queries.add(query_id)
            query = {"id": query_id, "from": user, "message": message, "chat_instance": str(-chat_id), "data": data}
            return self._queue_update("callback_query", query)

    def press_forged_button(
        self, data: str, *, chat_id: int | None = None, message_id: int | None = None, user_id: int = 1
    ) -> int:
        """A callback query that no button of ours offered: any `data` (a client can send what it likes), under
        one of the bot's messages, or with no message at all (a button on a message sent in inline mode)."""
        with self._cond:
            if chat_id is None:
                user = self._user(user_id)
                extra: JSON = {"inline_message_id": f"inline-{user_id}", "chat_instance": "inline"}
            else:
                chat = self._chats[chat_id]
                user = self._sender(chat_id, chat.type, None if chat.type == "private" else user_id, None)
                extra = {"message": chat.messages[message_id], "chat_instance": str(-chat_id)}
            query_id = str(next(self._query_ids))
            self._open_queries.add(query_id)
            return self._queue_update("callback_query", {"id": query_id, "from": user, "data": data, **extra})

    def send_document(
        self,
        chat_id: int,
        filename: str,
        content: bytes,
        *,
        user_id: int | None = None,
        caption: str | None = None,
        chat_type: str = "private",
    ) -> int:
        """A user sends a file; the bot can fetch it with getFile and the /file/ route."""
        with self._cond:
            user = self._sender(chat_id, chat_type, user_id, None)
            chat = self._user_chat(chat_id, chat_type, None, user)
            body: JSON = {"document": self._store_file(filename, content).as_document()}
            if caption is not None:
                body["caption"] = caption
            return self._queue_update("message", self._post(chat, user, body))

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """The message disappears (a user deleted it), so replies to it and edits of it fail."""
        with self._cond:
            chat = self._chats.get(chat_id)
            if chat is None or chat.messages.pop(message_id, None) is None:
                raise LookupError(f"no message {message_id} in chat {chat_id}")
            self._cond.notify_all()

    def set_admins(self, chat_id: int, user_ids: list[int], *, creator: int | None = None) -> None:
        """The group's administrators (the bot's own id counts too); everyone else is a plain member."""
        with self._cond:
            chat = self._chat(chat_id)
            chat.admins = list(user_ids)
            chat.creator = creator

    # -- faults -------------------------------------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        status: int = 400,
        description: str | None = None,
        parameters: JSON | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` (to `chat_id`, if given) get this error instead of their answer."""
        error = ApiError(status, description or HTTPStatus(status).phrase, parameters)
        with self._cond:
            self._faults.append(_Fault(self._canonical(method), chat_id, error, 0.0, times))

    def block_chat(self, chat_id: int) -> None:
        """The user blocks the bot (or, for a group, removes it): every send is Forbidden until unblock_chat."""
        with self._cond:
            self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        with self._cond:
            self._blocked.discard(chat_id)

    def rate_limit(self, chat_id: int | None = None, retry_after: int = 1, times: int = 1) -> None:
        """Flood control: the next `times` sends (to `chat_id`, if given) get 429 with parameters.retry_after."""
        error = ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        with self._cond:
            self._faults.append(_Fault(None, chat_id, error, 0.0, times))

    def migrate_chat(self, old_id: int, new_id: int, *, announce: bool = False) -> None:
        """The group becomes a supergroup: calls for old_id fail with migrate_to_chat_id, new_id works.

        announce: also queue the service messages Telegram delivers (migrate_to_chat_id, migrate_from_chat_id).
        """
        with self._cond:
            old = self._chat(old_id)
            new = self._chat(new_id)
            new.info = {"id": new_id, "type": "supergroup", "title": old.info.get("title", f"Group {-new_id}")}
            self._migrated[old_id] = new_id
            if announce:
                user = self._sender(old_id, old.type, None, None)
                self._queue_update("message", self._post(old, user, {"migrate_to_chat_id": new_id}))
                self._queue_update("message", self._post(new, user, {"migrate_from_chat_id": old_id}))

    def server_error(self, method: str = "sendMessage", times: int = 1) -> None:
        self.fail(method, status=500, description="Internal Server Error", times=times)

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """Hold the answer to the next `times` calls of `method`; the call still takes effect afterwards, as a
        Telegram call that timed out on the client's side may have. stop() releases held answers."""
        with self._cond:
            self._delays.append(_Fault(self._canonical(method), None, None, seconds, times))

    # -- reading the record -------------------------------------------------------------------------------------------

    def messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Successful sendMessage and editMessageText calls, oldest first."""
        with self._cond:
            return [sent for sent in self._sent if chat_id is None or sent.chat_id == chat_id]

    def documents(self, chat_id: int | None = None) -> list[SentDocument]:
        with self._cond:
            return [sent for sent in self._documents if chat_id is None or sent.chat_id == chat_id]

    def chat_message(self, chat_id: int, message_id: int) -> JSON | None:
        """A message as it is now (after edits), as the Bot API would show it; None if deleted or unknown."""
        with self._cond:
            chat = self._chats.get(chat_id)
            return None if chat is None else chat.messages.get(message_id)

    @property
    def requests(self) -> list[Request]:
        """Every call as it arrived, refused ones too; file downloads appear as method "file"."""
        with self._cond:
            return list(self._requests)

    def requests_for(self, method: str) -> list[Request]:
        with self._cond:
            return [request for request in self._requests if request.method == method]

    @property
    def errors(self) -> list[Refusal]:
        with self._cond:
            return list(self._refusals)

    @property
    def answered_callbacks(self) -> list[JSON]:
        with self._cond:
            return list(self._answered)

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """The commands set with setMyCommands for this scope (default scope if None) and language."""
        with self._cond:
            return list(self._commands.get(self._scope_key(scope, language_code), []))

    def send_times(self, chat_id: int | None = None) -> list[float]:
        """When each successful sendMessage/sendDocument arrived, on the injected clock: pacing evidence."""
        with self._cond:
            sent = [m for m in self._sent if m.method == "sendMessage"] + list(self._documents)
            return sorted(item.at for item in sent if chat_id is None or item.chat_id == chat_id)

    # -- waiting ------------------------------------------------------------------------------------------------------

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
        """Block until predicate() holds (checked whenever the server's state changes); AssertionError on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate() or self._stopping, timeout) or not predicate():
                raise AssertionError(f"{what} not met within {timeout} s{self._refusal_summary()}")

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 10.0) -> list[SentMessage]:
        """Block until chat_id has at least `count` recorded messages; return them all."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.messages(chat_id)) >= count or self._stopping, timeout)
            arrived = self.messages(chat_id)
            if len(arrived) < count:
                texts = [sent.text for sent in arrived]
                raise AssertionError(
                    f"chat {chat_id}: expected {count} messages within {timeout} s, got {len(arrived)}: {texts}"
                    f"{self._refusal_summary()}"
                )
            return arrived

    def wait_for_request(self, method: str, timeout: float = 10.0, count: int = 1) -> Request:
        """Block until `method` has been called `count` times; return that call."""
        self.wait_until(lambda: len(self.requests_for(method)) >= count, timeout, f"{count} x {method}")
        return self.requests_for(method)[count - 1]

    async def await_until(self, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
        await asyncio.to_thread(self.wait_until, predicate, timeout, what)

    async def await_messages(self, chat_id: int, count: int, timeout: float = 10.0) -> list[SentMessage]:
        return await asyncio.to_thread(self.wait_for_messages, chat_id, count, timeout)

    async def await_request(self, method: str, timeout: float = 10.0, count: int = 1) -> Request:
        return await asyncio.to_thread(self.wait_for_request, method, timeout, count)

    def _refusal_summary(self) -> str:
        if not self._refusals:
            return ""
        lines = [f"  {r.method} -> {r.status} {r.description}" for r in self._refusals[-5:]]
        return "; last refused calls:\n" + "\n".join(lines)

    # -- serving ------------------------------------------------------------------------------------------------------

    def _call(
        self, path: str, content_type: str, body: bytes, query: str, client_gone: Callable[[], bool]
    ) -> tuple[int, bytes]:
        token, _, name = urllib.parse.unquote(path).removeprefix("/bot").partition("/")
        method = self._canonical(name, strict=False)
        with self._cond:
            try:
                params = parse_params(content_type, body, query)
            except (ValueError, UnicodeDecodeError) as error:
                params, parse_error = {}, bad_request(f"can't parse request: {error}")
            else:
                parse_error = None
            at = self._clock()
            self._requests.append(Request(method, params, at))
            self._cond.notify_all()
            try:
                if not path.startswith("/bot") or token != self.token:
                    raise ApiError(401, "Unauthorized")
                if method not in self._methods:
                    raise ApiError(404, "Not Found: method not found")
                if parse_error is not None:
                    raise parse_error
                answer: JSON = {"ok": True, "result": self._answer(method, params, at)}
                status = 200
            except ApiError as error:
                if not client_gone():  # nobody reads the 409 that ends a long poll PTB already cancelled
                    self._refusals.append(Refusal(method, params, error.status, error.description, at))
                answer, status = error.body(), error.status
            self._cond.notify_all()
            return status, json.dumps(answer, ensure_ascii=False).encode("utf-8")

    def _answer(self, method: str, params: JSON, at: float) -> Any:
        chat_id = params.get("chat_id") if isinstance(params.get("chat_id"), int) else None
        delay = _take(self._delays, method, chat_id)
        if delay is not None:
            self._cond.wait_for(lambda: self._stopping, delay.delay)
        fault = _take(self._faults, method, chat_id)
        if fault is not None and fault.error is not None:
            raise fault.error
        if chat_id is not None:
            self._check_reachable(method, chat_id)
        return self._methods[method](params, at)

    def _check_reachable(self, method: str, chat_id: int) -> None:
        if chat_id in self._migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat_id]},
            )
        if chat_id in self._blocked and method in SEND_METHODS:
            chat_type = self._chat(chat_id).type
            if chat_type == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat_type} chat")

    def _download(self, rest: str) -> tuple[int, bytes, str]:
        # PTB quote()s the whole path of a download: the token's ":" arrives as %3A.
        token, _, file_path = (urllib.parse.unquote(part) for part in rest.partition("/"))
        with self._cond:
            self._requests.append(Request("file", {"file_path": file_path}, self._clock()))
            found = next((f for f in self._files.values() if f.file_path == file_path), None)
        if token != self.token or found is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return 404, json.dumps(body).encode(), "application/json"
        return 200, found.content, "application/octet-stream"

    def _canonical(self, name: str, *, strict: bool = True) -> str:
        """Telegram's method names are case-insensitive; the record uses their documented spelling."""
        for method in self._methods:
            if method.lower() == name.lower():
                return method
        if strict:
            raise ValueError(f"the fake does not implement {name!r}")
        return name

    def _method_table(self) -> dict[str, Callable[[JSON, float], Any]]:
        return {
            "getMe": self._get_me,
            "deleteWebhook": self._delete_webhook,
            "getUpdates": self._get_updates,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "getChat": self._get_chat,
            "getFile": self._get_file,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
        }

    # -- state helpers (called with the lock held) --------------------------------------------------------------------

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id > 0:
                info: JSON = {"id": chat_id, "type": "private", "first_name": self._user(chat_id)["first_name"]}
            else:
                # Supergroup and channel ids are -100 followed by ten digits; basic groups are short.
                kind = "supergroup" if chat_id <= SUPERGROUP_IDS_BELOW else "group"
                info = {"id": chat_id, "type": kind, "title": f"Group {-chat_id}"}
            chat = self._chats[chat_id] = _Chat(info)
        return chat

    def _user(self, user_id: int) -> JSON:
        if user_id == self.bot_id:
            return self.bot_user
        return self._users.setdefault(user_id, {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"})

    def _sender(self, chat_id: int, chat_type: str, user_id: int | None, username: str | None) -> JSON:
        if chat_type == "private":
            if chat_id <= 0 or user_id not in (None, chat_id):
                raise ValueError("a private chat's id is its user's id, a positive number")
            user_id = chat_id
        elif chat_type in ("group", "supergroup"):
            if chat_id >= 0:
                raise ValueError("group chat ids are negative")
            user_id = user_id or DEFAULT_GROUP_USER
        else:
            raise ValueError(f"unsupported chat type {chat_type!r}")
        user = self._user(user_id)
        if username is not None:
            user = self._users[user_id] = {**user, "username": username}
        return user

    def _user_chat(self, chat_id: int, chat_type: str, title: str | None, user: JSON) -> _Chat:
        chat = self._chat(chat_id)
        if chat_type == "private":
            info = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            if "username" in user:
                info["username"] = user["username"]
        else:
            info = {"id": chat_id, "type": chat_type, "title": title or chat.info.get("title") or f"Group {-chat_id}"}
        chat.info = info
        return chat

    def _post(self, chat: _Chat, sender: JSON, content: JSON) -> JSON:
        """Store a new message in the chat, with the chat's next message id."""
        message = {"message_id": chat.next_message_id, "from": sender, "chat": chat.info, "date": int(time.time())}
        message.update(content)
        chat.messages[chat.next_message_id] = message
        chat.next_message_id += 1
        return message

    def _existing_message(self, chat: _Chat, message_id: int) -> JSON:
        message = chat.messages.get(message_id)
        if message is None:
            raise LookupError(f"no message {message_id} in chat {chat.id}")
        return {key: value for key, value in message.items() if key != "reply_to_message"}

    def _queue_update(self, kind: str, payload: JSON) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, kind: payload})
        self._cond.notify_all()
        return update_id

    def _store_file(self, filename: str, content: bytes) -> _StoredFile:
        number = next(self._file_ids)
        suffix = "." + filename.rpartition(".")[2] if "." in filename else ""
        stored = _StoredFile(
            file_id=f"BQACAgIAAxkBAAI{number:06d}",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"documents/file_{number}{suffix}",
            file_name=filename,
            content=bytes(content),
        )
        self._files[stored.file_id] = stored
        return stored

    @staticmethod
    def _scope_key(scope: JSON | None, language_code: str) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""

    # -- request helpers ----------------------------------------------------------------------------------------------

    def _target_chat(self, params: JSON, *, create: bool = True) -> _Chat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            username = chat_id.removeprefix("@")
            chat_id = next((c.id for c in self._chats.values() if c.info.get("username") == username), None)
        if not isinstance(chat_id, int) or (not create and chat_id not in self._chats):
            raise bad_request("chat not found")
        return self._chat(chat_id)

    def _formatted(self, params: JSON, name: str) -> tuple[str, list[JSON]]:
        raw = params.get(name)
        entities = params.get("entities" if name == "text" else "caption_entities")
        try:
            plain, found = format_text(
                "" if raw is None else str(raw), params.get("parse_mode"), entities, strict_ampersand=self.strict_html
            )
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
        limit = MAX_TEXT_LENGTH if name == "text" else MAX_CAPTION_LENGTH
        if name == "text" and not plain:
            raise bad_request("message text is empty")
        if utf16_len(plain) > limit:
            raise bad_request("message is too long" if name == "text" else "message caption is too long")
        return plain, found

    def _reply_target(self, chat: _Chat, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if not isinstance(reply, dict):
            return None
        target = self._chats.get(reply["chat_id"]) if "chat_id" in reply else chat
        message = None if target is None else target.messages.get(reply.get("message_id"))
        if message is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return {key: value for key, value in message.items() if key != "reply_to_message"}

    def _markup(self, params: JSON) -> JSON | None:
        markup = params.get("reply_markup")
        _check_markup(markup)
        return markup

    def _bot_message(self, params: JSON, verb: str) -> tuple[_Chat, JSON]:
        chat = self._target_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request(f"message to {verb} not found")
        if verb == "edit" and message["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        return chat, message

    def _replace(self, chat: _Chat, message: JSON, changes: JSON) -> JSON:
        """Stored messages are never mutated (answers are serialised from them): an edit stores a new copy."""
        updated = {key: value for key, value in message.items() if key not in changes or changes[key] is not None}
        updated.update({key: value for key, value in changes.items() if value is not None})
        if _content(updated) == _content(message):
            raise bad_request(NOT_MODIFIED)
        updated["edit_date"] = int(time.time())
        chat.messages[message["message_id"]] = updated
        return updated

    def _record(self, method: str, chat: _Chat, message: JSON, params: JSON, at: float) -> None:
        reply_to = message.get("reply_to_message") if method == "sendMessage" else None
        self._sent.append(
            SentMessage(
                chat_id=chat.id,
                message_id=message["message_id"],
                text=str(params.get("text", "")),
                parse_mode=params.get("parse_mode"),
                reply_markup=params.get("reply_markup"),
                reply_to_message_id=None if reply_to is None else reply_to["message_id"],
                disable_web_page_preview=params.get("disable_web_page_preview"),
                link_preview_options=params.get("link_preview_options"),
                at=at,
                method=method,
                plain_text=message.get("text", ""),
                entities=tuple(message.get("entities", ())),
            )
        )

    # -- methods ------------------------------------------------------------------------------------------------------

    def _get_me(self, params: JSON, at: float) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _delete_webhook(self, params: JSON, at: float) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_updates(self, params: JSON, at: float) -> list[JSON]:
        """Long poll: hold until an update is queued, `timeout` seconds pass, a newer poll comes or the server stops."""
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self._updates = self._updates[offset:]
        if isinstance(params.get("allowed_updates"), list):  # Telegram remembers the last list given
            self._allowed_updates = list(params["allowed_updates"])
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()  # an older poll still held is terminated, as Telegram does
        deadline = time.monotonic() + max(float(params.get("timeout") or 0), 0.0)
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT)
            ready = [update for update in self._updates if self._wanted(update)][:limit]
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0 or self._stopping:
                return ready
            self._cond.wait(remaining)

    def _wanted(self, update: JSON) -> bool:
        kind = next(key for key in update if key != "update_id")
        return kind in self._allowed_updates if self._allowed_updates else kind not in OPT_IN_UPDATES

    def _set_my_commands(self, params: JSON, at: float) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request('parameter "commands" is required')
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_key(params.get("scope"), params.get("language_code", ""))
        self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    def _get_my_commands(self, params: JSON, at: float) -> list[JSON]:
        return list(self._commands.get(self._scope_key(params.get("scope"), params.get("language_code", "")), []))

    def _delete_my_commands(self, params: JSON, at: float) -> bool:
        self._commands.pop(self._scope_key(params.get("scope"), params.get("language_code", "")), None)
        return True

    def _send_message(self, params: JSON, at: float) -> JSON:
        chat = self._target_chat(params)
        plain, entities = self._formatted(params, "text")
        markup = self._markup(params)
        reply_to = self._reply_target(chat, params)
        content: JSON = {"text": plain}
        if entities:
            content["entities"] = entities
        if _inline_keyboard(markup):  # a Message shows inline keyboards only
            content["reply_markup"] = markup
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        message = self._post(chat, self.bot_user, content)
        self._record("sendMessage", chat, message, params, at)
        return message

    def _edit_message_text(self, params: JSON, at: float) -> JSON:
        chat, message = self._bot_message(params, "edit")
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        plain, entities = self._formatted(params, "text")
        markup = self._markup(params)
        # Without reply_markup, an edit removes the inline keyboard.
        keyboard = markup if _inline_keyboard(markup) else None
        changes = {"text": plain, "entities": entities or None, "reply_markup": keyboard}
        updated = self._replace(chat, message, changes)
        self._record("editMessageText", chat, updated, params, at)
        return updated

    def _edit_message_reply_markup(self, params: JSON, at: float) -> JSON:
        chat, message = self._bot_message(params, "edit")
        markup = self._markup(params)
        return self._replace(chat, message, {"reply_markup": markup if _inline_keyboard(markup) else None})

    def _delete_message(self, params: JSON, at: float) -> bool:
        chat, message = self._bot_message(params, "delete")
        others = message["from"]["id"] != self.bot_id
        if others and chat.type != "private" and self.bot_id not in chat.admins:
            raise bad_request("message can't be deleted")
        del chat.messages[message["message_id"]]
        return True

    def _answer_callback_query(self, params: JSON, at: float) -> bool:
        query_id = params.get("callback_query_id")
        if query_id not in self._open_queries:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        self._open_queries.discard(query_id)
        self._answered.append(dict(params))
        return True

    def _member(self, chat: _Chat, user_id: int) -> JSON:
        user = self._user(user_id)
        if user_id == chat.creator:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in chat.admins:
            return {"status": "administrator", "user": user, **ADMIN_RIGHTS}
        return {"status": "member", "user": user}

    def _get_chat_member(self, params: JSON, at: float) -> JSON:
        chat = self._target_chat(params, create=False)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise bad_request("invalid user_id specified")
        return self._member(chat, user_id)

    def _get_chat_administrators(self, params: JSON, at: float) -> list[JSON]:
        chat = self._target_chat(params, create=False)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        ids = ([chat.creator] if chat.creator is not None else []) + [a for a in chat.admins if a != chat.creator]
        return [self._member(chat, user_id) for user_id in ids]

    def _get_chat(self, params: JSON, at: float) -> JSON:
        chat = self._target_chat(params, create=False)
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"), False
        )
        return {**chat.info, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    def _get_file(self, params: JSON, at: float) -> JSON:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.as_file()

    def _send_document(self, params: JSON, at: float) -> JSON:
        chat = self._target_chat(params)
        document = params.get("document")
        if isinstance(document, Upload):
            if not document.content:
                raise bad_request("file must be non-empty")
            stored = self._store_file(document.filename, document.content)
        elif isinstance(document, str) and document in self._files:
            stored = self._files[document]
        elif document is None:
            raise bad_request("there is no document in the request")
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        caption, caption_entities = self._formatted(params, "caption")
        markup = self._markup(params)
        reply_to = self._reply_target(chat, params)
        content: JSON = {"document": stored.as_document()}
        if caption:
            content["caption"] = caption
        if caption_entities:
            content["caption_entities"] = caption_entities
        if _inline_keyboard(markup):
            content["reply_markup"] = markup
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        message = self._post(chat, self.bot_user, content)
        sent = SentDocument(
            chat_id=chat.id,
            message_id=message["message_id"],
            filename=stored.file_name,
            content=stored.content,
            file_id=stored.file_id,
            caption=params.get("caption"),
            parse_mode=params.get("parse_mode"),
            at=at,
        )
        self._documents.append(sent)
        return message

    def _send_chat_action(self, params: JSON, at: float) -> bool:
        self._target_chat(params)
        return True
