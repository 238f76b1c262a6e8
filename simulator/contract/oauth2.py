"""Operation fragments of oauth2 handlers (see :mod:`simulator.contract`)."""

from __future__ import annotations

from simulator.contract.spec import Operation

OPERATIONS: dict[str, Operation] = {}
