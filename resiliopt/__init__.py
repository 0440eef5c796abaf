"""resiliopt: optimization models for the resilience of cities and critical infrastructure."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("resiliopt")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
