"""AWS S3 through boto3, with the client dagster-aws's ``S3Resource`` builds: documents and reports.

botocore retries on its own; here it makes one attempt (``total_max_attempts=1``) so that every outcome
goes through :meth:`ConnectorResource.guarded` and the breaker counts it. ``ClientError`` codes are
translated: S3's throttle answer (503 ``SlowDown``), 5xx and timeouts are :class:`Transient`; other
codes (``NoSuchBucket``, ``AccessDenied``...) are :class:`VendorRejected`. A ``get`` of a missing key
returns None: a read's answer, not a failure. PUT overwrites, so it is idempotent by key; with
``if_none_match`` the write is conditional (``If-None-Match: *``), and a retry that finds the very
bytes it wrote (same MD5 ETag) is taken as its own earlier success.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import boto3
import dagster as dg
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from dagster_aws.s3 import S3Resource
from pydantic import BaseModel, Field

from eas_pipelines.connectors.base import CA_BUNDLE_SETTING, ConnectorResource, optional_env
from eas_pipelines.connectors.retry import Transient, VendorRejected, parse_retry_after

PAGE_SIZE = 1000
TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "InternalError",
        "ServiceUnavailable",
    }
)


class S3Object(BaseModel):
    """One object of a listing."""

    key: str
    size: int
    etag: str
    last_modified: datetime | None = None


class PutResult(BaseModel):
    bucket: str
    key: str
    etag: str


def classify(exc: Exception, action: str) -> Exception:
    """The connector error for a botocore failure (returned, for the caller to raise)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = str(error.get("Code", ""))
        status = meta.get("HTTPStatusCode")
        message = f"s3: {action}: {code or status}: {error.get('Message', '')}".rstrip(": ")
        if code in TRANSIENT_CODES or status == 429 or (status is not None and status >= 500):
            retry_after = parse_retry_after(meta.get("HTTPHeaders", {}).get("retry-after"))
            return Transient(message, status=status, retry_after=retry_after)
        return VendorRejected(message, status=status, code=code or None)
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return Transient(f"s3: {action}: {type(exc).__name__}: {exc}")
    return exc


class S3Client:
    """Typed S3 calls; each is one botocore attempt, retried and guarded by the resource."""

    def __init__(self, resource: S3ConnectorResource):
        self._resource = resource
        self.boto = resource.boto_client()

    def _call(self, action: str, method: str, **kwargs: Any) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            try:
                return getattr(self.boto, method)(**kwargs)
            except (ClientError, BotoConnectionError, HTTPClientError) as exc:
                raise classify(exc, action) from exc

        return self._resource.guarded(attempt)

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        if_none_match: bool = False,
    ) -> PutResult:
        """Store ``data`` under ``key``; with ``if_none_match`` only when the key is new."""
        args: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": data, "ContentType": content_type}
        if if_none_match:
            args["IfNoneMatch"] = "*"
        try:
            answer = self._call(f"put {bucket}/{key}", "put_object", **args)
        except VendorRejected as refused:
            if refused.code != "PreconditionFailed":
                raise
            existing = self.head(bucket, key)
            if existing is None or existing.strip('"') != hashlib.md5(data).hexdigest():  # noqa: S324
                raise
            return PutResult(bucket=bucket, key=key, etag=existing)
        return PutResult(bucket=bucket, key=key, etag=answer["ETag"])

    def head(self, bucket: str, key: str) -> str | None:
        """The object's ETag, or None when there is no such key."""
        try:
            return self._call(f"head {bucket}/{key}", "head_object", Bucket=bucket, Key=key)["ETag"]
        except VendorRejected as refused:
            if refused.status == 404:
                return None
            raise

    def get(self, bucket: str, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such key (a missing bucket is refused)."""

        def attempt() -> bytes | None:
            try:
                return self.boto.get_object(Bucket=bucket, Key=key)["Body"].read()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NoSuchKey":
                    return None
                raise classify(exc, f"get {bucket}/{key}") from exc
            except (BotoConnectionError, HTTPClientError) as exc:
                raise classify(exc, f"get {bucket}/{key}") from exc

        return self._resource.guarded(attempt)

    def list(self, bucket: str, prefix: str = "") -> list[S3Object]:
        """Every object under ``prefix``, following ``NextContinuationToken``."""
        found: list[S3Object] = []
        token: str | None = None
        while True:
            args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": PAGE_SIZE}
            if token:
                args["ContinuationToken"] = token
            page = self._call(f"list {bucket}/{prefix}", "list_objects_v2", **args)
            found += [
                S3Object(
                    key=item["Key"],
                    size=item.get("Size", 0),
                    etag=item.get("ETag", ""),
                    last_modified=item.get("LastModified"),
                )
                for item in page.get("Contents", [])
            ]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return found

    def ensure_bucket(self, bucket: str) -> None:
        """Create ``bucket`` unless it exists (owned by us already counts as done)."""
        try:
            self._call(f"head bucket {bucket}", "head_bucket", Bucket=bucket)
            return
        except VendorRejected as refused:
            if refused.status != 404:
                raise
        args: dict[str, Any] = {"Bucket": bucket}
        region = self._resource.region_name
        if region and region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self._call(f"create bucket {bucket}", "create_bucket", **args)
        except VendorRejected as refused:
            if refused.code != "BucketAlreadyOwnedByYou":
                raise

    def close(self) -> None:
        self.boto.close()


class S3ConnectorResource(ConnectorResource):
    """S3: region, endpoint (the emulator's, or none for AWS) and keys (``EAS_S3_*``, ``EAS_AWS_*``).

    The fields are dagster-aws ``S3Resource``'s; :meth:`s3_resource` gives that resource, whose
    ``get_client()`` builds the boto3 client used here (one botocore attempt, path-style addressing
    when an endpoint is set, the CA bundle as ``verify``).
    """

    system = "s3"
    builds_client_offline = True

    region_name: str | None = Field(default=None, description="AWS region (EAS_S3_REGION)")
    endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint (EAS_S3_ENDPOINT_URL)")
    use_ssl: bool = Field(default=True, description="use TLS")
    aws_access_key_id: str | None = Field(default=None, description="EAS_AWS_ACCESS_KEY_ID")
    aws_secret_access_key: str | None = Field(default=None, description="EAS_AWS_SECRET_ACCESS_KEY")
    aws_session_token: str | None = Field(default=None, description="EAS_AWS_SESSION_TOKEN")
    profile_name: str | None = Field(default=None, description="AWS profile, when keys are not given")
    documents_bucket: str = Field(
        default="eas-documents",
        description="bucket of the documents agents read and write by bare key (EAS_S3_DOCUMENTS_BUCKET)",
    )

    def s3_resource(self) -> S3Resource:
        """dagster-aws's resource with these settings (botocore retries off: ``guarded`` retries)."""
        return S3Resource(
            region_name=self.region_name,
            endpoint_url=self.endpoint_url,
            max_attempts=1,
            use_ssl=self.use_ssl,
            verify=self.trusted_ca,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
            profile_name=self.profile_name,
        )

    def boto_client(self) -> Any:
        """The boto3 S3 client ``S3Resource.get_client()`` builds, plus timeouts and path-style addressing.

        ``S3Resource`` takes no botocore ``Config``, so the same session and arguments are used here
        with one that also sets timeouts and, for an S3-compatible endpoint, path-style addressing.
        """
        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},  # one attempt: guarded retries
            connect_timeout=self.timeout_s,
            read_timeout=self.timeout_s,
            s3={"addressing_style": "path"} if self.endpoint_url else None,
        )
        session = boto3.session.Session(profile_name=self.profile_name)
        return session.client(
            "s3",
            region_name=self.region_name,
            endpoint_url=self.endpoint_url,
            use_ssl=self.use_ssl,
            verify=self.trusted_ca,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
            config=config,
        )

    def client(self) -> S3Client:
        return self.reused_client(S3Client)

    @classmethod
    def from_env(cls, redis_url: str | dg.EnvVar) -> S3ConnectorResource:
        return cls(
            redis_url=redis_url,
            ca_bundle=optional_env(CA_BUNDLE_SETTING),
            region_name=optional_env("EAS_S3_REGION"),
            endpoint_url=optional_env("EAS_S3_ENDPOINT_URL"),
            aws_access_key_id=optional_env("EAS_AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=optional_env("EAS_AWS_SECRET_ACCESS_KEY"),
            aws_session_token=optional_env("EAS_AWS_SESSION_TOKEN"),
            **({"documents_bucket": bucket} if (bucket := optional_env("EAS_S3_DOCUMENTS_BUCKET")) else {}),
        )
