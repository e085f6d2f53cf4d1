"""medical: body system of a symptom note, with denied symptoms and unrelated history."""

from __future__ import annotations

import random

from loratune.tasks.base import DomainSpec
from loratune.tasks.domains.helpers import cap, fill, instruction, join, other_label
from loratune.tasks.registry import register

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
    v["symptom"] = fill(rng.choice(MEDICAL_CUES[label]), v)
    parts = [cap(fill(rng.choice(MEDICAL_OPENERS), v))]
    extras = []
    if rng.random() < 0.6:
        denied = MEDICAL_DENIALS[other_label(rng, MEDICAL_LABELS, label)]
        if not ("chest" in denied and ("chest" in v["symptom"] or "breast" in v["symptom"])):
            extras.append(f"Denies {denied}.")
    if rng.random() < 0.5:
        extras.append(f"History of {rng.choice(MEDICAL_HISTORY)}.")
    if rng.random() < 0.4:
        extras.append(
            f"Temp 37.{rng.randint(0, 9)} C, BP {rng.randint(105, 150)}/{rng.randint(65, 95)}."
        )
    rng.shuffle(extras)
    return join(parts + extras), label


register(
    DomainSpec(
        "medical",
        "classification",
        instruction("patient note's body system", MEDICAL_LABELS),
        _medical_sample,
        MEDICAL_LABELS,
        "body system of a symptom note, with denied symptoms and unrelated history",
    )
)
