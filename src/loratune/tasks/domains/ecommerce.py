"""ecommerce: product category of a review, often without naming the product."""

from __future__ import annotations

import random

from loratune.tasks.base import DomainSpec
from loratune.tasks.domains.helpers import fill, instruction, join, other_label
from loratune.tasks.registry import register

ECOMMERCE_LABELS = ("electronics", "clothing", "kitchen", "beauty", "sports", "toys", "books")
ECOMMERCE_ITEMS: dict[str, tuple[str, ...]] = {
    "electronics": (
        "wireless earbuds",
        "phone charger",
        "bluetooth speaker",
        "smartwatch",
        "USB-C hub",
        "e-reader",
        "webcam",
        "portable SSD",
        "tablet",
    ),
    "clothing": (
        "rain jacket",
        "wool sweater",
        "denim jeans",
        "linen shirt",
        "winter boots",
        "summer dress",
        "hoodie",
        "leather belt",
        "chinos",
    ),
    "kitchen": (
        "chef's knife",
        "blender",
        "cast iron skillet",
        "coffee grinder",
        "air fryer",
        "cutting board",
        "toaster",
        "kettle",
        "saucepan set",
    ),
    "beauty": (
        "moisturiser",
        "lipstick",
        "shampoo",
        "face serum",
        "sunscreen",
        "mascara",
        "perfume",
        "nail polish",
        "foundation",
    ),
    "sports": (
        "yoga mat",
        "tennis racket",
        "dumbbell set",
        "cycling helmet",
        "resistance bands",
        "swim goggles",
        "jump rope",
        "trail running poles",
        "boxing gloves",
    ),
    "toys": (
        "building block set",
        "plush bear",
        "remote control car",
        "toy kitchen set",
        "doll house",
        "wooden train set",
        "water pistol",
        "kids' walkie-talkies",
        "jigsaw puzzle for kids",
    ),
    "books": (
        "cookbook",
        "thriller novel",
        "biography",
        "picture book",
        "travel guide",
        "poetry collection",
        "fantasy box set",
        "self-help book",
        "graphic novel",
    ),
}
ECOMMERCE_CUES: dict[str, tuple[str, ...]] = {
    "electronics": (
        "the battery lasts about $n hours",
        "it pairs with my phone instantly",
        "the firmware update fixed the lag",
        "it charges fully in under an hour",
        "the companion app keeps crashing",
        "it stopped turning on after $n days",
        "it gets hot while charging",
        "the USB-C port feels loose",
    ),
    "clothing": (
        "it runs a size small",
        "the fabric pilled after two washes",
        "the stitching came loose within a week",
        "it fits true to size",
        "the colour faded in the wash",
        "it is a bit tight around the waist",
        "it lost its shape after one wash",
        "it looks smart enough for the office",
    ),
    "kitchen": (
        "it is dishwasher safe",
        "it takes up little counter space",
        "I use it every time I cook",
        "it cleans up easily after dinner",
        "it survived a month of family meals",
        "it feels sturdy on the worktop",
        "the handle gets hot on the hob",
        "it makes weeknight cooking quicker",
    ),
    "beauty": (
        "it left my skin soft",
        "the scent fades by noon",
        "no breakouts so far",
        "a little goes a long way",
        "it irritated my sensitive skin",
        "the shade is darker than the photo",
        "it leaked all over my make-up bag",
        "it lasts all day without touch-ups",
    ),
    "sports": (
        "it survived a full season of training",
        "my gym sessions feel safer",
        "it is the right weight for interval training",
        "it held up through a sweaty spin class",
        "my coach at the club recommended it",
        "it is sturdy enough for daily practice",
        "it packs small in my gym bag",
        "it made my morning workouts easier",
    ),
    "toys": (
        "my $n-year-old plays with it every day",
        "the pieces are big enough for toddlers",
        "it kept the kids busy all afternoon",
        "the paint chipped when my son dropped it",
        "the assembly instructions were clear",
        "my daughter named it straight away",
        "it survived being thrown around by the twins",
        "the kids fight over whose turn it is",
    ),
    "books": (
        "the plot twist in chapter $n surprised me",
        "I could not put it down",
        "the author's prose is beautiful",
        "the chapters are short and easy to follow",
        "the characters felt flat",
        "the illustrations are lovely",
        "the translation reads awkwardly",
        "the ending felt rushed",
    ),
}
ECOMMERCE_TEMPLATES = (
    "Bought the $item for my $person and $cue.",
    "This $item is $adj; $cue.",
    "$Adj $item. $Cue.",
    "About the $item: $cue.",
    "$Cue, so I'm keeping the $item.",
    "Not sure about the $item yet, but $cue.",
    "My $person uses the $item daily and $cue.",
    "$Cue. $Adj overall.",
    "$Cue, which I did not expect.",
    "Second $item I've ordered here; $cue.",
)
ECOMMERCE_EXTRAS = (
    "It came in the same box as my $other.",
    "I returned a $other last month.",
    "I also ordered a $other, review to follow.",
    "Shipping took $n days.",
    "Cheaper than in stores.",
    "Nicely gift-wrapped.",
)


def _ecommerce_sample(rng: random.Random) -> tuple[str, str]:
    """Product category from a review that may only describe use, or mention other products."""
    label = rng.choice(ECOMMERCE_LABELS)
    other = other_label(rng, ECOMMERCE_LABELS, label)
    cue = fill(rng.choice(ECOMMERCE_CUES[label]), {"n": str(rng.randint(3, 12))})
    adj = rng.choice(("great", "decent", "disappointing", "solid", "okay", "lovely", "mediocre"))
    v = {
        "item": rng.choice(ECOMMERCE_ITEMS[label]),
        "other": rng.choice(ECOMMERCE_ITEMS[other]),
        "person": rng.choice(("wife", "husband", "son", "daughter", "dad", "mum", "flatmate")),
        "adj": adj,
        "Adj": adj.capitalize(),
        "cue": cue,
        "Cue": cue[0].upper() + cue[1:],
        "n": str(rng.randint(2, 9)),
    }
    parts = []
    if rng.random() < 0.4:
        parts.append(f"{rng.randint(1, 5)} stars.")
    parts.append(rng.choice(ECOMMERCE_TEMPLATES))
    if rng.random() < 0.5:
        parts.append(rng.choice(ECOMMERCE_EXTRAS))
    return fill(join(parts), v), label


register(
    DomainSpec(
        "ecommerce",
        "classification",
        instruction("product review's category", ECOMMERCE_LABELS),
        _ecommerce_sample,
        ECOMMERCE_LABELS,
        "product category of a review, often without naming the product",
    )
)
