"""The Application Links admin pages (system admins only)."""
