"""The Outlook calendar emulator (Microsoft Graph) through EAS's connector: MSAL sign-in, people and
rooms, free/busy, events (a room's auto-accept and decline, ``transactionId`` on a retried create),
paging, throttling and outages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pybreaker
import pytest

from eas_pipelines.connectors.outlook_calendar import (
    Attendee,
    OutlookCalendarClient,
    OutlookCalendarResource,
)
from eas_pipelines.connectors.retry import ConnectorUnavailable, VendorRejected
from eas_sandbox.vendors import outlook_calendar as emulator

MONDAY = datetime(2030, 1, 7, tzinfo=UTC)  # the emulator keeps no clock: any day will do
DANA, LEE = "dana.smith@eas.example.com", "lee.wong@eas.example.com"
EVEREST = "everest@eas.example.com"


def resource(sandbox, redis_key_prefix: str, redis_url: str, **overrides) -> OutlookCalendarResource:
    env = sandbox.env
    options = {
        "authority": env["EAS_OUTLOOK_AUTHORITY"],
        "client_id": env["EAS_OUTLOOK_CLIENT_ID"],
        "client_secret": env["EAS_OUTLOOK_CLIENT_SECRET"],
        "graph_url": env["EAS_OUTLOOK_GRAPH_URL"],
        "organizer": env["EAS_OUTLOOK_ORGANIZER"],
        "ca_bundle": sandbox.ca_bundle,
        "redis_url": redis_url,
        "breaker_prefix": f"{redis_key_prefix}circuit",
        "initial_backoff_s": 0.01,
        "max_backoff_s": 2.0,
        "max_attempts": 3,
        "breaker_fail_max": 2,
    }
    return OutlookCalendarResource(**{**options, **overrides})


@pytest.fixture
def calendar(sandbox, redis_key_prefix, redis_url) -> Iterator[OutlookCalendarClient]:
    with closing(resource(sandbox, redis_key_prefix, redis_url).client()) as client:
        yield client


def at(hour: int, minute: int = 0) -> datetime:
    return MONDAY.replace(hour=hour, minute=minute)


def test_msal_sign_in_then_people_and_rooms(calendar, sandbox):
    assert [r.name for r in calendar.rooms()] == [name for name, *_ in emulator.SEEDED_ROOMS]
    everest = next(r for r in calendar.rooms() if r.name == "Everest")
    assert (everest.address, everest.capacity, everest.building) == (EVEREST, 12, "HQ")
    (dana,) = calendar.people_named("Dana Smith")
    assert (dana.address, dana.department) == (DANA, "Engineering")
    assert [p.name for p in calendar.people_named("Lee")] == ["Lee Wong"]  # startswith when none is exact
    assert calendar.person(DANA.upper()) == dana and calendar.person("nobody@eas.example.com") is None
    assert {p.name for p in calendar.department("Finance")} == {"Omar Haddad", "Grace Kim"}

    calls = sandbox.calls("outlook_calendar")
    assert calls[0]["path"].endswith("/v2.0/.well-known/openid-configuration")
    token = next(c for c in calls if c["path"].endswith("/oauth2/v2.0/token"))
    assert "grant_type=client_credentials" in token["body"]
    graph = [c for c in calls if "/v1.0/" in c["path"]]
    assert all(c["headers"]["authorization"].startswith("Bearer ") for c in graph)
    assert sum(c["path"].endswith("/oauth2/v2.0/token") for c in calls) == 1  # MSAL's cache


def test_free_busy_after_an_event_with_a_room(calendar):
    made = calendar.create_event(
        DANA,
        "Design review",
        at(14),
        at(15),
        attendees=[Attendee(address=LEE, name="Lee Wong"), Attendee(address=EVEREST, type="resource")],
        transaction_id="t-1",
        location=next(r for r in calendar.rooms() if r.address == EVEREST),
    )
    assert made.organizer == DANA and made.location == "Everest" and made.ical_uid
    assert made.response_of(EVEREST) == "accepted" and made.response_of(LEE) == "none"

    found = calendar.schedules(DANA, [DANA, LEE, EVEREST, "ghost@eas.example.com"], at(9), at(17))
    assert [(b.start, b.end, b.status) for b in found[DANA].busy] == [(at(14), at(15), "busy")]
    assert [b.status for b in found[LEE].busy] == ["tentative"]  # invited, not yet answered
    assert [b.subject for b in found[EVEREST].busy] == ["Design review"]
    assert found["ghost@eas.example.com"].error and not found["ghost@eas.example.com"].items
    assert calendar.schedules(DANA, [DANA], at(15), at(16))[DANA].busy == ()  # end is exclusive

    (copy,) = calendar.calendar_view(EVEREST, at(0), at(23))
    assert copy.ical_uid == made.ical_uid and copy.id != made.id
    assert calendar.event(DANA, made.id) == made and calendar.event(DANA, copy.id) is None


def test_a_room_declines_a_clash_and_a_retried_create_is_the_same_event(calendar):
    everest = Attendee(address=EVEREST, type="resource")
    first = calendar.create_event(DANA, "One", at(10), at(11), attendees=[everest], transaction_id="a")
    again = calendar.create_event(DANA, "One", at(10), at(11), attendees=[everest], transaction_id="a")
    assert again.id == first.id
    assert len(calendar.calendar_view(DANA, at(0), at(23))) == 1

    clash = calendar.create_event(LEE, "Two", at(10, 30), at(11, 30), attendees=[everest], transaction_id="b")
    assert clash.response_of(EVEREST) == "declined"
    assert [e.subject for e in calendar.calendar_view(EVEREST, at(0), at(23))] == ["One"]


def test_refusals_and_paging(calendar, sandbox, monkeypatch):
    with pytest.raises(VendorRejected) as unknown:
        calendar.create_event("nobody@eas.example.com", "x", at(9), at(10), attendees=[], transaction_id="c")
    assert unknown.value.status == 404 and "nobody@eas.example.com" in str(unknown.value)
    with pytest.raises(VendorRejected) as backwards:
        calendar.schedules(DANA, [DANA], at(10), at(9))
    assert backwards.value.status == 400

    monkeypatch.setattr("eas_pipelines.connectors.outlook_calendar.PAGE_SIZE", 3)
    assert len(calendar.rooms()) == len(emulator.SEEDED_ROOMS)
    pages = [c for c in sandbox.calls("outlook_calendar") if c["path"].endswith("microsoft.graph.room")]
    assert len(pages) == 2 and "%24skip=3" in pages[-1]["query"]


def test_bad_secret_is_a_refusal(sandbox, redis_key_prefix, redis_url):
    wrong = resource(sandbox, redis_key_prefix, redis_url, client_secret="wrong")
    with closing(wrong.client()) as client, pytest.raises(VendorRejected, match="invalid_client"):
        client.rooms()


def test_throttling_is_retried_and_an_outage_opens_the_breaker(calendar, sandbox):
    calendar.rooms()  # signed in: the faults below meet Graph's calls, not the token's
    sandbox.fault("throttle", "outlook_calendar", retry_after_s=0.05)
    assert len(calendar.rooms()) == len(emulator.SEEDED_ROOMS)

    sandbox.fault("error", "outlook_calendar", status=503, rate=1.0)
    started = datetime.now(UTC)
    with pytest.raises(ConnectorUnavailable):
        calendar.rooms()
    with pytest.raises((ConnectorUnavailable, pybreaker.CircuitBreakerError)):
        calendar.rooms()
    with pytest.raises(pybreaker.CircuitBreakerError):  # open: fails fast, Graph not called
        calendar.rooms()
    assert datetime.now(UTC) - started < timedelta(seconds=30)
