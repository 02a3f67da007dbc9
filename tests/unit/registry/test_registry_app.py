"""Specification of `tradewire.registry.server.RegistryApp`: routing, parameters, bodies and error codes."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import pytest

from tradewire.registry import codes
from tradewire.registry.records import Record
from tradewire.registry.routing import Response
from tradewire.registry.server import RegistryApp
from tradewire.registry.store import MemoryStore

ORDER = '{"type":"record","name":"Order","fields":[{"name":"a","type":"int"}]}'
CLUSTERS = {"kafka-cluster": "", "schema-registry-cluster": "schema-registry"}
ORDER_V2 = '{"type":"record","name":"Order","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}'


@pytest.fixture
def app() -> RegistryApp:
    """An app over an empty memory store."""
    return RegistryApp(MemoryStore())


def _call(app: RegistryApp, method: str, target: str, body: Any = None, **headers: str) -> Response:
    raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
    return app.handle(method, target, headers, raw)


def _register(app: RegistryApp, subject: str, schema: str = ORDER) -> Any:
    response = _call(app, "POST", f"/subjects/{subject}/versions", {"schema": schema})
    assert 200 == response.status, response.body
    return response.json()


def test_register_answers_cp8_shape(app: RegistryApp) -> None:
    """Registration answers id, version, guid, schemaType and the normalised schema."""
    body = _register(app, "orders-value", json.dumps(json.loads(ORDER), indent=2))
    assert {"id": 1, "version": 1, "schemaType": "AVRO", "schema": ORDER} == {k: body[k] for k in body if k != "guid"}


def test_schema_entity(app: RegistryApp) -> None:
    """GET a version answers Confluent's Schema entity."""
    guid = _register(app, "s")["guid"]
    expected = {"subject": "s", "version": 1, "id": 1, "guid": guid, "schemaType": "AVRO", "schema": ORDER}
    assert expected == _call(app, "GET", "/subjects/s/versions/latest").json()


@pytest.mark.parametrize(
    ("method", "target", "status", "body"),
    [
        ("GET", "/nowhere", 404, {"error_code": 404, "message": "HTTP 404 Not Found"}),
        ("GET", "/schemas/ids/abc", 404, {"error_code": 404, "message": "HTTP 404 Not Found"}),
        ("PATCH", "/subjects", 405, {"error_code": 405, "message": "HTTP 405 Method Not Allowed"}),
        ("POST", "/config", 405, {"error_code": 405, "message": "HTTP 405 Method Not Allowed"}),
    ],
)
def test_unknown_paths_and_methods(app: RegistryApp, method: str, target: str, status: int, body: Any) -> None:
    """Unknown paths answer Jersey's 404, known paths with another method Jersey's 405."""
    response = _call(app, method, target)
    assert (status, body) == (response.status, response.json())


def test_malformed_json_is_400(app: RegistryApp) -> None:
    """A body that is not JSON is 400 / 400."""
    response = _call(app, "POST", "/subjects/s/versions", b'{"schema":')
    assert (400, 400) == (response.status, response.json()["error_code"])
    assert response.json()["message"].startswith("Malformed JSON in the request body: ")


def test_missing_body_is_422(app: RegistryApp) -> None:
    """A body-taking endpoint without a body is 422 / 422."""
    response = _call(app, "PUT", "/config", b"  ")
    assert (422, {"error_code": 422, "message": "Request body is missing"}) == (response.status, response.json())


def test_body_over_the_limit_is_413() -> None:
    """A body larger than the limit is refused with 413 and a message naming both sizes."""
    app = RegistryApp(MemoryStore(), max_request_bytes=10)
    response = _call(app, "POST", "/subjects/s/versions", b'{"schema":"x"}')
    expected = {"error_code": 413, "message": "Request body of 14 bytes exceeds the limit of 10 bytes"}
    assert (413, expected) == (response.status, response.json())


def test_basic_auth() -> None:
    """With basic auth, missing or wrong credentials are 401 with a challenge; right ones pass."""
    app = RegistryApp(MemoryStore(), basic_auth=("dev", "s3cret"))
    right = "Basic " + base64.b64encode(b"dev:s3cret").decode()
    wrong = "Basic " + base64.b64encode(b"dev:guess").decode()
    missing = _call(app, "GET", "/subjects")
    refused = _call(app, "GET", "/subjects", Authorization=wrong)
    garbled = _call(app, "GET", "/subjects", Authorization="Basic !!!")
    allowed = _call(app, "GET", "/subjects", authorization=right)
    assert (401, {"error_code": 401, "message": "Unauthorized"}) == (missing.status, missing.json())
    assert {"WWW-Authenticate": 'Basic realm="tradewire-registry"'} == dict(missing.headers)
    assert (401, 401) == (refused.status, garbled.status)
    assert (200, []) == (allowed.status, allowed.json())


def test_percent_encoded_subjects(app: RegistryApp) -> None:
    """%2F in a subject is a slash inside one path segment."""
    _register(app, "team%2Forders")
    assert ["team/orders"] == _call(app, "GET", "/subjects").json()
    assert [1] == _call(app, "GET", "/subjects/team%2Forders/versions").json()


@pytest.mark.parametrize(("query", "expected"), [("deleted=TRUE", ["s"]), ("deleted=False", []), ("", [])])
def test_boolean_query_parameters(app: RegistryApp, query: str, expected: list[str]) -> None:
    """Boolean parameters are true only for `true` in any case."""
    _register(app, "s")
    _call(app, "DELETE", "/subjects/s")
    assert expected == _call(app, "GET", f"/subjects?{query}").json()


@pytest.mark.parametrize("name", ["deletedOnly", "deleted_only"])
def test_deleted_only_in_both_spellings(app: RegistryApp, name: str) -> None:
    """deletedOnly (the server's name) and deleted_only (what the Python client sends) both filter."""
    _register(app, "s")
    _register(app, "s", ORDER_V2)
    _register(app, "t")
    _call(app, "DELETE", "/subjects/s/versions/1")
    assert ["s"] == _call(app, "GET", f"/subjects?{name}=true").json()
    assert [1] == _call(app, "GET", f"/subjects/s/versions?{name}=true").json()


def test_subject_prefix_and_pagination(app: RegistryApp) -> None:
    """subjectPrefix filters, offset and limit page the sorted list."""
    for subject in ("a-1", "a-2", "a-3", "b-1"):
        _register(app, subject)
    assert ["a-2", "a-3"] == _call(app, "GET", "/subjects?subjectPrefix=a-&offset=1&limit=5").json()
    assert ["a-1"] == _call(app, "GET", "/subjects?limit=1").json()


@pytest.mark.parametrize("version", ["0", "-2", "abc", "2147483648", "1.5"])
def test_invalid_versions(app: RegistryApp, version: str) -> None:
    """Version ids outside `latest`, -1 and 1..2^31-1 are 42202 quoting the id."""
    _register(app, "s")
    response = _call(app, "GET", f"/subjects/s/versions/{version}")
    expected = (
        f"The specified version '{version}' is not a valid version id. "
        'Allowed values are between [1, 2^31-1] and the string "latest"'
    )
    assert (422, 42202, expected) == (response.status, response.json()["error_code"], response.json()["message"])


def test_raw_schema_endpoints(app: RegistryApp) -> None:
    """The /schema endpoints answer the schema document itself."""
    _register(app, "s")
    assert ORDER.encode() == _call(app, "GET", "/subjects/s/versions/1/schema").body
    assert ORDER.encode() == _call(app, "GET", "/schemas/ids/1/schema").body


def test_schema_by_id_with_subject_and_max_id(app: RegistryApp) -> None:
    """The id endpoint adds subject and version when `subject` carries the id, and maxId on request."""
    guid = _register(app, "s")["guid"]
    _register(app, "t", ORDER_V2)
    plain = _call(app, "GET", "/schemas/ids/1?subject=unrelated").json()
    located = _call(app, "GET", "/schemas/ids/1?subject=s&fetchMaxId=true").json()
    assert {"schemaType": "AVRO", "schema": ORDER, "guid": guid} == plain
    assert {"schemaType": "AVRO", "schema": ORDER, "guid": guid, "subject": "s", "version": 1, "maxId": 2} == located


def test_schema_by_guid(app: RegistryApp) -> None:
    """A guid from a registration resolves to its schema; an unknown one is 40403."""
    guid = _register(app, "s")["guid"]
    assert ORDER == _call(app, "GET", f"/schemas/guids/{guid}").json()["schema"]
    assert 40403 == _call(app, "GET", "/schemas/guids/00000000-0000-0000-0000-000000000000").json()["error_code"]


def test_subjects_and_versions_of_an_id(app: RegistryApp) -> None:
    """An id lists its live subjects and subject versions; soft-deleted ones with deleted=true."""
    _register(app, "s")
    _register(app, "t")
    _call(app, "DELETE", "/subjects/t")
    assert ["s"] == _call(app, "GET", "/schemas/ids/1/subjects").json()
    assert ["s", "t"] == _call(app, "GET", "/schemas/ids/1/subjects?deleted=true").json()
    assert [{"subject": "s", "version": 1}] == _call(app, "GET", "/schemas/ids/1/versions").json()
    assert 40403 == _call(app, "GET", "/schemas/ids/9/subjects").json()["error_code"]


def test_compatibility_endpoints(app: RegistryApp) -> None:
    """Compatibility answers is_compatible, and messages only when verbose."""
    _register(app, "s")
    incompatible = {"schema": '{"type":"record","name":"Order","fields":[{"name":"a","type":"string"}]}'}
    plain = _call(app, "POST", "/compatibility/subjects/s/versions/latest", incompatible).json()
    verbose = _call(app, "POST", "/compatibility/subjects/s/versions?verbose=true", incompatible).json()
    assert {"is_compatible": False} == plain
    assert "{validateFields: 'false', compatibility: 'BACKWARD'}" == verbose["messages"][-1]


def test_config_endpoints(app: RegistryApp) -> None:
    """GET answers compatibilityLevel, PUT takes compatibility (echoed), DELETE answers the old config."""
    assert {"compatibilityLevel": "BACKWARD"} == _call(app, "GET", "/config").json()
    assert {"compatibility": "FORWARD"} == _call(app, "PUT", "/config/s", {"compatibility": "forward"}).json()
    assert {"compatibilityLevel": "FORWARD"} == _call(app, "GET", "/config/s").json()
    assert {"compatibilityLevel": "BACKWARD"} == _call(app, "GET", "/config/t?defaultToGlobal=true").json()
    assert {"compatibilityLevel": "FORWARD"} == _call(app, "DELETE", "/config/s").json()
    assert 40408 == _call(app, "GET", "/config/s").json()["error_code"]
    assert 42203 == _call(app, "PUT", "/config", {"compatibility": "sometimes"}).json()["error_code"]


def test_mode_endpoints(app: RegistryApp) -> None:
    """Mode GET/PUT/DELETE, globally and per subject, with 40409 and 42204."""
    assert {"mode": "READWRITE"} == _call(app, "GET", "/mode").json()
    assert {"mode": "READONLY"} == _call(app, "PUT", "/mode/s", {"mode": "READONLY"}).json()
    assert {"mode": "READONLY"} == _call(app, "GET", "/mode/s").json()
    assert {"mode": "READWRITE"} == _call(app, "GET", "/mode/t?defaultToGlobal=TRUE").json()
    assert 40409 == _call(app, "GET", "/mode/t").json()["error_code"]
    assert 42204 == _call(app, "PUT", "/mode", {"mode": "FAST"}).json()["error_code"]
    assert {"mode": "READONLY"} == _call(app, "DELETE", "/mode/s").json()


@pytest.mark.parametrize(
    ("target", "body"),
    [
        ("/", {}),
        ("/contexts", ["."]),
        ("/schemas/types", ["AVRO"]),
        ("/associations/resources/-/orders?resourceType=topic&associationType=value", []),
        ("/v1/metadata/id", {"id": "", "scope": {"path": [], "clusters": CLUSTERS}}),
    ],
)
def test_small_endpoints(app: RegistryApp, target: str, body: Any) -> None:
    """Root, contexts, types, associations and cluster metadata answer fixed bodies."""
    response = _call(app, "GET", target)
    assert (200, body) == (response.status, response.json())


class _FailingStore(MemoryStore):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def write(self, records: Sequence[Record]) -> None:
        raise self.error


def test_store_failure_is_50001() -> None:
    """A store error reaches the client as 500 / 50001 with its message."""
    app = RegistryApp(_FailingStore(codes.store_error("Writing to _schemas failed: broker down")))
    response = _call(app, "POST", "/subjects/s/versions", {"schema": ORDER})
    assert (500, {"error_code": 50001, "message": "Writing to _schemas failed: broker down"}) == (
        response.status,
        response.json(),
    )


def test_unexpected_failure_is_500() -> None:
    """An unexpected exception is 500 / 500 'Internal Server Error' (details only in the log)."""
    app = RegistryApp(_FailingStore(RuntimeError("boom")))
    response = _call(app, "POST", "/subjects/s/versions", {"schema": ORDER})
    assert (500, {"error_code": 500, "message": "Internal Server Error"}) == (response.status, response.json())


BODY_ENDPOINTS = [
    ("POST", "/subjects/s/versions"),
    ("POST", "/subjects/s"),
    ("POST", "/compatibility/subjects/s/versions"),
    ("POST", "/compatibility/subjects/s/versions/1"),
    ("PUT", "/config"),
    ("PUT", "/config/s"),
    ("PUT", "/mode"),
    ("PUT", "/mode/s"),
]


def _nested_in_object(depth: int) -> bytes:
    inner = depth - 1  # the enclosing object is the first level
    return b'{"schema": "\\"string\\"", "compatibility": "NONE", "extra": ' + b"[" * inner + b"]" * inner + b"}"


@pytest.mark.parametrize(("method", "target"), BODY_ENDPOINTS)
def test_json_nested_past_the_limit_is_400(app: RegistryApp, method: str, target: str) -> None:
    """An otherwise valid body with an extra member nested 501 deep is 400 / 400 naming the limit, not a 500."""
    _register(app, "s", '"string"')
    response = _call(app, method, target, _nested_in_object(501))
    message = "Malformed JSON in the request body: JSON nesting depth 501 exceeds the maximum allowed (500)"
    assert (400, {"error_code": 400, "message": message}) == (response.status, response.json())


def test_json_nested_up_to_the_limit_is_read(app: RegistryApp) -> None:
    """A body nested exactly 500 deep is read as usual (the unknown member ignored)."""
    _register(app, "s", '"string"')
    response = _call(app, "PUT", "/config/s", _nested_in_object(500))
    assert (200, {"compatibility": "NONE"}) == (response.status, response.json())


@pytest.mark.parametrize("content_type", ["*/*", "application/*", "*/plain", " application/json ; charset=latin-1"])
def test_wildcard_and_parameterised_media_types_are_accepted(app: RegistryApp, content_type: str) -> None:
    """Media types compatible with a consumed one (JAX-RS wildcards, parameters ignored) are accepted."""
    response = _call(app, "POST", "/subjects/s/versions", {"schema": ORDER}, **{"Content-Type": content_type})
    assert 200 == response.status


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_media_type_is_checked_without_a_body(app: RegistryApp, method: str) -> None:
    """Like Jersey, whose resources consume JSON on every method, a GET or DELETE declaring text/plain is 415."""
    _register(app, "s")
    response = _call(app, method, "/subjects/s/versions/1", **{"Content-Type": "text/plain"})
    assert (415, {"error_code": 415, "message": "HTTP 415 Unsupported Media Type"}) == (
        response.status,
        response.json(),
    )
    assert 200 == _call(app, "GET", "/subjects/s/versions/1").status


@pytest.mark.parametrize("content_type", ["json", "application/", "/json", "application json", ""])
def test_malformed_content_type_is_400(app: RegistryApp, content_type: str) -> None:
    """A Content-Type that is not type/subtype is 400 / 400 naming it."""
    response = _call(app, "POST", "/subjects/s/versions", {"schema": ORDER}, **{"Content-Type": content_type})
    expected = {"error_code": 400, "message": f"Malformed Content-Type header {content_type!r}"}
    assert (400, expected) == (response.status, response.json())


def test_media_type_is_checked_after_auth_and_routing() -> None:
    """Without credentials the answer is 401, on an unknown path 404, on a wrong method 405, and only then 415."""
    app = RegistryApp(MemoryStore(), basic_auth=("dev", "s3cret"))
    right = "Basic " + base64.b64encode(b"dev:s3cret").decode()
    plain = {"Content-Type": "text/plain"}
    answers = [
        _call(app, "POST", "/subjects/s/versions", {"schema": ORDER}, **plain).status,
        _call(app, "POST", "/no/such/path", {}, Authorization=right, **plain).status,
        _call(app, "PUT", "/subjects", {}, Authorization=right, **plain).status,
        _call(app, "POST", "/subjects/s/versions", {"schema": ORDER}, Authorization=right, **plain).status,
    ]
    assert [401, 404, 405, 415] == answers


@pytest.mark.parametrize("raw_id", ["%D9%A1", "%EF%BC%91", "+", "-", ""])
def test_schema_ids_are_ascii_digits(app: RegistryApp, raw_id: str) -> None:
    """Only ASCII digits make an id: Arabic-Indic or full-width digits, or a bare sign, are Jersey's 404."""
    _register(app, "s")
    response = _call(app, "GET", f"/schemas/ids/{raw_id}/schema")
    assert (404, 404) == (response.status, response.json()["error_code"])


def test_signed_schema_ids_are_read_as_java_does(app: RegistryApp) -> None:
    """`+1` and `01` name schema 1; `-1` is a well-formed id that names no schema (40403)."""
    _register(app, "s")
    answers = [_call(app, "GET", f"/schemas/ids/{raw}/schema").status for raw in ("+1", "01")]
    missing = _call(app, "GET", "/schemas/ids/-1")
    assert ([200, 200], (404, 40403)) == (answers, (missing.status, missing.json()["error_code"]))


@pytest.mark.parametrize(
    ("raw_version", "quoted"), [("%D9%A1", "\u0661"), ("%201_0", " 1_0"), ("+0", "0"), ("%2000", "0")]
)
def test_versions_are_ascii_digits(app: RegistryApp, raw_version: str, quoted: str) -> None:
    """Non-ASCII digits or underscores are 42202 quoting the text; a well-formed 0 quotes the number read."""
    _register(app, "s")
    response = _call(app, "GET", f"/subjects/s/versions/{raw_version}")
    assert (422, 42202) == (response.status, response.json()["error_code"])
    assert response.json()["message"].startswith(f"The specified version '{quoted}' is not a valid version id.")


def _register_chain(app: RegistryApp, length: int) -> list[int]:
    """Register `length` subjects, each a record using the previous subject's record by reference."""
    statuses = []
    for index in range(length):
        fields = [{"name": "a", "type": "int"}]
        body: dict[str, Any] = {}
        if index:
            fields.append({"name": "previous", "type": f"R{index - 1}"})
            body["references"] = [{"name": f"R{index - 1}", "subject": f"chain-{index - 1}", "version": 1}]
        body["schema"] = json.dumps({"type": "record", "name": f"R{index}", "fields": fields})
        statuses.append(_call(app, "POST", f"/subjects/chain-{index}/versions", body).status)
    return statuses


def test_a_reference_chain_as_deep_as_allowed_registers(app: RegistryApp) -> None:
    """127 schemas each referencing the previous one (types 128 deep) register, and the last one's next version is
    checked for compatibility through the whole chain."""
    assert [200] * 127 == _register_chain(app, 127)
    fields = [{"name": "a", "type": "int"}, {"name": "previous", "type": "R125"}, {"name": "b", "type": "int"}]
    body = {
        "schema": json.dumps({"type": "record", "name": "R126", "fields": fields}),
        "references": [{"name": "R125", "subject": "chain-125", "version": 1}],
    }
    response = _call(app, "POST", "/subjects/chain-126/versions", body)
    assert (409, 409) == (response.status, response.json()["error_code"])


def test_a_reference_chain_too_deep_is_an_invalid_schema(app: RegistryApp) -> None:
    """The 128th schema of a chain (types 129 deep) is 42201 naming the limit, not a RecursionError 500."""
    statuses = _register_chain(app, 127)
    fields = [{"name": "a", "type": "int"}, {"name": "previous", "type": "R126"}]
    body = {
        "schema": json.dumps({"type": "record", "name": "R127", "fields": fields}),
        "references": [{"name": "R126", "subject": "chain-126", "version": 1}],
    }
    response = _call(app, "POST", "/subjects/chain-127/versions", body)
    message = "Invalid schema: types nest 129 levels deep (counting the types it references); at most 128 are allowed"
    assert [200] * 127 == statuses
    assert (422, {"error_code": 42201, "message": message + " (at /)"}) == (response.status, response.json())
