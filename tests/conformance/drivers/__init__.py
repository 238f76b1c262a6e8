"""Tests of the drivers: the HTTP driver protocol, the Python driver, the --sut loader."""
