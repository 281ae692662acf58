"""Free-text fillers tagged ``O``: message bodies, issue descriptions and chit-chat topics.

Templates name them as ``<name>``. They give the in-scope templates realistic free text
(a Slack message, a ticket description) without inventing entity types for it, and give
the out-of-scope templates enough variety that the model cannot key on a handful of words.
Fillers avoid dates and person names so that an ``O`` filler never contradicts a tagged
entity elsewhere in the data.
"""

from __future__ import annotations

import random

FILLERS: dict[str, tuple[str, ...]] = {
    "issue": (
        "login failures", "a broken printer", "a missing refund", "the slow checkout page",
        "password reset emails not arriving", "a double charge", "the mobile app crashing",
        "a damaged delivery", "wrong prices on the website", "an export that never finishes",
        "a locked account", "missing order confirmations", "a laptop that won't boot",
        "the dashboard showing stale numbers", "a customer who can't download their receipt",
        "broken links in the help center", "duplicate notifications",
    ),
    "msg": (
        "the deploy is done", "I'm running late", "the report is ready",
        "the meeting moved to the afternoon", "lunch is here", "the invoice was paid",
        "I'll be offline this afternoon", "the build is green again", "the client signed",
        "we need their numbers by end of day", "the shipment arrived", "the slides are in the shared folder",
        "the server is back up", "I can cover the call", "please review my pull request",
        "the budget was approved", "the customer called back",
    ),
    "news": (
        "we hit our quarterly target", "the new expense policy is live",
        "the cafeteria is closed for renovation",
        "the office will be closed for the holiday", "benefits enrollment is open", "we launched the new app",
        "the parking garage is being repainted", "the fire drill is this afternoon",
        "we passed the security audit", "the travel policy has changed", "the holiday party is confirmed",
        "the new VPN client must be installed", "open enrollment closes soon", "we won the industry award",
        "the wellness program is starting",
    ),
    "topic": (
        "the budget", "the project timeline", "the contract renewal", "the quarterly review",
        "the migration plan", "the onboarding checklist", "the pricing change", "the vendor shortlist",
        "the holiday schedule", "the audit findings", "the product launch", "the new hire paperwork",
        "the customer escalation", "the hiring plan", "the roadmap",
    ),
    "reason": (
        "the amount is wrong", "it's a duplicate", "the receipt is missing", "it's over budget",
        "the vendor isn't approved", "wrong cost center", "the dates overlap with another request",
        "missing manager sign-off", "it needs a second quote", "the totals don't match",
        "we already paid this", "not enough detail",
    ),
    "intent_phrase": (
        "a leave request", "an invoice question", "a ticket status check", "a report request",
        "an access request", "a shipment question", "a payroll question", "a meeting request",
        "an expense claim", "a rollback", "an approval", "an outage report",
    ),
    "city": (
        "Paris", "Tokyo", "New York", "Rome", "Cairo", "Lima", "Oslo", "Bangkok", "Chicago", "Lisbon",
        "Vancouver", "Dublin", "Seoul", "Mexico City", "Cape Town", "Prague", "Berlin", "London",
    ),
    "country": (
        "France", "Japan", "Brazil", "Kenya", "Canada", "Australia", "Norway", "India", "Peru",
        "Egypt", "Iceland", "Vietnam", "Portugal", "Chile",
    ),
    "food": (
        "pizza", "sushi", "pancakes", "lasagna", "tacos", "banana bread", "ramen", "a burger",
        "pad thai", "guacamole", "chocolate cake", "risotto", "falafel", "dumplings", "a smoothie",
    ),
    "animal": (
        "cats", "dogs", "penguins", "octopuses", "sharks", "owls", "elephants", "dolphins", "giraffes",
        "koalas", "foxes", "bees",
    ),
    "celebrity": (
        "Taylor Swift", "Lionel Messi", "Beyonce", "Keanu Reeves", "Serena Williams", "Shakespeare",
        "Albert Einstein", "Adele", "LeBron James", "Marie Curie", "Bob Marley", "Frida Kahlo",
    ),
    "team": (
        "Lakers", "Yankees", "Real Madrid", "Arsenal", "Patriots", "Warriors", "Barcelona", "Celtics",
        "Manchester United", "Bulls", "Juventus", "Dodgers",
    ),
    "language": ("Spanish", "French", "Japanese", "German", "Italian", "Korean", "Portuguese", "Swahili"),
    "word": ("serendipity", "ubiquitous", "ephemeral", "hello", "thank you", "quixotic", "friend", "love"),
    "genre": ("jazz", "rock", "classical", "lo-fi", "country", "hip hop", "reggae", "techno", "blues"),
    "movie_genre": ("horror", "comedy", "sci-fi", "romance", "action", "documentary", "thriller"),
    "thing": (
        "a bike", "running shoes", "a cheap guitar", "a birthday present", "flowers", "a phone case",
        "a tent", "a new mattress", "concert tickets",
    ),
}  # fmt: skip

_CONSONANTS = "bcdfghjklmnprstvwxz"
_VOWELS = "aeiou"
_MASHES = ("asdf", "qwerty", "zxcv", "jkl", "hjkl", "uiop", "sdfg", "lkjh", "poiu", "mnbv", "fdsa")


def gibberish(rng: random.Random) -> str:
    """One to four nonsense words: keyboard mashes or random consonant-vowel strings."""
    words = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.4:
            words.append(rng.choice(_MASHES) + ("" if rng.random() < 0.5 else rng.choice(_MASHES)))
        else:
            length = rng.randint(3, 8)
            words.append("".join(rng.choice(_CONSONANTS if i % 2 == 0 else _VOWELS) for i in range(length)))
    return " ".join(words)


FILLER_NAMES: frozenset[str] = frozenset((*FILLERS, "gibberish", "number"))


def fill(name: str, rng: random.Random) -> str:
    """The text of filler ``<name>``; ``gibberish`` and ``number`` are generated."""
    if name == "gibberish":
        return gibberish(rng)
    if name == "number":
        return str(rng.randint(2, 99))
    return rng.choice(FILLERS[name])
