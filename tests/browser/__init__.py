"""Tests that drive Debian's Chromium through the simulator's HTML pages."""
