"""How a topic's words meet a report's: shared by topic following (`alerts`) and story search (`storage`)."""

from __future__ import annotations

from bot.monitor.contradiction import event_key
from bot.monitor.terms import STOP_WORDS, place_name, tokenize


def topic_words(text: str) -> list[str]:
    """The content words of a topic or a report, each reduced to the key its inflected and nominal forms
    share, so that "/follow evacuation" meets "evacuating", and a place's adjective or demonym to the place,
    so that "/follow iran" meets "Iranian forces"."""
    return list(dict.fromkeys(event_key(place_name(word)) for word in tokenize(text, STOP_WORDS)))
