"""Confluent wire format <-> typed events, with schema ids from a registry, cached.

`EventSerializer` and `EventDeserializer` are small callables; the wire framing and the
subject naming are plain functions (`wire`, `subjects`) passed in or used as they are.
"""

from tradewire.serde.deserializer import EventDeserializer
from tradewire.serde.serializer import EventSerializer
from tradewire.serde.subjects import topic_subject
from tradewire.serde.wire import MAGIC_BYTE, frame, unframe

__all__ = ["MAGIC_BYTE", "EventDeserializer", "EventSerializer", "frame", "topic_subject", "unframe"]
