"""The plugin's servlet paths, relative to the base URL (all UNCONFIRMED: the real app's
servlet names are not public)."""

from __future__ import annotations

SERVLET = "/plugins/servlet/tfa"
#: First login of a user who must use 2FA: the secret, its QR code and a code to confirm.
ENROL_PATH = SERVLET + "/enrol"
#: Every later password login: the code prompt.
VERIFY_PATH = SERVLET + "/verify"
#: Where a blocked OAuth browser request is redirected (``blocked_response`` "redirect").
BLOCKED_PATH = SERVLET + "/blocked"
#: The admin page with the "Plugin settings".
ADMIN_PATH = SERVLET + "/admin"
