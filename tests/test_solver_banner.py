"""No solver banner on standard output: --json output must stay strict JSON."""

from __future__ import annotations

import subprocess
import sys


def test_first_highs_prints_nothing():
    code = "import resiliopt.solvers, highspy; h = highspy.Highs(); print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "ok\n"
