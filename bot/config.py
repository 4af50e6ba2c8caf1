"""Settings: TOML in, typed and immutable settings out.

Every key has a default. An unknown key, a value of the wrong type or out of range is rejected with the
key's dotted name, so a typo in a config file never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.monitor.alerts import DEFAULT_POLICY, AlertPolicy
from bot.monitor.cluster import ClusterSettings
from bot.monitor.contradiction import DEFAULT_SETTINGS, DETECTORS, ContradictionSettings, detector_settings

TOKEN_ENV = "STORYWATCH_TELEGRAM_TOKEN"
DEFAULT_CONFIG_PATH = Path("config.toml")


class ConfigError(ValueError):
    """A configuration problem, worded for the person who wrote the config."""


class Secret:
    """A string that never shows itself in repr, str, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__


@dataclass(frozen=True)
class TelegramSettings:
    token: Secret = field(default_factory=lambda: Secret(""))
    base_url: str = "https://api.telegram.org/bot"
    admins: tuple[int, ...] = ()
    # How long a request to Telegram (a message sent) may wait for its answer. Telegram sometimes answers a
    # message it has accepted only after several seconds; a request given up on then is sent again, and the
    # chat gets the message twice. Only answers slower than this can cause that.
    send_timeout_seconds: float = 30.0


@dataclass(frozen=True)
class StorageSettings:
    path: str = "storywatch.db"


@dataclass(frozen=True)
class PollingSettings:
    interval_seconds: int = 600
    timeout_seconds: float = 20.0
    max_concurrency: int = 20
    per_host_concurrency: int = 2
    max_response_bytes: int = 5_000_000
    max_redirects: int = 5
    backoff_max_seconds: int = 6 * 3600
    # A report first seen more than interval_seconds + late_margin_seconds after it was published is old news
    # (see `late_after`).
    late_margin_seconds: int = 3600
    # The bot's admins are told when a feed has failed this many polls in a row, and again when it recovers;
    # 0 tells them nothing.
    tell_admins_after_failures: int = 3
    # Processes that parse fetched feeds (and analyse their reports for contradictions) while the bot stores and
    # clusters: feedparser holds the GIL, so parsing on a thread takes the very core clustering needs. 0 parses
    # on a thread of the bot's own process.
    parse_workers: int = 1
    # The most one fetched document may take to parse: a document still parsing then fails its feed, and its
    # worker process is replaced (with parse_workers = 0, the thread cannot be stopped: it runs on).
    parse_timeout_seconds: float = 30.0
    user_agent: str = "storywatch/0.1 (+https://github.com/storywatch/storywatch)"

    def late_after(self) -> timedelta:
        """How old a report may be when first seen and still be news. A healthy feed is read every
        interval, so a report older than that was there to be read at an earlier poll; the margin allows for
        feeds that stamp a report with the time it was written and publish it later, and for caches."""
        return timedelta(seconds=self.interval_seconds + self.late_margin_seconds)


@dataclass(frozen=True)
class FeedSettings:
    urls: tuple[str, ...] = ()
    allow_private_addresses: bool = False
    # Whether any chat, not only the bot's admins, may add feeds to the shared pool with /addfeed, and how many.
    anyone_may_add: bool = False
    per_chat_limit: int = 5


@dataclass(frozen=True)
class DigestSettings:
    default_time: str = "08:00"
    default_timezone: str = "UTC"


@dataclass(frozen=True)
class StoriesSettings:
    """The clustering's main thresholds and windows (the rest of `ClusterSettings` keeps its defaults)."""

    join_threshold: float = ClusterSettings.join_threshold
    min_coverage: float = ClusterSettings.min_coverage
    coverage_penalty: float = ClusterSettings.coverage_penalty
    time_penalty: float = ClusterSettings.time_penalty
    time_window_hours: float = ClusterSettings.time_window_hours
    close_after_hours: float = ClusterSettings.close_after_hours
    phrase_weight: float = ClusterSettings.phrase_weight
    signature_words: int = ClusterSettings.signature_words
    signature_relief: float = ClusterSettings.signature_relief
    quiet_paces: float = ClusterSettings.quiet_paces
    pace_prior: float = ClusterSettings.pace_prior
    quiet_signatures: int = ClusterSettings.quiet_signatures
    momentum: float = ClusterSettings.momentum
    cold_start_threshold: float = ClusterSettings.cold_start_threshold
    boilerplate_share: float = ClusterSettings.boilerplate_share

    def __post_init__(self) -> None:
        self.cluster_settings()  # its checks span several keys; a ValueError names the one at fault

    def cluster_settings(self) -> ClusterSettings:
        return ClusterSettings(**dataclasses.asdict(self))


@dataclass(frozen=True)
class ContradictionsSettings:
    """The contradiction detector's choice and thresholds (the rest of `ContradictionSettings` keeps its defaults)."""

    # "rules+judge": the rules propose candidate pairs and the learned judge scores them; "rules": the rules alone.
    detector: str = DETECTORS[0]
    # A contradiction the judge gives a lower probability than this is not recorded.
    min_score: float = DEFAULT_SETTINGS.min_score
    # With detector = "rules", the floor of the rules' own strengths.
    rules_min_score: float = DEFAULT_SETTINGS.rules_min_score
    # Recorded contradictions scoring at least this alert; weaker ones are shown as "possibly disputed".
    alert_min_score: float = DEFAULT_POLICY.min_score
    # With the judge, a rule's proposal must have at least this strength to be judged.
    propose_min: float = DEFAULT_SETTINGS.propose_min
    # A denial this strong names a claim by itself, so that a later report asserting it reverses it.
    explicit_denial: float = DEFAULT_SETTINGS.explicit_denial
    # Two figures for one quantity of one subject conflict when one is at least this many times the other.
    figure_ratio: float = DEFAULT_SETTINGS.figure_ratio
    # A restatement of a contradicted report carries the contradiction, at this share of its score.
    restated_factor: float = DEFAULT_SETTINGS.restated_factor
    # A denial validates a later reversal only when its own contradiction scored at least this.
    validated_min: float = DEFAULT_SETTINGS.validated_min
    # A question or a doubt contradicts at most with this score.
    tentative_max: float = DEFAULT_SETTINGS.tentative_max
    # A plain negation or denial of the verb event an earlier report asserted of the same subject scores at least this.
    negated_event_score: float = DEFAULT_SETTINGS.negated_event_score
    # Earlier reports scoring within this of the best tie, and the earliest (the claim's first report) is named.
    tie_margin: float = DEFAULT_SETTINGS.tie_margin

    def __post_init__(self) -> None:
        self.detector_settings()  # a ValueError names what is wrong

    def alert_policy(self) -> AlertPolicy:
        return AlertPolicy(min_score=self.alert_min_score)

    def detector_settings(self) -> ContradictionSettings:
        values = dataclasses.asdict(self)
        detector = values.pop("detector")
        values.pop("alert_min_score")
        return detector_settings(detector, ContradictionSettings(**values))


@dataclass(frozen=True)
class Settings:
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    polling: PollingSettings = field(default_factory=PollingSettings)
    feeds: FeedSettings = field(default_factory=FeedSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    stories: StoriesSettings = field(default_factory=StoriesSettings)
    contradictions: ContradictionsSettings = field(default_factory=ContradictionsSettings)


# Per-key checks beyond the type: (predicate, what the value must be).
_RULES: dict[str, tuple[Any, str]] = {
    # Every duration has a ceiling too (a week, 30 days, a year, ten years): beyond it a value is a mistake,
    # and 2^63 seconds overflowed at poll time.
    "polling.interval_seconds": (lambda v: 10 <= v <= 7 * 86400, "between 10 and 604800 seconds"),
    "polling.timeout_seconds": (lambda v: 0 < v <= 600, "between 0 and 600"),
    "polling.max_concurrency": (lambda v: 1 <= v <= 1000, "between 1 and 1000"),
    "polling.per_host_concurrency": (lambda v: 1 <= v <= 100, "between 1 and 100"),
    "polling.max_response_bytes": (lambda v: 1024 <= v <= 500_000_000, "between 1024 and 500000000"),
    "polling.max_redirects": (lambda v: 0 <= v <= 20, "between 0 and 20"),
    "polling.backoff_max_seconds": (lambda v: 60 <= v <= 30 * 86400, "between 60 and 2592000 seconds"),
    "stories.time_window_hours": (lambda v: 0 < v <= 24 * 365, "between 0 and 8760 hours"),
    "stories.close_after_hours": (lambda v: 0 < v <= 24 * 3650, "between 0 and 87600 hours"),
    "polling.late_margin_seconds": (lambda v: v >= 0, "0 or more"),
    "polling.tell_admins_after_failures": (lambda v: v >= 0, "0 or more"),
    "polling.parse_workers": (lambda v: 0 <= v <= 64, "between 0 and 64"),
    "polling.parse_timeout_seconds": (lambda v: 0 < v <= 600, "between 0 and 600"),
    "polling.user_agent": (lambda v: bool(v.strip()), "a non-empty string"),
    "storage.path": (lambda v: bool(v.strip()), "a non-empty path"),
    "telegram.send_timeout_seconds": (lambda v: 1 <= v <= 300, "between 1 and 300"),
    "telegram.base_url": (
        lambda v: v.startswith(("http://", "https://")) and not v.endswith("/"),
        "an http(s) URL without a trailing slash, such as https://api.telegram.org/bot",
    ),
    "feeds.urls": (
        lambda v: all(u.startswith(("http://", "https://")) for u in v),
        "a list of http:// or https:// URLs",
    ),
    "feeds.per_chat_limit": (lambda v: 0 <= v <= 10_000, "between 0 and 10000"),
    "digest.default_time": (lambda v: parse_hhmm(v) is not None, 'a time such as "08:00"'),
    "digest.default_timezone": (lambda v: _valid_zone(v), 'an IANA time zone such as "Europe/Berlin"'),
    "contradictions.detector": (lambda v: v in DETECTORS, "one of " + ", ".join(DETECTORS)),
    "contradictions.min_score": (lambda v: 0 <= v <= 1, "between 0 and 1"),
    "contradictions.rules_min_score": (lambda v: 0 <= v <= 1, "between 0 and 1"),
    "contradictions.alert_min_score": (lambda v: 0 <= v <= 1, "between 0 and 1"),
    "contradictions.propose_min": (lambda v: 0 <= v <= 1, "between 0 and 1"),
    "contradictions.explicit_denial": (lambda v: 0 <= v <= 1, "between 0 and 1"),
    "contradictions.figure_ratio": (lambda v: v > 1, "greater than 1"),
    "contradictions.restated_factor": (lambda v: 0 <= v <= 1, "between 0 and 1"),
    "contradictions.validated_min": (lambda v: 0 <= v <= 1, "between 0 and 1"),
    "contradictions.tentative_max": (lambda v: 0 <= v <= 1, "between 0 and 1"),
    "contradictions.negated_event_score": (lambda v: 0 <= v <= 1, "between 0 and 1"),
    "contradictions.tie_margin": (lambda v: 0 <= v <= 1, "between 0 and 1"),
}


def parse_hhmm(value: str) -> time | None:
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        return None


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _type_name(annotation: str) -> str:
    return {
        "int": "a whole number",
        "float": "a number",
        "str": "a string",
        "bool": "true or false",
        "tuple[int, ...]": "a list of whole numbers",
        "tuple[str, ...]": "a list of strings",
        "Secret": "a string",
    }[annotation]


def _coerce(key: str, annotation: str, value: Any) -> Any:
    """Check one TOML value against its field's type; return it in the settings' form."""
    wrong = ConfigError(f"config key {key} must be {_type_name(annotation)}, not {value!r}")
    if annotation == "bool":
        if not isinstance(value, bool):
            raise wrong
        return value
    if annotation == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong
        return value
    if annotation == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong
        return float(value)
    if annotation in ("str", "Secret"):
        if not isinstance(value, str):
            raise ConfigError(f"config key {key} must be a string")
        return Secret(value) if annotation == "Secret" else value
    if annotation.startswith("tuple["):
        element = int if annotation == "tuple[int, ...]" else str
        if not isinstance(value, list) or not all(
            isinstance(v, element) and not isinstance(v, bool) for v in value
        ):
            raise wrong
        return tuple(value)
    raise AssertionError(f"unhandled settings type {annotation}")


def _section(name: str, cls: type, raw: Any) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"config section [{name}] must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in raw.items():
        dotted = f"{name}.{key}"
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"unknown config key {dotted} (known keys in [{name}]: {known})")
        coerced = _coerce(dotted, str(fields[key].type), value)
        rule = _RULES.get(dotted)
        if rule and not rule[0](coerced):
            shown = "********" if isinstance(coerced, Secret) else repr(value)
            raise ConfigError(f"config key {dotted} must be {rule[1]}, not {shown}")
        values[key] = coerced
    try:
        return cls(**values)
    except ValueError as exc:  # checks that span keys, such as the clustering's
        raise ConfigError(f"config section [{name}]: {exc}") from None


def settings_from_dict(raw: dict[str, Any], environ: dict[str, str] | None = None) -> Settings:
    """Build settings from parsed TOML; the token from the environment wins over the file."""
    sections = {f.name: f for f in dataclasses.fields(Settings)}
    built = {}
    for name, value in raw.items():
        if name not in sections:
            known = ", ".join(f"[{s}]" for s in sections)
            raise ConfigError(f"unknown config section [{name}] (known sections: {known})")
        section_cls = {
            "telegram": TelegramSettings,
            "storage": StorageSettings,
            "polling": PollingSettings,
            "feeds": FeedSettings,
            "digest": DigestSettings,
            "stories": StoriesSettings,
            "contradictions": ContradictionsSettings,
        }[name]
        built[name] = _section(name, section_cls, value)
    settings = Settings(**built)
    env_token = (environ if environ is not None else os.environ).get(TOKEN_ENV, "").strip()
    if env_token:
        settings = dataclasses.replace(
            settings, telegram=dataclasses.replace(settings.telegram, token=Secret(env_token))
        )
    return settings


def load_settings(
    path: Path | None = None, *, db_path: str | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read settings from `path`, or ./config.toml when present, else use the defaults.

    `db_path` (the CLI's --db) overrides `storage.path`.
    """
    raw: dict[str, Any] = {}
    source = path if path is not None else (DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None)
    if source is not None:
        try:
            with open(source, "rb") as handle:
                raw = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"config file {source} does not exist") from None
        except PermissionError:
            raise ConfigError(f"config file {source} cannot be read (permission denied)") from None
        except IsADirectoryError:
            raise ConfigError(f"config file {source} is a directory") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file {source} is not UTF-8 text (at byte {exc.start:,})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {source} is not valid TOML: {exc}") from None
    settings = settings_from_dict(raw, environ)
    if db_path:
        settings = dataclasses.replace(settings, storage=StorageSettings(path=db_path))
    return settings
