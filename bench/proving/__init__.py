"""The proving ground (`make prove`, docs/reliability.md): what the node promises, measured.

One module per scenario, each a `run(size, tmp, report)` that prints its figures against their
targets through `harness.Report`; `bench/prove.py` runs them and sums up.
"""
