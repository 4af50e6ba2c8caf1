"""Counting words in output, for every message and line the bot and the command line print: one helper, so
that no output says "1 new stories" or "1 were"."""

from __future__ import annotations


def plural(number: int, noun: str, nouns: str | None = None) -> str:
    """ "1 story", "2 stories": the number and the noun that agrees with it (`nouns`: an irregular plural)."""
    return f"{number} {noun}" if number == 1 else f"{number} {nouns or noun + 's'}"


def verb(number: int, singular: str, plural_form: str) -> str:
    """The verb form that agrees with a count: verb(1, "was", "were") is "was"."""
    return singular if number == 1 else plural_form
