"""The contradiction detector as the pipeline sees it: prepare an item's text (anywhere, even in a parsing worker
process), keep a state per story, judge a new report against its story.

The pipeline depends on these three operations only, not on how a detector works: `storywatch eval --detector
NAME` replays one data set through each of `contradict.DETECTORS` to compare them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.monitor.contradiction import (
    DEFAULT_SETTINGS,
    Analysis,
    Contradiction,
    ContradictionSettings,
    ItemText,
    StoryReports,
    TextAnalysis,
    analyze_text,
    detect,
)
from bot.monitor.model import StoredItem


class StoryState(Protocol):
    """What a detector keeps of one story's reports."""

    def __len__(self) -> int: ...
    def holds(self, item_id: int | str) -> bool: ...


class Detector(Protocol):
    """A contradiction detector. `Prepared` texts must pickle (a worker process may make them) and depend on the
    text alone."""

    def prepare(self, title: str, summary: str) -> object: ...
    def keep(self, prepared: object) -> object:
        """What a story of one report keeps of its prepared text until a second report joins; `story` takes it
        for the first report in place of the prepared text."""
        ...
    def story(self, reports: Iterable[tuple[StoredItem, object]] = ()) -> StoryState: ...
    def judge(self, story: StoryState, item: StoredItem, prepared: object) -> list[Contradiction]: ...


def prepare_text(title: str, summary: str) -> TextAnalysis:
    """The item's text as the rules detector reads it (the same for every `ContradictionSettings`)."""
    return analyze_text(title, summary or "")


def _kept(item: ItemText) -> StoredItem:
    """What a story keeps of a report: no summary or link (the analysis holds what the summary asserts)."""
    return StoredItem(int(item.id), item.title, None, "", item.source, item.published)


@dataclass(frozen=True, slots=True)
class _Unanalysed:
    """What `RulesDetector.keep` keeps of a report's analysis when no later report that denies nothing is
    compared with it (`StoryReports.add_unanalysed`): whether it hedges."""

    hedged: bool


_PLAIN, _HEDGED = _Unanalysed(False), _Unanalysed(True)


class RulesDetector:
    """The rules, and with `settings.judge` the learned judge scoring what they propose."""

    def __init__(self, settings: ContradictionSettings = DEFAULT_SETTINGS) -> None:
        self.settings = settings

    def prepare(self, title: str, summary: str) -> TextAnalysis:
        return prepare_text(title, summary)

    def keep(self, prepared: object) -> object:
        """The analysis of a report that a later report which denies nothing may meet; of the others (most) only
        whether they hedge, which is all a story of one report needs until a second joins: its analysis is made
        again from the text if one is needed."""
        if isinstance(prepared, TextAnalysis) and not (prepared.claims or prepared.states or prepared.figures):
            return _HEDGED if prepared.hedged else _PLAIN
        return prepared

    def story(self, reports: Iterable[tuple[StoredItem, object]] = ()) -> StoryReports:
        """A story's state, from its reports in published order (each checked against those before it, so that
        what their denials validated is known again)."""
        state = StoryReports(settings=self.settings)
        for item, prepared in reports:
            if isinstance(prepared, _Unanalysed) and not len(state):
                state.add_unanalysed(_kept(item), item.summary or "", prepared.hedged)
            else:
                state.add(Analysis(_kept(item), _text(prepared, item)), summary=item.summary or "")
        return state

    def judge(self, story: StoryState, item: StoredItem, prepared: object) -> list[Contradiction]:
        """The contradictions `item` makes with the earlier reports of `story`, best first; then the story keeps it."""
        assert isinstance(story, StoryReports)
        analysis = Analysis(_kept(item), _text(prepared, item))
        found = detect(analysis, story, self.settings) if len(story) else []
        if not story.holds(item.id):
            story.add(analysis, found, summary=item.summary or "")
        return found


def _text(prepared: object, item: ItemText) -> TextAnalysis:
    # `prepare_text` of the item's title and summary either way: a story may make it again from them.
    return prepared if isinstance(prepared, TextAnalysis) else prepare_text(item.title, item.summary)
