"""``python -m conformance.reference``: the local demo (:mod:`conformance.reference.demo`)."""

from __future__ import annotations

import sys

from conformance.reference.demo import main

sys.exit(main())
