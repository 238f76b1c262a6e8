"""``python -m simulator`` is ``bbdc-sim``."""

from simulator.cli import main

raise SystemExit(main())
