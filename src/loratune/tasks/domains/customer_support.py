"""customer_support: support ticket type: billing vs refund vs cancellation hinge on the request."""

from __future__ import annotations

import random

from loratune.tasks.base import DomainSpec
from loratune.tasks.domains.helpers import fill, instruction, join
from loratune.tasks.registry import register

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
    return fill(join(parts), v), label


register(
    DomainSpec(
        "customer_support",
        "classification",
        instruction("support ticket", SUPPORT_LABELS),
        _support_sample,
        SUPPORT_LABELS,
        "support ticket type: billing vs refund vs cancellation hinge on the request",
    )
)
