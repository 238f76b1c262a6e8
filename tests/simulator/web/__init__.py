"""Tests of the pages' frame, the stylesheet and the root redirect (simulator/web/)."""
