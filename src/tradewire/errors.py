"""The tradewire error hierarchy: everything raised on purpose derives from `TradingSystemError`."""

from __future__ import annotations

__all__ = [
    "CodegenError",
    "ConfigError",
    "ContractViolationError",
    "DecodeError",
    "DevStackError",
    "GitError",
    "TradingSystemError",
]


class TradingSystemError(Exception):
    """Root of every error tradewire raises on purpose."""


class ConfigError(TradingSystemError):
    """The repository configuration (`tradewire.yaml`) or a command's options are invalid."""


class GitError(TradingSystemError):
    """A git command failed or a ref does not exist."""


class CodegenError(TradingSystemError):
    """A schema cannot be turned into Python (an unsupported or unsafe construct)."""


class ContractViolationError(TradingSystemError, ValueError):
    """A value does not fit its contract (e.g. a decimal with more digits than its scale)."""


class DecodeError(TradingSystemError, ValueError):
    """Bytes are not a valid Avro encoding of the expected type (truncated, corrupt, trailing data)."""


class DevStackError(TradingSystemError):
    """The local development stack (Kafka, registry) cannot be started, stopped or reached."""
