"""Five extraction domains: pull two fields out of a short text in a fixed answer format.

Each text holds the two wanted values among distractors of the same shape (other dollar
amounts, other percentages, other ids, an earlier figure that was revised), so the adapter
must learn which value the instruction means, not just copy the first number. Every answer
value occurs verbatim in the text, except the sign of a growth rate, which is read from a
verb such as "rose" or "fell". All randomness comes from the `rng` argument.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from string import Template

from loratune.tasks.base import DomainSpec


def _fill(template: str, values: dict[str, str]) -> str:
    return Template(template).substitute(values)


def _arrange(rng: random.Random, main: str, extras: Sequence[str], k: int) -> str:
    """The main sentence with `k` distinct distractor sentences, in a random order."""
    parts = [*rng.sample(list(extras), k), main]
    rng.shuffle(parts)
    return " ".join(parts)


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


COMPANIES = (
    "Northwind",
    "Bluepeak",
    "Solvay Tech",
    "Harbor Foods",
    "Quantix",
    "Veritas Labs",
    "Redwood Retail",
    "Orbital Freight",
    "Lumen Health",
    "Copperline",
    "Atlas Robotics",
    "Greenfield Energy",
)


# --- financial ----------------------------------------------------------------------------


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
    text = _cap(_fill(_arrange(rng, main, extras, len(extras)), v))
    return text, f"revenue: {rev}, growth: {'+' if up else '-'}{growth:g}%"


# --- real_estate --------------------------------------------------------------------------

ESTATE_MAIN = (
    "$style in $town: $bd bedrooms, $ba baths, $sqft sq ft. Asking $price.",
    "Just listed! $bd-bed, $ba-bath $style built in $year, $price.",
    "Price reduced from $old to $price. This $bd-bedroom $style sits on a $lot-acre lot.",
    "$town $style, $sqft sq ft on $lot acres with $bd beds and $ba baths. Offered at $price.",
    "Last sold in $sold for $sale, this $bd-bedroom $style is now listed at $price.",
    "Now $price (was $old)! Cozy $bd bedroom $style with $ba bathrooms.",
    "Listed at $price, the $ba-bath, $bd-bedroom $style near $park has taxes of $tax a year.",
    "$bd bed / $ba bath $style in $town. Estimated rent $rent/month. List price $price.",
    "Seller paid $sale in $sold; asking $price for $bd bedrooms and $ba bathrooms.",
    "$style with $bd bedrooms, $garage-car garage and $ba baths, priced at $price.",
)
ESTATE_EXTRAS = (
    "Built in $year.",
    "HOA $hoa/month.",
    "Open house Saturday at $hour pm.",
    "Schools rated $school/10.",
    "Roof replaced in $roof.",
    "$mins minutes to downtown.",
    "Lot size $lot acres.",
    "Annual taxes $tax.",
)


def _price(rng: random.Random) -> tuple[int, str]:
    value = rng.randint(24, 500) * 5000
    return value, f"${value:,}"


def _real_estate_sample(rng: random.Random) -> tuple[str, str]:
    """Current asking price and bedrooms; baths, year built, lot size, taxes, rent and an
    earlier or previous sale price are distractors."""
    price_value, price = _price(rng)
    old_value = price_value + rng.randint(1, 12) * 5000  # an earlier, higher asking price
    sale_value = max(50000, price_value - rng.randint(2, 40) * 5000)  # a previous sale
    bedrooms = rng.randint(1, 6)
    v = {
        "style": rng.choice(("Colonial", "Ranch", "Townhouse", "Bungalow", "Condo", "Cape Cod")),
        "town": rng.choice(("Maplewood", "Fairview", "Cedar Falls", "Oak Park", "Riverside")),
        "bd": str(bedrooms),
        "ba": str(rng.randint(1, 4)),
        "sqft": f"{rng.randint(60, 400) * 10:,}",
        "price": price,
        "old": f"${old_value:,}",
        "sale": f"${sale_value:,}",
        "year": str(rng.randint(1920, 2022)),
        "sold": str(rng.randint(1995, 2019)),
        "lot": f"0.{rng.randint(1, 9)}{rng.randint(0, 9)}",
        "park": rng.choice(("Lincoln Park", "the river", "Main Street", "the high school")),
        "tax": f"${rng.randint(18, 140) * 100:,}",
        "rent": f"${rng.randint(9, 60) * 100:,}",
        "garage": str(rng.randint(1, 3)),
        "hoa": f"${rng.randint(5, 60) * 10}",
        "hour": str(rng.randint(1, 4)),
        "school": str(rng.randint(5, 10)),
        "roof": str(rng.randint(2005, 2023)),
        "mins": str(rng.randint(5, 45)),
    }
    text = _fill(_arrange(rng, rng.choice(ESTATE_MAIN), ESTATE_EXTRAS, rng.randint(0, 2)), v)
    return _cap(text), f"price: {price}, bedrooms: {bedrooms}"


# --- marketing ----------------------------------------------------------------------------

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
    main = _fill(_arrange(rng, rng.choice(MARKETING_MAIN), MARKETING_EXTRAS, rng.randint(0, 2)), v)
    text = f"{campaign}: {main}" if campaign else _cap(main)
    return text, f"channel: {w}, ctr: {wr}%"


# --- hr -----------------------------------------------------------------------------------

ROLES = (
    "data engineer",
    "product manager",
    "ux designer",
    "backend developer",
    "frontend developer",
    "data analyst",
    "devops engineer",
    "qa engineer",
    "nurse practitioner",
    "business analyst",
    "financial analyst",
    "marketing manager",
    "sales representative",
    "mechanical engineer",
    "project manager",
    "machine learning engineer",
    "technical writer",
    "security analyst",
)
PEOPLE = (
    "Priya Nair",
    "Tom Becker",
    "Ana Souza",
    "Kenji Mori",
    "Fatima Khan",
    "Lucas Meyer",
    "Grace Obi",
    "Elena Petrova",
    "Omar Haddad",
    "Sofia Rossi",
    "Daniel Kim",
    "Chloe Martin",
)
HR_MAIN = (
    "$name is a $role with $y years of experience, previously a $prev.",
    "Current position: $role at $co. Experience: $y years. Former $prev.",
    "$name, a former $prev, now works as a $role; $y years in the industry.",
    "$y years of experience, the last $k as a $role at $co after starting as a $prev.",
    "Currently a $role ($y years total), $name spent $k of them as a $prev.",
    "After $k years at $co, $name is a $role with $y years of overall experience.",
    "$name has $y years of experience. Started as a $prev, currently a $role.",
    "No longer a $prev: $name moved into a $role job and has $y years of experience.",
    "Profile: $role at $co. Total experience $y years, including $k as a $prev.",
    "Seasoned $role ($y years of experience) who began as a $prev at $co.",
)
HR_EXTRAS = (
    "Led a team of $team.",
    "Graduated in $grad.",
    "Holds $certs certifications.",
    "Shipped $proj projects.",
    "Notice period: $weeks weeks.",
    "Expects $$$salary,000 a year.",
    "Speaks $langs languages.",
)


def _hr_sample(rng: random.Random) -> tuple[str, str]:
    """Current role and total years of experience; a former role, years at one employer
    or in an earlier role, team size and graduation year are distractors."""
    role, prev = rng.sample(ROLES, 2)
    years = rng.randint(3, 25)

    def styled(r: str) -> str:
        return r.title() if rng.random() < 0.3 else r

    v = {
        "name": rng.choice(PEOPLE),
        "role": styled(role),
        "prev": styled(prev),
        "y": str(years),
        "k": str(rng.randint(1, years - 1)),
        "co": rng.choice(COMPANIES),
        "team": str(rng.randint(2, 15)),
        "grad": str(rng.randint(1998, 2021)),
        "certs": str(rng.randint(2, 6)),
        "proj": str(rng.randint(4, 40)),
        "weeks": str(rng.randint(1, 12)),
        "salary": str(rng.randint(45, 190)),
        "langs": str(rng.randint(2, 4)),
    }
    text = _fill(_arrange(rng, rng.choice(HR_MAIN), HR_EXTRAS, rng.randint(0, 2)), v)
    return _cap(text), f"role: {role}, years: {years}"


# --- supply_chain -------------------------------------------------------------------------

# Distractor ids share the SKU's LETTERS-DIGITS shape, so the context decides.
SKU_LETTERS = "ABCDEFGHJKMNRSTXZ"
SUPPLY_MAIN = (
    "$po: please ship $qty units of SKU $sku to $wh by $date.",
    "Order update: quantity for $sku revised from $old to $qty units; invoice $inv to follow.",
    "Request for $qty x $sku ($desc) at $$$unit each, on $pallets pallets.",
    "Please change $po: SKU $sku, from $old to $qty units.",
    "Item $sku: $qty pcs ordered, lead time $lead days, minimum order $moq.",
    "Re $po - part no. $sku, qty $qty, deliver to dock $dock.",
    "We cancelled the $old-unit order for $sku2 and now need $qty units of $sku.",
    "$qty units of $sku ordered on $date; $stock in stock at $wh.",
    "Reorder alert for $sku: stock $stock below threshold $moq; ordered $qty.",
    "Not $sku2 but $sku: the $po line should read $qty units.",
    "The first draft said $old units of $sku; the signed $po says $qty.",
    "$sku2 is out of stock, so switch the $po line to $qty units of $sku.",
    "$wh holds $stock units of $sku; please order $qty more under $po.",
)
SUPPLY_EXTRAS = (
    "Tracking $trk.",
    "Ship from $wh.",
    "Invoice $inv attached.",
    "Lot $lot passed QA.",
    "Carrier: $carrier.",
    "Expected on $date.",
)


def _sku(rng: random.Random) -> str:
    letters = "".join(rng.choice(SKU_LETTERS) for _ in range(rng.choice((2, 3))))
    return f"{letters}-{rng.randint(1000, 9999)}"


def _quantity(rng: random.Random) -> str:
    return f"{rng.choice((rng.randint(10, 990), rng.randint(2, 80) * 50)):,}"


def _supply_chain_sample(rng: random.Random) -> tuple[str, str]:
    """SKU and final quantity; PO, warehouse, invoice and lot ids look like SKUs, and
    original, stock and minimum quantities look like the ordered one."""
    sku, sku2 = _sku(rng), _sku(rng)
    qty = _quantity(rng)
    old = _quantity(rng)
    while old == qty:
        old = _quantity(rng)
    v = {
        "sku": sku,
        "sku2": sku2,
        "qty": qty,
        "old": old,
        "po": f"PO-{rng.randint(10000, 99999)}",
        "wh": f"WH-{rng.randint(1, 40):02d}",
        "inv": f"INV-{rng.randint(1000, 99999)}",
        "lot": f"LOT-{rng.randint(100, 9999)}",
        "trk": f"TRK-{rng.randint(100000, 999999)}",
        "date": f"{rng.choice(('March', 'May', 'July', 'Sept', 'Nov'))} {rng.randint(1, 28)}",
        "desc": rng.choice(("steel bolts", "cable ties", "LED panels", "gaskets", "pallet wrap")),
        "unit": f"{rng.randint(5, 4000) / 100:.2f}",
        "pallets": str(rng.randint(1, 12)),
        "lead": str(rng.randint(3, 45)),
        "moq": str(rng.choice((50, 100, 200, 500))),
        "dock": str(rng.randint(1, 12)),
        "stock": str(rng.randint(0, 49)),
        "carrier": rng.choice(("DHL", "Maersk", "UPS", "FedEx", "DB Schenker")),
    }
    text = _fill(_arrange(rng, rng.choice(SUPPLY_MAIN), SUPPLY_EXTRAS, rng.randint(0, 2)), v)
    return _cap(text), f"sku: {sku}, quantity: {qty}"


# --- specs --------------------------------------------------------------------------------

EXTRACTION_DOMAINS: dict[str, DomainSpec] = {
    "financial": DomainSpec(
        "financial",
        "extraction",
        "Extract the revenue and its yearly growth as 'revenue: $X, growth: +Y%' "
        "(- for a decline).",
        _financial_sample,
        description="revenue and growth sign/rate among cost, margin and prior-year figures",
    ),
    "real_estate": DomainSpec(
        "real_estate",
        "extraction",
        "Extract the current asking price and bedrooms as 'price: $X, bedrooms: N'.",
        _real_estate_sample,
        description="asking price and bedrooms among baths, lot, taxes and earlier prices",
    ),
    "marketing": DomainSpec(
        "marketing",
        "extraction",
        "Give the channel with the highest click-through rate and that rate as "
        "'channel: X, ctr: Y%'.",
        _marketing_sample,
        description="best channel by CTR and its rate, sometimes only by comparing rates",
    ),
    "hr": DomainSpec(
        "hr",
        "extraction",
        "Extract the current role and total years of experience as 'role: X, years: N'.",
        _hr_sample,
        description="current role and total experience, past the former role and other years",
    ),
    "supply_chain": DomainSpec(
        "supply_chain",
        "extraction",
        "Extract the SKU and the final ordered quantity as 'sku: X, quantity: N'.",
        _supply_chain_sample,
        description="SKU and final quantity among look-alike ids and revised quantities",
    ),
}
