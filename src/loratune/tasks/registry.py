"""The domain registry: every domain, built-in or a user's, is one `register(DomainSpec(...))`.

Registration order is listing order: the built-in modules are imported in their fixed order
(`loratune.tasks.domains`), and a domain registered later comes after them. A name is taken
once; registering it again is an error rather than a silent replacement, so two modules can
never disagree about what a domain's data is.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from loratune.tasks.base import DomainSpec

_REGISTRY: dict[str, DomainSpec] = {}

# A read-only live view: whoever holds it sees domains registered after it was taken.
REGISTRY: Mapping[str, DomainSpec] = MappingProxyType(_REGISTRY)


def register(spec: DomainSpec) -> DomainSpec:
    """Add `spec` under its name; returns it, so a module can keep it as a constant."""
    if not isinstance(spec, DomainSpec):
        raise TypeError(f"register() takes a DomainSpec, not {type(spec).__name__}")
    if spec.name in _REGISTRY:
        raise ValueError(f"domain {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> DomainSpec:
    """Remove a domain (for tests that register one of their own); returns its spec."""
    try:
        return _REGISTRY.pop(name)
    except KeyError:
        raise KeyError(f"domain {name!r} is not registered") from None


__all__ = ["REGISTRY", "register", "unregister"]
