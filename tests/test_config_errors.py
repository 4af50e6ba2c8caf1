"""Configuration mistakes as a user makes them, met by `storywatch run` in a real process: each ends with
exit code 2 and one plain sentence on stderr, and the bot token never shows, not even in a debug log."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakebotapi import FakeBotAPI

REPO = Path(__file__).resolve().parents[1]
GOOD_TOKEN = "4242:AAH-good-secret-token_XYZ"
BAD_TOKEN = "4242:AAH-refused-secret-token_QRS"


def storywatch(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **(env or {})},
    )


def one_sentence(stderr: str) -> str:
    """The error, checked to be one line, "Error: " and a sentence."""
    assert stderr.count("\n") == 1 and stderr.endswith(".\n"), stderr
    assert stderr.startswith("Error: "), stderr
    return stderr.removeprefix("Error: ").rstrip("\n")


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    server = FakeBotAPI(token=GOOD_TOKEN).start()
    yield server
    server.stop()


def telegram_config(tmp_path: Path, api: FakeBotAPI, token: str | None) -> Path:
    line = f'token = "{token}"\n' if token is not None else ""
    return config(tmp_path, f'[telegram]\n{line}base_url = "{api.base_url}"\n[storage]\npath = "bot.db"\n')


def secret_forms(token: str) -> list[str]:
    """The token as it could appear: raw, its secret half, and percent-encoded as in a logged URL."""
    secret = token.partition(":")[2]
    return [token, secret, urllib.parse.quote(token), urllib.parse.quote(token, safe=""), urllib.parse.quote(secret)]


def test_run_without_a_token_points_to_demo(tmp_path: Path) -> None:
    path = config(tmp_path, '[storage]\npath = "bot.db"\n')
    result = storywatch("--config", str(path), "run", cwd=tmp_path)
    assert result.returncode == 2
    message = one_sentence(result.stderr)
    assert "token" in message and "storywatch demo" in message
    assert result.stdout == ""


@pytest.mark.parametrize("verbosity", [[], ["-vv"]], ids=["quiet", "debug"])
@pytest.mark.parametrize("source", ["config", "environment"])
def test_a_refused_token_is_named_but_never_shown(
    tmp_path: Path, api: FakeBotAPI, verbosity: list[str], source: str
) -> None:
    path = telegram_config(tmp_path, api, BAD_TOKEN if source == "config" else None)
    env = {"STORYWATCH_TELEGRAM_TOKEN": BAD_TOKEN} if source == "environment" else {}
    result = storywatch("--config", str(path), *verbosity, "run", cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stderr
    last = result.stderr.splitlines()[-1] + "\n"
    assert "refused the bot token" in one_sentence(last)
    if not verbosity:
        assert result.stderr == last
    else:
        assert "[REDACTED]/getMe" in result.stderr  # the request was logged, its URL scrubbed
    for form in secret_forms(BAD_TOKEN):
        assert form not in result.stderr + result.stdout
    assert [(r.method, r.status) for r in api.errors] == [("getMe", 401)]


@pytest.mark.parametrize("token", ["4242:AAH secret with spaces", "4242:AAH-sécret-ünicode"])
def test_a_mistyped_token_is_not_shown_percent_encoded_either(tmp_path: Path, api: FakeBotAPI, token: str) -> None:
    # httpx logs the request URL with the token percent-encoded: the raw form alone is not enough to scrub.
    path = telegram_config(tmp_path, api, token)
    result = storywatch("--config", str(path), "-vv", "run", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "HTTP Request: POST" in result.stderr
    for form in secret_forms(token):
        assert form not in result.stderr, form


def test_the_token_stays_out_of_a_debug_log_of_a_running_bot(tmp_path: Path, api: FakeBotAPI) -> None:
    path = telegram_config(tmp_path, api, GOOD_TOKEN)
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(path), "-vv", "run"], cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL, stderr=stderr,
        )
    try:
        api.wait_for_request("getUpdates", timeout=20)
        api.send_message(777, "/start")
        api.wait_for_messages(777, 1, timeout=20)  # a command answered: more requests, more log lines
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the bot logged:\n{log.read_text()[-3000:]}") from None
    finally:
        bot.send_signal(signal.SIGTERM)
        code = bot.wait(timeout=20)
    logged = log.read_text()
    assert code == 0, logged
    assert "/bot[REDACTED]/sendMessage" in logged
    for form in secret_forms(GOOD_TOKEN):
        assert form not in logged


def test_an_unreachable_telegram_is_a_runtime_failure_in_one_sentence(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = config(tmp_path, f'[telegram]\ntoken = "{GOOD_TOKEN}"\nbase_url = "http://127.0.0.1:{port}/bot"\n'
                            '[storage]\npath = "bot.db"\n')
    result = storywatch("--config", str(path), "run", cwd=tmp_path)
    assert result.returncode == 1
    assert f"could not reach Telegram at http://127.0.0.1:{port}/bot" in one_sentence(result.stderr)
    assert GOOD_TOKEN.partition(":")[2] not in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[telegram]\ntoken = "1:x"\nbase_url = "https://api.telegram.org/bot"\n[polling\n', "is not valid TOML"),
        ('[telegram]\ntokn = "1:x"\n', "unknown config key telegram.tokn (known keys in [telegram]: admins, base_url"),
        ('[telegarm]\ntoken = "1:x"\n', "unknown config section [telegarm]"),
        ("[polling]\ninterval_seconds = 5\n",
         "config key polling.interval_seconds must be between 10 and 604800 seconds, not 5"),
        ('[telegram]\nbase_url = "https://api.telegram.org/bot/"\n', "config key telegram.base_url must be"),
    ],
    ids=["invalid-toml", "unknown-key", "unknown-section", "bad-value", "trailing-slash"],
)
def test_config_mistakes_exit_2_with_one_sentence(tmp_path: Path, text: str, expected: str) -> None:
    path = config(tmp_path, text)
    result = storywatch("--config", str(path), "run", cwd=tmp_path)
    assert result.returncode == 2
    assert expected in one_sentence(result.stderr)
    assert not (tmp_path / "bot.db").exists() and not (tmp_path / "storywatch.db").exists()


def test_a_token_of_the_wrong_type_is_rejected_without_echoing_it(tmp_path: Path) -> None:
    path = config(tmp_path, "[telegram]\ntoken = 424242\n")
    result = storywatch("--config", str(path), "run", cwd=tmp_path)
    assert result.returncode == 2
    assert one_sentence(result.stderr) == "config key telegram.token must be a string."
    assert "424242" not in result.stderr


def test_a_missing_config_file(tmp_path: Path) -> None:
    result = storywatch("--config", str(tmp_path / "nope.toml"), "run", cwd=tmp_path)
    assert result.returncode == 2
    assert one_sentence(result.stderr) == f"config file {tmp_path / 'nope.toml'} does not exist."


def test_a_config_path_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    result = storywatch("--config", str(tmp_path / "conf.d"), "run", cwd=tmp_path)
    assert result.returncode == 2
    assert one_sentence(result.stderr) == f"config file {tmp_path / 'conf.d'} is a directory."


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads a file whatever its permissions; the directory case covers unreadable")
def test_an_unreadable_config_file(tmp_path: Path) -> None:
    path = config(tmp_path, '[telegram]\ntoken = "1:x"\n')
    path.chmod(0)
    try:
        result = storywatch("--config", str(path), "run", cwd=tmp_path)
    finally:
        path.chmod(0o600)
    assert result.returncode == 2
    assert one_sentence(result.stderr) == f"config file {path} cannot be read (permission denied)."


def test_a_config_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes('[digest]\ndefault_timezone = "Europe/Zürich"\n'.encode("latin-1"))
    result = storywatch("--config", str(path), "run", cwd=tmp_path)
    assert result.returncode == 2
    assert one_sentence(result.stderr) == f"config file {path} is not UTF-8 text (at byte 37)."
