"""Tests of the reference integration against a served simulator."""
