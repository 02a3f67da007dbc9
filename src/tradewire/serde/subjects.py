"""Subject naming strategies: where a schema is registered for a topic."""

from __future__ import annotations

__all__ = ["record_subject", "topic_subject"]


def topic_subject(topic: str, record_name: str, *, is_key: bool = False) -> str:
    """Confluent's TopicNameStrategy (the default): `<topic>-value` / `<topic>-key`."""
    return f"{topic}-{'key' if is_key else 'value'}"


def record_subject(topic: str, record_name: str, *, is_key: bool = False) -> str:
    """Confluent's RecordNameStrategy: the record's full name (used for shared types)."""
    return record_name
