"""insurance: claim type, with negated mentions of other claim types."""

from __future__ import annotations

import random

from loratune.tasks.base import DomainSpec
from loratune.tasks.domains.helpers import fill, instruction, join, other_label
from loratune.tasks.registry import register

INSURANCE_LABELS = ("collision", "theft", "water_damage", "fire", "storm", "injury")
INSURANCE_CUES: dict[str, tuple[str, ...]] = {
    "collision": (
        "The insured rear-ended another $vehicle at a red light on $street.",
        "A delivery van reversed into the insured's parked $vehicle.",
        "The insured's $vehicle slid into a guardrail on the $road.",
        "Two vehicles collided at the $street roundabout.",
        "The bumper and a headlight were smashed when the insured's $vehicle hit a deer.",
        "A passing truck clipped the mirror and door of the insured's $vehicle.",
        "The insured's $vehicle struck a concrete pole while parking in $city.",
        "A scooter ran into the insured's $vehicle at a junction in $city.",
        "The $vehicle was crushed at the front in a fog pile-up on the $road.",
        "A learner driver hit the insured's $vehicle in a car park on $street.",
    ),
    "theft": (
        "Burglars took $goods in a break-in at $street.",
        "The insured's $vehicle was stolen from the driveway overnight.",
        "A bicycle was stolen from the locked garage at $street.",
        "The catalytic converter was cut off the insured's $vehicle.",
        "Burglars forced the back door and took $goods.",
        "$Goods went missing from a hotel room in $city.",
        "Tools were stolen from the work van parked on $street.",
        "Parcels worth $$$loss were taken from the porch.",
        "The $vehicle window was smashed and $goods taken from the back seat.",
        "Someone drove off with the insured's trailer in $city.",
    ),
    "water_damage": (
        "A burst pipe flooded the $room at $street.",
        "The washing machine hose split and soaked the $room floor.",
        "The water heater leaked through the ceiling of the flat below.",
        "A leaking dishwasher warped the oak floor in the $room.",
        "The upstairs bathtub overflowed into the insured's $room.",
        "A cracked pipe under the sink rotted the $room cabinets.",
        "A sewer backup filled the $room with water.",
        "A faulty sprinkler head sprayed water across the office on $street.",
        "The fridge water line leaked behind the $room units for weeks.",
        "A radiator valve failed and water soaked the $room carpet.",
    ),
    "fire": (
        "A grease fire on the stove burnt the kitchen cabinets at $street.",
        "An electrical fault started a blaze in the $room.",
        "Smoke from a neighbour's house fire damaged every room.",
        "A candle set the $room curtains alight.",
        "The engine of the insured's $vehicle caught fire on the $road.",
        "Lint in the dryer ignited and scorched the $room.",
        "Flames from the barbecue spread to the wooden deck.",
        "An overheated space heater burnt the $room carpet.",
        "Firefighters' hoses soaked the ground floor after a blaze in the $room.",
        "A phone charger overheated and set the $room sofa on fire.",
    ),
    "storm": (
        "Hail dented the roof and the bonnet of the insured's $vehicle.",
        "High winds tore shingles off the roof at $street.",
        "A tree fell on the garage during last night's gale in $city.",
        "A lightning surge destroyed the TV and router in the $room.",
        "A tornado flattened the barn and fences outside $city.",
        "Heavy snow collapsed the carport roof onto the $vehicle.",
        "Hurricane winds shattered the $room windows.",
        "An ice storm brought a power line down onto the shed.",
        "The storm blew the trampoline through the neighbour's fence.",
        "Gale-force gusts ripped the solar panels off the roof at $street.",
    ),
    "injury": (
        "A visitor slipped on the icy steps at $street and broke a wrist.",
        "A customer fell in the insured's shop in $city and needed stitches.",
        "The insured's dog bit a delivery driver on $street.",
        "A dinner guest was burnt by a hot pan in the $room.",
        "A worker fell from a ladder while clearing the gutters.",
        "A child was hurt on the trampoline in the insured's garden.",
        "A tenant tripped on a loose stair rail and sprained an ankle.",
        "A guest cut their hand badly on a broken glass table in the $room.",
        "A jogger tripped on the cracked path outside the property in $city.",
        "A cleaner slipped on the wet $room floor and hurt her back.",
    ),
}
INSURANCE_NEGATIONS = {
    "collision": "No other vehicle was involved.",
    "theft": "Nothing was stolen.",
    "water_damage": "There was no water damage.",
    "fire": "No fire was involved.",
    "storm": "The weather was calm.",
    "injury": "No one was hurt.",
}
INSURANCE_EXTRAS = (
    "Estimated loss $$$loss.",
    "Reported $days days after the incident.",
    "Police report filed.",
    "Policy $policy is active.",
    "Photos attached.",
    "Deductible $$500 applies.",
)


def _insurance_sample(rng: random.Random) -> tuple[str, str]:
    """Claim type; negations name other claim types ("no one was hurt", "nothing stolen")."""
    label = rng.choice(INSURANCE_LABELS)
    v = {
        "street": rng.choice(("Elm Street", "Park Road", "Mill Lane", "King Street", "Bay Avenue")),
        "road": rng.choice(("M6", "I-95", "A1", "ring road", "coast road")),
        "city": rng.choice(("Bristol", "Tampa", "Lyon", "Leeds", "Phoenix", "Cork")),
        "loss": f"{rng.randint(4, 240) * 100:,}",
        "days": str(rng.randint(1, 14)),
        "policy": f"HP-{rng.randint(10000, 99999)}",
        "vehicle": rng.choice(("car", "van", "SUV", "pickup", "hatchback")),
        "room": rng.choice(("kitchen", "basement", "bathroom", "hallway", "living room")),
    }
    goods = rng.choice(
        ("a laptop and jewellery", "the television", "a camera bag", "cash and passports")
    )
    v |= {"goods": goods, "Goods": goods[0].upper() + goods[1:]}
    parts = [f"Claim {rng.randint(1000, 9999)}:" if rng.random() < 0.5 else ""]
    parts.append(rng.choice(INSURANCE_CUES[label]))
    extras = [rng.choice(INSURANCE_EXTRAS)] if rng.random() < 0.6 else []
    if rng.random() < 0.5:
        other = other_label(rng, INSURANCE_LABELS, label)
        if (label, other) != ("fire", "water_damage"):  # fire claims may mention hoses
            extras.append(INSURANCE_NEGATIONS[other])
    rng.shuffle(extras)
    return fill(join(parts + extras), v), label


register(
    DomainSpec(
        "insurance",
        "classification",
        instruction("insurance claim", INSURANCE_LABELS),
        _insurance_sample,
        INSURANCE_LABELS,
        "claim type, with negated mentions of other claim types",
    )
)
