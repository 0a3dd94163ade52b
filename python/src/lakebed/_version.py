"""The version of the lakebed package and of the executable it ships (the one place it is written)."""

__version__ = "0.1.0"
