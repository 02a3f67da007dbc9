"""Confluent's error codes and messages, one constructor per error the registry answers with.

The HTTP status is the class of the code (first three digits), except for the framework
errors (400, 404, 405, 413, 415, 422, 500) whose `error_code` equals the status. Messages follow
Confluent's `Errors.java` wording so that clients matching on them keep working.

Incompatible schemas answer 409 with `error_code` 409, as CP up to 8.0.3 / 8.1.1 and
Karapace do; CP 8.0.4 / 8.1.2 and later say 40901. Clients treat both as "incompatible".
"""

from __future__ import annotations

from collections.abc import Sequence

from tradewire.errors import RegistryError

__all__ = [
    "INCOMPATIBLE_SCHEMA_CODE",
    "bad_request",
    "id_conflict",
    "incompatible_schema",
    "internal_error",
    "invalid_compatibility_level",
    "invalid_mode",
    "invalid_schema",
    "invalid_subject",
    "invalid_version",
    "method_not_allowed",
    "missing_body",
    "not_found",
    "operation_not_permitted",
    "reference_exists",
    "schema_not_found",
    "store_error",
    "subject_level_compatibility_not_configured",
    "subject_level_mode_not_configured",
    "subject_not_found",
    "subject_not_soft_deleted",
    "subject_soft_deleted",
    "too_large",
    "unsupported_media_type",
    "version_not_found",
    "version_not_soft_deleted",
    "version_soft_deleted",
]

INCOMPATIBLE_SCHEMA_CODE = 409


def _error(status: int, code: int, message: str) -> RegistryError:
    return RegistryError(message, http_status=status, error_code=code)


def bad_request(detail: str) -> RegistryError:
    """400: the body is not JSON, or not JSON of the expected shape."""
    return _error(400, 400, detail)


def not_found() -> RegistryError:
    """404: no resource at this path (Jersey's answer)."""
    return _error(404, 404, "HTTP 404 Not Found")


def method_not_allowed() -> RegistryError:
    """405: the path exists but not with this method (Jersey's answer)."""
    return _error(405, 405, "HTTP 405 Method Not Allowed")


def too_large(size: int, limit: int) -> RegistryError:
    """413: the request body exceeds the configured limit."""
    return _error(413, 413, f"Request body of {size} bytes exceeds the limit of {limit} bytes")


def unsupported_media_type() -> RegistryError:
    """415: the request's Content-Type is not one the registry consumes (Jersey's answer)."""
    return _error(415, 415, "HTTP 415 Unsupported Media Type")


def missing_body() -> RegistryError:
    """422: the endpoint needs a JSON body and got none."""
    return _error(422, 422, "Request body is missing")


def internal_error() -> RegistryError:
    """500: an unexpected failure (the details are logged, not sent)."""
    return _error(500, 500, "Internal Server Error")


def store_error(detail: str) -> RegistryError:
    """50001: the backing store (Kafka) failed."""
    return _error(500, 50001, detail)


def subject_not_found(subject: str) -> RegistryError:
    """40401."""
    return _error(404, 40401, f"Subject '{subject}' not found.")


def version_not_found(version: int | str) -> RegistryError:
    """40402."""
    return _error(404, 40402, f"Version {version} not found.")


def schema_not_found(schema_id: int | str | None = None) -> RegistryError:
    """40403: an unknown id, or (without one) a schema not registered under the subject."""
    return _error(404, 40403, "Schema not found" if schema_id is None else f"Schema {schema_id} not found")


def subject_soft_deleted(subject: str) -> RegistryError:
    """40404: soft-deleting a subject that is already soft-deleted."""
    return _error(404, 40404, f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently")


def subject_not_soft_deleted(subject: str) -> RegistryError:
    """40405: permanently deleting a subject that still has live versions."""
    return _error(404, 40405, f"Subject '{subject}' was not deleted first before being permanently deleted")


def version_soft_deleted(subject: str, version: int) -> RegistryError:
    """40406: soft-deleting a version that is already soft-deleted."""
    return _error(
        404, 40406, f"Subject '{subject}' Version {version} was soft deleted.Set permanent=true to delete permanently"
    )


def version_not_soft_deleted(subject: str, version: int) -> RegistryError:
    """40407: permanently deleting a live version."""
    return _error(
        404, 40407, f"Subject '{subject}' Version {version} was not deleted first before being permanently deleted"
    )


def subject_level_compatibility_not_configured(subject: str) -> RegistryError:
    """40408: `GET /config/{subject}` for a subject without its own level (and no defaultToGlobal)."""
    return _error(404, 40408, f"Subject '{subject}' does not have subject-level compatibility configured")


def subject_level_mode_not_configured(subject: str) -> RegistryError:
    """40409: `GET /mode/{subject}` for a subject without its own mode (and no defaultToGlobal)."""
    return _error(404, 40409, f"Subject '{subject}' does not have subject-level mode configured")


def incompatible_schema(subject: str, messages: Sequence[str]) -> RegistryError:
    """409: the schema breaks the subject's compatibility level."""
    return _error(
        409,
        INCOMPATIBLE_SCHEMA_CODE,
        f'Schema being registered is incompatible with an earlier schema for subject "{subject}", '
        f"details: [{', '.join(messages)}]",
    )


def invalid_schema(detail: str) -> RegistryError:
    """42201: the schema does not parse, its type is unsupported, or a reference does not resolve."""
    return _error(422, 42201, detail)


def invalid_version(text: str) -> RegistryError:
    """42202."""
    return _error(
        422,
        42202,
        f"The specified version '{text}' is not a valid version id. "
        'Allowed values are between [1, 2^31-1] and the string "latest"',
    )


def invalid_compatibility_level() -> RegistryError:
    """42203."""
    return _error(
        422,
        42203,
        "Invalid compatibility level. Valid values are none, backward, forward, full, "
        "backward_transitive, forward_transitive, and full_transitive",
    )


def invalid_mode(mode: object) -> RegistryError:
    """42204."""
    return _error(
        422, 42204, f"Invalid mode {mode}. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT"
    )


def operation_not_permitted(detail: str) -> RegistryError:
    """42205: the mode forbids the operation."""
    return _error(422, 42205, detail)


def reference_exists(subject: str, version: int) -> RegistryError:
    """42206: deleting a version other live schemas reference."""
    return _error(
        422,
        42206,
        f"One or more references exist to the schema {{magic=1,keytype=SCHEMA,subject={subject},version={version}}}.",
    )


def id_conflict(schema_id: int) -> RegistryError:
    """42207: an import gives an id that already names a different schema."""
    return _error(422, 42207, f"Overwrite new schema with id {schema_id} is not permitted.")


def invalid_subject(subject: str) -> RegistryError:
    """42208."""
    return _error(422, 42208, f"The specified subject {subject!r} is not valid.")
