"""Browser-facing pages: login, logout."""
