"""financial: revenue and growth sign/rate among cost, margin and prior-year figures."""

from __future__ import annotations

import random

from loratune.tasks.base import DomainSpec
from loratune.tasks.domains.helpers import COMPANIES, arrange, cap, fill
from loratune.tasks.registry import register


def _millions(rng: random.Random, low: float, high: float) -> tuple[float, str]:
    value = round(rng.uniform(low, high), 1)
    return value, f"${value:.1f}M"


FIN_MAIN_UP = (
    "$co reported $period revenue of $rev, up $g% from a year earlier.",
    "Revenue reached $rev in $period, a $g% increase year over year.",
    "$period sales rose $g% to $rev.",
    "Revenue grew from $prior to $rev ($g% growth) in $period.",
    "Net revenue came in at $rev versus $prior last year, up $g%.",
    "$period revenue of $rev was $g% higher than the prior year's $prior.",
    "$co's revenue climbed $g% to $rev in $period.",
    "Compared with $prior a year ago, revenue rose $g% to $rev.",
)
FIN_MAIN_DOWN = (
    "$co reported $period revenue of $rev, down $g% from a year earlier.",
    "Revenue reached $rev in $period, a $g% decrease year over year.",
    "$period sales fell $g% to $rev.",
    "Revenue shrank from $prior to $rev ($g% decline) in $period.",
    "Net revenue came in at $rev versus $prior last year, down $g%.",
    "$period revenue of $rev was $g% lower than the prior year's $prior.",
    "$co's revenue slipped $g% to $rev in $period.",
    "Compared with $prior a year ago, revenue dropped $g% to $rev.",
)
# Distractors that also say "revenue" or give a growth rate that is not year over year.
FIN_DECOYS = (
    "Management guided to $guide revenue next year, a further $gz% rise.",
    "Analysts had expected revenue of $guess.",
    "Sequentially, revenue $qdir $qz% from the previous quarter.",
    "Subscription revenue, one segment, was $seg.",
    "Revenue per customer $qdir $qz%.",
)
FIN_EXTRAS = (
    "Operating costs $cdir $c% to $cost.",
    "Headcount grew to $hc.",
    "Gross margin was $m%.",
    "Marketing spend was $spend.",
    "Cash on hand stood at $cash.",
    "The company opened $stores new stores.",
    "Customer count rose $p% to $cust.",
    "Net income was $ni.",
)


def _financial_sample(rng: random.Random) -> tuple[str, str]:
    """Revenue and its growth; other dollar figures and percentages (costs, margin,
    customers) and the prior-year revenue are distractors."""
    rev_value, rev = _millions(rng, 1.0, 95.0)
    growth = rng.choice((rng.randint(2, 40), round(rng.uniform(1.0, 30.0), 1)))
    up = rng.random() < 0.65
    prior_value = rev_value / (1 + growth / 100) if up else rev_value / (1 - growth / 100)
    v = {
        "co": rng.choice(COMPANIES),
        "period": rng.choice(("Q1", "Q2", "Q3", "Q4", "H1", "FY2023", "FY2024")),
        "rev": rev,
        "g": f"{growth:g}",
        "prior": f"${prior_value:.1f}M",
        "cdir": rng.choice(("rose", "fell")),
        "c": str(rng.randint(2, 30)),
        "cost": _millions(rng, 0.5, rev_value)[1],
        "hc": str(rng.randint(12, 900)),
        "m": str(rng.randint(18, 72)),
        "spend": _millions(rng, 0.1, 9.0)[1],
        "cash": _millions(rng, 0.5, 60.0)[1],
        "stores": str(rng.randint(2, 40)),
        "p": str(rng.randint(2, 45)),
        "cust": f"{rng.randint(1, 90) * 1000:,}",
        "ni": _millions(rng, 0.1, 9.0)[1],
        "guide": _millions(rng, rev_value * 1.02, rev_value * 1.5)[1],
        "gz": str(rng.randint(2, 35)),
        "guess": f"${rev_value * rng.choice((0.85, 0.9, 1.1, 1.15)):.1f}M",
        "qdir": rng.choice(("rose", "fell")),
        "qz": str(rng.randint(1, 12)),
        "seg": _millions(rng, rev_value * 0.2, rev_value * 0.7)[1],
    }
    main = rng.choice(FIN_MAIN_UP if up else FIN_MAIN_DOWN)
    n_decoys = rng.choice((0, 1, 1, 2))
    extras = rng.sample(FIN_DECOYS, n_decoys) + rng.sample(FIN_EXTRAS, rng.randint(1, 3 - n_decoys))
    text = cap(fill(arrange(rng, main, extras, len(extras)), v))
    return text, f"revenue: {rev}, growth: {'+' if up else '-'}{growth:g}%"


register(
    DomainSpec(
        "financial",
        "extraction",
        "Extract the revenue and its yearly growth as 'revenue: $X, growth: +Y%' "
        "(- for a decline).",
        _financial_sample,
        description="revenue and growth sign/rate among cost, margin and prior-year figures",
    )
)
