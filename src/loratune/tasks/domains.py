"""The twelve built-in domains, in their fixed order.

Seven classification domains (`domains_classification`) and five extraction domains
(`domains_extraction`). Every generator is seeded only by the `rng` it is given, uses the
standard library only, and keeps its input texts to about 15-45 words, because every prompt
token is paid for in every training step.
"""

from __future__ import annotations

from loratune.tasks.base import DomainSpec
from loratune.tasks.domains_classification import CLASSIFICATION_DOMAINS
from loratune.tasks.domains_extraction import EXTRACTION_DOMAINS

ORDER = (
    "financial",
    "legal",
    "medical",
    "ecommerce",
    "real_estate",
    "customer_support",
    "marketing",
    "code_review",
    "hr",
    "supply_chain",
    "insurance",
    "education",
)

_ALL = {**CLASSIFICATION_DOMAINS, **EXTRACTION_DOMAINS}
DOMAINS: dict[str, DomainSpec] = {name: _ALL[name] for name in ORDER}

__all__ = ["DOMAINS", "ORDER"]
