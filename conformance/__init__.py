"""The conformance harness: features mirroring the setup guide, step library, drivers."""
