"""A chat's settings: /alerts, /digest and /timezone."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import arguments, ensure_chat, may_change_settings, reply, service

ALERT_MODES_TEXT = {
    "all": "all alerts about what this chat follows: new stories, developments and contradictions",
    "contradictions": "only contradictions in what this chat follows",
    "off": "no alerts",
}


async def alerts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    mode = arguments(context).lower()
    if not mode:
        chat = await service(context).chat(update.effective_chat.id)
        current = chat.alert_mode if chat else "all"
        await reply(update, context, f"This chat gets {ALERT_MODES_TEXT[current]}. "
                                     "Change it with /alerts all, /alerts contradictions or /alerts off.")
        return
    if not await may_change_settings(update, context):
        return
    await ensure_chat(update, context)
    await service(context).set_alerts(update.effective_chat.id, mode)
    await reply(update, context, f"This chat now gets {ALERT_MODES_TEXT[mode]}.")


async def digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/digest` sends one now; `/digest at 08:00`, `/digest off` and `/digest on` set the daily one."""
    text = arguments(context)
    await ensure_chat(update, context)
    chat_id = update.effective_chat.id
    if not text:
        await reply(update, context, await service(context).digest_now(chat_id))
        return
    if not await may_change_settings(update, context):
        return
    at = await service(context).set_digest(chat_id, text)
    if at is None:
        await reply(update, context, "Daily digest off. /digest on brings it back; /digest sends one now.")
        return
    chat = await service(context).chat(chat_id)
    zone_name = chat.timezone if chat and chat.timezone else service(context).settings.digest.default_timezone
    await reply(update, context, f"The daily digest comes at {at} ({zone_name}). "
                                 "Change the zone with /timezone, for example /timezone Europe/Berlin.")


async def timezone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    name = arguments(context)
    if not name:
        chat = await service(context).chat(update.effective_chat.id)
        current = chat.timezone if chat and chat.timezone else service(context).settings.digest.default_timezone
        await reply(update, context, f"This chat's time zone is {current}. "
                                     "Change it with /timezone and an IANA name, for example /timezone Europe/Berlin.")
        return
    if not await may_change_settings(update, context):
        return
    await ensure_chat(update, context)
    zone_name = await service(context).set_timezone(update.effective_chat.id, name)
    await reply(update, context, f"Time zone set to {zone_name}: times and the daily digest follow it.")


async def quiet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/quiet 23:00-07:00`: alerts wait through those hours and arrive together after; `/quiet off`."""
    text = arguments(context)
    chat_id = update.effective_chat.id
    if not text:
        chat = await service(context).chat(chat_id)
        if chat and chat.quiet_start:
            await reply(update, context, f"Quiet hours: {chat.quiet_start}-{chat.quiet_end}. /quiet off ends them.")
        else:
            await reply(update, context, "No quiet hours. Send /quiet 23:00-07:00 to hold alerts through the night.")
        return
    if not await may_change_settings(update, context):
        return
    await ensure_chat(update, context)
    hours = await service(context).set_quiet(chat_id, text)
    if hours is None:
        await reply(update, context, "Quiet hours off: alerts arrive as they happen.")
        return
    await reply(update, context, f"Quiet hours {hours[0]}-{hours[1]} (this chat's time): alerts wait and arrive "
                                 "together when they end; a contradiction is still sent at once.")
