"""Templates for the scheduling agent: meetings and bookable resources.

Times of day ("at 3pm") are not an entity in this data set and stay ``O``.
"""

from __future__ import annotations

TEMPLATES: dict[str, tuple[str, ...]] = {
    "scheduling.meeting_schedule": (
        "schedule a meeting with {employee} (on {date:on}|{date})",
        "set up a (call|meeting) with {employee} for {duration}",
        "book a meeting in {room} (on {date:on}|{date}) (at 2pm|at 10am|at noon|)",
        "find a time for me and {employee} {date_range}",
        "(can you|please) schedule a (1:1|one on one) with {employee}",
        "block {duration} with {employee} (on {date:on}|{date})",
        "invite {employee} and {employee} to a meeting (on {date:on}|{date})",
        "schedule (a|the) (standup|review|planning session) for {department} (on {date:on}|{date})",
        "arrange a call with {vendor} (on {date:on}|{date})",
        "set a meeting for {date} in {room} with {employee}",
        "I need {duration} with {employee} sometime {date_range}",
        "meeting request: {employee}, {date:on}, {duration}, {room}",
        "move my meeting with {employee} to {date}",
        "when is {employee} free {date_range}",
        "schedule a (kickoff|review|retro) on {date:on} for {duration}",
        "put a sync with {department} on the calendar for {date}",
        "get {employee}, {employee} and me together for {duration} (on {date:on}|{date_range})",
    ),
    "scheduling.resource_booking": (
        "book {room} (for {date}|on {date:on})",
        "reserve {room} for {duration} (on {date:on}|{date})",
        "is {room} (free|available) (on {date:on}|{date})",
        "I need a desk (in|at) {location} (on {date:on}|{date})",
        "book a (projector|pool car|parking spot|van) for {date}",
        "reserve a (car|van|company car) for {date_range}",
        "grab {room} for {duration}",
        "book a room for {quantity} people (on {date:on}|{date})",
        "can I get {room} {date} for {duration}",
        "hold {room} (on {date:on}|{date}) (all day|for {duration})",
        "reserve the (loading dock|forklift|lab) at {location} for {date_range}",
        "room booking: {room}, {date:on}, {duration}",
        "cancel my booking of {room} (on {date:on}|{date})",
        "find me a free meeting room (in {location}|) for {quantity} people",
        "book a hot desk (in|at) {location} for {date_range}",
        "is there parking at {location} for {quantity} cars {date}",
    ),
}
