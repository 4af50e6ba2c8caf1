"""Logging set-up, with secrets scrubbed from every record whatever library wrote it."""

from __future__ import annotations

import logging
import re

REDACTED = "[REDACTED]"
# The userinfo of a URL ("http://user:secret@host/"): credentials, shown nowhere. Each "//" is looked at once,
# and the user name and password end at the first "/", white space or "@", so the work is linear in the text.
_URL_USERINFO = re.compile(r"(?<![\w+.-])([A-Za-z][\w+.-]*://)[^/\s@<>\"']*@")
MASK = "***"


def mask_credentials(text: str) -> str:
    """`text` with the user name and password of every URL in it masked: "http://***@host/feed"."""
    return _URL_USERINFO.sub(rf"\1{MASK}@", text) if "@" in text else text


class SecretFilter(logging.Filter):
    """Replaces secret strings (the bot token) and URL credentials in log messages and their arguments.

    httpx logs every request URL at INFO, and the Bot API puts the token in the URL: without this filter
    the token would land in the log of every run.
    """

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def add(self, secret: str) -> None:
        if secret and secret not in self.secrets:
            self.secrets.append(secret)

    def _scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return mask_credentials(text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self._scrub(message), None
        if record.exc_text:
            record.exc_text = self._scrub(record.exc_text)
        return True


def configure_logging(verbosity: int = 0, secrets: list[str] | None = None) -> SecretFilter:
    """Log to stderr: warnings by default, `-v` info, `-vv` debug. Chatty libraries stay at warning
    unless debugging. Returns the filter, so that secrets known only later can be added to it."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    secret_filter = SecretFilter(secrets or [])
    handler.addFilter(secret_filter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "telegram"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    return secret_filter
