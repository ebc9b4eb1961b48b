"""The one error type of the configuration layer.

A `ConfigError` says where (file, key), what is wrong and how to fix it. It never carries a token:
messages are built from key names and fixed text, never from the values a user wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class ConfigError(Exception):
    """A configuration problem a user can fix. `str()` is the whole message for the screen."""

    def __init__(
        self,
        problem: str,
        *,
        fix: str | None = None,
        key: str | None = None,
        file: Path | str | None = None,
    ) -> None:
        self.problem = problem
        self.fix = fix
        self.key = key
        self.file = Path(file) if file is not None else None
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.key:
            where.append(self.key)
        text = self.problem.rstrip(".") + "."
        # Capitalize only when the message starts the line (no "file: key: " in front).
        text = ": ".join(where) + ": " + text if where else text[:1].upper() + text[1:]
        if self.fix:
            text += " " + self.fix.rstrip(".") + "."
        return text

    def __str__(self) -> str:
        return self._message()

    def __repr__(self) -> str:
        return f"ConfigError({self._message()!r})"

    def at(self, *, file: Path | str | None = None, prefix: str | None = None) -> ConfigError:
        """The same error placed in a file and under a key prefix (e.g. `profiles.lab`)."""
        key = self.key
        if prefix:
            key = f"{prefix}.{key}" if key else prefix
        return ConfigError(
            self.problem,
            fix=self.fix,
            key=key,
            file=file if file is not None else self.file,
        )


@dataclass(frozen=True)
class ConfigWarning:
    """Something that works but should be fixed (e.g. a token file other users can read)."""

    message: str
    path: Path | None = None
    fix: str | None = None

    def __str__(self) -> str:
        text = self.message.rstrip(".") + "."
        if self.fix:
            text += " " + self.fix.rstrip(".") + "."
        return text
