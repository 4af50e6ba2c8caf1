"""The fake Bot API driven by the real python-telegram-bot: it must answer as Telegram does wherever the bot's own
tests rely on it (updates, replies, refusals, errors and how PTB maps them to exceptions)."""

from __future__ import annotations

import asyncio
import datetime as dtm
import hashlib
import html
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakebotapi import EntityParseError, FakeBotAPI, parse_html

USER = 42
GROUP = -1001234567890
POLL_TIMEOUT = 5


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


def build_app(api: FakeBotAPI, token: str | None = None) -> Application:
    builder = ApplicationBuilder().token(token or api.token)
    return builder.base_url(api.base_url).base_file_url(api.base_file_url).build()


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.effective_user is not None
    name = html.escape(update.effective_user.first_name)
    await update.message.reply_html(f"<b>Welcome</b>, {name} &amp; friends")


async def bad(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_html("1 <b 2")  # not escaped: Telegram refuses it


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Follow", callback_data="follow:7")]])
    await update.message.reply_text("Story 7", reply_markup=keyboard)


async def follow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Following")
    await query.edit_message_text(f"Following story {str(query.data).partition(':')[2]}")


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.document is not None
    file = await update.message.document.get_file()
    data = await file.download_as_bytearray()
    await update.message.reply_text(f"{len(data)} bytes {hashlib.sha256(data).hexdigest()[:12]}")


async def collect_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.application.bot_data["errors"].put_nowait(context.error)


@pytest.fixture
async def app(api: FakeBotAPI) -> AsyncIterator[Application]:
    application = build_app(api)
    application.bot_data["errors"] = asyncio.Queue()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("bad", bad))
    application.add_handler(CommandHandler("menu", menu))
    application.add_handler(CallbackQueryHandler(follow, pattern=r"^follow:"))
    application.add_handler(MessageHandler(filters.Document.ALL, document))
    application.add_error_handler(collect_error)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=POLL_TIMEOUT)
    yield application
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


# -- end to end, through the Application ------------------------------------------------------------------------------


async def test_start_command_gets_an_html_reply(api: FakeBotAPI, app: Application) -> None:
    api.send_message(USER, "/start")

    [reply] = await api.await_messages(USER, 1)

    assert reply.method == "sendMessage"
    assert reply.parse_mode == "HTML"
    assert reply.plain_text == "Welcome, User42 & friends"
    assert reply.entities == ({"type": "bold", "offset": 0, "length": 7},)
    assert reply.reply_to_message_id is None  # PTB quotes the user's message in groups only
    assert reply.message_id == 2  # the user's /start was message 1 of the chat


async def test_a_command_in_a_group_must_name_this_bot(api: FakeBotAPI, app: Application) -> None:
    api.send_message(GROUP, "/start@other_bot", chat_type="supergroup", chat_title="Newsroom")
    api.send_message(GROUP, "/start@storywatch_bot", chat_type="supergroup")

    [reply] = await api.await_messages(GROUP, 1)

    assert reply.reply_to_message_id == 2
    assert api.messages(GROUP) == [reply]  # updates are handled in order: the first one was ignored
    assert api.chat_message(GROUP, 1)["chat"] == {"id": GROUP, "type": "supergroup", "title": "Newsroom"}


async def test_a_held_long_poll_answers_as_soon_as_an_update_arrives(api: FakeBotAPI, app: Application) -> None:
    await api.await_request("getUpdates")
    started = time.monotonic()

    api.send_message(USER, "/start")
    await api.await_messages(USER, 1)

    assert time.monotonic() - started < POLL_TIMEOUT / 2


async def test_the_long_poll_does_not_spin_while_idle(api: FakeBotAPI, app: Application) -> None:
    first = await api.await_request("getUpdates")

    with pytest.raises(AssertionError):
        await api.await_until(lambda: len(api.requests_for("getUpdates")) > 1, timeout=0.3)

    assert first.params["timeout"] == POLL_TIMEOUT
    assert len(api.requests_for("getUpdates")) == 1


async def test_unescaped_html_in_a_handler_reply_is_refused(api: FakeBotAPI, app: Application) -> None:
    api.send_message(USER, "/bad")

    error = await asyncio.wait_for(app.bot_data["errors"].get(), timeout=5)

    assert isinstance(error, BadRequest)
    # PTB capitalize()s what follows "Bad Request: ", which lowercases the rest of Telegram's message
    assert error.message == 'Can\'t parse entities: unclosed start tag "b" at byte offset 2'
    assert api.messages(USER) == []
    assert [refusal.status for refusal in api.errors] == [400]


async def test_pressing_a_button_delivers_a_callback_query(api: FakeBotAPI, app: Application) -> None:
    api.send_message(USER, "/menu")
    [shown] = await api.await_messages(USER, 1)
    assert shown.reply_markup == {"inline_keyboard": [[{"text": "Follow", "callback_data": "follow:7"}]]}

    api.press_button(USER, shown.message_id, "follow:7")
    [_, edited] = await api.await_messages(USER, 2)
    await api.await_until(lambda: len(api.answered_callbacks) == 1)

    assert (edited.method, edited.message_id, edited.text) == ("editMessageText", shown.message_id, "Following story 7")
    assert api.answered_callbacks[0]["text"] == "Following"
    assert "reply_markup" not in api.chat_message(USER, shown.message_id)  # an edit without markup drops it
    with pytest.raises(LookupError, match="has no button"):
        api.press_button(USER, shown.message_id, "follow:7")


async def test_a_document_from_the_user_can_be_downloaded(api: FakeBotAPI, app: Application) -> None:
    content = bytes(range(256)) * 40 + b"\r\n--not-a-boundary\r\n"
    api.send_document(USER, "feeds.opml", content, caption="my feeds")

    [reply] = await api.await_messages(USER, 1)

    assert reply.text == f"{len(content)} bytes {hashlib.sha256(content).hexdigest()[:12]}"
    assert [request.method for request in api.requests if request.method in ("getFile", "file")] == ["getFile", "file"]


async def test_a_wrong_token_fails_initialize(api: FakeBotAPI) -> None:
    application = build_app(api, token="999:WRONG")

    with pytest.raises(InvalidToken):
        await application.initialize()

    await application.bot.request.shutdown()
    assert [(refusal.method, refusal.status) for refusal in api.errors] == [("getMe", 401)]


# -- what Telegram refuses --------------------------------------------------------------------------------------------


async def test_html_that_telegram_cannot_parse_is_refused(api: FakeBotAPI, bot: Bot) -> None:
    for text in ("1 <b 2", "Tom & Jerry", "<b>bold</i>", "line<br>break", "<b>open", "a < b"):
        with pytest.raises(BadRequest, match=r"^Can't parse entities: "):
            await bot.send_message(USER, text, parse_mode="HTML")

        escaped = await bot.send_message(USER, html.escape(text), parse_mode="HTML")
        assert escaped.text == text


async def test_length_is_counted_after_parsing_in_utf16_units(api: FakeBotAPI, bot: Bot) -> None:
    await bot.send_message(USER, "x" * 4096)
    await bot.send_message(USER, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(USER, "😀" * 2048)

    for text in ("x" * 4097, "😀" * 2049):
        with pytest.raises(BadRequest, match=r"^Message is too long$"):
            await bot.send_message(USER, text)
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(USER, " <b> </b>\n", parse_mode="HTML")


async def test_a_reply_to_a_missing_message_is_refused(api: FakeBotAPI, bot: Bot) -> None:
    api.send_message(USER, "hello")
    answer = await bot.send_message(USER, "answer", reply_parameters=ReplyParameters(message_id=1))
    assert answer.reply_to_message is not None and answer.reply_to_message.text == "hello"

    api.delete_message(USER, 1)
    with pytest.raises(BadRequest, match=r"^Message to be replied not found$"):
        await bot.send_message(USER, "again", reply_parameters=ReplyParameters(message_id=1))
    lenient = ReplyParameters(message_id=1, allow_sending_without_reply=True)
    sent = await bot.send_message(USER, "anyway", reply_parameters=lenient)

    assert sent.reply_to_message is None
    assert api.messages(USER)[-1].reply_to_message_id is None


async def test_callback_data_is_limited_to_64_bytes(api: FakeBotAPI, bot: Bot) -> None:
    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("go", callback_data=data)]])

    await bot.send_message(USER, "fits", reply_markup=keyboard("x" * 64))
    for data in ("x" * 65, "é" * 33):
        with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
            await bot.send_message(USER, "too much", reply_markup=keyboard(data))


async def test_an_edit_that_changes_nothing_is_refused(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(USER, "<b>Story</b>", parse_mode="HTML")

    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_text("<b>Story</b>", chat_id=USER, message_id=sent.message_id, parse_mode="HTML")
    await bot.edit_message_text("Story", chat_id=USER, message_id=sent.message_id)  # the bold is gone: a change
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("Story", chat_id=USER, message_id=999)

    assert [message.method for message in api.messages(USER)] == ["sendMessage", "editMessageText"]


# -- faults and how PTB raises them -----------------------------------------------------------------------------------


async def test_a_blocked_user_is_forbidden(api: FakeBotAPI, bot: Bot) -> None:
    api.block_chat(USER)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was blocked by the user$"):
        await bot.send_message(USER, "hello?")

    api.unblock_chat(USER)
    await bot.send_message(USER, "hello again")
    assert [message.text for message in api.messages(USER)] == ["hello again"]


async def test_flood_control_raises_retry_after(api: FakeBotAPI, bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # PTB 22 warns when retry_after is read as a number
    api.rate_limit(USER, retry_after=3)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "one")
    await bot.send_message(USER, "two")

    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    assert [message.text for message in api.messages(USER)] == ["two"]


async def test_a_migrated_group_raises_chat_migrated(api: FakeBotAPI, bot: Bot) -> None:
    api.migrate_chat(-5, -1005)

    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(-5, "news")
    await bot.send_message(caught.value.new_chat_id, "news")

    assert caught.value.new_chat_id == -1005
    assert [message.chat_id for message in api.messages()] == [-1005]


async def test_a_server_error_is_a_network_error(api: FakeBotAPI, bot: Bot) -> None:
    api.server_error()

    with pytest.raises(NetworkError) as caught:
        await bot.send_message(USER, "news")

    assert not isinstance(caught.value, BadRequest)
    assert "Internal Server Error" in caught.value.message


async def test_an_injected_failure_hits_only_its_chat(api: FakeBotAPI, bot: Bot) -> None:
    api.fail("sendMessage", chat_id=USER, description="Bad Request: chat not found", times=2)

    await bot.send_message(7, "other chat")
    for _ in range(2):
        with pytest.raises(BadRequest, match=r"^Chat not found$"):
            await bot.send_message(USER, "news")
    await bot.send_message(USER, "news")

    assert [message.chat_id for message in api.messages()] == [7, USER]


async def test_a_delayed_answer_times_out_but_the_message_is_still_sent(api: FakeBotAPI, bot: Bot) -> None:
    api.delay("sendMessage", 0.4)

    with pytest.raises(TimedOut):
        await bot.send_message(USER, "slow", read_timeout=0.1)

    [sent] = await api.await_messages(USER, 1)  # as with Telegram, a retry would send it twice
    assert sent.text == "slow"


async def test_a_second_poller_terminates_the_first(api: FakeBotAPI, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=POLL_TIMEOUT))
    await api.await_request("getUpdates")

    async with Bot(api.token, base_url=api.base_url) as other:
        assert await other.get_updates(timeout=0) == ()
    with pytest.raises(Conflict):
        await first


# -- other methods ----------------------------------------------------------------------------------------------------


async def test_commands_are_kept_per_scope(api: FakeBotAPI, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("follow", "Follow a story")])
    await bot.set_my_commands([BotCommand("digest", "Daily digest")], scope=BotCommandScopeChat(GROUP))

    assert [c.command for c in await bot.get_my_commands()] == ["start", "follow"]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(GROUP))] == ["digest"]
    assert api.commands({"type": "chat", "chat_id": GROUP}) == [{"command": "digest", "description": "Daily digest"}]
    with pytest.raises(BadRequest, match=r"^Bot_command_invalid$"):
        await bot.set_my_commands([BotCommand("Start", "Capitals are not allowed")])


async def test_group_admins_and_members(api: FakeBotAPI, bot: Bot) -> None:
    api.set_admins(GROUP, [7], creator=1)

    assert (await bot.get_chat_member(GROUP, 7)).status == "administrator"
    assert (await bot.get_chat_member(GROUP, 1)).status == "creator"
    assert (await bot.get_chat_member(GROUP, 8)).status == "member"
    assert [member.user.id for member in await bot.get_chat_administrators(GROUP)] == [1, 7]
    assert (await bot.get_chat(GROUP)).type == "supergroup"
    api.send_message(USER, "hi")
    with pytest.raises(BadRequest, match="no administrators in the private chat"):
        await bot.get_chat_administrators(USER)
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.get_chat(-77)


async def test_a_document_sent_by_the_bot_is_recorded(api: FakeBotAPI, bot: Bot) -> None:
    content = "digest ✓\r\n".encode() * 100

    sent = await bot.send_document(
        USER, document=content, filename="digest.txt", caption="<b>Digest</b>", parse_mode="HTML"
    )

    [document] = api.documents(USER)
    assert (document.filename, document.content, document.caption) == ("digest.txt", content, "<b>Digest</b>")
    assert sent.document is not None and sent.document.file_size == len(content)
    assert sent.caption == "Digest"
    assert bytes(await (await bot.get_file(sent.document.file_id)).download_as_bytearray()) == content


async def test_the_clock_stamps_sends_for_pacing() -> None:
    now = [100.0]
    with FakeBotAPI(clock=lambda: now[0]) as paced:
        async with Bot(paced.token, base_url=paced.base_url) as client:
            await client.send_message(USER, "one")
            now[0] = 101.5
            await client.send_message(USER, "two")
            await client.send_message(7, "three")

    assert paced.send_times(USER) == [100.0, 101.5]
    assert paced.send_times() == [100.0, 101.5, 101.5]
    assert [message.at for message in paced.messages(USER)] == [100.0, 101.5]


# -- the protocol, without PTB ----------------------------------------------------------------------------------------


def test_the_raw_protocol(api: FakeBotAPI) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{api.port}") as client:
        sent = client.post(f"/bot{api.token}/sendMessage", json={"chat_id": USER, "text": "hi"}).json()
        form = client.post(f"/bot{api.token}/sendmessage", data={"chat_id": str(USER), "text": "42"}).json()
        unknown = client.post(f"/bot{api.token}/noSuchMethod")
        unauthorized = client.post("/bot999:WRONG/getMe")

    assert sent["ok"] and sent["result"]["chat"] == {"id": USER, "type": "private", "first_name": "User42"}
    assert form["result"]["text"] == "42"  # text stays a string; the method name is case-insensitive
    assert (unknown.status_code, unknown.json()["description"]) == (404, "Not Found: method not found")
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_stop_releases_a_held_long_poll() -> None:
    server = FakeBotAPI().start()
    async with httpx.AsyncClient() as client:
        poll = asyncio.create_task(client.post(f"{server.base_url}{server.token}/getUpdates", data={"timeout": "30"}))
        await server.await_request("getUpdates")
        started = time.monotonic()
        server.stop()
        response = await asyncio.wait_for(poll, timeout=2)

    assert response.json() == {"ok": True, "result": []}
    assert time.monotonic() - started < 1


# -- HTML parse mode, as tdlib parses it ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ('<a href="x"', "Unclosed start tag at byte offset 0"),
        ("<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("é & co", 'Unescaped "&" at byte offset 3: write "&amp;"'),
    ],
)
def test_parse_html_refuses_like_telegram(text: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(text)

    assert str(caught.value) == error


def test_parse_html_yields_telegram_entities() -> None:
    text, entities = parse_html(
        '<b>Bold <i>both</i></b> 😀 <a href="https://x.test/?a=1&amp;b=2">link</a> '
        '<pre><code class="language-python">x = 1</code></pre> <blockquote expandable>q</blockquote> &lt;&#62;&#x26;'
    )

    assert text == "Bold both 😀 link x = 1 q <>&"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 9},
        {"type": "italic", "offset": 5, "length": 4},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://x.test/?a=1&b=2"},
        {"type": "pre", "offset": 18, "length": 5, "language": "python"},
        {"type": "expandable_blockquote", "offset": 24, "length": 1},
    ]


def test_telegram_itself_lets_a_stray_ampersand_through() -> None:
    assert parse_html("Tom & Jerry &apos;", strict_ampersand=False) == ("Tom & Jerry &apos;", [])
