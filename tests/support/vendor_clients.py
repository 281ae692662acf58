"""Connector resources on the session's emulators, for tests that put data in or read effects back.

A test reaches a vendor the way EAS does, through the connector's client. Each ``*_resource`` builds
the resource from the sandbox's ``EAS_*`` settings; ``options`` carry what the test decides (Redis,
the CA, its own breaker prefix, retries). :func:`reader` wraps a resource's client for a fixture.
One place per vendor, so that a connector's settings change in one spot.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from typing import Any

from eas_pipelines.connectors.opsgenie import OpsgenieResource
from eas_pipelines.connectors.quickbooks import QuickBooksResource
from eas_pipelines.connectors.s3 import S3ConnectorResource
from eas_pipelines.connectors.sap import SapResource
from eas_pipelines.connectors.servicenow import ServiceNowResource


def reader_options(env: Mapping[str, str], redis_url: str, breaker_prefix: str) -> dict[str, Any]:
    """A reading client's options: the emulators' CA, and a breaker apart from the workflow's (a test
    that takes a vendor down must still read what happened)."""
    return {
        "ca_bundle": env["EAS_CONNECTOR_CA_BUNDLE"],
        "redis_url": redis_url,
        "breaker_prefix": breaker_prefix,
    }


def sap_resource(env: Mapping[str, str], **options: Any) -> SapResource:
    return SapResource(
        base_url=env["EAS_SAP_URL"], user=env["EAS_SAP_USER"], password=env["EAS_SAP_PASSWORD"], **options
    )


def servicenow_resource(env: Mapping[str, str], **options: Any) -> ServiceNowResource:
    return ServiceNowResource(
        base_url=env["EAS_SERVICENOW_URL"],
        user=env["EAS_SERVICENOW_USER"],
        password=env["EAS_SERVICENOW_PASSWORD"],
        **options,
    )


def quickbooks_resource(env: Mapping[str, str], **options: Any) -> QuickBooksResource:
    return QuickBooksResource(
        base_url=env["EAS_QUICKBOOKS_URL"],
        token_url=env["EAS_QUICKBOOKS_TOKEN_URL"],
        client_id=env["EAS_QUICKBOOKS_CLIENT_ID"],
        client_secret=env["EAS_QUICKBOOKS_CLIENT_SECRET"],
        refresh_token=env["EAS_QUICKBOOKS_REFRESH_TOKEN"],
        realm_id=env["EAS_QUICKBOOKS_REALM_ID"],
        **options,
    )


def s3_resource(env: Mapping[str, str], **options: Any) -> S3ConnectorResource:
    return S3ConnectorResource(
        endpoint_url=env["EAS_S3_ENDPOINT_URL"],
        region_name=env["EAS_S3_REGION"],
        aws_access_key_id=env["EAS_AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["EAS_AWS_SECRET_ACCESS_KEY"],
        **options,
    )


def opsgenie_resource(env: Mapping[str, str], **options: Any) -> OpsgenieResource:
    return OpsgenieResource(base_url=env["EAS_OPSGENIE_URL"], api_key=env["EAS_OPSGENIE_API_KEY"], **options)


@contextmanager
def reader(resource: Any) -> Iterator[Any]:
    """The resource's client, closed when the test is done."""
    with closing(resource.client()) as client:
        yield client
