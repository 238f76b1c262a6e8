"""The "2FA for Bitbucket: U2F & TOTP" app by Alpha Serve, emulated for browser logins,
OAuth 2 and OAuth 1. How it behaves, and every choice made where the real app's behaviour is
not public, is in ``docs/simulator.md`` ("The U2F & TOTP two-factor plugin")."""
