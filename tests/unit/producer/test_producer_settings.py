"""The producer's librdkafka settings: what is always on, and how large a record may be."""

from __future__ import annotations

from tradewire.settings import MESSAGE_MAX_BYTES, ProducerSettings


def test_records_up_to_8_mib_may_be_sent_while_batches_stay_at_batch_size() -> None:
    """message.max.bytes is 8 MiB in both profiles (a DLQ copy of any record a default topic takes fits);
    batch.size stays librdkafka's 1,000,000 (unset) in the latency profile and 1,000,000 in the throughput one."""
    latency, throughput = ProducerSettings().librdkafka(), ProducerSettings(profile="throughput").librdkafka()
    assert (8_388_608, 8_388_608, 8_388_608, None, 1_000_000) == (
        MESSAGE_MAX_BYTES,
        latency["message.max.bytes"],
        throughput["message.max.bytes"],
        latency.get("batch.size"),
        throughput["batch.size"],
    )


def test_message_max_bytes_is_a_setting_with_its_librdkafka_name() -> None:
    """`message.max.bytes` given as an override sets the field (and what librdkafka gets)."""
    settings = ProducerSettings.from_env("agent", environ={}, **{"message.max.bytes": 1_000_000})
    assert (1_000_000, 1_000_000) == (settings.message_max_bytes, settings.librdkafka()["message.max.bytes"])
