"""real_estate: asking price and bedrooms among baths, lot, taxes and earlier prices."""

from __future__ import annotations

import random

from loratune.tasks.base import DomainSpec
from loratune.tasks.domains.helpers import cap, passage
from loratune.tasks.registry import register

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
    text = passage(rng, ESTATE_MAIN, ESTATE_EXTRAS, v)
    return cap(text), f"price: {price}, bedrooms: {bedrooms}"


register(
    DomainSpec(
        "real_estate",
        "extraction",
        "Extract the current asking price and bedrooms as 'price: $X, bedrooms: N'.",
        _real_estate_sample,
        description="asking price and bedrooms among baths, lot, taxes and earlier prices",
    )
)
