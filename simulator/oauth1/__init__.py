"""Bitbucket's OAuth 1.0a provider (Atlassian's OAuth plugin), present in every version.

Layers, as in the OAuth 2 area: ``models`` and ``problems`` are plain data; ``backend`` owns
links, tokens and nonces and never sees a request; ``validator`` adapts the backend to
oauthlib's server-side endpoints, which do every signature check; ``endpoints`` and
``resource`` parse HTTP requests and render answers in the plugin's formats.

What the real plugin does, and so what the simulator reproduces, comes from its decompiled
servlets (``RequestTokenServlet``, ``AuthorizeServlet``, ``AccessTokenServlet``,
``AuthenticatorImpl``) and net.oauth, on which it is built; see :mod:`simulator.oauth1.endpoints`.
"""
