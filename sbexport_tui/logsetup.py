"""`--debug`: a log file under the state directory, with every secret redacted.

Tokens are registered with `register_secret` as soon as they are resolved; the filter replaces
them (and any X-SBG-Auth-Token header value) in every record before it is written.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

_SECRETS: set[str] = set()
_HEADER_RE = re.compile(r"(?i)(x-sbg-auth-token['\"]?\s*[:=]\s*['\"]?)([^'\"\s,}]+)")
REDACTED = "<redacted>"
# the package logs as sbexport.api / sbexport.export; sbexport_tui for anything by module name
LOGGERS = ("sbexport", "sbexport_tui", "httpx", "httpcore")


def register_secret(value: str) -> None:
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str) -> str:
    for s in _SECRETS:
        if s in text:
            text = text.replace(s, REDACTED)
    return _HEADER_RE.sub(lambda m: m.group(1) + REDACTED, text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class QuietFileHandler(logging.FileHandler):
    """A debug log that, when its disk fails (full, gone, read-only), says so once on stderr
    and stops, instead of a "Logging error" traceback for every record."""

    def handleError(self, record: logging.LogRecord) -> None:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(self)
        exc = sys.exc_info()[1]
        reason = getattr(exc, "strerror", None) or str(exc)
        sys.stderr.write(
            f"sbexport: the debug log stopped: cannot write {self.baseFilename}: {reason}\n"
        )


def enable_debug_log(log_dir: Path) -> Path:
    """Send DEBUG logs of sbexport and httpx to log_dir/sbexport.log (0600).

    Raises ``OSError`` when the log cannot be made; the caller says so and goes on without."""
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = log_dir / "sbexport.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    handler = QuietFileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    return path
