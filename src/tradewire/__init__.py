"""tradewire: contract-first Kafka messaging for a multi-agent trading system."""

import logging

__all__ = ["__version__"]

logging.getLogger("tradewire").addHandler(logging.NullHandler())  # applications configure logging

__version__ = "0.1.0"
