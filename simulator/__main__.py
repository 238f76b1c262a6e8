"""``python -m simulator``: ``bbdc-sim serve`` (the simulator alone; ``bbdc-sim`` itself is
:mod:`conformance.cli`)."""

from simulator.cli import main

raise SystemExit(main())
