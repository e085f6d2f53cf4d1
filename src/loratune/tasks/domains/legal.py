"""legal: contract clause type, with cross-references to other clauses."""

from __future__ import annotations

import random

from loratune.tasks.base import DomainSpec
from loratune.tasks.domains.helpers import fill, instruction, other_label
from loratune.tasks.registry import register

LEGAL_LABELS = (
    "termination",
    "confidentiality",
    "liability",
    "payment",
    "governing_law",
    "indemnification",
)
LEGAL_CUES: dict[str, tuple[str, ...]] = {
    "termination": (
        "Either party may terminate this $doc on $days days' written notice.",
        "$A may end this $doc at once if $B materially breaches it "
        "and fails to cure within $days days.",
        "This $doc expires after $years years unless renewed in writing.",
        "If $B becomes insolvent, $A may terminate without further notice.",
        "$B may cancel the engagement for convenience, effective $days days after notice.",
        "This $doc ends automatically if $B ceases to do business.",
        "Neither party may terminate during the first $months months except for cause.",
        "After a change of control of $B, $A may terminate on $days days' notice.",
        "The term renews yearly unless either party gives $days days' notice of non-renewal.",
        "On early termination, $B shall return all equipment of $A within $days days.",
    ),
    "confidentiality": (
        "$B shall not disclose any Confidential Information of $A to third parties.",
        "Each party shall keep the terms of this $doc strictly secret.",
        "$B may use the proprietary information of $A solely to perform this $doc.",
        "Information that is public through no fault of $B is not Confidential Information.",
        "$B shall protect the trade secrets of $A with at least reasonable care.",
        "These non-disclosure duties survive for $years years after termination.",
        "$B may share Confidential Information only with staff who need to know it.",
        "On request, $B shall destroy all copies of the confidential materials of $A.",
        "Neither party shall publicise the pricing in this $doc without consent.",
        "$B shall not reveal the source code of $A to any person.",
    ),
    "liability": (
        "In no event shall $A be liable for indirect or consequential damages.",
        "The total liability of $A shall not exceed the fees paid in the prior $months months.",
        "Neither party's aggregate liability shall exceed $amount.",
        "$A is not responsible for lost profits or loss of data.",
        "These limits do not apply to gross negligence or wilful misconduct.",
        "$A disclaims all implied warranties, and its liability is capped at $amount.",
        "$B may recover only direct damages, up to $amount.",
        "$A has no liability for delays caused by events beyond its reasonable control.",
        "Except for breach of confidentiality, neither party is liable for punitive damages.",
        "The sole remedy of $B for defective services is re-performance by $A.",
    ),
    "payment": (
        "$B shall pay each invoice within $days days of receipt.",
        "Fees of $amount per month are payable in advance.",
        "Late payments accrue interest at $pct% per month.",
        "$A may invoice $B quarterly for services rendered.",
        "All amounts exclude VAT and are payable in US dollars.",
        "$B shall reimburse reasonable travel expenses approved in advance.",
        "If $B fails to pay within $days days, $A may suspend the services.",
        "A deposit of $amount is due on signing.",
        "Undisputed amounts must be paid on time even while an invoice is disputed.",
        "Prices rise by $pct% on each anniversary of the Effective Date.",
    ),
    "governing_law": (
        "This $doc is governed by the laws of $state.",
        "Any dispute shall be resolved exclusively in the courts of $city.",
        "The parties submit to the jurisdiction of the courts of $state.",
        "This $doc is construed under the laws of $state, without regard to conflict of law rules.",
        "The Vienna Sales Convention does not apply; the laws of $state govern.",
        "Disputes shall be settled by arbitration seated in $city under the laws of $state.",
        "Each party waives any objection to venue in $city.",
        "Claims about termination or payment shall be heard only in the courts of $city.",
        "The laws of $state apply to all non-contractual obligations hereunder.",
    ),
    "indemnification": (
        "$B shall indemnify, defend and hold harmless $A against all third-party claims.",
        "$A will defend $B against any claim that the software infringes a patent.",
        "$B shall compensate $A for losses from claims caused by its breach of law.",
        "$B agrees to hold $A harmless from claims by its subcontractors.",
        "$A shall reimburse the legal fees of $B in defending covered third-party claims.",
        "The indemnified party must promptly notify the indemnifying party of any claim.",
        "$B shall indemnify $A for any breach of confidentiality by its staff.",
        "$A will indemnify $B against bodily injury claims caused by its products.",
        "$B shall bear all costs of third-party claims resulting from its negligence.",
    ),
}
LEGAL_REFERENCES = {
    "termination": "the Termination section",
    "confidentiality": "the Confidentiality clause",
    "liability": "the Limitation of Liability",
    "payment": "the Payment terms",
    "governing_law": "the Governing Law clause",
    "indemnification": "the Indemnities",
}
LEGAL_PREFIXES = ("Subject to $ref, ", "Notwithstanding $ref, ", "Without prejudice to $ref, ")
LEGAL_PARTIES = (
    ("the Supplier", "the Customer"),
    ("the Licensor", "the Licensee"),
    ("the Contractor", "the Client"),
    ("the Company", "the Consultant"),
    ("the Vendor", "the Buyer"),
    ("the Landlord", "the Tenant"),
    ("Acme Ltd", "Brightwave Inc"),
    ("Nordvik AS", "Helio GmbH"),
    ("Kestrel LLC", "Orchid Pharma"),
)


def _legal_sample(rng: random.Random) -> tuple[str, str]:
    """Clause type; half the clauses cite another clause's heading as a cross-reference."""
    label = rng.choice(LEGAL_LABELS)
    a, b = rng.choice(LEGAL_PARTIES)
    if rng.random() < 0.5:
        a, b = b, a
    v = {
        "A": a,
        "B": b,
        "days": str(rng.choice((10, 14, 15, 30, 45, 60, 90))),
        "years": str(rng.randint(2, 7)),
        "months": str(rng.choice((3, 6, 12, 18, 24))),
        "amount": f"${rng.randint(1, 95) * 5000:,}",
        "pct": rng.choice(("1", "1.5", "2", "3", "4", "5")),
        "state": rng.choice(
            ("New York", "England and Wales", "Delaware", "Ontario", "California", "Singapore")
        ),
        "city": rng.choice(("London", "Geneva", "Chicago", "Toronto", "Paris", "Dublin")),
        "doc": rng.choice(("Agreement", "Contract", "MSA", "Statement of Work", "Licence")),
    }
    clause = fill(rng.choice(LEGAL_CUES[label]), v)
    if rng.random() < 0.5:
        ref = LEGAL_REFERENCES[other_label(rng, LEGAL_LABELS, label)]
        named = clause.startswith((a, b)) and not a.startswith("the ")
        lead = clause if named else clause[0].lower() + clause[1:]
        clause = fill(rng.choice(LEGAL_PREFIXES), {"ref": ref}) + lead
    else:
        clause = clause[0].upper() + clause[1:]
    number = f"{rng.randint(2, 19)}.{rng.randint(1, 9)} " if rng.random() < 0.5 else ""
    return number + clause, label


register(
    DomainSpec(
        "legal",
        "classification",
        instruction("contract clause", LEGAL_LABELS),
        _legal_sample,
        LEGAL_LABELS,
        "contract clause type, with cross-references to other clauses",
    )
)
