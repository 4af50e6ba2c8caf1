from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from bot.config import TOKEN_ENV, ConfigError, Secret, Settings, load_settings, settings_from_dict
from bot.logs import REDACTED, SecretFilter

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.polling.interval_seconds == 600
    assert settings.feeds.allow_private_addresses is False
    assert not settings.telegram.token


def test_the_example_config_is_valid_and_documents_every_key() -> None:
    settings = load_settings(EXAMPLE, environ={})
    text = EXAMPLE.read_text()
    import dataclasses

    for section in dataclasses.fields(settings):
        assert f"[{section.name}]" in text
        for key in dataclasses.fields(getattr(settings, section.name)):
            assert f"{key.name} =" in text, f"config.example.toml does not document {section.name}.{key.name}"


def test_values_are_read(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[polling]\ninterval_seconds = 120\ntimeout_seconds = 5\n[feeds]\nurls = ["https://a.example/rss"]\n'
        "[telegram]\nadmins = [1, 2]\n"
    )
    settings = load_settings(path, environ={})
    assert settings.polling.interval_seconds == 120
    assert settings.polling.timeout_seconds == 5.0
    assert settings.feeds.urls == ("https://a.example/rss",)
    assert settings.telegram.admins == (1, 2)


def test_db_option_overrides_storage_path(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[storage]\npath = "a.db"\n')
    assert load_settings(path, db_path="b.db", environ={}).storage.path == "b.db"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[polling]\nintervall_seconds = 5\n", "unknown config key polling.intervall_seconds"),
        ("[pollin]\n", "unknown config section [pollin]"),
        ("[polling]\ninterval_seconds = 'often'\n", "config key polling.interval_seconds must be a whole number"),
        ("[polling]\ninterval_seconds = 1\n",
         "config key polling.interval_seconds must be between 10 and 604800 seconds"),
        ("[polling]\ninterval_seconds = true\n", "config key polling.interval_seconds must be a whole number"),
        (
            "[feeds]\nallow_private_addresses = 'yes'\n",
            "config key feeds.allow_private_addresses must be true or false",
        ),
        ("[feeds]\nurls = ['ftp://x']\n", "config key feeds.urls must be a list of http:// or https:// URLs"),
        ("[telegram]\nbase_url = 'https://api.telegram.org/bot/'\n", "config key telegram.base_url must be"),
        ("[telegram]\nadmins = ['alice']\n", "config key telegram.admins must be a list of whole numbers"),
        ("[digest]\ndefault_timezone = 'Mars/Olympus'\n", "config key digest.default_timezone must be an IANA"),
        ("[digest]\ndefault_time = '25:00'\n", "config key digest.default_time must be a time"),
        ("polling = 3\n", "config section [polling] must be a table"),
        ("[stories]\njoin_threshold = 2.0\n", "config section [stories]: join_threshold must be in (0, 1]"),
        ("[stories]\nclose_after_hours = 'soon'\n", "config key stories.close_after_hours must be a number"),
        ("[contradictions]\nalert_min_score = 1.5\n",
         "config key contradictions.alert_min_score must be between 0 and 1"),
        ("[polling\n", "is not valid TOML"),
        ("[contradictions]\ndetector = 'oracle'\n", "config key contradictions.detector must be one of rules"),
        ("[contradictions]\nmin_score = 1.5\n", "config key contradictions.min_score must be between 0 and 1"),
        ("[contradictions]\nfigure_ratio = 1\n", "config key contradictions.figure_ratio must be greater than 1"),
    ],
)
def test_bad_config_is_rejected_naming_the_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_settings(path, environ={})


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_token_from_environment_wins_and_never_shows() -> None:
    settings = settings_from_dict({"telegram": {"token": "111:file"}}, environ={TOKEN_ENV: "222:env-secret"})
    assert settings.telegram.token.reveal() == "222:env-secret"
    for shown in (repr(settings), str(settings), repr(settings.telegram), f"{settings.telegram.token}"):
        assert "env-secret" not in shown


def test_a_bad_token_value_is_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[telegram]\ntoken = 12345\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert "12345" not in str(caught.value)


def test_secret_filter_scrubs_messages_arguments_and_tracebacks() -> None:
    record_filter = SecretFilter(["123:SECRET"])
    try:
        raise RuntimeError("POST https://api.telegram.org/bot123:SECRET/getMe failed")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, "f", 1, "url %s", ("https://x/bot123:SECRET/send",), sys.exc_info()
        )
    record_filter.filter(record)
    assert "SECRET" not in record.getMessage()
    assert REDACTED in record.getMessage()
    assert "SECRET" not in record.exc_text


def test_secret_compares_by_value() -> None:
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")
    assert not Secret("")


def test_contradiction_settings_reach_the_detector(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[contradictions]\ndetector = 'rules'\nrules_min_score = 0.6\nfigure_ratio = 2.0\n")
    detector = load_settings(path, environ={}).contradictions.detector_settings()
    assert (detector.judge, detector.rules_min_score, detector.figure_ratio) == (False, 0.6, 2.0)
    assert load_settings(None, environ={}).contradictions.detector_settings().judge


def test_story_settings_reach_the_clusterer(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[stories]\nclose_after_hours = 48\njoin_threshold = 0.1\n")
    cluster = load_settings(path, environ={}).stories.cluster_settings()
    assert (cluster.close_after_hours, cluster.join_threshold) == (48.0, 0.1)


@pytest.mark.parametrize(
    ("section", "key", "value", "must_be"),
    [
        ("polling", "interval_seconds", "9223372036854775807", "between 10 and 604800 seconds"),
        ("polling", "backoff_max_seconds", "9223372036854775807", "between 60 and 2592000 seconds"),
        ("polling", "timeout_seconds", "1e300", "between 0 and 600"),
        ("polling", "parse_timeout_seconds", "inf", "between 0 and 600"),
        ("telegram", "send_timeout_seconds", "1e9", "between 1 and 300"),
        ("stories", "time_window_hours", "inf", "between 0 and 8760 hours"),
        ("stories", "close_after_hours", "1e20", "between 0 and 87600 hours"),
        ("stories", "close_after_hours", "nan", "between 0 and 87600 hours"),
    ],
)
def test_every_duration_has_a_ceiling(tmp_path: Path, section: str, key: str, value: str, must_be: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[{section}]\n{key} = {value}\n")
    with pytest.raises(ConfigError, match=rf"^config key {section}\.{key} must be {re.escape(must_be)}, not "):
        load_settings(path)
