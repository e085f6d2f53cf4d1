"""The twelve built-in domains, one module each; importing this package registers them.

Seven classification domains: a short text and one label from a fixed set. Each draws its
label uniformly, then one of 8-12 phrasings of that label, fills in varied entities and
usually adds a distractor that names another label's keyword in passing (under a negation or
as a cross-reference), so no single word decides the answer.

Five extraction domains: two fields out of a short text in a fixed answer format. The text
holds the wanted values among distractors of the same shape (other amounts, percentages, ids,
an earlier figure that was revised), so an adapter must learn which value the instruction
means. Every answer value occurs verbatim in the text, except a growth rate's sign, which is
read from a verb such as "rose" or "fell".

Every generator is seeded only by the `rng` it is given, uses the standard library only, and
keeps its input texts to about 15-45 words, because every prompt token is paid for in every
training step. A new domain is one more module calling `register` (docs/extending.md).
"""

from __future__ import annotations

import importlib
import pkgutil

from loratune.tasks.registry import REGISTRY

# The twelve original domains register in this order, the order they are listed in
# everywhere (the CLI, reports, benchmark tables) and the one recorded grids were made in.
# Any other module of this package registers after them, in name order, so a new built-in
# domain is one new file here. A tuple rather than import statements, which an import sorter
# would reorder.
BUILTIN = (
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
NOT_DOMAINS = frozenset({"helpers"})
_found = {m.name for m in pkgutil.iter_modules(__path__)} - NOT_DOMAINS
for _module in (*BUILTIN, *sorted(_found - set(BUILTIN))):
    importlib.import_module(f"{__name__}.{_module}")

# Kept for callers that read the domains as a mapping; it is the live registry, so a domain
# registered later appears here too.
DOMAINS = REGISTRY

__all__ = ["BUILTIN", "DOMAINS"]
