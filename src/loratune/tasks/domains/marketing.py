"""marketing: best channel by CTR and its rate, sometimes only by comparing rates."""

from __future__ import annotations

import random

from loratune.tasks.base import DomainSpec
from loratune.tasks.domains.helpers import cap, passage
from loratune.tasks.registry import register

CHANNELS = ("email", "search", "social", "display", "video", "sms", "affiliate", "podcast")
MARKETING_MAIN = (
    "$w led with a $wr% CTR, ahead of $o1 at $r1% and $o2 at $r2%.",
    "$o1 drew $imp impressions at $r1% CTR, while $w reached $wr%, the campaign's best.",
    "CTR by channel: $ranked.",
    "$w outperformed $o1 ($r1%) with a $wr% click-through rate.",
    "Although $o1 had the biggest budget, its CTR was only $r1%; $w hit $wr%.",
    "$o1 ($r1%) and $o2 ($r2%) trailed $w, which posted a $wr% CTR.",
    "Top channel was $w at $wr% CTR; $o1 managed $r1%.",
    "The $w push beat $o1 on clicks, $wr% to $r1%.",
    "Click-through rates this month were $pair.",
    "$w was the standout channel with a $wr% click-through rate; $o1 reached $r1%.",
    "Best CTR: $w ($wr%). Runner-up: $o1 ($r1%).",
    "$w's $wr% CTR beat both $o1 ($r1%) and $o2 ($r2%).",
)
MARKETING_EXTRAS = (
    "Budget was $$$spend.",
    "Email open rate was $open%.",
    "Total impressions: $imp.",
    "Conversion rate was $conv%.",
    "The campaign ran for $weeks weeks.",
    "Cost per click averaged $$$cpc.",
)


def _marketing_sample(rng: random.Random) -> tuple[str, str]:
    """The channel with the highest CTR and that CTR: sometimes stated as the leader,
    sometimes only listed, so the rates must be compared; open and conversion rates are
    distractor percentages."""
    w, o1, o2 = rng.sample(CHANNELS, 3)
    rates = sorted(rng.sample(range(3, 99), 3), reverse=True)  # tenths of a percent, distinct
    wr, r1, r2 = (f"{r / 10:.1f}" for r in rates)
    if rng.random() < 0.5:
        r1, r2 = r2, r1
    listed = [(w, wr), (o1, r1), (o2, r2)]
    rng.shuffle(listed)
    pair = listed[:2] if (w, wr) in listed[:2] else [listed[0], (w, wr)]
    rng.shuffle(pair)
    v = {
        "w": w,
        "o1": o1,
        "o2": o2,
        "wr": wr,
        "r1": r1,
        "r2": r2,
        "ranked": ", ".join(f"{c} {r}%" for c, r in listed),
        "pair": " and ".join(f"{c} {r}%" for c, r in pair),
        "imp": f"{rng.randint(5, 900) * 100:,}",
        "spend": f"{rng.randint(2, 80) * 100:,}",
        "open": str(rng.randint(12, 45)),
        "conv": f"{rng.randint(2, 60) / 10:.1f}",
        "weeks": str(rng.randint(2, 8)),
        "cpc": f"{rng.randint(20, 250) / 100:.2f}",
    }
    campaign = rng.choice(("Spring sale", "Launch week", "Q3 push", "Holiday campaign", ""))
    main = passage(rng, MARKETING_MAIN, MARKETING_EXTRAS, v)
    text = f"{campaign}: {main}" if campaign else cap(main)
    return text, f"channel: {w}, ctr: {wr}%"


register(
    DomainSpec(
        "marketing",
        "extraction",
        "Give the channel with the highest click-through rate and that rate as "
        "'channel: X, ctr: Y%'.",
        _marketing_sample,
        description="best channel by CTR and its rate, sometimes only by comparing rates",
    )
)
