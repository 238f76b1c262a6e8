"""The one time source of the simulator.

``now()`` reads :func:`time.time` (so freezegun controls it in tests) plus an offset that the
control API's ``POST /_sim/clock`` advances. Nothing else in the simulator reads the time.
"""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time shifted by an adjustable offset."""

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        """Seconds since the epoch, as the simulated server sees them."""
        return time.time() + self._offset

    def now_ms(self) -> int:
        """Milliseconds since the epoch, as Bitbucket's timestamps are."""
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> float:
        """Move simulated time forward (never backward) and return the new now."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
        return self.now()

    @property
    def offset(self) -> float:
        """How far simulated time runs ahead of the real clock, in seconds."""
        return self._offset

    def reset(self) -> None:
        """Forget every advance."""
        self._offset = 0.0
