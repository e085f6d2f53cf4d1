"""Seven classification domains: a short text and one label from a fixed set.

Every generator draws its label uniformly, then one of 8-12 phrasings of that label, fills in
varied entities and usually adds a distractor: a sentence that names another label's keyword
in passing, under a negation or as a cross-reference, so no single word decides the answer.
All randomness comes from the `rng` argument.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from string import Template

from loratune.tasks.base import DomainSpec


def _fill(template: str, values: dict[str, str]) -> str:
    """`$name` placeholders, so code snippets may keep their own braces."""
    return Template(template).substitute(values)


def _other(rng: random.Random, labels: Sequence[str], label: str) -> str:
    return rng.choice([x for x in labels if x != label])


def _join(parts: Sequence[str]) -> str:
    return " ".join(p for p in parts if p)


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def _instruction(what: str, labels: Sequence[str]) -> str:
    return f"Classify the {what} as one of: {', '.join(labels)}."


# --- customer_support ---------------------------------------------------------------------

SUPPORT_LABELS = ("billing", "technical", "shipping", "account", "refund", "cancellation")
SUPPORT_CUES: dict[str, tuple[str, ...]] = {
    "billing": (
        "I was charged $amount twice this month for the $plan.",
        "My invoice shows $amount but the $plan should cost less.",
        "Why was my card billed $amount on the ${day}th?",
        "Please update the card on file; the new one ends in $last4.",
        "The receipt for order $order lists the wrong VAT number.",
        "My discount code was not applied to this month's bill.",
        "I need the $month invoice for my accountant.",
        "Autopay failed even though my card is valid.",
        "There is an unexpected $amount 'service fee' on my statement.",
        "I don't want my money back, I just need the invoice made out to $company.",
        "We are billed for $seats seats but only use $few.",
    ),
    "technical": (
        "The app crashes every time I open settings on my $device.",
        "I get error $code when uploading files.",
        "Sync has been stuck at $pct% since yesterday.",
        "Videos show a black screen on my $device.",
        "Notifications stopped working after the latest update.",
        "The export button does nothing in $browser.",
        "The page freezes when I add more than $few items.",
        "Login works, but the dashboard is a blank page.",
        "The $tool integration keeps timing out.",
        "Since version 4.$few the search returns no results.",
        "My billing page loads fine, but the reports tab throws error $code.",
    ),
    "shipping": (
        "Order $order still shows 'in transit' after $days days.",
        "The tracking number for order $order does not work on the carrier's site.",
        "My package was delivered to the wrong address in $city.",
        "The courier marked order $order as delivered but nothing arrived.",
        "Can I change the delivery address for order $order before it ships?",
        "Only $few of the $seats items in my order arrived.",
        "When will order $order ship? It has been $days days.",
        "I paid $amount for express delivery and it is taking $days days.",
        "My parcel has been stuck at the $city depot since Monday.",
        "The box arrived crushed and the tracking page never updated.",
    ),
    "account": (
        "I can't log in; the password reset email never arrives.",
        "Please change the email on my account to ${first}@$domain.",
        "My account got locked after too many attempts.",
        "How do I turn on two-factor authentication?",
        "I want to merge my two accounts into one.",
        "Someone in $city may have signed in to my account.",
        "Please update the name on my profile to $first.",
        "How do I add a team member to our workspace?",
        "I lost my authenticator app and can't sign in.",
        "My username still shows the old company name, $company.",
    ),
    "refund": (
        "I returned the $item on the ${day}th; when do I get my $amount back?",
        "Please refund order $order, the item is not as described.",
        "I'd like my money back for the $plan upgrade I never used.",
        "You received my return $days days ago but there is no refund yet.",
        "Can I get a refund for the duplicate purchase of the $item?",
        "The $item broke after a week; I want a full refund, not a replacement.",
        "What is the status of the refund for return $order?",
        "I was promised $amount back because the delivery was late.",
        "Please reverse the $amount payment and return it to my card.",
        "I sent the $item back, please credit my card.",
    ),
    "cancellation": (
        "Please cancel my subscription before the next renewal.",
        "I want to end my $plan at the end of $month.",
        "How do I stop auto-renewal? I'm leaving the service.",
        "Please close my account and stop all future payments.",
        "We are switching to $company, so please end our contract.",
        "Cancel order $order please, I ordered it by mistake.",
        "Don't renew my plan in $month.",
        "I no longer need the service; how do I unsubscribe?",
        "Downgrading is not enough, I want to cancel entirely.",
        "No refund needed, just cancel the $plan so I'm not charged again.",
    ),
}
SUPPORT_OPENERS = (
    "Hi, $first here.",
    "Ticket from $first ($plan):",
    "Hello support,",
    "From $first in $city:",
    "Re: order $order.",
    "Subject: urgent!",
    "Account $last4, $first:",
    "Hi team, quick one.",
    "",
    "",
)
# (sentence, label it would contradict): several name another label's topic in passing.
SUPPORT_EXTRAS = (
    ("I've been a customer for $days months.", ""),
    ("Your chat bot could not help.", ""),
    ("Please reply by Friday.", ""),
    ("My last order arrived fine.", "shipping"),
    ("The app itself works great.", "technical"),
    ("Payments have never been an issue before.", ""),
    ("Thanks in advance, $first.", ""),
    ("This is my second message about it.", ""),
    ("My account details are all correct.", "account"),
    ("I'm on the $plan on my $device.", ""),
    ("Not a technical problem, as far as I can tell.", "technical"),
    ("I already tried logging out and in again.", ""),
)


def _support_sample(rng: random.Random) -> tuple[str, str]:
    """Ticket type: refund vs billing vs cancellation hinge on what the customer asks for."""
    label = rng.choice(SUPPORT_LABELS)
    v = {
        "amount": f"${rng.randint(5, 400)}.{rng.choice(('00', '99', '49', '95'))}",
        "plan": rng.choice(("Pro plan", "Basic plan", "Family plan", "Team plan", "Plus plan")),
        "day": str(rng.randint(4, 28)),
        "last4": str(rng.randint(1000, 9999)),
        "order": f"#{rng.randint(10000, 99999)}",
        "month": rng.choice(("March", "April", "June", "July", "October", "December")),
        "company": rng.choice(("Brightline", "Nordvik", "Acme Labs", "Kestrel Co", "Zentro")),
        "seats": str(rng.randint(6, 20)),
        "few": str(rng.randint(2, 5)),
        "device": rng.choice(("iPhone", "Android phone", "iPad", "Windows laptop", "Mac")),
        "code": str(rng.randint(100, 599)),
        "pct": str(rng.randint(10, 95)),
        "browser": rng.choice(("Chrome", "Firefox", "Safari", "Edge")),
        "tool": rng.choice(("Slack", "Salesforce", "Google Drive", "Dropbox", "Zapier")),
        "days": str(rng.randint(3, 21)),
        "city": rng.choice(("Leeds", "Denver", "Lyon", "Austin", "Porto", "Dublin", "Pune")),
        "first": rng.choice(("maria", "tom", "aisha", "kenji", "lena", "raj", "olga", "sam")),
        "domain": rng.choice(("mail.com", "example.org", "inbox.net")),
        "item": rng.choice(("headphones", "blender", "jacket", "desk lamp", "router", "boots")),
    }
    v["first"] = v["first"].capitalize() if rng.random() < 0.5 else v["first"]
    core = rng.choice(SUPPORT_CUES[label])
    parts = [rng.choice(SUPPORT_OPENERS), core]
    if rng.random() < 0.6:
        parts.append(rng.choice([x for x, clash in SUPPORT_EXTRAS if clash != label]))
    return _fill(_join(parts), v), label


# --- legal --------------------------------------------------------------------------------

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
    clause = _fill(rng.choice(LEGAL_CUES[label]), v)
    if rng.random() < 0.5:
        ref = LEGAL_REFERENCES[_other(rng, LEGAL_LABELS, label)]
        named = clause.startswith((a, b)) and not a.startswith("the ")
        lead = clause if named else clause[0].lower() + clause[1:]
        clause = _fill(rng.choice(LEGAL_PREFIXES), {"ref": ref}) + lead
    else:
        clause = clause[0].upper() + clause[1:]
    number = f"{rng.randint(2, 19)}.{rng.randint(1, 9)} " if rng.random() < 0.5 else ""
    return number + clause, label


# --- medical ------------------------------------------------------------------------------

MEDICAL_LABELS = (
    "cardiac",
    "respiratory",
    "gastrointestinal",
    "neurological",
    "dermatological",
    "musculoskeletal",
)
MEDICAL_CUES: dict[str, tuple[str, ...]] = {
    "cardiac": (
        "crushing chest pressure spreading to the left arm",
        "palpitations and a racing heartbeat",
        "chest tightness on exertion that eases with rest",
        "swollen ankles and an irregular pulse",
        "fainting spells with a pulse of 38",
        "an irregular heartbeat flagged by a smartwatch",
        "chest pain with sweating and nausea",
        "a blood pressure of 190/110 and pounding in the chest",
        "sharp chest pain that improves when leaning forward",
        "fluttering in the chest after coffee",
    ),
    "respiratory": (
        "a productive cough with green sputum",
        "wheezing and shortness of breath at night",
        "a dry cough that will not settle",
        "fever and pain when breathing deeply",
        "coughing up streaks of blood",
        "breathlessness on stairs and a smoker's cough",
        "a runny nose, sore throat and chest congestion",
        "oxygen saturation of 91% and rapid breathing",
        "chest tightness and wheeze triggered by cold air",
        "noisy breathing after a cold",
    ),
    "gastrointestinal": (
        "cramping abdominal pain and diarrhoea",
        "burning pain behind the breastbone after meals",
        "vomiting and inability to keep fluids down",
        "black tarry stools",
        "pain in the lower right abdomen",
        "bloating and constipation",
        "yellow eyes and dark urine",
        "difficulty swallowing solid food",
        "upper abdominal pain after fatty meals",
        "blood in the stool and weight loss",
    ),
    "neurological": (
        "sudden weakness of the right arm and slurred speech",
        "a throbbing headache with flashing lights",
        "numbness and tingling in both feet",
        "repeated seizures witnessed by family",
        "dizziness and double vision",
        "memory lapses noticed by relatives",
        "a tremor of the left hand at rest",
        "drooping of one side of the face",
        "the worst headache of their life",
        "episodes of confusion and trouble finding words",
    ),
    "dermatological": (
        "an itchy red rash on both forearms",
        "a mole that has changed shape and colour",
        "hives after switching detergent",
        "scaly plaques on the elbows and knees",
        "a painful blistering rash in a band across the chest",
        "acne flaring along the jaw",
        "a sore on the nose that will not heal",
        "dry, cracked skin on the hands",
        "a ring-shaped patch on the thigh",
        "hair loss in round patches",
    ),
    "musculoskeletal": (
        "a swollen knee after twisting it at $sport",
        "lower back pain after lifting boxes",
        "a stiff shoulder, unable to raise the arm",
        "wrist pain after falling onto an outstretched hand",
        "heel pain worst with the first steps in the morning",
        "morning stiffness in the finger joints",
        "neck pain after a long drive",
        "a swollen ankle after a misstep on the stairs",
        "chest wall pain, tender to touch, after moving furniture",
        "hip pain when climbing stairs",
    ),
}
MEDICAL_DENIALS = {
    "cardiac": "chest pain",
    "respiratory": "cough",
    "gastrointestinal": "vomiting",
    "neurological": "headache",
    "dermatological": "rash",
    "musculoskeletal": "joint pain",
}
MEDICAL_HISTORY = (
    "asthma",
    "hypertension",
    "eczema",
    "migraine",
    "reflux",
    "arthritis",
    "diabetes",
    "anxiety",
)
MEDICAL_OPENERS = (
    "$age-year-old $sex with $symptom for $duration.",
    "$sex, $age, reports $symptom for $duration.",
    "Patient ($age, $sex) presents with $symptom, onset $duration ago.",
    "Seen today: $symptom for $duration in a $age-year-old $sex.",
    "Complains of $symptom for $duration; $sex, age $age.",
)


def _medical_sample(rng: random.Random) -> tuple[str, str]:
    """Body system of the main complaint, despite unrelated history and denied symptoms."""
    label = rng.choice(MEDICAL_LABELS)
    v = {
        "sport": rng.choice(("football", "tennis", "netball", "skiing")),
        "age": str(rng.randint(18, 88)),
        "sex": rng.choice(("man", "woman", "male", "female")),
        "duration": rng.choice(
            ("two days", "a week", "three weeks", "six hours", "a month", "ten days")
        ),
    }
    v["symptom"] = _fill(rng.choice(MEDICAL_CUES[label]), v)
    parts = [_cap(_fill(rng.choice(MEDICAL_OPENERS), v))]
    extras = []
    if rng.random() < 0.6:
        denied = MEDICAL_DENIALS[_other(rng, MEDICAL_LABELS, label)]
        if not ("chest" in denied and ("chest" in v["symptom"] or "breast" in v["symptom"])):
            extras.append(f"Denies {denied}.")
    if rng.random() < 0.5:
        extras.append(f"History of {rng.choice(MEDICAL_HISTORY)}.")
    if rng.random() < 0.4:
        extras.append(
            f"Temp 37.{rng.randint(0, 9)} C, BP {rng.randint(105, 150)}/{rng.randint(65, 95)}."
        )
    rng.shuffle(extras)
    return _join(parts + extras), label


# --- ecommerce ----------------------------------------------------------------------------

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
    other = _other(rng, ECOMMERCE_LABELS, label)
    cue = _fill(rng.choice(ECOMMERCE_CUES[label]), {"n": str(rng.randint(3, 12))})
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
    return _fill(_join(parts), v), label


# --- code_review --------------------------------------------------------------------------

CODE_LABELS = (
    "sql_injection",
    "off_by_one",
    "null_dereference",
    "resource_leak",
    "hardcoded_secret",
    "none",
)
# Each bug as (buggy, fixed); `none` draws the fixed version of any bug.
CODE_PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    "sql_injection": (
        (
            'cur.execute("SELECT * FROM $tbl WHERE $col = \'" + $var + "\'")',
            'cur.execute("SELECT * FROM $tbl WHERE $col = %s", ($var,))',
        ),
        (
            'db.execute(f"DELETE FROM $tbl WHERE $col = {$var}")',
            'db.execute("DELETE FROM $tbl WHERE $col = ?", [$var])',
        ),
        (
            "sql = \"UPDATE $tbl SET $col = '%s'\" % $var; cur.execute(sql)",
            'sql = "UPDATE $tbl SET $col = %s"; cur.execute(sql, ($var,))',
        ),
        (
            'rows = conn.execute("SELECT id FROM $tbl WHERE $col = " + request.args["$col"])',
            'rows = conn.execute("SELECT id FROM $tbl WHERE $col = ?", (request.args["$col"],))',
        ),
        (
            'q = "SELECT * FROM $tbl WHERE $col LIKE \'%" + $var + "%\'"; db.raw(q)',
            'q = "SELECT * FROM $tbl WHERE $col LIKE ?"; db.raw(q, [f"%{$var}%"])',
        ),
        (
            "conn.execute(\"INSERT INTO $tbl ($col) VALUES ('{}')\".format($var))",
            'conn.execute("INSERT INTO $tbl ($col) VALUES (?)", ($var,))',
        ),
        (
            'return Model.objects.raw("SELECT * FROM $tbl WHERE $col = " + $var)',
            "return Model.objects.filter($col=$var)",
        ),
        (
            'cur.executescript("DROP TABLE IF EXISTS " + $var)',
            'cur.executescript("DROP TABLE IF EXISTS " + ALLOWED[$var])',
        ),
    ),
    "off_by_one": (
        (
            "for i in range(len($xs) + 1): total += $xs[i]",
            "for i in range(len($xs)): total += $xs[i]",
        ),
        ("last = $xs[len($xs)]", "last = $xs[len($xs) - 1]"),
        (
            "i = 0; while i <= len($xs): out.append($xs[i]); i += 1",
            "i = 0; while i < len($xs): out.append($xs[i]); i += 1",
        ),
        ("def first_n($xs, n): return $xs[: n - 1]", "def first_n($xs, n): return $xs[:n]"),
        (
            "for i in range(len($xs)): if $xs[i] > $xs[i + 1]: swap($xs, i)",
            "for i in range(len($xs) - 1): if $xs[i] > $xs[i + 1]: swap($xs, i)",
        ),
        ("page = $xs[start : start + size + 1]", "page = $xs[start : start + size]"),
        (
            "for day in range(1, days_in_month): book(day)",
            "for day in range(1, days_in_month + 1): book(day)",
        ),
        (
            "total = 0; for i in range(1, len($xs)): total += $xs[i]",
            "total = 0; for i in range(0, len($xs)): total += $xs[i]",
        ),
    ),
    "null_dereference": (
        (
            "user = repo.find($var); return user.email",
            "user = repo.find($var); return user.email if user else None",
        ),
        (
            "m = re.match(PATTERN, $var); return m.group(1)",
            'm = re.match(PATTERN, $var); return m.group(1) if m else ""',
        ),
        (
            'hosts = os.environ.get("$env"); return hosts.split(",")',
            'hosts = os.environ.get("$env", ""); return hosts.split(",")',
        ),
        (
            "node = cache.get($var); node.touch(); return node",
            "node = cache.get($var); if node is not None: node.touch(); return node",
        ),
        (
            "row = cur.fetchone(); return row[0]",
            "row = cur.fetchone(); return row[0] if row else 0",
        ),
        (
            "item = next((x for x in $xs if x.id == $var), None); return item.price",
            "item = next((x for x in $xs if x.id == $var), None); return item.price if item else 0",
        ),
        (
            'name = payload.get("$col"); return name.strip()',
            'name = payload.get("$col") or ""; return name.strip()',
        ),
        (
            'el = soup.find("div", id="$col"); return el.text',
            'el = soup.find("div", id="$col"); return el.text if el else ""',
        ),
    ),
    "resource_leak": (
        (
            "f = open($path); data = f.read(); return data",
            "with open($path) as f: return f.read()",
        ),
        (
            "conn = sqlite3.connect($path); return conn.execute(Q).fetchall()",
            "with closing(sqlite3.connect($path)) as conn: return conn.execute(Q).fetchall()",
        ),
        (
            "sock = socket.create_connection((HOST, $port)); sock.sendall($var)",
            "with socket.create_connection((HOST, $port)) as sock: sock.sendall($var)",
        ),
        (
            'fh = open($path, "w"); fh.write(report)',
            'with open($path, "w") as fh: fh.write(report)',
        ),
        ("lock.acquire(); update($xs)", "with lock: update($xs)"),
        (
            "f = open($path); if not f.readline(): return None; f.close()",
            "with open($path) as f: if not f.readline(): return None",
        ),
        (
            "img = Image.open($path); return img.size",
            "with Image.open($path) as img: return img.size",
        ),
        (
            "tmp = tempfile.NamedTemporaryFile(delete=False); tmp.write($var)",
            "with tempfile.NamedTemporaryFile() as tmp: tmp.write($var)",
        ),
    ),
    "hardcoded_secret": (
        ('API_KEY = "sk_live_$hex"', 'API_KEY = os.environ["API_KEY"]'),
        (
            'db = connect(host="$host", user="admin", password="$pw")',
            'db = connect(host="$host", user="admin", password=os.environ["DB_PASSWORD"])',
        ),
        (
            'headers = {"Authorization": "Bearer $hex"}',
            'headers = {"Authorization": f"Bearer {settings.TOKEN}"}',
        ),
        (
            'AWS_SECRET_ACCESS_KEY = "$hex"',
            'AWS_SECRET_ACCESS_KEY = os.getenv("AWS_SECRET_ACCESS_KEY")',
        ),
        ('gh = Github("ghp_$hex")', 'gh = Github(os.environ["GITHUB_TOKEN"])'),
        (
            'smtp.login("alerts@$host", "$pw")',
            'smtp.login("alerts@$host", vault.read("smtp_password"))',
        ),
        ('JWT_SECRET = "$pw"', 'JWT_SECRET = config.require("JWT_SECRET")'),
        ('stripe.api_key = "sk_test_$hex"', "stripe.api_key = settings.STRIPE_KEY"),
    ),
}
# Correct code with no bug twin, for the other half of `none`.
CODE_CLEAN = (
    "return sum($xs) / max(len($xs), 1)",
    "$var = $var.lower().strip()",
    "total = sum(x.price for x in $xs)",
    "return sorted($xs, key=lambda x: x.$col)",
    "if not $xs: return []; return [x.$col for x in $xs]",
    'logger.info("synced %d $tbl", len($xs))',
    "return {x.id: x for x in $xs}",
    "$var = int($var) if $var.isdigit() else 0",
    "return datetime.now(timezone.utc).isoformat()",
    "counts = Counter(x.$col for x in $xs)",
    "return [x for x in $xs if x.$col is not None]",
    "return json.dumps({'$col': $var}, sort_keys=True)",
)
CODE_LEADS = (
    "def $fn($var): ",
    "def $fn(self, $var): ",
    'log.debug("$fn called"); ',
    "start = time.time(); ",
    "$var = $var.strip(); ",
    "",
    "",
)
# Comments appear on buggy and fixed code alike, so they carry no label information.
CODE_COMMENTS = (
    "  # TODO: add tests",
    "  # reviewed by $who",
    "  # safe",
    "  # see ticket $n",
    "  # handles None",
    "  # fast path",
    "",
    "",
    "",
)


def _code_sample(rng: random.Random) -> tuple[str, str]:
    """Bug type of a one-line snippet; half of `none` is the fixed twin of a bug, so surface
    forms (execute, open, environ) do not always decide the label."""
    label = rng.choice(CODE_LABELS)
    kind = rng.choice(CODE_LABELS[:-1]) if label == "none" else label
    buggy, fixed = rng.choice(CODE_PAIRS[kind])
    if label == "none" and rng.random() < 0.5:
        fixed = rng.choice(CODE_CLEAN)
    v = {
        "fn": rng.choice(("load", "get_user", "fetch_rows", "handle", "sync", "export", "lookup")),
        "var": rng.choice(("uid", "name", "email", "sku", "term", "key", "payload_id", "slug")),
        "tbl": rng.choice(("users", "orders", "invoices", "accounts", "products", "events")),
        "col": rng.choice(("id", "email", "name", "status", "owner", "region")),
        "xs": rng.choice(("items", "rows", "scores", "prices", "nodes", "lines")),
        "path": rng.choice(("path", "cfg_path", "fname", "log_file", "db_path", "src")),
        "env": rng.choice(("ALLOWED_HOSTS", "PEERS", "BROKERS", "ORIGINS")),
        "port": str(rng.choice((443, 5432, 6379, 8080, 9000))),
        "host": rng.choice(("db.internal", "10.0.3.7", "mail.acme.io", "pg-prod")),
        "hex": "".join(rng.choice("0123456789abcdef") for _ in range(12)),
        "pw": rng.choice(("Summer", "hunter", "Winter", "admin", "Dragon"))
        + str(rng.randint(10, 99)),
        "who": rng.choice(("ana", "li", "omar", "jo")),
        "n": str(rng.randint(100, 999)),
    }
    code = (
        rng.choice(CODE_LEADS) + (fixed if label == "none" else buggy) + rng.choice(CODE_COMMENTS)
    )
    return _fill(code, v), label


# --- insurance ----------------------------------------------------------------------------

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
        other = _other(rng, INSURANCE_LABELS, label)
        if (label, other) != ("fire", "water_damage"):  # fire claims may mention hoses
            extras.append(INSURANCE_NEGATIONS[other])
    rng.shuffle(extras)
    return _fill(_join(parts + extras), v), label


# --- education ----------------------------------------------------------------------------

EDUCATION_LABELS = (
    "math",
    "physics",
    "chemistry",
    "biology",
    "history",
    "geography",
    "literature",
)
EDUCATION_CUES: dict[str, tuple[str, ...]] = {
    "math": (
        "Solve for x: ${a}x + $b = $c.",
        "What is the area of a triangle with base $a cm and height $b cm?",
        "Find the derivative of x^$n + ${a}x.",
        "A shop sells $a $things for $$$b. How much do $c $things cost?",
        "What is the probability of rolling a total of $n with two fair dice?",
        "Factor x^2 + ${a}x + $b.",
        "How many prime numbers are less than $c?",
        "What is $n% of $c?",
        "Prove that the square root of $prime is irrational.",
        "Find the mean of $a, $b and $c.",
        "What is the sum of the interior angles of a polygon with $n sides?",
        "How many ways can $n students stand in a line?",
        "A biologist counts $c cells and $a% of them divide. How many divide?",
        "A novel has $c pages. Reading $a a day, how many days does it take?",
        "A town of $a thousand grows $n% a year. What is it after two years?",
        "The Nile is $c km longer than a $b km river. How long is the Nile?",
    ),
    "physics": (
        "A car accelerates from rest at $n m/s^2. What is its speed after $a s?",
        "What force accelerates a $a kg mass at $n m/s^2?",
        "Why does a $stick in a glass of water look bent?",
        "A $a ohm resistor carries $n A. What is the voltage across it?",
        "Explain why satellites stay in orbit around $planet.",
        "How much work is done lifting a $a kg box by $n m?",
        "Describe how a transformer changes voltage.",
        "What is the kinetic energy of a $a kg ball moving at $n m/s?",
        "Why does a ball thrown upward on $planet slow down?",
        "What is the frequency of a wave with a period of $n seconds?",
        "How long does light take to travel $c million km?",
        "Why does a metal bench feel colder than a wooden one?",
        "Why do astronauts weigh less on the Moon?",
        "Why did Galileo's two balls of different mass land together?",
        "What pressure does a diver feel at $a m depth in the sea?",
        "How does sunlight through rain drops form a rainbow?",
    ),
    "chemistry": (
        "Balance the equation: $equation.",
        "How many moles are in $c g of $compound?",
        "What is the pH of a solution with [H+] = 10^-$n M?",
        "Name the product when $metal reacts with chlorine.",
        "Why is $noble so unreactive?",
        "What type of bond holds $compound together?",
        "Calculate the mass of $n moles of $compound.",
        "What is oxidised when $rusting corrodes?",
        "Describe how a catalyst speeds up a reaction.",
        "What is the molar mass of $compound?",
        "Why does $metal react violently with water?",
        "Why did the lead pipes of Roman baths corrode?",
        "Which compound gives the soil of Mars its red colour?",
        "How is salt crystallised from seawater in $country?",
        "What gas is released when vinegar meets baking soda?",
    ),
    "biology": (
        "What is the role of the $organelle in a cell?",
        "Explain how a $disease vaccine trains the immune system.",
        "What does the enzyme $enzyme do?",
        "How do $plants make glucose?",
        "Two heterozygous $organisms are crossed; what fraction of offspring are recessive?",
        "Name the four chambers of the human heart.",
        "Why do $migrants migrate each year?",
        "What is the function of $cells?",
        "How does natural selection change a population of $organisms over $c generations?",
        "Describe the stages of $division.",
        "What does the $organ do during digestion?",
        "Why did Darwin's finches on the Galapagos have different beaks?",
        "How do camels survive for weeks in the Sahara?",
        "How does caffeine affect the human heart rate?",
        "Why do bears hibernate through the winter in $country?",
    ),
    "history": (
        "Why did $empire decline?",
        "What caused $war?",
        "In what year did $event?",
        "How did $leader rise to power?",
        "What were the effects of $invention in Europe?",
        "Why did the American colonies declare independence in 1776?",
        "Describe the causes of $revolution.",
        "What goods were traded along the Silk Road?",
        "How did the Black Death change wages in 14th-century Europe?",
        "What did the Magna Carta of 1215 limit?",
        "Who fought in $war, and who won?",
        "Why did Britain ration sugar and meat in 1940?",
        "How did Marie Curie's X-ray vans help in the First World War?",
        "Why was the Suez Canal vital to the British Empire?",
        "How did London respond to the plague of 1665?",
    ),
    "geography": (
        "What is the capital of $country?",
        "Which river flows through $city?",
        "Why does $monsoon have a monsoon climate?",
        "Name the longest river in $continent.",
        "What causes deltas to form at river mouths?",
        "Which mountain range separates $neighbours?",
        "Why do deserts form on the lee side of mountains?",
        "A country has $a million people on $c thousand km^2; what is its population density?",
        "Which ocean lies between $coasts?",
        "What are the main exports of $country?",
        "Why is $quake prone to earthquakes?",
        "Why is the Dead Sea so salty?",
        "How do glaciers carve U-shaped valleys?",
        "Why do most people in $country live near the coast?",
        "Which modern countries did the Silk Road cross?",
    ),
    "literature": (
        "What is the main theme of $book?",
        "Who narrates $book?",
        "Identify the metaphor in the first line of $poem.",
        "What does the green light symbolise in The Great Gatsby?",
        "Compare the two eldest sisters in Pride and Prejudice.",
        "Why does Hamlet delay his revenge?",
        "What is the rhyme scheme of a $form?",
        "Describe the setting of $book.",
        "In $book, what role does the war play?",
        "How many lines does a haiku have, and what is its syllable pattern?",
        "How does $author build suspense in $book?",
        "What does the Mississippi River symbolise in Huckleberry Finn?",
        "How does Orwell use the Ministry of Truth in 1984?",
        "Why does Victor regret his experiment in Frankenstein?",
        "How is the epidemic used as a metaphor in Camus's The Plague?",
    ),
}
# Literature slots keep each book with its author.
BOOKS = (
    ("Jane Eyre", "Charlotte Bronte"),
    ("Beloved", "Toni Morrison"),
    ("Things Fall Apart", "Chinua Achebe"),
    ("Frankenstein", "Mary Shelley"),
    ("Middlemarch", "George Eliot"),
    ("1984", "George Orwell"),
    ("Moby-Dick", "Herman Melville"),
    ("Dracula", "Bram Stoker"),
)
EDUCATION_SLOTS: dict[str, tuple[str, ...]] = {
    "things": ("pens", "apples", "tickets", "notebooks"),
    "prime": ("2", "3", "5", "7"),
    "stick": ("spoon", "pencil", "straw", "metal rod"),
    "planet": ("Earth", "Mars", "Jupiter", "the Moon"),
    "equation": ("H2 + O2 -> H2O", "CH4 + O2 -> CO2 + H2O", "N2 + H2 -> NH3", "Fe + O2 -> Fe2O3"),
    "compound": ("water", "sodium chloride", "glucose", "methane", "ammonia"),
    "metal": ("sodium", "potassium", "lithium", "calcium"),
    "noble": ("neon", "argon", "helium", "xenon"),
    "rusting": ("iron", "copper", "zinc", "a steel nail"),
    "organelle": ("mitochondrion", "ribosome", "nucleus", "chloroplast", "Golgi apparatus"),
    "disease": ("measles", "polio", "tetanus", "flu"),
    "enzyme": ("DNA polymerase", "amylase", "pepsin", "lipase"),
    "plants": ("plants", "algae", "cacti", "ferns"),
    "organisms": ("pea plants", "fruit flies", "mice", "snapdragons"),
    "migrants": ("swallows", "salmon", "wildebeest", "monarch butterflies"),
    "cells": ("red blood cells", "white blood cells", "platelets", "neurons"),
    "division": ("mitosis", "meiosis"),
    "organ": ("liver", "pancreas", "stomach", "small intestine"),
    "empire": ("the Western Roman Empire", "the Ottoman Empire", "the Mughal Empire"),
    "war": ("the First World War", "the Crimean War", "the Thirty Years' War", "the Boer War"),
    "event": ("the Berlin Wall fall", "the Bastille fall", "the Titanic sink"),
    "leader": ("Napoleon", "Augustus", "Genghis Khan", "Lenin"),
    "invention": ("the printing press", "the steam engine", "gunpowder"),
    "revolution": ("the French Revolution", "the Russian Revolution", "the Glorious Revolution"),
    "country": ("Peru", "Kenya", "Vietnam", "Norway", "Chile", "Egypt", "Canada"),
    "city": ("Vienna", "Cairo", "Budapest", "London", "Prague", "Baghdad"),
    "monsoon": ("Mumbai", "Dhaka", "Yangon", "Kerala"),
    "continent": ("Africa", "South America", "Asia", "Europe"),
    "neighbours": ("France and Spain", "Chile and Argentina", "Europe and Asia", "India and Tibet"),
    "coasts": ("Africa and Australia", "Europe and North America", "Asia and the Americas"),
    "quake": ("Japan", "Chile", "Nepal", "Turkey"),
    "poem": ("the poem", "'Ozymandias'", "'Daffodils'", "'The Raven'"),
    "form": ("Shakespearean sonnet", "Petrarchan sonnet", "limerick", "villanelle"),
    "teacher": ("Ms Lee", "Mr Okafor", "Mrs Diaz", "Dr Novak"),
}
EDUCATION_PREFIXES = (
    "Week $n quiz, $teacher's class:",
    "Homework Q$n:",
    "Bonus ($n points):",
    "Exam item $c.",
    "Revision card:",
    "",
    "",
)
EDUCATION_SUFFIXES = ("(Show your working.)", "(2 marks)", "Answer in one sentence.", "", "", "")


def _education_sample(rng: random.Random) -> tuple[str, str]:
    """School subject of a question; numbers, dates, places and 'why' occur across subjects."""
    label = rng.choice(EDUCATION_LABELS)
    book, author = rng.choice(BOOKS)
    v = {slot: rng.choice(options) for slot, options in EDUCATION_SLOTS.items()}
    v |= {
        "a": str(rng.randint(2, 40)),
        "b": str(rng.randint(2, 30)),
        "c": str(rng.randint(20, 500)),
        "n": str(rng.randint(2, 9)),
        "book": book,
        "author": author,
    }
    parts = [rng.choice(EDUCATION_PREFIXES), rng.choice(EDUCATION_CUES[label])]
    parts.append(rng.choice(EDUCATION_SUFFIXES))
    return _fill(_join(parts), v), label


# --- specs --------------------------------------------------------------------------------

CLASSIFICATION_DOMAINS: dict[str, DomainSpec] = {
    "legal": DomainSpec(
        "legal",
        "classification",
        _instruction("contract clause", LEGAL_LABELS),
        _legal_sample,
        LEGAL_LABELS,
        "contract clause type, with cross-references to other clauses",
    ),
    "medical": DomainSpec(
        "medical",
        "classification",
        _instruction("patient note's body system", MEDICAL_LABELS),
        _medical_sample,
        MEDICAL_LABELS,
        "body system of a symptom note, with denied symptoms and unrelated history",
    ),
    "ecommerce": DomainSpec(
        "ecommerce",
        "classification",
        _instruction("product review's category", ECOMMERCE_LABELS),
        _ecommerce_sample,
        ECOMMERCE_LABELS,
        "product category of a review, often without naming the product",
    ),
    "customer_support": DomainSpec(
        "customer_support",
        "classification",
        _instruction("support ticket", SUPPORT_LABELS),
        _support_sample,
        SUPPORT_LABELS,
        "support ticket type: billing vs refund vs cancellation hinge on the request",
    ),
    "code_review": DomainSpec(
        "code_review",
        "classification",
        _instruction("bug in the code", CODE_LABELS),
        _code_sample,
        CODE_LABELS,
        "bug type of a one-line snippet; 'none' is clean code or a bug's fixed twin",
    ),
    "insurance": DomainSpec(
        "insurance",
        "classification",
        _instruction("insurance claim", INSURANCE_LABELS),
        _insurance_sample,
        INSURANCE_LABELS,
        "claim type, with negated mentions of other claim types",
    ),
    "education": DomainSpec(
        "education",
        "classification",
        _instruction("exam question's subject", EDUCATION_LABELS),
        _education_sample,
        EDUCATION_LABELS,
        "school subject of an exam question",
    ),
}
