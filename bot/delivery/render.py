"""Messages as Telegram shows them: Telegram's HTML subset with every piece of feed text escaped, a plain
text twin for when HTML is refused, and never more than Telegram's 4,096 characters."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.monitor.alerts import claim_and_dispute
from bot.monitor.model import StoredItem, skipped_note
from bot.wording import plural
from storage.alerts import PendingAlert
from storage.chats import Subscription
from storage.feeds import Feed
from storage.notices import FEED_FAILING, PendingNotice
from storage.stories import StoredContradiction, Story, StoryTimeline

MAX_MESSAGE_CHARS = 4096
# Feed titles can be long; an alert stays readable on a phone.
MAX_HEADLINE_CHARS = 300
# Stories of a batch with their own row of buttons.
MAX_BUTTON_ROWS = 20

_TAG = re.compile(r"<[^>]+>")
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)

# What each side of a contradiction did, by kind: (the earlier report, the later one).
_DISPUTE_VERBS = {
    "denial": ("reported", "denied"),
    "negation": ("reported", "denied"),
    "reversal": ("denied", "reasserted"),
}
_DEFAULT_VERBS = ("reported", "contradicted")


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # callback data, at most 64 bytes


@dataclass(frozen=True)
class Rendered:
    html: str
    buttons: list[Button] = field(default_factory=list)
    # Rows of buttons, one per story of a message about several; `buttons` is the single row otherwise.
    rows: list[list[Button]] = field(default_factory=list)

    @property
    def button_rows(self) -> list[list[Button]]:
        return self.rows or ([self.buttons] if self.buttons else [])

    @property
    def plain(self) -> str:
        """The same message without markup, for a chat where Telegram refuses the HTML."""
        return html_to_plain(self.html)


def html_to_plain(text: str) -> str:
    def link(match: re.Match[str]) -> str:
        label, url = match.group(2), match.group(1)
        return label if _TAG.sub("", label) == url else f"{label} ({url})"

    return html.unescape(_TAG.sub("", _LINK.sub(link, text)))


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def clip(text: str, limit: int = MAX_HEADLINE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def when(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.day} {local:%b %H:%M} {local.tzname()}"


def linked(item: StoredItem) -> str:
    headline = esc(clip(item.title))
    return f'<a href="{esc(item.link)}">{headline}</a>' if item.link else headline


def report_line(item: StoredItem, tz: ZoneInfo) -> str:
    return f"{esc(clip(item.source, 60))} · {when(item.published, tz)}\n{linked(item)}"


def fit(blocks: Sequence[str], *, limit: int = MAX_MESSAGE_CHARS, separator: str = "\n\n") -> str:
    """Join as many whole blocks as fit, dropping the rest from the end (and saying how many) rather than
    cutting one in the middle, which could split an HTML tag. The limit counts what Telegram counts: text
    without tags, in UTF-16 units. The number kept is found by bisection: a story of a thousand reports must
    not be measured a thousand times."""

    def joined(count: int) -> str:
        dropped = len(blocks) - count
        return separator.join(blocks[:count]) + (f"{separator}… and {dropped} more" if dropped else "")

    def fits(count: int) -> bool:
        return len(html_to_plain(joined(count)).encode("utf-16-le")) // 2 <= limit

    if fits(len(blocks)):
        return joined(len(blocks))
    low, high = 0, len(blocks)  # fits(low) or low == 0; not fits(high)
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return joined(low) if low and fits(low) else f"… {len(blocks)} more"


def story_buttons(story_id: int, *, follow: bool, timeline: bool = True, numbered: bool = False) -> list[Button]:
    """What may be done with a story from a message: its timeline (not from the timeline itself), following it
    (only when the chat does not), muting it. `numbered`: labels carry the story's number, for a message
    about several stories."""
    suffix = f" {story_id}" if numbered else ""
    buttons = [Button(f"Timeline{suffix}", f"timeline:{story_id}")] if timeline else []
    if follow:
        buttons.append(Button(f"Follow{suffix}", f"follow:{story_id}"))
    buttons.append(Button(f"Mute{suffix}", f"mute:{story_id}"))
    return buttons


def dispute_line(contradiction: StoredContradiction, tz: ZoneInfo) -> str:
    """Which claim is disputed and by whom: "<claim> — reported by A (time), denied by B (time)"."""
    claim, _ = claim_and_dispute(contradiction)
    earlier_verb, later_verb = _DISPUTE_VERBS.get(contradiction.kind, _DEFAULT_VERBS)
    return (
        f"<b>{esc(clip(claim.title))}</b> — {earlier_verb} by {esc(clip(contradiction.earlier.source, 60))} "
        f"({when(contradiction.earlier.published, tz)}), {later_verb} by {esc(clip(contradiction.later.source, 60))} "
        f"({when(contradiction.later.published, tz)})"
    )


def contradiction_block(contradiction: StoredContradiction, tz: ZoneInfo) -> str:
    """Both reports of a contradiction (outlet, time, headline, link) and the evidence."""
    earlier_verb, later_verb = _DISPUTE_VERBS.get(contradiction.kind, _DEFAULT_VERBS)
    return (
        f"{earlier_verb.capitalize()}: {report_line(contradiction.earlier, tz)}\n"
        f"{later_verb.capitalize()}: {report_line(contradiction.later, tz)}\n"
        f"<i>Why: {esc(clip(contradiction.evidence, 300))}</i>"
    )


def render_alert(alert: PendingAlert) -> Rendered:
    """One alert, on its own."""
    tz = zone(alert.chat_timezone)
    story = f"<b>{esc(clip(alert.story_title))}</b>"
    if alert.kind == "contradiction" and alert.contradiction is not None:
        text = (f"⚠️ Disputed: {dispute_line(alert.contradiction, tz)}\n\n"
                f"{contradiction_block(alert.contradiction, tz)}")
    elif alert.kind == "new_story":
        text = f"🆕 <b>New story</b>\n\n{report_line(alert.item, tz)}"
    else:
        text = f"📰 <b>Development</b> in {story} ({plural(alert.story_sources, 'source')})\n\n"
        text += report_line(alert.item, tz)
    # An alert is about a story the chat follows (a topic of its matched it): no Follow button.
    return Rendered(fit([text]), story_buttons(alert.story_id, follow=False))


def render_batch(alerts: Sequence[PendingAlert]) -> Rendered:
    """Many alerts for one chat at once (a burst of reports): one message, grouped by story."""
    tz = zone(alerts[0].chat_timezone)
    by_story: dict[int, list[PendingAlert]] = {}
    for alert in alerts:
        by_story.setdefault(alert.story_id, []).append(alert)
    # Each story gets its share of the message, so that a story with many reports shows its first ones and
    # counts the rest instead of crowding out (or being dropped for) the others.
    share = max(600, (MAX_MESSAGE_CHARS - 200) // len(by_story))
    blocks = []
    for story_id, story_alerts in by_story.items():
        lines = []
        for alert in story_alerts:
            mark = "🆕 " if alert.kind == "new_story" else ""
            lines.append(f"• {mark}{esc(clip(alert.item.source, 60))} · {when(alert.item.published, tz)}: "
                         f"{linked(alert.item)}")
        title = f"Story {story_id}: <b>{esc(clip(story_alerts[-1].story_title))}</b>"
        blocks.append(f"{title}\n{fit(lines, separator=chr(10), limit=share - len(title))}")
    header = f"📰 <b>{plural(len(alerts), 'new report')}</b> in {plural(len(by_story), 'story', 'stories')}"
    if len(by_story) == 1:
        return Rendered(fit([header, *blocks]), story_buttons(next(iter(by_story)), follow=False))
    # One row of buttons per story, for as many as Telegram shows (a keyboard holds 100 buttons); the others
    # are reached with /story N.
    rows = [story_buttons(story_id, follow=False, numbered=True) for story_id in list(by_story)[:MAX_BUTTON_ROWS]]
    return Rendered(fit([header, *blocks]), rows=rows)


def claims_of(contradictions: Sequence[StoredContradiction]) -> list[list[StoredContradiction]]:
    """Contradictions grouped by the claim they dispute, each group oldest first, groups by their first."""
    groups: dict[int, list[StoredContradiction]] = {}
    for contradiction in sorted(contradictions, key=lambda c: c.id):
        groups.setdefault(contradiction.claim_id or contradiction.id, []).append(contradiction)
    return list(groups.values())


def render_story(timeline: StoryTimeline, tz: ZoneInfo, *, followed: bool = False) -> Rendered:
    """A story's timeline: its disputed claims (those confident enough to alert, then the possibly disputed
    ones, which were never pushed), then every report, oldest first. `followed`: whether the chat follows the
    story (then it has no Follow button)."""
    story = timeline.story
    head = (
        f"<b>{esc(clip(story.title))}</b>\nStory {story.id} · {plural(story.item_count, 'report')} from "
        f"{plural(story.source_count, 'source')} · {when(story.first_seen, tz)} → {when(story.last_seen, tz)}"
        + (" · closed" if story.closed_at else "")
    )
    blocks = [head]
    disputed, possibly = [], []
    for claim in claims_of(timeline.contradictions):
        confident = [c for c in claim if c.confident]
        (disputed if confident else possibly).append((confident or claim)[0])
    for mark, heading, shown in (("⚠️", "Disputed", disputed), ("❔", "Possibly disputed", possibly)):
        if shown:
            more = f"\n\n… and {plural(len(shown) - 3, 'more claim')}" if len(shown) > 3 else ""
            blocks.append(f"{mark} <b>{heading}</b>\n\n" + "\n\n".join(
                f"{dispute_line(c, tz)}\n{contradiction_block(c, tz)}" for c in shown[:3]) + more)
    marks = {c.later.id: "❔ " for c in timeline.contradictions if not c.confident}
    marks.update({c.later.id: "⚠️ " for c in timeline.contradictions if c.confident})
    reports = [f"{marks.get(m.item.id, '')}{report_line(m.item, tz)}" for m in timeline.members]

    # A long story keeps its newest reports, the ones a reader comes for, and says how many earlier ones left.
    def newest(kept: int) -> list[str]:
        return blocks + _earlier_note(len(reports) - kept) + reports[len(reports) - kept:]

    low, high = 0, len(reports)  # bisection, as in `fit`: newest(low) fits or low == 0
    if _fits(newest(high)):
        low = high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if _fits(newest(middle)) else (low, middle)
    return Rendered(fit(newest(low)), story_buttons(story.id, follow=not followed, timeline=False))


def _earlier_note(count: int) -> list[str]:
    return [f"… {plural(count, 'earlier report')} not shown"] if count else []


def _fits(blocks: Sequence[str]) -> bool:
    return len(html_to_plain("\n\n".join(blocks)).encode("utf-16-le")) // 2 <= MAX_MESSAGE_CHARS


def render_story_list(
    stories: Sequence[Story], tz: ZoneInfo, *, heading: str, next_page: str | None = None
) -> Rendered:
    """`next_page`: the command for the next page, when there is one."""
    blocks = [f"<b>{esc(heading)}</b>"]
    for story in stories:
        mark = f" · ⚠️ {plural(story.disputed_count, 'disputed claim')}" if story.disputed_count else ""
        blocks.append(
            f"<b>{story.id}</b>. {esc(clip(story.title, 200))}\n{plural(story.source_count, 'source')} · "
            f"{plural(story.item_count, 'report')} · updated {when(story.last_seen, tz)}{mark}"
        )
    blocks.append("Send /story followed by a number for its timeline."
                  + (f" More: {esc(next_page)}" if next_page else ""))
    return Rendered(fit(blocks))


def render_muted(entries: Sequence[Subscription]) -> Rendered:
    if not entries:
        return Rendered("No story is muted in this chat.")
    lines = ["<b>Muted stories</b>"]
    lines += [f"{entry.story_id}. {esc(clip(entry.story_title or '', 120))}" for entry in entries]
    lines.append("\nSend /unmute and a story's number to hear of it again.")
    return Rendered(fit(lines, separator="\n"))


# Entries of /following and /feeds to a page.
LIST_PAGE = 25


def page_of(count: int, page: int, command: str) -> tuple[slice, str]:
    """The slice of a list of `count` entries that page `page` shows, and the line that says what else
    there is ("More: /feeds 3"); an empty slice for a page past the end."""
    pages = max(1, -(-count // LIST_PAGE))
    start = LIST_PAGE * (page - 1)
    if page < pages:
        note = f"Page {page} of {pages}. More: {command} {page + 1}"
    elif pages > 1:
        note = f"Page {page} of {pages}."
    else:
        note = ""
    return slice(start, start + LIST_PAGE), note


def render_following(entries: Sequence[Subscription], page: int = 1) -> Rendered:
    if not entries:
        return Rendered("This chat follows nothing yet. Send /follow and a few words, for example /follow iran syria.")
    shown, note = page_of(len(entries), page, "/following")
    if not entries[shown]:
        return Rendered(f"There is no page {page}: /following has {plural(len(entries), 'entry', 'entries')}.")
    lines = ["<b>This chat follows</b>"]
    for number, entry in list(enumerate(entries, start=1))[shown]:
        if entry.kind in ("topic", "outlet"):
            lines.append(f"{number}. {entry.kind} “{esc(entry.query or '')}”")
        else:
            verb = "muted" if entry.kind == "mute" else "story"
            lines.append(f"{number}. {verb} {entry.story_id}: {esc(clip(entry.story_title or '', 120))}")
    lines.append("\nSend /unfollow and a number to drop one." + (f" {note}" if note else ""))
    return Rendered(fit(lines, separator="\n"))


def render_lines(lines: Sequence[str]) -> Rendered:
    """Plain lines (escaped here), as many as fit in one message."""
    return Rendered(fit([esc(line) for line in lines], separator="\n"))


def render_notices(notices: Sequence[PendingNotice]) -> Rendered:
    """An admin's notices of feed health, one line each, in one message."""
    lines = []
    for notice in notices:
        if notice.kind == FEED_FAILING:
            lines.append(f"⚠️ Feed {notice.feed_id} ({notice.feed_name}) has failed "
                         f"{plural(notice.failures, 'poll')} in a row: {notice.error}. It is tried again with "
                         "longer waits; /feeds shows it.")
        else:
            lines.append(f"✅ Feed {notice.feed_id} ({notice.feed_name}) works again, after "
                         f"{plural(notice.failures, 'failed poll')}.")
    return render_lines(lines)


def render_feeds(feeds: Sequence[Feed], tz: ZoneInfo, page: int = 1) -> Rendered:
    if not feeds:
        return Rendered("The feed pool is empty. Add one with /addfeed and its address, or send an OPML file.")
    shown, note = page_of(len(feeds), page, "/feeds")
    if not feeds[shown]:
        return Rendered(f"There is no page {page}: the pool has {plural(len(feeds), 'feed')}.")
    lines = [f"<b>{plural(len(feeds), 'feed')}</b>"]
    for feed in feeds[shown]:
        if feed.healthy:
            health = "not read yet" if feed.status == "new" else feed.status
            if any(feed.last_skipped.values()):
                health += f" ({esc(skipped_note(feed.last_skipped))})"
        else:
            health = f"{feed.status}: {esc(clip(feed.last_error or '', 120))}"
        last = when(feed.last_success_at, tz) if feed.last_success_at else "never"
        lines.append(f"{feed.id}. {esc(clip(feed.name, 80))} · {health} · last read {last}\n"
                     f"    {esc(clip(feed.url, 200))}")
    if note:
        lines.append(note)
    return Rendered(fit(lines, separator="\n"))
