"""Package attributes imported on first use (PEP 562), so that `sbexport --help`, `--version`
and `jobs list` load no HTTP client, models or Textual. Standard library only.

    _LAZY = {"Journal": ".journal", ...}
    __getattr__ = lazy_attributes(__name__, _LAZY, globals())
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    package: str, table: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``name`` from ``table[name]`` (a module relative
    to ``package``) on first use, and keeps it in the package's ``namespace``."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    return __getattr__
