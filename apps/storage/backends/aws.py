"""AWS Secrets Manager: one secret per certificate named ``<prefix>/<tenant>/<kind>/<escaped identifier>``,
its SecretString the JSON of the bundle's files.

Secrets Manager keeps a secret's versions by staging label, and deletes versions left without one. Each
stored version therefore carries the label ``v<version>`` beside AWSCURRENT, so read(version=N) asks
for label vN. AWS allows 20 labels per secret: the newest KEPT_VERSIONS keep theirs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

import boto3
from botocore import exceptions as aws_errors
from botocore.config import Config

from apps.storage.backends.base import Bundle, StorageBackend, StorageError, StoredItem
from apps.storage.backends.secrets_codec import (
    bundle_from_secret,
    decode_files,
    encode_files,
    parse_secret_name,
    remote_summary,
    tenant_folder,
)
from apps.storage.naming import secret_name
from certmate.egress import platform_identity

logger = logging.getLogger(__name__)

T = TypeVar("T")

KEPT_VERSIONS = 10  # plus AWSCURRENT and AWSPREVIOUS, well under AWS's 20 labels per secret
_VERSION_LABEL = re.compile(r"v(\d+)")
_NOT_FOUND = "ResourceNotFoundException"
# Worth another try later. ResourceExists: another writer created the same secret a moment ago.
_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalServiceError",
        "InternalFailure",
        "ServiceUnavailable",
        "RequestTimeout",
        "ResourceExistsException",
    }
)
_CREDENTIAL_CODES = frozenset(
    {
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredTokenException",
    }
)


def _label(version: int) -> str:
    return f"v{version}"


class _Version(NamedTuple):
    version_id: str
    stages: tuple[str, ...]
    files: dict[str, Any]


class AwsSecretsManagerBackend(StorageBackend):
    name = "aws_secrets_manager"
    location_fields = ("region", "prefix", "endpoint_url")
    egress_url_fields = {"endpoint_url": ("https", "http")}
    destination_fields = ("region", "endpoint_url")
    label = "AWS Secrets Manager"
    setting_fields = {
        "region": "the AWS region, e.g. eu-west-1",
        "prefix": "first part of every secret name",
        "endpoint_url": "another endpoint, e.g. a VPC endpoint (optional)",
        "kms_key_id": "KMS key to encrypt new secrets with, instead of aws/secretsmanager (optional)",
    }
    credential_fields = {
        "access_key_id": "an IAM access key id (leave all empty to use the platform's default credentials)",
        "secret_access_key": "its secret access key",
        "session_token": "a session token, for temporary credentials (optional)",
    }
    defaults = {"prefix": "certmate", "endpoint_url": "", "kms_key_id": ""}
    keeps_versions = True
    platform_credentials_fallback = True

    def __init__(self, *, tenant: str, settings: Mapping[str, Any], credentials: Mapping[str, Any]):
        super().__init__(tenant=tenant, settings=settings, credentials=credentials)
        self.region = str(self.settings.get("region") or "")
        if not self.region:
            raise StorageError("AWS Secrets Manager needs a region", transient=False)
        if bool(self.credentials.get("access_key_id")) != bool(self.credentials.get("secret_access_key")):
            raise StorageError("give both access_key_id and secret_access_key, or neither", transient=False)
        self.folder = tenant_folder(self.settings["prefix"], tenant)
        self._client: Any = None

    def describe(self) -> str:
        return f"{self.label} ({self._where()}, {self.folder}/)"

    # --- the interface ---
    def store(self, bundle: Bundle) -> None:
        name = self._name(bundle.kind, bundle.identifier)
        label = _label(bundle.version)
        current = self._fetch(name, bundle.kind, bundle.identifier)
        if current is None:
            created = self._call(f"create {name}", lambda sm: sm.create_secret(**self._new_secret(name, bundle)))
            self._move_label(name, label, to=created["VersionId"])
            return
        if current.files == bundle.files():
            if label not in current.stages:  # an earlier store stopped before labelling it
                self._move_label(name, label, to=current.version_id)
            return  # an equal version would only push real history out
        # Labelled vN first, then made current: moving AWSCURRENT by itself leaves other labels alone
        # (moto's put_secret_value with AWSCURRENT strips them from the version it replaces).
        put = self._call(
            f"store {name}",
            lambda sm: sm.put_secret_value(SecretId=name, SecretString=encode_files(bundle), VersionStages=[label]),
        )
        self._move_label(name, "AWSCURRENT", to=put["VersionId"], away_from=current.version_id)
        self._unlabel_old_versions(name)

    def read(self, kind: str, identifier: str, version: int | None = None) -> Bundle | None:
        name = self._name(kind, identifier)
        found = self._fetch(name, kind, identifier, stage="AWSCURRENT" if version is None else _label(version))
        if found is None:
            return None
        bundle = bundle_from_secret(kind, identifier, found.files)
        return bundle if version in (None, bundle.version) else None

    def list(self) -> list[StoredItem]:
        # AWS matches the name filter as a case-insensitive prefix: parse_secret_name checks it exactly.
        names = self._call(
            f"list {self.folder}/",
            lambda sm: [
                secret["Name"]
                for page in sm.get_paginator("list_secrets").paginate(
                    Filters=[{"Key": "name", "Values": [f"{self.folder}/"]}]
                )
                for secret in page["SecretList"]
            ],
        )
        items = []
        for name in names:
            parsed = parse_secret_name(self.folder, name)
            found = None if parsed is None else self._fetch(name, *parsed)
            if found is None:
                continue
            try:
                items.append(StoredItem(*parsed, bundle_from_secret(*parsed, found.files).version))
            except StorageError as exc:
                if exc.transient:
                    raise
                logger.warning("skipping %s: %s", name, exc.reason)  # damaged: the next store overwrites it
        return items

    def delete(self, kind: str, identifier: str) -> None:
        name = self._name(kind, identifier)
        self._call(
            f"delete {name}",
            lambda sm: sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True),
            missing_ok=True,
        )

    def test_connection(self) -> None:
        self._call("list secrets", lambda sm: sm.list_secrets(MaxResults=1))

    # --- secrets ---
    def _name(self, kind: str, identifier: str) -> str:
        return secret_name(self.settings["prefix"], self.tenant, kind, identifier)

    def _new_secret(self, name: str, bundle: Bundle) -> dict[str, Any]:
        tags = {"certmate-tenant": self.tenant, "certmate-kind": bundle.kind, "certmate-identifier": bundle.identifier}
        arguments: dict[str, Any] = {
            "Name": name,
            "SecretString": encode_files(bundle),
            "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
        }
        if self.settings["kms_key_id"]:
            arguments["KmsKeyId"] = self.settings["kms_key_id"]
        return arguments

    def _fetch(self, name: str, kind: str, identifier: str, *, stage: str = "AWSCURRENT") -> _Version | None:
        """The version carrying ``stage``; None when there is none."""
        answer = self._call(
            f"read {name}", lambda sm: sm.get_secret_value(SecretId=name, VersionStage=stage), missing_ok=True
        )
        if answer is None:
            return None
        if "SecretString" not in answer:
            raise StorageError(f"{name} holds binary data, not CertMate's files", transient=False)
        files = decode_files(kind, identifier, answer["SecretString"])
        return _Version(answer["VersionId"], tuple(answer.get("VersionStages", ())), files)

    def _move_label(self, name: str, stage: str, *, to: str, away_from: str | None = None) -> None:
        more = {"RemoveFromVersionId": away_from} if away_from else {}
        self._call(
            f"label a version of {name} {stage}",
            lambda sm: sm.update_secret_version_stage(SecretId=name, VersionStage=stage, MoveToVersionId=to, **more),
        )

    def _unlabel_old_versions(self, name: str) -> None:
        labelled = []
        token = None
        while True:  # list_secret_version_ids has no boto3 paginator
            page = self._version_page(name, token)
            for version in page["Versions"]:
                for stage in version.get("VersionStages", []):
                    if match := _VERSION_LABEL.fullmatch(stage):
                        labelled.append((int(match[1]), stage, version["VersionId"]))
            token = page.get("NextToken")
            if not token:
                break
        for _number, stage, version_id in sorted(labelled)[:-KEPT_VERSIONS]:
            self._unlabel(name, stage, version_id)

    def _version_page(self, name: str, token: str | None) -> dict[str, Any]:
        more = {"NextToken": token} if token else {}
        return self._call(
            f"list versions of {name}", lambda sm: sm.list_secret_version_ids(SecretId=name, MaxResults=100, **more)
        )

    def _unlabel(self, name: str, stage: str, version_id: str) -> None:
        self._call(
            f"remove label {stage} of {name}",
            lambda sm: sm.update_secret_version_stage(
                SecretId=name, VersionStage=stage, RemoveFromVersionId=version_id
            ),
        )

    # --- connection and errors ---
    def _call(self, action: str, operation: Callable[[Any], T], *, missing_ok: bool = False) -> T | None:
        """``operation`` on the client; with ``missing_ok``, None when the secret (or the asked
        version) is not there."""
        try:
            return operation(self._connect())
        except aws_errors.ClientError as error:
            if missing_ok and _gone(error):
                return None
            raise self._error(action, error) from error
        except aws_errors.BotoCoreError as error:
            raise self._error(action, error) from error
        except (KeyError, TypeError, AttributeError):  # an answer without the fields AWS's API always has
            raise StorageError(
                f"{self._where()} answered {action} with something that is not AWS's API; check the endpoint_url",
                transient=False,
            ) from None

    def _connect(self) -> Any:
        if self._client is None:
            # All three None means boto3's default chain: environment, profile, the platform's role.
            session = boto3.session.Session(
                aws_access_key_id=self.credentials.get("access_key_id") or None,
                aws_secret_access_key=self.credentials.get("secret_access_key") or None,
                aws_session_token=self.credentials.get("session_token") or None,
                region_name=self.region,
            )
            if not self.credentials:
                # The platform lends its own role: fetched here, from where the platform's environment says
                # (instance metadata, container endpoint), which the egress rule rightly refuses to tenants.
                with platform_identity():
                    lent = session.get_credentials()
                    frozen = lent.get_frozen_credentials() if lent else None
                if frozen is not None:
                    session = boto3.session.Session(
                        aws_access_key_id=frozen.access_key,
                        aws_secret_access_key=frozen.secret_key,
                        aws_session_token=frozen.token,
                        region_name=self.region,
                    )
            config = Config(connect_timeout=5, read_timeout=15, retries={"mode": "standard", "max_attempts": 3})
            try:
                self._client = session.client(
                    "secretsmanager", endpoint_url=self.settings["endpoint_url"] or None, config=config
                )
            except ValueError as error:  # botocore's answer to a malformed endpoint_url or region
                raise StorageError(f"{self._where()}: {error}", transient=False) from error
        return self._client

    def _where(self) -> str:
        endpoint = self.settings["endpoint_url"]
        return f"AWS Secrets Manager in {self.region}" + (f" at {endpoint}" if endpoint else "")

    def _error(self, action: str, error: Exception) -> StorageError:
        where = self._where()
        secrets = [self.credentials.get(name) for name in ("access_key_id", "secret_access_key", "session_token")]
        if isinstance(error, aws_errors.SSLError):
            return StorageError(f"{where}: TLS verification failed while trying to {action}", transient=False)
        if isinstance(error, aws_errors.ConnectionError | aws_errors.HTTPClientError):
            return StorageError(f"{where} could not be reached to {action}: {type(error).__name__}")
        if isinstance(error, aws_errors.NoCredentialsError | aws_errors.PartialCredentialsError):
            return StorageError(
                f"{where}: no AWS credentials to {action}; give an access key, or give the platform a role",
                transient=False,
            )
        if not isinstance(error, aws_errors.ClientError):
            return StorageError(f"{where} could not {action}: {remote_summary(str(error), secrets)}", transient=False)
        code = remote_summary(error.response.get("Error", {}).get("Code", ""))
        # One short line: some servers put a whole XML error document, or a whole page, in the message.
        message = remote_summary(error.response.get("Error", {}).get("Message", ""), secrets)
        if not code or code.isdigit():
            # No error type: the body was not AWS's JSON (botocore then passes the whole page as the message).
            code, message = f"HTTP {code or 'error'}", "the answer is not AWS's API; check the endpoint_url"
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in _TRANSIENT_CODES or status >= 500 or _being_deleted(error):
            return StorageError(f"{where} failed to {action}: {code}: {message}")
        refused = code in _CREDENTIAL_CODES or status in (401, 403)
        hint = "; check the access key and its IAM policy" if refused else ""
        return StorageError(f"{where} refused to {action}: {code}: {message}{hint}", transient=False)


def _being_deleted(error: aws_errors.ClientError) -> bool:
    # A force-deleted secret lingers for a few seconds, refusing reads and re-creation meanwhile.
    details = error.response.get("Error", {})
    return details.get("Code") == "InvalidRequestException" and "deletion" in details.get("Message", "").lower()


def _gone(error: aws_errors.ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == _NOT_FOUND or _being_deleted(error)


__all__ = ["KEPT_VERSIONS", "AwsSecretsManagerBackend"]
