"""Benchmarks: ratios measured side by side in one run (run with ``make bench``)."""
