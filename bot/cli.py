"""The `storywatch` command line: a thin skin over the service the bot runs on (bot/service.py), as the bot's
Telegram handlers are: it parses arguments, calls the service and prints the answer."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time
import urllib.parse
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from sqlite_utils import Database

from bot import feedpool
from bot.config import ConfigError, Settings, load_settings
from bot.evaluation import evaluate
from bot.logs import SecretFilter, configure_logging, mask_credentials
from bot.monitor.contradiction import DETECTORS, detector_settings
from bot.monitor.files import BadInputError, sorted_items
from bot.monitor.model import StoredItem, skipped_note
from bot.monitor.pipeline import tune_garbage_collector
from bot.monitor.poll import FeedPoll
from bot.service import Ingested, StoryWatch, UserError
from bot.wording import plural, verb
from storage.db import (
    AsyncDatabase,
    DatabaseInUseError,
    DatabaseRefusedError,
    backup_database,
    open_database,
    utcnow,
)
from storage.feeds import Feed
from storage.stories import Member, StoredContradiction, Story, StoryTimeline

T = TypeVar("T")

EXIT_RUNTIME = 1
EXIT_USAGE = 2
# Past this many items, `ingest` shows a progress bar on stderr.
PROGRESS_THRESHOLD = 2000


class InputProblem(Exception):
    """Bad usage or bad input: exit code 2."""


@dataclass
class CliState:
    config_path: Path | None
    db_path: str | None
    log_filter: SecretFilter
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        """Loaded on first use, so that `--help` works whatever state the config file is in."""
        if self._settings is None:
            self._settings = load_settings(self.config_path, db_path=self.db_path)
            self.log_filter.add(self._settings.telegram.token.reveal())
        return self._settings

    def open_async_db(self) -> AsyncDatabase:
        return AsyncDatabase(self.open_db())

    def open_db(self) -> Database:
        path = self.settings.storage.path
        try:
            return open_database(path)
        except (FileNotFoundError, DatabaseRefusedError) as exc:
            raise InputProblem(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise InputProblem(f"{path} is not a storywatch database ({exc})") from None


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"Error: {mask_credentials(message or 'unknown error').rstrip('.')}.", err=True)
    sys.exit(code)


def _echo_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _run(work: Callable[[StoryWatch], Coroutine[Any, Any, T]], state: CliState) -> T:
    """Run `work` on the service the bot runs on (bot/service.py), closing it and the database whatever
    happens: every command is a call on it, so that the command line and the bot cannot do one thing two ways."""

    async def runner() -> T:
        adb = state.open_async_db()
        service = StoryWatch(state.settings, adb)
        try:
            return await work(service)
        finally:
            await service.close()
            adb.close()

    return asyncio.run(runner())


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    # No dir_okay=False: load_settings says "config file X is a directory" in one sentence (exit 2), where
    # click's own check printed the usage text around its error.
    type=click.Path(path_type=Path),
    help="Configuration file (default: ./config.toml when present, else built-in defaults).",
)
@click.option("--db", "db_path", metavar="PATH", help="Database file; overrides storage.path.")
@click.option("-v", "--verbose", count=True, help="Log more: -v for info, -vv for debug.")
@click.version_option(package_name="storywatch", prog_name="storywatch")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, db_path: str | None, verbose: int) -> None:
    """storywatch follows how news stories develop: it polls RSS/Atom feeds, groups reports into stories
    and flags reports that contradict earlier ones."""
    ctx.obj = CliState(config_path, db_path, configure_logging(verbose))
    tune_garbage_collector()


# ---------------------------------------------------------------------------------------------- feeds


@cli.group()
def feeds() -> None:
    """Manage the shared pool of feeds."""


def _feed_json(feed: Feed) -> dict[str, Any]:
    return {
        "id": feed.id,
        "url": feed.url,
        "title": feed.title,
        "status": feed.status,
        "items": feed.items_seen,
        "last_items": feed.last_items,
        "skipped": feed.last_skipped,
        "consecutive_failures": feed.consecutive_failures,
        "last_error": feed.last_error,
        "last_success": feed.last_success_at.isoformat() if feed.last_success_at else None,
        "last_polled": feed.last_polled_at.isoformat() if feed.last_polled_at else None,
        "next_poll": feed.next_poll_at.isoformat(),
    }


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def feeds_list(state: CliState, as_json: bool) -> None:
    """List the feeds with their health: last success, entries skipped, failures, last error, next poll."""

    async def work(service: StoryWatch) -> list[Feed]:
        return await service.feeds()

    pool = _run(work, state)
    if as_json:
        _echo_json([_feed_json(feed) for feed in pool])
        return
    if not pool:
        click.echo("No feeds yet. Add one with: storywatch feeds add URL")
        return
    for feed in pool:
        click.echo(f"{feed.id:>4}  {feed.status:<12} {feed.items_seen:>6} items  {mask_credentials(feed.url)}")
        details = [feed.title] if feed.title else []
        details.append(f"last success {_when(feed.last_success_at)}")
        if any(feed.last_skipped.values()):
            details.append(f"last read {skipped_note(feed.last_skipped)}")
        if not feed.healthy:
            details.append(f"error: {feed.last_error}")
            details.append(f"next try {_when(feed.next_poll_at)}")
        click.echo("      " + " · ".join(details))


@feeds.command("add")
@click.argument("urls", nargs=-1, required=True)
@click.option("--no-check", is_flag=True, help="Add without fetching the feed first.")
@click.pass_obj
def feeds_add(state: CliState, urls: tuple[str, ...], no_check: bool) -> None:
    """Add feeds. Each is fetched once first to make sure it is a feed; a web page that announces its
    feed is followed to it."""

    async def work(service: StoryWatch) -> list[str]:
        problems = []
        for url in urls:
            try:
                added = await service.add_feed(url, check=not no_check)
            except UserError as exc:
                problems.append(exc.reason)
                continue
            if no_check:
                click.echo(f"Added feed {added.feed.id}: {mask_credentials(added.feed.url)}")
                continue
            found = f" (found on {added.discovered_from})" if added.discovered_from else ""
            click.echo(
                f"Added feed {added.feed.id}: {added.feed.name} <{mask_credentials(added.feed.url)}>{found}, "
                f"{added.items_available} items available"
            )
        return problems

    problems = _run(work, state)
    if problems:
        for problem in problems[:-1]:
            click.echo(f"Error: {mask_credentials(problem)}.", err=True)
        _fail(problems[-1], EXIT_USAGE)


@feeds.command("remove")
@click.argument("feeds_to_remove", metavar="ID_OR_URL...", nargs=-1, required=True)
@click.pass_obj
def feeds_remove(state: CliState, feeds_to_remove: tuple[str, ...]) -> None:
    """Remove feeds by number or address. Items already stored stay."""

    async def work(service: StoryWatch) -> None:
        for which in feeds_to_remove:
            feed = await service.remove_feed(which)
            click.echo(f"Removed feed {feed.id}: {mask_credentials(feed.url)}")

    _run(work, state)


@feeds.command("import-opml")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.pass_obj
def feeds_import_opml(state: CliState, path: Path) -> None:
    """Add every feed listed in an OPML file (as exported by feed readers), each checked as `feeds add`
    checks one; those that fail are named on stderr, with why."""
    content = path.read_bytes()

    async def work(service: StoryWatch) -> feedpool.OpmlImport:
        return await service.import_opml(content)

    result = _run(work, state)
    present = len(result.already_present)
    click.echo(f"Imported {plural(len(result.added), 'feed')} from {path}; {present} {verb(present, 'was', 'were')} "
               "already there.")
    for url, reason in result.failed:
        click.echo(f"Not added: {url}: {reason.rstrip('.')}.", err=True)


@feeds.command("export-opml")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.pass_obj
def feeds_export_opml(state: CliState, path: Path | None) -> None:
    """Write the pool as OPML to PATH, or to standard output."""

    async def work(service: StoryWatch) -> str:
        return await service.export_opml()

    document = _run(work, state)
    if path is None:
        click.echo(document, nl=False)
    else:
        path.write_text(document, encoding="utf-8")
        click.echo(f"Wrote {document.count('<outline')} feeds to {path}")


# ----------------------------------------------------------------------------------------------- poll


def _poll_line(result: FeedPoll) -> str:
    return mask_credentials(_poll_text(result))


def _poll_text(result: FeedPoll) -> str:
    if result.status == "failed":
        return f"  failed        {result.url}: {result.error} (next try {_when(result.next_poll_at)})"
    if result.status == "not-modified":
        return f"  not modified  {result.url}"
    moved = " (moved from an old address)" if result.moved_to else ""
    skipped = f" ({skipped_note(result.skipped_reasons)})" if any(result.skipped_reasons.values()) else ""
    return f"  {len(result.new_items):>4} new      {result.url}{moved}{skipped}"


def _poll_summary(results: list[FeedPoll], seconds: float) -> str:
    new = sum(len(r.new_items) for r in results)
    skipped = sum(sum(r.skipped_reasons.values()) for r in results)
    failed = sum(1 for r in results if r.status == "failed")
    not_modified = sum(1 for r in results if r.status == "not-modified")
    return (
        f"Polled {plural(len(results), 'feed')} in {seconds:.1f} s: {plural(new, 'new item')}, "
        f"{plural(skipped, 'entry', 'entries')} skipped, {not_modified} not modified, {failed} failed."
    )


@cli.command()
@click.option("--once", is_flag=True, help="Poll the due feeds once and stop (default: keep polling).")
@click.option("--force", is_flag=True, help="Poll every feed now, even those waiting out a backoff.")
@click.option("--json", "as_json", is_flag=True, help="Print what each poll did as JSON (with --once).")
@click.pass_obj
def poll(state: CliState, once: bool, force: bool, as_json: bool) -> None:
    """Poll the feeds without Telegram and report what changed. Configured feeds.urls join the pool."""

    async def one_cycle(service: StoryWatch, force_now: bool) -> list[FeedPoll]:
        started = time.perf_counter()
        results = await service.poll(force=force_now)
        if as_json:
            _echo_json([_poll_json(r) for r in results])
        elif results:
            for result in results:
                if result.status != "unchanged" or any(result.skipped_reasons.values()):
                    click.echo(_poll_line(result))
            click.echo(_poll_summary(results, time.perf_counter() - started))
        return results

    async def work(service: StoryWatch) -> None:
        await service.add_configured_feeds()
        results = await one_cycle(service, force)
        if once:
            if not results and not as_json:
                click.echo("No feed is due. Use --force to poll them all now, or add one with: "
                           "storywatch feeds add URL")
            return
        while True:
            due = await service.next_poll_due()
            if due is None:
                raise InputProblem("there are no feeds to poll: add one with storywatch feeds add URL")
            await asyncio.sleep(max(1.0, (due - utcnow()).total_seconds()))
            await one_cycle(service, False)

    _run(work, state)


def _poll_json(result: FeedPoll) -> dict[str, Any]:
    return {
        "feed": result.feed_id,
        "url": result.url,
        "status": result.status,
        "new_items": [{"id": i.id, "guid": i.guid, "title": i.title, "link": i.link} for i in result.new_items],
        "skipped": result.skipped_reasons,
        "error": result.error,
        "moved_to": result.moved_to,
        "warnings": result.warnings,
        "next_poll": result.next_poll_at.isoformat() if result.next_poll_at else None,
    }


# --------------------------------------------------------------------------------------------- ingest


def _ingest_summary(done: Ingested) -> str:
    report = done.report
    return (
        f"Ingested {plural(len(done.files), 'file')}: {plural(done.entries, 'entry', 'entries')}, "
        f"{report.new_items} new, "
        f"{report.already_known} already known, {plural(report.repeated, 'duplicate')} within the input, "
        f"{skipped_note(done.skipped_reasons)}; {plural(report.new_stories, 'new story', 'new stories')}, "
        f"{plural(report.contradictions, 'contradiction')}."
    )


@cli.command()
@click.argument("paths", metavar="PATH...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_obj
def ingest(state: CliState, paths: tuple[Path, ...]) -> None:
    """Ingest RSS/Atom files or JSON Lines files of items, as if polled, in published-time order.

    Every file is read and checked before anything is stored: a bad file changes nothing. Entries that
    give no item (an RSS item without a title) are counted as skipped, with the reason.
    """
    # Read and checked whole before the database is opened: a bad file leaves nothing behind. The items wait
    # on disk, sorted, and are stored a batch at a time: memory does not grow with the input.
    with sorted_items(paths, utcnow()) as items:
        for file in items.files:
            notes = [*file.warnings, *([skipped_note(file.skipped_reasons)] if file.skipped_reasons else [])]
            for note in notes:
                click.echo(f"Warning: {file.path}: {note}.", err=True)

        async def work(service: StoryWatch) -> Ingested:
            if items.count >= PROGRESS_THRESHOLD and sys.stderr.isatty():
                with click.progressbar(length=items.count, label="Ingesting", file=sys.stderr) as bar:
                    return await service.ingest(items, progress=bar.update)
            return await service.ingest(items)

        click.echo(_ingest_summary(_run(work, state)))


# -------------------------------------------------------------------------------------------- stories


def _item_json(item: StoredItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "guid": item.guid,
        "title": item.title,
        "link": item.link,
        "source": item.source,
        "published": item.published.isoformat(),
    }


def _contradiction_json(found: StoredContradiction) -> dict[str, Any]:
    return {
        "id": found.id,
        "story": found.story_id,
        "kind": found.kind,
        "earlier": _item_json(found.earlier),
        "later": _item_json(found.later),
        "evidence": found.evidence,
        "score": found.score,
        "claim": found.claim_id,
        "confident": found.confident,
    }


def _story_json(story: Story, members: list[Member]) -> dict[str, Any]:
    return {
        "id": story.id,
        "title": story.title,
        "first_seen": story.first_seen.isoformat(),
        "last_seen": story.last_seen.isoformat(),
        "closed": story.closed_at is not None,
        "sources": story.source_count,
        "contradictions": story.contradiction_count,
        "disputed_claims": story.disputed_count,
        "items": [_item_json(member.item) for member in members],
    }


def _contradiction_lines(found: StoredContradiction) -> list[str]:
    # A weak one was shown only in the story's timeline, never alerted (see [contradictions] alert_min_score).
    mark = "⚠" if found.confident else "? possibly disputed:"
    return [
        f"  {mark} {found.kind} (score {found.score:.2f}), story {found.story_id}",
        f"    earlier  {_when(found.earlier.published)}  {found.earlier.source}: {found.earlier.title}",
        f"    later    {_when(found.later.published)}  {found.later.source}: {found.later.title}",
        f"    evidence {found.evidence}",
    ]


@cli.command("stories")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--all", "include_closed", is_flag=True, help="Include closed stories.")
@click.option("--query", "-q", metavar="WORDS", help="Only stories whose reports contain all these words.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.pass_obj
def stories_command(state: CliState, as_json: bool, include_closed: bool, query: str | None, limit: int) -> None:
    """Stories, most recently active first."""

    async def work(service: StoryWatch) -> tuple[list[Story], dict[int, list[Member]]]:
        found = await service.latest_stories(query, include_closed=include_closed, limit=limit)
        return found, await service.story_members([story.id for story in found])

    found, members = _run(work, state)
    if as_json:
        _echo_json([_story_json(s, members[s.id]) for s in found])
        return
    if not found:
        click.echo("No stories match." if query else "No stories yet: ingest or poll some feeds first.")
        return
    for story in found:
        mark = f" · ⚠ {plural(story.contradiction_count, 'contradiction')}" if story.contradiction_count else ""
        closed = " · closed" if story.closed_at else ""
        click.echo(f"{story.id:>6}  {story.title}")
        click.echo(
            f"        {plural(story.item_count, 'report')} from {plural(story.source_count, 'source')} · "
            f"{_when(story.first_seen)} → {_when(story.last_seen)}{closed}{mark}"
        )


@cli.command("story")
@click.argument("story_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def story_command(state: CliState, story_id: int, as_json: bool) -> None:
    """One story's timeline: every report, why it joined, and the contradictions."""

    async def work(service: StoryWatch) -> StoryTimeline:
        try:
            return await service.story(story_id)
        except UserError as exc:
            raise InputProblem(f"{exc.reason} (see storywatch stories)") from None

    timeline = _run(work, state)
    if as_json:
        document = _story_json(timeline.story, timeline.members)
        for entry, member in zip(document["items"], timeline.members, strict=True):
            entry["score"] = member.score
            entry["shared_terms"] = list(member.shared_terms)
        document["contradictions"] = [_contradiction_json(c) for c in timeline.contradictions]
        _echo_json(document)
        return
    story = timeline.story
    click.echo(f"Story {story.id}: {story.title}")
    click.echo(f"{plural(story.item_count, 'report')} from {plural(story.source_count, 'source')}, "
               f"{_when(story.first_seen)} → "
               f"{_when(story.last_seen)}{' (closed)' if story.closed_at else ''}")
    click.echo("")
    for number, member in enumerate(timeline.members):
        item = member.item
        click.echo(f"  {_when(item.published)}  {item.source}: {item.title}")
        if item.link:
            click.echo(f"      {item.link}")
        if number == 0:
            click.echo("      started the story")
        else:
            click.echo(f"      joined with score {member.score:.2f}; shared: {', '.join(member.shared_terms) or '-'}")
    if timeline.contradictions:
        click.echo("")
        click.echo("Contradictions:")
        for found in timeline.contradictions:
            click.echo("\n".join(_contradiction_lines(found)))


@cli.command("contradictions")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@click.pass_obj
def contradictions_command(state: CliState, as_json: bool, limit: int) -> None:
    """Contradictions found, newest first."""

    async def work(service: StoryWatch) -> list[StoredContradiction]:
        return await service.contradictions(limit=limit)

    found = _run(work, state)
    if as_json:
        _echo_json([_contradiction_json(c) for c in found])
        return
    if not found:
        click.echo("No contradictions found yet.")
    for contradiction in found:
        click.echo("\n".join(_contradiction_lines(contradiction)))


@cli.command("eval")
@click.argument("dataset", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--detector", type=click.Choice(DETECTORS), default=DETECTORS[0], show_default=True,
    help="Which contradiction detector to replay with: the rules with the learned judge, or the rules alone.",
)
@click.pass_obj
def eval_command(state: CliState, dataset: Path, as_json: bool, detector: str) -> None:
    """Replay a labelled JSON Lines data set into a fresh temporary database and print the metrics, with the
    [stories] settings of the configuration."""
    report = evaluate(
        dataset, state.settings.stories.cluster_settings(),
        contradiction_settings=detector_settings(detector, state.settings.contradictions.detector_settings()),
    )
    if as_json:
        _echo_json(report.to_json())
        return
    click.echo(f"{report.dataset}: {report.items} items, {report.gold_stories} gold stories, "
               f"{report.stories} stories found")
    for name, scores in (("pairwise", report.pairwise), ("BCubed", report.bcubed),
                         ("contradiction", report.contradiction)):
        if scores is not None:
            click.echo(f"  {name:<14} P {scores.precision:.3f}  R {scores.recall:.3f}  F1 {scores.f1:.3f}")


# --------------------------------------------------------------------------------------------- backup


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def backup(state: CliState, path: Path) -> None:
    """Copy the database to PATH, safely while the bot runs (SQLite's online backup). To restore, stop the
    bot and put the copy in the database's place (see the README)."""
    db = state.open_db()
    try:
        backup_database(db, path)
    except (FileExistsError, FileNotFoundError) as exc:
        raise InputProblem(str(exc)) from None
    finally:
        db.close()
    click.echo(f"Backed up {state.settings.storage.path} to {path} ({path.stat().st_size:,} bytes).")


# ------------------------------------------------------------------------------------------------ run


@cli.command()
@click.pass_obj
def run(state: CliState) -> None:
    """Run the Telegram bot: poll the feeds on schedule, send alerts, answer commands. Stop with Ctrl-C."""
    import httpx
    from telegram.error import InvalidToken, NetworkError

    from bot.app import BotRuntime, MissingTokenError, require_token

    settings = state.settings
    try:
        token = require_token(settings)  # before the database is created: nothing is left behind
    except MissingTokenError as exc:
        raise InputProblem(str(exc)) from None
    # httpx logs every request URL (the token is in it) percent-encoded: a token pasted with a space or a
    # non-ASCII character reached the -v/-vv log in that form, which the raw token does not match.
    state.log_filter.add(str(httpx.URL(f"http://host/{token}")).removeprefix("http://host/"))
    state.log_filter.add(urllib.parse.quote(token, safe=""))  # as in PTB's file download URLs
    runtime = BotRuntime(settings, adb=state.open_async_db(), owns_db=True)

    async def serve() -> None:
        try:
            await runtime.serve()
        finally:
            runtime.adb.close()

    try:
        asyncio.run(serve())
    except InvalidToken:
        raise InputProblem("Telegram refused the bot token (401 Unauthorized): check telegram.token") from None
    except (DatabaseInUseError, DatabaseRefusedError) as exc:
        raise InputProblem(str(exc)) from None
    except NetworkError as exc:
        _fail(f"could not reach Telegram at {settings.telegram.base_url}: {exc.message}", EXIT_RUNTIME)


@cli.command()
@click.option("--seconds", type=click.FloatRange(2, 3600), default=60, show_default=True,
              help="How long the sample news takes to come out.")
@click.pass_obj
def demo(state: CliState, seconds: float) -> None:
    """Run storywatch on bundled sample news with no token and no network: sample feeds served on
    127.0.0.1 are polled on schedule, and the alerts and a digest print here as Telegram would show them."""
    from bot.demo.run import run_demo

    db_path = Path(state.db_path) if state.db_path else None
    asyncio.run(run_demo(sys.stdout, seconds=seconds, db_path=db_path))


# ----------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    try:
        code = cli.main(args=argv, prog_name="storywatch", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("interrupted", EXIT_RUNTIME)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UserError as exc:
        _fail(exc.reason, EXIT_USAGE)
    except (ConfigError, BadInputError, feedpool.FeedPoolError, InputProblem) as exc:
        _fail(str(exc), EXIT_USAGE)
    except sqlite3.Error as exc:
        _fail(f"database error: {exc}", EXIT_RUNTIME)
    except OSError as exc:
        _fail(f"{exc.strerror or exc} ({exc.filename})" if exc.filename else str(exc), EXIT_RUNTIME)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    sys.exit(code if isinstance(code, int) else 0)
