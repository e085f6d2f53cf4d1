"""supply_chain: SKU and final quantity among look-alike ids and revised quantities."""

from __future__ import annotations

import random

from loratune.tasks.base import DomainSpec
from loratune.tasks.domains.helpers import cap, passage
from loratune.tasks.registry import register

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
    text = passage(rng, SUPPLY_MAIN, SUPPLY_EXTRAS, v)
    return cap(text), f"sku: {sku}, quantity: {qty}"


register(
    DomainSpec(
        "supply_chain",
        "extraction",
        "Extract the SKU and the final ordered quantity as 'sku: X, quantity: N'.",
        _supply_chain_sample,
        description="SKU and final quantity among look-alike ids and revised quantities",
    )
)
