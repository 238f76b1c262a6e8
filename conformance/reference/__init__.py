"""The reference Packagist-like integration: a small aiohttp web app that does the Bitbucket
Data Center OAuth 2 and OAuth 1 flows right, serves the driver protocol and human pages, and
is the SUT the conformance suite runs against by default (``--sut reference``).

- :mod:`.rules`: every rule (version gates, URLs, state, PKCE, scope, the OAuth 1 request
  token check, messages), one place each
- :mod:`.service`: the operations, shared by the JSON endpoints, the pages and the Python driver
- :mod:`.bitbucket`: the HTTP client of Bitbucket (REST API 1.0, OAuth 2 and OAuth 1 providers)
- :mod:`.packages`, :mod:`.package_store`, :mod:`.versions`: the users' Composer packages
  (synchronisation, what is kept, Composer's version names); :mod:`.composer_repository`
  serves them to Composer; :mod:`.webhooks` makes webhooks and receives their deliveries
- :mod:`.oauth1`: the generated consumer (RSA key, self-signed certificate) and the signer
- :mod:`.protocol`, :mod:`.pages`, :mod:`.app`: the web app
- :mod:`.server`: :class:`ReferenceServer`, served from a background thread
- :mod:`.integrator`: :class:`ReferenceIntegrator` and ``create()`` for ``--sut module:factory``
"""
