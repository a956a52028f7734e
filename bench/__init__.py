"""Benchmark scripts that print figures and ratios.

Run each as a module from the repository root, e.g. `.venv/bin/python -m bench.reconciliation
--help`; what they share (databases, an admin's client, timings) is in `bench/_harness.py`.
"""

import warnings

# Starlette nudges towards httpx2; the project pins httpx, which TestClient still supports.
# Here, before any benchmark imports TestClient, so that the warning never prints.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
