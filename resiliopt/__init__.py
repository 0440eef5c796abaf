"""resiliopt: optimization models for the resilience of cities and critical infrastructure."""

import os
from importlib.metadata import PackageNotFoundError, version

# One BLAS thread unless the user says otherwise (set before numpy loads, which it does after
# this in every resiliopt command): the vector products of the certificates are ~1e5 long, and
# OpenBLAS's threads turned each into 30 ms instead of 0.01 ms on a busy 2-core machine (the
# input certificate of a 10,000-node slice: 140 ms -> 2 ms; docs/solvers.md, "City size").
# Monte Carlo workers are processes, so threads inside them only compete with each other.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

try:
    __version__ = version("resiliopt")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
