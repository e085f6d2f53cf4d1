"""One small registry class for everything loratune lets a module add by name: domains,
base models, metrics and strategies.

A name is taken once: registering it again is an error rather than a silent replacement, so
two modules can never disagree about what a name means. Registration order is listing order.
The registry is itself a read-only mapping (a live view: whoever holds it sees names
registered later); only `add` and `remove` change it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TypeVar

from loratune.errors import LoratuneError

T = TypeVar("T")


class Registry(Mapping[str, T]):
    """Named entries of one `kind` ("domain", "model", "metric", "strategy"); with `entry_type`,
    an entry of another type is refused (a typo'd registration fails where it is made)."""

    def __init__(self, kind: str, entry_type: type | None = None) -> None:
        self.kind = kind
        self.entry_type = entry_type
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        """Register `item` under `name`; returns it, so a module can keep it as a constant."""
        if self.entry_type is not None and not isinstance(item, self.entry_type):
            raise TypeError(
                f"a {self.kind} is a {self.entry_type.__name__}, not {type(item).__name__}"
            )
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def remove(self, name: str) -> T:
        """Take `name` out (for tests that register one of their own); returns its entry."""
        try:
            return self._items.pop(name)
        except KeyError:
            raise KeyError(f"{self.kind} {name!r} is not registered") from None

    def lookup(self, name: str) -> T:
        """The entry of `name`, or a one-line error listing the registered names."""
        if name not in self._items:
            raise LoratuneError(f"unknown {self.kind} {name!r}: use one of {', '.join(self)}")
        return self._items[name]

    def __getitem__(self, name: str) -> T:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


__all__ = ["Registry"]
