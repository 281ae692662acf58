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
        "an expense claim", "a rollback", "an approval", "an outage report", "a room booking",
        "an email", "a message", "a purchase order", "a security incident", "a retry", "a new ticket",
        "a sync job", "an onboarding request", "a leave balance question", "an announcement",
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
    # --- out-of-scope domains (everyday life, never enterprise work) ---
    "number_word": (
        "sixty", "two hundred and thirty one", "twelve", "seventy five", "a hundred", "three thousand",
        "nineteen", "eighty", "forty two", "fifteen", "nine hundred", "thirty three", "eleven",
        "one hundred and twenty", "six", "fifty five", "two thousand", "eighteen",
    ),
    "clock_time": (
        "5 am", "five am", "6:30", "seven thirty", "noon", "7 in the morning", "quarter past six",
        "6am", "5:45 am", "eight o'clock", "nine pm", "half past seven", "10 pm", "six fifteen", "six",
        "seven", "4:30",
    ),
    "timer": (
        "10 minutes", "five minutes", "twenty minutes", "half an hour", "an hour", "3 minutes",
        "ninety seconds", "45 minutes", "eight minutes", "two hours", "thirty seconds", "12 minutes",
    ),
    "chore": (
        "buy milk", "call the plumber", "pick up the dry cleaning", "water the plants", "feed the cat",
        "take out the trash", "pick up the kids", "walk the dog", "pay the rent", "renew my passport",
        "get gas", "do the laundry", "call grandma", "pick up my prescription", "return the library books",
        "defrost the chicken", "book a haircut", "mow the lawn", "buy a birthday card",
    ),
    "family": (
        "mom", "dad", "my wife", "my husband", "my sister", "my brother", "grandma", "my son",
        "my daughter", "my girlfriend", "my boyfriend", "my roommate", "my best friend", "my mum",
        "my parents", "the babysitter", "my neighbor", "my aunt",
    ),
    "device": (
        "the kitchen lights", "the living room lamp", "my wemo socket", "the smart plug", "the bedroom fan",
        "the tv", "the thermostat", "the porch light", "the coffee maker", "the robot vacuum",
        "the air purifier", "the hallway lights", "the christmas tree lights", "the space heater",
        "the garden sprinklers", "the bathroom light", "the dishwasher", "the ceiling fan",
        "the nightlight", "the hue bulbs", "the kasa plug", "the humidifier",
    ),
    "home_room": (
        "kitchen", "living room", "bedroom", "bathroom", "garage", "basement", "hallway", "dining room",
        "nursery", "den", "backyard", "attic",
    ),
    "grocery": (
        "eggs", "milk", "bananas", "bread", "olive oil", "avocados", "cereal", "chicken breasts", "rice",
        "tomatoes", "cheese", "oat milk", "dish soap", "peanut butter", "apples", "yogurt", "onions",
        "toilet paper", "laundry detergent",
    ),
    "cuisine": (
        "italian", "thai", "mexican", "indian", "japanese", "vegan", "chinese", "greek", "korean",
        "ethiopian", "french", "vietnamese", "lebanese", "spanish tapas",
    ),
    "store": (
        "target", "walmart", "costco", "best buy", "ikea", "the grocery store", "trader joe's",
        "home depot", "the mall", "whole foods", "the pharmacy", "aldi",
    ),
    "shop_site": (
        "amazon", "etsy", "ebay", "target", "walmart", "best buy", "ikea", "zara", "nike", "wayfair",
    ),
    "consumer_product": (
        "a ps5", "an air fryer", "dog food", "cat litter", "diapers", "contact lenses", "a yoga mat",
        "protein powder", "sneakers", "a new phone", "headphones", "a coffee grinder", "a winter coat",
        "a lego set", "an electric toothbrush", "a rug", "vitamins", "a stroller",
    ),
    "app": (
        "spotify", "netflix", "youtube", "instagram", "tiktok", "candy crush", "duolingo", "whatsapp",
        "the weather app", "google maps", "hulu", "disney plus", "the camera", "snapchat", "pinterest",
    ),
    "setting": (
        "bluetooth", "wifi", "airplane mode", "do not disturb", "dark mode", "night mode",
        "location services", "the ringer", "battery saver", "my hotspot", "auto brightness",
        "the flashlight", "silent mode", "subtitles",
    ),
    "bill": (
        "electric bill", "phone bill", "water bill", "gas bill", "cable bill", "internet bill", "rent",
        "car payment", "mortgage", "credit card bill", "student loan", "car insurance",
    ),
    "bank": (
        "chase", "my bank", "wells fargo", "my credit union", "bank of america", "my savings account",
        "my checking account", "citibank", "my joint account", "my visa", "my mastercard", "my amex",
    ),
    "sport": (
        "soccer", "basketball", "tennis", "golf", "baseball", "the nba", "formula one", "the world cup",
        "the olympics", "hockey", "cricket", "the super bowl", "the premier league", "the tour de france",
    ),
    "game": (
        "chess", "tic tac toe", "trivia", "twenty questions", "hangman", "rock paper scissors",
        "a word game", "sudoku", "would you rather", "a riddle", "i spy",
    ),
    "news_topic": (
        "politics", "the election", "the stock market", "technology", "science", "the economy",
        "world news", "celebrity gossip", "the climate summit", "space exploration", "local news",
    ),
    "conversion": (
        "5 miles to kilometers", "100 fahrenheit to celsius", "3 cups to milliliters", "ten pounds to kilos",
        "six feet in meters", "a gallon in liters", "20 centimeters in inches", "two tablespoons in grams",
        "70 kilograms in pounds", "a mile in feet", "350 degrees to celsius", "12 ounces to grams",
        "a marathon in miles", "one acre in square meters", "eighty kilometers per hour in mph",
    ),
    "playlist": (
        "my workout playlist", "my road trip mix", "my liked songs", "the top 40", "something relaxing",
        "my chill playlist", "some christmas music", "the latest album by Adele", "my running mix",
        "some music for cooking", "my sleep sounds", "rainy day jazz", "my dinner party playlist",
    ),
    "personal_event": (
        "my mom's birthday", "the dentist", "soccer practice", "date night", "my haircut", "book club",
        "the kids' recital", "yoga class", "our anniversary dinner", "the vet appointment",
        "the parent teacher conference", "my piano lesson", "the plumber visit", "my sister's wedding",
    ),
    "airline": (
        "delta", "united", "southwest", "lufthansa", "ryanair", "emirates", "american airlines",
        "jetblue", "air france", "easyjet", "british airways", "qantas",
    ),
    # personal bookings, cards and gadgets: the everyday side of the near misses in ``oos``
    "restaurant": (
        "olive garden", "the steakhouse on fifth", "nobu", "that new thai place", "the cheesecake factory",
        "the italian place downtown", "the sushi bar", "the french bistro", "the pizza place on main",
        "the ramen shop", "the tapas bar", "the seafood place by the pier", "the diner", "the rooftop bar",
    ),
    "hotel": (
        "the hilton", "the marriott", "a holiday inn", "the hyatt", "a best western", "the ritz",
        "a hostel", "a bed and breakfast", "the sheraton", "a beach resort", "the four seasons", "a motel",
    ),
    "appointment": (
        "haircut", "doctor's appointment", "dentist appointment", "hair appointment", "eye exam",
        "massage", "manicure", "checkup", "physical", "physio session", "teeth cleaning",
        "barber appointment", "dermatologist appointment", "therapy session", "flu shot",
    ),
    "event": (
        "the concert", "the opera", "hamilton", "the movies", "the new marvel movie", "the museum",
        "the football game", "the zoo", "the comedy show", "the ballet", "the basketball game",
        "the theme park", "the play", "the aquarium", "the music festival",
    ),
    "card": (
        "my visa", "my mastercard", "my amex", "my discover card", "my chase card", "my credit card",
        "my capital one card", "my debit card", "my store card", "my card", "my sapphire card",
        "my citi card",
    ),
    "gadget": (
        "my phone", "my iphone", "my android", "my tablet", "my ipad", "my smartwatch",
        "my kindle", "my smart tv", "my echo", "my pixel", "my samsung", "my apple watch", "my airpods",
    ),
}  # fmt: skip

_CONSONANTS = "bcdfghjklmnprstvwxz"
_VOWELS = "aeiou"
MASHES = ("asdf", "qwerty", "zxcv", "jkl", "hjkl", "uiop", "sdfg", "lkjh", "poiu", "mnbv", "fdsa")


def gibberish(rng: random.Random) -> str:
    """One to four nonsense words: keyboard mashes or random consonant-vowel strings."""
    words = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.4:
            words.append(rng.choice(MASHES) + ("" if rng.random() < 0.5 else rng.choice(MASHES)))
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
