"""``python -m conformance``: the ``bbdc-sim`` command."""

from conformance.cli import main

raise SystemExit(main())
