"""The reference Packagist-like integration: a small aiohttp web app that does the Bitbucket
Data Center OAuth 2 flow right, serves the driver protocol and human pages, and is the SUT
the conformance suite runs against by default (``--sut reference``).

- :mod:`.rules`: every rule (version gate, URLs, state, PKCE, scope, messages), one place each
- :mod:`.service`: the operations, shared by the JSON endpoints, the pages and the Python driver
- :mod:`.bitbucket`: the HTTP client of Bitbucket (REST API 1.0, OAuth 2 provider)
- :mod:`.protocol`, :mod:`.pages`, :mod:`.app`: the web app
- :mod:`.server`: :class:`ReferenceServer`, served from a background thread
- :mod:`.integrator`: :class:`ReferenceIntegrator` and ``create()`` for ``--sut module:factory``
"""
