"""tradewire: contract-first Kafka messaging for a multi-agent trading system."""

__all__ = ["__version__"]

__version__ = "0.1.0"
