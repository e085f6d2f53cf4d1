"""hr: current role and total experience, past the former role and other years."""

from __future__ import annotations

import random

from loratune.tasks.base import DomainSpec
from loratune.tasks.domains.helpers import COMPANIES, cap, passage
from loratune.tasks.registry import register

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
    text = passage(rng, HR_MAIN, HR_EXTRAS, v)
    return cap(text), f"role: {role}, years: {years}"


register(
    DomainSpec(
        "hr",
        "extraction",
        "Extract the current role and total years of experience as 'role: X, years: N'.",
        _hr_sample,
        description="current role and total experience, past the former role and other years",
    )
)
