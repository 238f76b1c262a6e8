"""Binds every ``.feature`` file under ``features/`` to pytest: a new feature file needs no
Python. Run it with the harness's plugin (``make conformance``, ``bbdc-sim conform``, or
``pytest -p conformance.plugin features/``); without the plugin the steps are undefined.
"""

from __future__ import annotations

from pytest_bdd import scenarios

scenarios(".")
