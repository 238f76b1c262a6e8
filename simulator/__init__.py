"""A fake Bitbucket Data Center server, faithful on the paths a Packagist-like integration uses."""

__version__ = "0.1.0"
