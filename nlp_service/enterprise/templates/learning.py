"""Templates for the learning agent: feedback on how a request was classified."""

from __future__ import annotations

TEMPLATES: dict[str, tuple[str, ...]] = {
    "learning.classification_feedback": (
        "that was wrong, I meant <intent_phrase>",
        "wrong intent",
        "you misunderstood me",
        "that's not what I asked (for|)",
        "(no|nope), that was supposed to be <intent_phrase>",
        "the classification for {request_id} was (wrong|incorrect)",
        "mark that as <intent_phrase> (instead|)",
        "that should have been routed to {department}",
        "good (answer|job), that was (correct|right)",
        "incorrect classification, it should be <intent_phrase>",
        "feedback: the answer was (right|correct|spot on)",
        "you got it wrong again",
        "that's the wrong category",
        "(thumbs up|thumbs down) on the last (answer|classification)",
        "label this as <intent_phrase>",
        "request {request_id} went to the wrong agent, it was <intent_phrase>",
    ),
}
