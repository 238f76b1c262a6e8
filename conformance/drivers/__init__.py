"""Drivers: how the harness reaches a system under test (HTTP protocol, Python object)."""
