"""Specification of `scrub`: credentials never survive into a dead letter's error message."""

from __future__ import annotations

import pytest

from tradewire.dlq import scrub


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("connect failed: sasl.password=hunter2 for user bob", "connect failed: sasl.password=*** for user bob"),
        (
            "config {'sasl.username': 'bob', 'sasl.password': 'hunter2'}",
            "config {'sasl.username': 'bob', 'sasl.password': '***'}",
        ),
        ('{"password": "hunter2", "user": "bob"}', '{"password": "***", "user": "bob"}'),
        ("the password : hunter2", "the password : ***"),
        ("ssl.key.password=k3y, next", "ssl.key.password=***, next"),
        ("sasl.oauthbearer.client.secret=xyz", "sasl.oauthbearer.client.secret=***"),
        (
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
            'username="bob" password="hunter2";',
            'sasl.jaas.config=*** required username="bob" password="***";',
        ),
        ("basic.auth.user.info=alice:s3cr3t", "basic.auth.user.info=***"),
        ("TRADEWIRE_REGISTRY_BASIC_AUTH=alice:s3cr3t", "TRADEWIRE_REGISTRY_BASIC_AUTH=***"),
        ("GET /x?api_key=abc123&limit=1", "GET /x?api_key=***&limit=1"),
        ("GET http://alice:s3cr3t@registry:8081/subjects failed", "GET http://***@registry:8081/subjects failed"),
        ("https://alice:p@ss@registry/x", "https://***@registry/x"),
        ("redis://:pw@cache:6379/0 refused", "redis://***@cache:6379/0 refused"),
        (
            "request had Authorization: Basic YWxpY2U6czNjcjN0 and failed",
            "request had Authorization: Basic *** and failed",
        ),
        ("headers={'Authorization': 'Bearer eyJhbGciOi.x.y'}", "headers={'Authorization': 'Bearer ***'}"),
        ("proxy-authorization=Digest abc", "proxy-authorization=Digest ***"),
        ("authorization: abc123", "authorization: ***"),
    ],
)
def test_secret_is_replaced_and_the_rest_kept(text: str, expected: str) -> None:
    """Each kind of credential is replaced by *** while the surrounding text stays readable."""
    assert expected == scrub(text)


@pytest.mark.parametrize(
    "text",
    [
        "schema id 42 is unknown to the registry",
        "password is wrong for user bob",
        "see http://registry:8081/subjects and mail bob@example.com",
        "magic byte is 7, not 0: not produced with a Confluent schema registry serializer",
        "",
    ],
)
def test_text_without_secrets_is_unchanged(text: str) -> None:
    """Ordinary error messages, including URLs without credentials and e-mail addresses, pass unchanged."""
    assert text == scrub(text)
