"""Fixtures of the Dagster code location's tests (see tests/eas_pipelines/dagster_support.py), and
clients that read back, through the connectors, what a workflow left in an emulated system."""

from collections.abc import Iterator

import pytest

from eas_pipelines.connectors.quickbooks import QuickBooksClient
from eas_pipelines.connectors.sap import SapClient
from eas_pipelines.connectors.servicenow import ServiceNowClient
from tests.eas_pipelines.dagster_support import (  # noqa: F401 - re-exported fixtures
    dagster_instance,
    eas_resources,
    store,
)
from tests.eas_pipelines.staff_support import Staff
from tests.support.vendor_clients import (
    quickbooks_resource,
    reader,
    reader_options,
    sap_resource,
    servicenow_resource,
)


@pytest.fixture
def reading(sandbox_session, redis_url: str, redis_key_prefix: str) -> dict:
    """Options of a test's reading clients: their breaker apart from the workflow's."""
    return reader_options(sandbox_session.env, redis_url, f"{redis_key_prefix}reader")


@pytest.fixture
def sap(sandbox_session, reading: dict) -> Iterator[SapClient]:
    """A SAP client on the emulator, to set up and read back purchase orders, invoices and stock."""
    with reader(sap_resource(sandbox_session.env, **reading)) as client:
        yield client


@pytest.fixture
def servicenow(sandbox_session, reading: dict) -> Iterator[ServiceNowClient]:
    """A ServiceNow client on the emulator, to read the incidents the workflow left there."""
    with reader(servicenow_resource(sandbox_session.env, **reading)) as client:
        yield client


@pytest.fixture
def quickbooks(sandbox_session, reading: dict) -> Iterator[QuickBooksClient]:
    """A QuickBooks client on the emulator, to read back the expenses and bills the workflow booked."""
    with reader(quickbooks_resource(sandbox_session.env, **reading)) as client:
        yield client


@pytest.fixture
def staff(sandbox_session, redis_url: str, breaker_prefix: str) -> Staff:
    """This test's people in BambooHR (hired with balances and a supervisor as a test needs)."""
    return Staff(sandbox_session, redis_url, breaker_prefix)
