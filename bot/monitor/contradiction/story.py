"""The story index: the analyses of one story's reports, indexed by what a later report can contradict, and
`detect`, which judges a new report against them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.monitor.contradiction.analysis import (
    Analysis,
    Claim,
    TextAnalysis,
    analyze,
    analyze_text,
    doubts_a_claim,
    summary_read,
)
from bot.monitor.contradiction.compare import _compare, _event_name, _same_source, _targets_met, negates_event
from bot.monitor.contradiction.lexicon import event_key
from bot.monitor.contradiction.settings import (
    DEFAULT_SETTINGS,
    JUDGED_KINDS,
    Contradiction,
    ContradictionSettings,
    ItemText,
    score_floor,
)
from bot.monitor.judge import shipped_judge


class StoryReports:
    """The analyses of one story's reports, kept with the story and indexed by what a later report can contradict.

    `detect` given a plain sequence compares the new item with every earlier one. Given this, it visits only
    the reports that can matter (a report that denies nothing meets only the story's denials, states and
    figures), and it remembers which of the story's reports each denial contradicts, so that a restatement is
    checked against those reports alone. In a story of hundreds of reports, comparing each new one with all of
    them made detection cost grow with the story's size.

    Most reports deny nothing and tell no state or figure: a later report that denies nothing never meets them,
    and those that do are few. Of such a report, added with its `summary`, only the item and what the analysis
    reads of the summary (its first sentence) are kept; `report` makes its analysis again when one is needed,
    through `analyze_text`'s cache. Their analyses (sets of words, most of a kilobyte each) kept with every
    report of every story in memory were most of what those stories cost.
    """

    def __init__(self, analyses: Iterable[Analysis] = (), settings: ContradictionSettings | None = None) -> None:
        # Each report in story order: its analysis, or (item, summary) to make it again from (see `report`).
        self._reports: list[Analysis | tuple[ItemText, str]] = []
        self._positions: dict[int | str, int] = {}
        self._settings = settings or DEFAULT_SETTINGS
        # Position of a report whose denial or negation was found to contradict earlier reports -> their
        # positions, with the score of each contradiction: only such a validated denial can be reversed or restated.
        self.contradicted: dict[int, dict[int, float]] = {}
        # Positions in `reports` of those with denials or negations, with states, with figures; and of the plain
        # ones (neither denying nor hedged): what a denial contradicts and what a later report may restate.
        self._claims: list[int] = []
        self._states: list[int] = []
        self._figures: list[int] = []
        self._plain: list[int] = []
        # (position of a report, index of one of its denial claims) -> the plain reports that denial meets, with
        # the words it meets them on, in story order. Made when first asked for, then kept up to date.
        self._denied: dict[tuple[int, int], list[tuple[int, frozenset[str]]]] = {}
        self._denied_for: ContradictionSettings | None = None
        for analysis in analyses:
            self.add(analysis)

    def __len__(self) -> int:
        return len(self._reports)

    def holds(self, item_id: int | str) -> bool:
        return item_id in self._positions

    def report(self, position: int) -> Analysis:
        """The analysis of the report at `position` in story order."""
        kept = self._reports[position]
        if isinstance(kept, Analysis):
            return kept
        item, summary = kept
        return Analysis(item, analyze_text(item.title, summary))

    def add(
        self, analysis: Analysis, found: Sequence[Contradiction] | None = None, summary: str | None = None
    ) -> None:
        """Add a report after detecting on it; `found` is what `detect` said of it (worked out when not given).
        `summary`: the report's summary, when `analysis.text` is `analyze_text(title, summary)` of it, so that
        its analysis can be made again: then a report only a denial can meet keeps no analysis."""
        if found is None:
            found = detect(analysis, self, self._settings) if self._reports else []
        position = len(self._reports)
        contradicted = {
            self._positions[c.earlier.id]: c.score
            for c in found
            if c.kind in ("denial", "negation") and c.earlier.id in self._positions
            and c.score >= self._settings.validated_min
        }
        # A question ("X fake?") doubts a claim; it is no denial for later reports to reverse or restate.
        if contradicted and not analysis.text.question:
            self.contradicted[position] = contradicted
            # A report a denial contradicted is met again by every later report that may restate it.
            for earlier in contradicted:
                self._reports[earlier] = self.report(earlier)
        text = analysis.text
        # What a report that denies nothing is compared with (`candidates`) keeps its analysis.
        lazy = summary is not None and not (text.claims or text.states or text.figures)
        self._reports.append((analysis.item, summary_read(summary)) if lazy else analysis)
        self._positions[analysis.item.id] = position
        if text.claims:
            self._claims.append(position)
        elif not text.hedged:
            self._plain.append(position)
        if text.states:
            self._states.append(position)
        if text.figures:
            self._figures.append(position)
        if self._denied_for is not None:
            if text.claims:
                self._pair_denier(position, self._denied_for)
            elif not text.hedged:
                self._pair_plain(position, analysis, self._denied_for)

    def add_unanalysed(self, item: ItemText, summary: str, hedged: bool) -> None:
        """Add the first report of the story, one that denies nothing and tells no state or figure, by what
        makes its analysis again (what `add` with `summary` keeps of it): a story's first report needs no
        detecting on, and such a report no analysis kept. `hedged`: whether its analysis says it hedges."""
        if self._reports:
            raise ValueError("only a story's first report can be added without its analysis")
        self._reports.append((item, summary_read(summary)))
        self._positions[item.id] = 0
        if not hedged:
            self._plain.append(0)

    def candidates(self, new: TextAnalysis) -> list[int]:
        """Positions of the reports that `new` may contradict or reverse, in story order."""
        if new.claims:
            return list(range(len(self._reports)))
        groups = [
            group
            for wanted, group in (
                (not new.hedged, self._claims), (bool(new.states), self._states), (bool(new.figures), self._figures)
            )
            if wanted and group
        ]
        if len(groups) == 1:
            return groups[0]
        return sorted({position for group in groups for position in group})

    def has_claims(self, besides: int | str) -> bool:
        """Whether a report other than item `besides` denies or negates something."""
        return any(self.report(position).item.id != besides for position in self._claims)

    def denied(self, settings: ContradictionSettings) -> dict[tuple[int, int], list[tuple[int, frozenset[str]]]]:
        """(report position, index of its denial claim) -> [(position of a plain report it contradicts, words)]."""
        if self._denied_for != settings:
            self._denied, self._denied_for = {}, settings
            for position in self._claims:
                self._pair_denier(position, settings)
        return self._denied

    def _pair_denier(self, position: int, settings: ContradictionSettings) -> None:
        text = self.report(position).text
        denials = [(index, claim) for index, claim in enumerate(text.claims) if claim.kind == "denial"]
        if not denials:
            return
        plain = [(other, self.report(other)) for other in self._plain]
        for index, claim in denials:
            self._denied[(position, index)] = [
                (other, met)
                for other, report in plain
                if (met := self._meets(claim, text, report, settings)) is not None
            ]

    def _pair_plain(self, position: int, report: Analysis, settings: ContradictionSettings) -> None:
        for (denier, index), met_list in self._denied.items():
            text = self.report(denier).text
            met = self._meets(text.claims[index], text, report, settings)
            if met is not None:
                met_list.append((position, met))

    @staticmethod
    def _meets(
        claim: Claim, denier: TextAnalysis, report: Analysis, settings: ContradictionSettings
    ) -> frozenset[str] | None:
        return _targets_met(claim, report.text.asserted, settings, denier.names | report.text.names)


def _tentative(text: TextAnalysis, settings: ContradictionSettings) -> bool:
    """Whether a report only asks or doubts ("X fake?", "merger unlikely"): at most a possible contradiction."""
    return text.question or all(claim.strength < settings.tentative_strength for claim in text.claims)


def detect(
    new: ItemText | Analysis,
    earlier: Sequence[ItemText | Analysis] | StoryReports,
    settings: ContradictionSettings = DEFAULT_SETTINGS,
) -> list[Contradiction]:
    """Contradictions between `new` and the earlier items of its story, best first.

    `earlier` may hold items or their `analyze` results, or be the story's `StoryReports`: keep one with the
    story and `add` each report after detecting on it, so each report is analysed once and compared only with
    those it can contradict. With `settings.best_per_kind`, each kind is reported once, against the earlier
    item that scores best (the earliest one on ties).
    """
    a = new if isinstance(new, Analysis) else analyze(new)
    story = (
        earlier
        if isinstance(earlier, StoryReports)
        else StoryReports((old if isinstance(old, Analysis) else analyze(old) for old in earlier), settings)
    )
    results: list[Contradiction] = []
    judge = shipped_judge() if settings.judge else None
    for position in story.candidates(a.text):
        b = story.report(position)
        if b.item.id == a.item.id:
            continue
        for kind, score, evidence in _compare(a, b, settings, position in story.contradicted):
            if judge is not None and kind in JUDGED_KINDS:
                if score < settings.propose_min:
                    continue
                score = judge.judge(b.text, a.text, kind, _same_source(a, b))
                if kind != "reversal" and negates_event(a.text, b.text, settings):
                    score = max(score, settings.negated_event_score)
                possibly_disputed = False
                if kind == "reversal" and position in story.contradicted:
                    validated = max(story.contradicted[position].values())
                    if validated < settings.min_score:
                        possibly_disputed = True  # reasserting what a doubt questioned: as unsure as the doubt
                    else:
                        # Reasserting the very event a confident denial of the story denied: as sure as that denial.
                        score = max(score, validated)
                if kind != "reversal" and _tentative(a.text, settings):
                    if doubts_a_claim(a.text):
                        # Someone doubting the claim ("NASA questions whether...").
                        possibly_disputed = True
                    else:
                        score = min(score, settings.tentative_max)
                if possibly_disputed:
                    # Recorded only when the judge is sure it is this claim, capped below the confident ones.
                    if score >= settings.min_score:
                        results.append(
                            Contradiction(kind, b.item, a.item, evidence, round(min(score, settings.tentative_max), 3))
                        )
                    continue
            if score >= score_floor(settings, kind):
                results.append(Contradiction(kind, b.item, a.item, evidence, round(min(1.0, score), 3)))
    # Only when an earlier report denies something can a restatement contradict.
    if a.text.claims:
        if not any(c.kind in ("denial", "negation") for c in results) and story.has_claims(a.item.id):
            results += _restated_denials(a, story, settings)
    elif not a.text.hedged and not any(c.kind == "reversal" for c in results) and story.has_claims(a.item.id):
        results += _restated_reversals(a, story, settings)
    if settings.best_per_kind:
        best: dict[str, Contradiction] = {}
        for c in results:
            # `results` holds earlier items in story order: a later one must beat the best by the margin.
            if c.kind not in best or c.score > best[c.kind].score + (settings.tie_margin if settings.judge else 0):
                best[c.kind] = c
        results = list(best.values())
    results.sort(key=lambda c: -c.score)
    return results


def _restates(a: TextAnalysis, x: TextAnalysis, settings: ContradictionSettings) -> frozenset[str] | None:
    """The words `a` shares with `x` when they are enough to say `a` restates `x`: most of them, and enough."""
    shared = a.keys & x.keys
    if len(shared) >= settings.restate_min and len(shared) >= settings.restate_overlap * min(len(a.keys), len(x.keys)):
        return shared
    return None


def _restated_reversals(a: Analysis, story: StoryReports, settings: ContradictionSettings) -> list[Contradiction]:
    """A later report that restates an earlier report which a denial of the story contradicted reverses that
    denial too, even in other words than the denial's ("Saudi airline to ban gender-mixing seating" restates
    "Saudi airline plans gender segregation on flights", which "airline denies plan to separate men and women"
    denied)."""
    out: list[Contradiction] = []
    restated: dict[int, frozenset[str] | None] = {}  # position of a denied report -> words a shares with it
    for (denier, index), denied in story.denied(settings).items():
        b = story.report(denier)
        claim = b.text.claims[index]
        if b.item.id == a.item.id or claim.head in a.text.negated or denier not in story.contradicted:
            continue  # a negation may be an idiom ("don't shoot"); a denial is about a report
        for position, _ in denied:
            x = story.report(position)
            if x.item.id == a.item.id or position not in story.contradicted[denier]:
                continue
            if position not in restated:
                restated[position] = _restates(a.text, x.text, settings)
            shared = restated[position]
            if shared is None:
                continue
            # As sure as the denial's own contradiction of the report restated, and a little less.
            score = story.contradicted[denier][position] if settings.judge else claim.strength
            score *= settings.restated_factor
            if score >= score_floor(settings):
                event = _event_name(shared, None, a.text.phrases, a.text.names | x.text.names)
                evidence = (
                    f"reversal of '{event}': '{a.text.phrases.get(event_key(event), event)}' restates the "
                    f"report that '{claim.cue}' denied"
                )
                out.append(Contradiction("reversal", b.item, a.item, evidence, round(score, 3)))
            break
    return out


def _restated_denials(a: Analysis, story: StoryReports, settings: ContradictionSettings) -> list[Contradiction]:
    """A denial that restates an earlier denial of the story ("No, a bird didn't poop on Putin" after "the video of
    a bird pooping on Putin is a hoax") contradicts the reports that one contradicted, even in other words than
    its own."""
    own = [c for c in a.text.claims if c.kind == "denial" or c.head is not None]
    if not own:
        return []
    for (denier, index), denied in story.denied(settings).items():
        b = story.report(denier)
        if b.item.id == a.item.id or denier not in story.contradicted or _restates(a.text, b.text, settings) is None:
            continue
        claim = b.text.claims[index]
        for position, met in denied:
            x = story.report(position)
            if x.item.id == a.item.id or position not in story.contradicted[denier]:
                continue
            score = (story.contradicted[denier][position] if settings.judge else own[0].strength)
            score *= settings.restated_factor
            if score < score_floor(settings):
                return []
            event = _event_name(met, claim.head, x.text.phrases, b.text.names | x.text.names)
            evidence = (
                f"denial of '{event}': '{own[0].cue}' restates '{claim.cue}', which denied "
                f"'{x.text.phrases.get(event_key(event), event)}'"
            )
            return [Contradiction("denial", x.item, a.item, evidence, round(score, 3))]
    return []
