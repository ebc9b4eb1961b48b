"""A wrapper that keeps a token out of reprs, logs, tracebacks and pickles."""

from __future__ import annotations

from typing import NoReturn

MASK = "***"


class Secret:
    """An API token. `repr()`, `str()` and `format()` all give `***`; `reveal()` gives the token.

    Only the HTTP layer should call `reveal()`, at the moment it builds the auth header.
    """

    _value: str  # set once in __init__ (object.__setattr__: the class refuses attributes)

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret holds a str")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return MASK

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            import hmac  # only when two tokens are compared: not at every start-up

            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled or copied out of the process")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self
