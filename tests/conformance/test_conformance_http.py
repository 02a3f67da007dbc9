"""Conformance: HTTP conventions (unknown paths, wrong methods, bad bodies) and the small endpoints."""

from __future__ import annotations

from conformance_helpers import Registry, quote


def test_root_answers_an_empty_object(registry: Registry) -> None:
    """GET / answers {} (clients and health checks use it)."""
    reply = registry.call("GET", "/")
    assert (200, {}) == (reply.status, reply.body)


def test_unknown_path_is_404(registry: Registry) -> None:
    """A path the API does not have answers Jersey's 404 body."""
    reply = registry.call("GET", "/no/such/endpoint")
    assert (404, {"error_code": 404, "message": "HTTP 404 Not Found"}) == (reply.status, reply.body)


def test_wrong_method_is_405(registry: Registry) -> None:
    """A known path with a method it does not support answers Jersey's 405 body."""
    reply = registry.call("PUT", "/subjects", {})
    assert (405, {"error_code": 405, "message": "HTTP 405 Method Not Allowed"}) == (reply.status, reply.body)


def test_malformed_json_is_400(registry: Registry, subject: str) -> None:
    """A request body that is not JSON answers 400 with error_code 400."""
    reply = registry.call("POST", f"/subjects/{quote(subject)}/versions", raw=b'{"schema": ')
    assert (400, 400) == (reply.status, reply.body["error_code"])


def test_missing_body_is_422(registry: Registry, subject: str) -> None:
    """A registration without a body answers 422 with error_code 422."""
    reply = registry.call("POST", f"/subjects/{quote(subject)}/versions", raw=b"")
    assert (422, 422) == (reply.status, reply.body["error_code"])


def test_contexts_list_the_default_context(registry: Registry) -> None:
    """GET /contexts lists the default context '.'."""
    reply = registry.call("GET", "/contexts")
    assert 200 == reply.status
    assert "." in reply.body


def test_associations_of_an_unknown_resource(registry: Registry) -> None:
    """GET /associations/resources/{ns}/{name} answers an empty list (CP 8) or 404 (older servers)."""
    reply = registry.call("GET", "/associations/resources/-/conformance-topic", query={"resourceType": "topic"})
    assert reply.status in (200, 404)
    if reply.status == 200:
        assert [] == reply.body


def test_cluster_metadata_answers(registry: Registry) -> None:
    """GET /v1/metadata/id answers a JSON object."""
    reply = registry.call("GET", "/v1/metadata/id")
    assert 200 == reply.status
    assert isinstance(reply.body, dict)
