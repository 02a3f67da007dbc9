"""The ports a dev stack needs, who needs each one, and the check that they are free before anything starts.

Node i (1-based) of the Kafka cluster listens for clients on `kafka_port + 2(i-1)` and for
its KRaft controller quorum on `controller_port + 2(i-1)` (by default `kafka_port + 1`, so a
single node takes two consecutive ports); the dev registry takes one more. `dev up` checks
every port it is about to use before it starts anything, so a taken port is named with what
needed it and the option that moves it, instead of surfacing as a broker that died at start.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tradewire.errors import DevStackError

__all__ = [
    "MAX_PORT",
    "PortClaim",
    "PortConflictError",
    "StackConflictError",
    "check_ports",
    "port_free",
    "stack_claims",
]

MAX_PORT = 65535


class StackConflictError(DevStackError):
    """What `dev up` was asked for conflicts with itself or with what already runs: nothing was started
    (a usage error: other options, or `dev down` first, resolve it)."""


class PortConflictError(StackConflictError):
    """A port the dev stack needs is out of range, claimed twice, or already in use."""


@dataclass(frozen=True, slots=True)
class PortClaim:
    """One port of the stack: what listens on it and the `dev up` option that chooses it."""

    port: int
    owner: str
    option: str
    node: int = 0
    """The Kafka node that listens on it (0: the registry)."""


def stack_claims(*, kafka_port: int, controller_port: int, brokers: int, registry_port: int | None) -> list[PortClaim]:
    """Every port a stack of `brokers` nodes (and the registry, unless None) listens on."""
    claims = []
    for index in range(brokers):
        node = f"Kafka node {index + 1}"
        step = f" + {2 * index}" if index else ""
        claims.append(PortClaim(kafka_port + 2 * index, f"{node}'s broker listener", f"--kafka-port{step}", index + 1))
        claims.append(
            PortClaim(
                controller_port + 2 * index,
                f"{node}'s KRaft controller listener",
                f"--controller-port{step}",
                index + 1,
            )
        )
    if registry_port is not None:
        claims.append(PortClaim(registry_port, "the dev registry", "--registry-port"))
    return claims


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on host:port now (with SO_REUSEADDR, as Kafka and the registry bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def check_ports(claims: Sequence[PortClaim], *, starting: Iterable[PortClaim] | None = None) -> None:
    """Refuse ports out of range or claimed twice among `claims`, and ports of `starting` (default: all
    claims) that something already listens on; the error names the port, its user and the option to change."""
    for claim in claims:
        if not 1 <= claim.port <= MAX_PORT:
            raise PortConflictError(
                f"port {claim.port} for {claim.owner} ({claim.option}) is outside 1-{MAX_PORT}; "
                f"choose a lower {claim.option.split()[0]}"
            )
    by_port: dict[int, PortClaim] = {}
    for claim in claims:
        first = by_port.setdefault(claim.port, claim)
        if first is not claim:
            raise PortConflictError(
                f"port {claim.port} is needed both by {first.owner} ({first.option}) and by {claim.owner} "
                f"({claim.option}); {_layout_hint()} Choose ports that do not overlap, e.g. another "
                f"{claim.option.split()[0]}"
            )
    for claim in claims if starting is None else starting:
        if not port_free(claim.port):
            raise PortConflictError(
                f"port {claim.port} is already in use on 127.0.0.1, and {claim.owner} needs it ({claim.option}); "
                f"stop what listens there or choose another port with {claim.option.split()[0]}"
            )


def _layout_hint() -> str:
    return (
        "node i listens on --kafka-port + 2(i-1) and its controller on --controller-port + 2(i-1) "
        "(default --kafka-port + 1)."
    )
