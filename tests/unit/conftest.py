"""Fixtures for unit tests: seeded sample values for any generated contract class, and the Compose
file as `docker compose config` resolves it."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import random
import shutil
import struct
import subprocess
import types
import typing
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tradewire.avro.markers import AvroPrimitive, DecimalSpec, FixedSpec, LogicalType
from tradewire.avro.record import AvroEnum, Record

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class SampleFactory:
    """Builds random but reproducible, contract-valid instances of generated classes."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def instance(self, cls: type[Any], depth: int = 0) -> Any:
        """A valid instance of a generated record class."""
        hints = typing.get_type_hints(cls, include_extras=True)
        values = {item.name: self.value(hints[item.name], depth + 1) for item in dataclasses.fields(cls)}
        return cls(**values)

    def value(self, hint: Any, depth: int) -> Any:
        """A valid value for a field annotated with `hint`."""
        rng = self.rng
        origin = typing.get_origin(hint)
        if origin is typing.Annotated:
            return self.annotated(typing.get_args(hint)[0], typing.get_args(hint)[1:])
        if origin in (typing.Union, types.UnionType):
            branches = list(typing.get_args(hint))
            if depth > 3 and type(None) in branches:
                return None
            return self.value(rng.choice(branches), depth)
        if origin is tuple:
            return tuple(self.value(typing.get_args(hint)[0], depth + 1) for _ in range(self.count(depth)))
        if origin is dict:
            value_hint = typing.get_args(hint)[1]
            return {self.text(): self.value(value_hint, depth + 1) for _ in range(self.count(depth))}
        if hint is type(None) or hint is None:
            return None
        if isinstance(hint, type) and issubclass(hint, Record):
            return self.instance(hint, depth)
        if isinstance(hint, type) and issubclass(hint, AvroEnum):
            return rng.choice(list(hint))
        simple: dict[Any, Callable[[], Any]] = {
            bool: lambda: rng.random() < 0.5,
            int: lambda: rng.randrange(-(2**63), 2**63),
            float: lambda: rng.uniform(-1e12, 1e12),
            str: self.text,
            bytes: lambda: rng.randbytes(rng.randrange(0, 40)),
            uuid.UUID: lambda: uuid.UUID(int=rng.getrandbits(128)),
            datetime.datetime: lambda: _EPOCH + datetime.timedelta(microseconds=rng.randrange(4 * 10**15)),
            datetime.date: lambda: datetime.date(1970, 1, 1) + datetime.timedelta(days=rng.randrange(60000)),
            datetime.time: lambda: self.time_of_day(1),
        }
        return simple[hint]()

    def annotated(self, base: Any, markers: tuple[Any, ...]) -> Any:
        rng = self.rng
        fixed = next((m for m in markers if isinstance(m, FixedSpec)), None)
        spec = next((m for m in markers if isinstance(m, DecimalSpec)), None)
        primitive = next((m for m in markers if isinstance(m, AvroPrimitive)), None)
        logical = next((m for m in markers if isinstance(m, LogicalType)), None)
        if spec is not None:
            unscaled = rng.randrange(-(10**spec.precision) + 1, 10**spec.precision)
            return decimal.Decimal(unscaled).scaleb(-spec.scale)
        if fixed is not None:
            return rng.randbytes(fixed.size)
        if primitive is not None and primitive.name == "int":
            return rng.randrange(-(2**31), 2**31)
        if primitive is not None and primitive.name == "float":
            return struct.unpack("<f", struct.pack("<f", rng.uniform(-1e6, 1e6)))[0]
        if logical is not None:
            micros = rng.randrange(4 * 10**15)
            if logical.name == "timestamp-millis":
                return _EPOCH + datetime.timedelta(milliseconds=micros // 1000)
            if logical.name == "local-timestamp-micros":
                return datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=micros)
            if logical.name == "local-timestamp-millis":
                return datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=micros // 1000)
            if logical.name == "time-millis":
                return self.time_of_day(1000)
            return rng.randrange(-(2**63), 2**63)
        return self.value(base, 0)

    def time_of_day(self, resolution_micros: int) -> datetime.time:
        micros = self.rng.randrange(86_400_000_000 // resolution_micros) * resolution_micros
        seconds, micro = divmod(micros, 1_000_000)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        return datetime.time(hour, minute, second, micro)

    def count(self, depth: int) -> int:
        return 0 if depth > 4 else self.rng.randrange(0, 4)

    def text(self) -> str:
        alphabet = "abcXYZ 0189_-é€😀\"'\\\n"
        return "".join(self.rng.choice(alphabet) for _ in range(self.rng.randrange(0, 12)))


@pytest.fixture
def samples() -> SampleFactory:
    """A sample factory seeded identically for every test (reproducible)."""
    return SampleFactory(seed=20261126)


@pytest.fixture
def compose_config(repo_root: Path) -> dict[str, Any]:
    """registry-compose.yml as `docker compose config` resolves it (docker is required, never skipped)."""
    if shutil.which("docker") is None:
        pytest.fail("docker (with the compose plugin) is not installed: run scripts/ensure-tools.sh")
    completed = subprocess.run(
        ["docker", "compose", "-f", "registry-compose.yml", "config", "--format", "json"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert 0 == completed.returncode, completed.stderr
    config: dict[str, Any] = json.loads(completed.stdout)
    return config
