"""Bitbucket's OAuth 2.0 provider (Atlassian's oauth2-provider-plugin), from 7.21.

Layers: ``scopes``, ``pkce`` and ``jwt`` are pure rules; ``backend`` owns clients, codes and
tokens and never sees a request; the HTTP handlers parse, call the backend and render.
"""
