"""harness: a plugin-based benchmark harness for training on mistakes."""

__version__ = "0.1.0"
