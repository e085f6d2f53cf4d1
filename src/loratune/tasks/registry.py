"""The domain registry: every domain, built-in or a user's, is one `register(DomainSpec(...))`.

Registration order is listing order: the built-in modules are imported in their fixed order
(`loratune.tasks.domains`), and a domain registered later comes after them. A name is taken
once; registering it again is an error rather than a silent replacement, so two modules can
never disagree about what a domain's data is.
"""

from __future__ import annotations

from loratune.registry import Registry
from loratune.tasks.base import DomainSpec

# A read-only live mapping: whoever holds it sees domains registered after it was taken.
REGISTRY: Registry[DomainSpec] = Registry("domain", DomainSpec)


def register(spec: DomainSpec) -> DomainSpec:
    """Add `spec` under its name; returns it, so a module can keep it as a constant."""
    return REGISTRY.add(spec.name, spec)


def unregister(name: str) -> DomainSpec:
    """Remove a domain (for tests that register one of their own); returns its spec."""
    return REGISTRY.remove(name)


__all__ = ["REGISTRY", "register", "unregister"]
