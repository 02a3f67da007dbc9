"""The REST endpoints: the route table and handlers that turn calls into service operations and JSON.

Response shapes follow Confluent Platform 8: schema entities carry `schemaType` and a
`guid`; registration answers the stored version (`id`, `version`, `guid`, `schemaType`,
`schema`), which older clients reading only `id` accept as well. `GET /schemas/types`
lists only AVRO, the one type this registry implements. `normalize` and `format`
parameters are accepted and ignored (schemas are always stored normalised).
"""

from __future__ import annotations

from tradewire import __version__
from tradewire.registry.records import JsonObject, SchemaVersion
from tradewire.registry.routing import (
    Call,
    Response,
    Route,
    json_response,
    parse_schema_id,
    parse_version,
    raw_json_response,
)
from tradewire.registry.schemas import SchemaRequest
from tradewire.registry.service import RegistryService

__all__ = ["ROUTES"]


def _references(stored: SchemaVersion) -> JsonObject:
    return {"references": [reference.to_json() for reference in stored.references]} if stored.references else {}


def schema_entity(stored: SchemaVersion) -> JsonObject:
    """A subject version as Confluent's `Schema` entity."""
    entity: JsonObject = {
        "subject": stored.subject,
        "version": stored.version,
        "id": stored.id,
        "guid": stored.guid,
        "schemaType": stored.schema_type,
        **_references(stored),
        "schema": stored.schema,
    }
    if stored.deleted:
        entity["deleted"] = True
    return entity


def _schema_id(call: Call) -> int:
    return parse_schema_id(call.params["id"])


# -- /subjects -----------------------------------------------------------------------------------
def list_subjects(service: RegistryService, call: Call) -> Response:
    names = service.subjects(
        prefix=call.text("subjectPrefix") or "",
        deleted=call.flag("deleted"),
        deleted_only=call.flag("deletedOnly", "deleted_only"),
    )
    return json_response(call.page(names))


def list_versions(service: RegistryService, call: Call) -> Response:
    versions = service.versions(
        call.params["subject"], deleted=call.flag("deleted"), deleted_only=call.flag("deletedOnly", "deleted_only")
    )
    return json_response(call.page(versions))


def get_version(service: RegistryService, call: Call) -> Response:
    version = parse_version(call.params["version"])
    return json_response(schema_entity(service.version(call.params["subject"], version, deleted=call.flag("deleted"))))


def get_version_schema(service: RegistryService, call: Call) -> Response:
    version = parse_version(call.params["version"])
    return raw_json_response(service.version(call.params["subject"], version, deleted=call.flag("deleted")).schema)


def get_referenced_by(service: RegistryService, call: Call) -> Response:
    version = parse_version(call.params["version"])
    ids = service.referenced_by(call.params["subject"], version, deleted=call.flag("deleted"))
    return json_response(call.page(ids))


def register(service: RegistryService, call: Call) -> Response:
    stored = service.register(call.params["subject"], SchemaRequest.from_json(call.body), force=call.flag("force"))
    body: JsonObject = {
        "id": stored.id,
        "version": stored.version,
        "guid": stored.guid,
        "schemaType": stored.schema_type,
        **_references(stored),
        "schema": stored.schema,
    }
    return json_response(body)


def lookup(service: RegistryService, call: Call) -> Response:
    request = SchemaRequest.from_json(call.body)
    return json_response(schema_entity(service.lookup(call.params["subject"], request, deleted=call.flag("deleted"))))


def delete_subject(service: RegistryService, call: Call) -> Response:
    return json_response(service.delete_subject(call.params["subject"], permanent=call.flag("permanent")))


def delete_version(service: RegistryService, call: Call) -> Response:
    version = parse_version(call.params["version"])
    return json_response(service.delete_version(call.params["subject"], version, permanent=call.flag("permanent")))


# -- /schemas ------------------------------------------------------------------------------------
def get_schema_by_id(service: RegistryService, call: Call) -> Response:
    schema_id = _schema_id(call)
    stored = service.schema_by_id(schema_id)
    body: JsonObject = {"schemaType": stored.schema_type, **_references(stored), "schema": stored.schema}
    body["guid"] = stored.guid
    subject = call.text("subject")
    carrier = next((c for c in service.carriers(schema_id, deleted=True) if c.subject == subject), None)
    if carrier is not None:
        body.update(subject=carrier.subject, version=carrier.version)
    if call.flag("fetchMaxId"):
        body["maxId"] = service.state.max_id
    return json_response(body)


def get_schema_by_id_raw(service: RegistryService, call: Call) -> Response:
    return raw_json_response(service.schema_by_id(_schema_id(call)).schema)


def get_subjects_of_id(service: RegistryService, call: Call) -> Response:
    carriers = service.carriers(_schema_id(call), deleted=call.flag("deleted"))
    return json_response(call.page(sorted({carrier.subject for carrier in carriers})))


def get_versions_of_id(service: RegistryService, call: Call) -> Response:
    carriers = service.carriers(_schema_id(call), deleted=call.flag("deleted"))
    return json_response(call.page([{"subject": c.subject, "version": c.version} for c in carriers]))


def get_schema_by_guid(service: RegistryService, call: Call) -> Response:
    stored = service.schema_by_guid(call.params["guid"])
    body: JsonObject = {"schemaType": stored.schema_type, **_references(stored), "schema": stored.schema}
    body["guid"] = stored.guid
    return json_response(body)


def get_schema_types(_service: RegistryService, _call: Call) -> Response:
    return json_response(["AVRO"])


# -- /compatibility ---------------------------------------------------------------------------------
def _compatibility(service: RegistryService, call: Call, version: int | None) -> Response:
    verbose = call.flag("verbose")
    verdict = service.test_compatibility(
        call.params["subject"], SchemaRequest.from_json(call.body), version, verbose=verbose
    )
    body: JsonObject = {"is_compatible": verdict.is_compatible}
    if verbose:
        body["messages"] = list(verdict.messages)
    return json_response(body)


def test_against_version(service: RegistryService, call: Call) -> Response:
    return _compatibility(service, call, parse_version(call.params["version"]))


def test_against_subject(service: RegistryService, call: Call) -> Response:
    return _compatibility(service, call, None)


# -- /config and /mode ------------------------------------------------------------------------------
def get_config(service: RegistryService, call: Call) -> Response:
    subject = call.params.get("subject")
    return json_response(service.config(subject, default_to_global=call.flag("defaultToGlobal")))


def put_config(service: RegistryService, call: Call) -> Response:
    return json_response(service.set_config(call.params.get("subject"), call.body))


def delete_config(service: RegistryService, call: Call) -> Response:
    return json_response(service.delete_config(call.params.get("subject")))


def get_mode(service: RegistryService, call: Call) -> Response:
    subject = call.params.get("subject")
    return json_response({"mode": service.mode(subject, default_to_global=call.flag("defaultToGlobal"))})


def put_mode(service: RegistryService, call: Call) -> Response:
    return json_response({"mode": service.set_mode(call.params.get("subject"), call.body, force=call.flag("force"))})


def delete_mode(service: RegistryService, call: Call) -> Response:
    return json_response({"mode": service.delete_mode(call.params.get("subject"))})


# -- the rest --------------------------------------------------------------------------------------
def root(_service: RegistryService, _call: Call) -> Response:
    return json_response({})


def list_contexts(_service: RegistryService, call: Call) -> Response:
    return json_response(call.page(["."]))


def list_associations(_service: RegistryService, _call: Call) -> Response:
    return json_response([])


def metadata_id(service: RegistryService, _call: Call) -> Response:
    cluster = service.store.cluster_id
    clusters = {"kafka-cluster": cluster, "schema-registry-cluster": "schema-registry"}
    return json_response({"id": cluster, "scope": {"path": [], "clusters": clusters}})


def metadata_version(_service: RegistryService, _call: Call) -> Response:
    return json_response({"version": f"tradewire-{__version__}", "commitId": ""})


_S = "/subjects/{subject}"
_V = _S + "/versions/{version}"
ROUTES = (
    Route("GET", "/", root),
    Route("GET", "/subjects", list_subjects),
    Route("GET", _S + "/versions", list_versions),
    Route("POST", _S + "/versions", register, takes_body=True),
    Route("GET", _V, get_version),
    Route("DELETE", _V, delete_version),
    Route("GET", _V + "/schema", get_version_schema),
    Route("GET", _V + "/referencedby", get_referenced_by),
    Route("POST", _S, lookup, takes_body=True),
    Route("DELETE", _S, delete_subject),
    Route("GET", "/schemas/ids/{id}", get_schema_by_id),
    Route("GET", "/schemas/ids/{id}/schema", get_schema_by_id_raw),
    Route("GET", "/schemas/ids/{id}/subjects", get_subjects_of_id),
    Route("GET", "/schemas/ids/{id}/versions", get_versions_of_id),
    Route("GET", "/schemas/guids/{guid}", get_schema_by_guid),
    Route("GET", "/schemas/types", get_schema_types),
    Route("POST", "/compatibility" + _S + "/versions", test_against_subject, takes_body=True),
    Route("POST", "/compatibility" + _V, test_against_version, takes_body=True),
    Route("GET", "/config", get_config),
    Route("PUT", "/config", put_config, takes_body=True),
    Route("DELETE", "/config", delete_config),
    Route("GET", "/config/{subject}", get_config),
    Route("PUT", "/config/{subject}", put_config, takes_body=True),
    Route("DELETE", "/config/{subject}", delete_config),
    Route("GET", "/mode", get_mode),
    Route("PUT", "/mode", put_mode, takes_body=True),
    Route("DELETE", "/mode", delete_mode),
    Route("GET", "/mode/{subject}", get_mode),
    Route("PUT", "/mode/{subject}", put_mode, takes_body=True),
    Route("DELETE", "/mode/{subject}", delete_mode),
    Route("GET", "/contexts", list_contexts),
    Route("GET", "/associations/resources/{namespace}/{name}", list_associations),
    Route("GET", "/v1/metadata/id", metadata_id),
    Route("GET", "/v1/metadata/version", metadata_version),
)
