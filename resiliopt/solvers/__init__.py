"""Solvers: HiGHS (Pyomo, and highspy on a matrix), SCIP, the MIP wrapper, certificates and the
table of solver statuses. This layer knows no model: it takes a Pyomo model or a matrix.

highspy (1.16) prints a banner to file descriptor 1 the first time a ``Highs`` object is made
in a process; it is spent here, once, on import (:func:`resiliopt._stdout.spend_highs_banner`).
"""

from resiliopt._stdout import spend_highs_banner

spend_highs_banner()
