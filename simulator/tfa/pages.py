"""The plugin's HTML pages: enrolment, code verification, the blocked-request page, the
admin "Plugin settings" page and its message pages. Every value is HTML-escaped; markup is
built here only from escaped values."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.config import TFA_BLOCKED_RESPONSES, TfaConfig
from simulator.tfa.paths import ADMIN_PATH
from simulator.tfa.qr import qr_svg
from simulator.web.pages import escape, render

#: The "Force settings" choices, as the app family labels them.
ENFORCE_LABELS = {
    "none": "None (two-factor authentication is optional)",
    "all": "All users",
    "groups": "Groups",
    "all-except-groups": "All except groups",
}
BLOCKED_LABELS = {
    "redirect": "Redirect browsers to the 2FA page; 401 to API clients",
    "401": "401 Unauthorized",
    "403": "403 Forbidden",
}


def error_banner(message: str, element_id: str = "tfa-error", kind: str = "error") -> str:
    """An AUI message box (empty without a message)."""
    if not message:
        return ""
    return (
        f'<div class="aui-message aui-message-{kind}" id="{element_id}" role="alert">'
        f"{escape(message)}</div>"
    )


def enrol_page(
    *, username: str, secret: str, uri: str, action: str, token: str, cancel_url: str, error: str
) -> str:
    """The enrolment page: QR code, the key by hand, and the code to confirm it."""
    return render(
        "tfa-enrol.html",
        markup={"error": error_banner(error), "qr": qr_svg(uri)},
        username=username,
        secret=secret,
        uri=uri,
        action=action,
        atl_token=token,
        cancel_url=cancel_url,
    )


def verify_page(*, username: str, action: str, token: str, cancel_url: str, error: str) -> str:
    """The code prompt of every later password login."""
    return render(
        "tfa-verify.html",
        markup={"error": error_banner(error)},
        username=username,
        action=action,
        atl_token=token,
        cancel_url=cancel_url,
    )


def blocked_page(base_url: str, message: str) -> str:
    """The page a blocked OAuth browser request ends on."""
    return render("tfa-blocked.html", message=message, home=base_url + "/dashboard")


def message_page(title: str, message: str, link_url: str, link_text: str) -> str:
    """An error page (401 not an admin, 403 XSRF)."""
    return render(
        "tfa-message.html", title=title, message=message, link_url=link_url, link_text=link_text
    )


@dataclass(slots=True)
class SettingsForm:
    """What the settings form shows: values as entered, and errors by field."""

    oauth_whitelist: bool = False
    enforce: str = "all"
    groups: str = ""
    ip_whitelist: str = ""
    blocked_response: str = "redirect"
    trust_x_forwarded_for: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_config(cls, config: TfaConfig) -> SettingsForm:
        """The form showing the current settings."""
        return cls(
            oauth_whitelist=config.oauth_whitelist,
            enforce=config.enforce,
            groups=", ".join(config.groups),
            ip_whitelist="\n".join(config.ip_whitelist),
            blocked_response=config.blocked_response,
            trust_x_forwarded_for=config.trust_x_forwarded_for,
        )


def _field_error(name: str, errors: dict[str, str]) -> str:
    message = errors.get(name)
    if message is None:
        return ""
    return f'<div class="error" id="{name}-error">{escape(message)}</div>'


def _enforce_choices(chosen: str) -> str:
    rows = []
    for value, label in ENFORCE_LABELS.items():
        checked = " checked" if value == chosen else ""
        rows.append(
            '<div class="radio">'
            f'<input type="radio" class="radio" name="enforce" id="enforce-{value}" '
            f'value="{value}"{checked}>'
            f'<label for="enforce-{value}">{escape(label)}</label></div>'
        )
    return "\n".join(rows)


def _blocked_options(chosen: str) -> str:
    return "\n".join(
        f'<option value="{value}"{" selected" if value == chosen else ""}>'
        f"{escape(BLOCKED_LABELS[value])}</option>"
        for value in TFA_BLOCKED_RESPONSES
    )


def admin_page(base_url: str, form: SettingsForm, token: str, message: str = "") -> str:
    """The admin page's settings form."""
    if form.errors and not message:
        message = "The settings were not saved. Correct the errors below."
    kind = "error" if form.errors else "success"
    errors = form.errors
    return render(
        "tfa-admin.html",
        markup={
            "message": error_banner(message, "form-message", kind),
            "enforce_choices": _enforce_choices(form.enforce),
            "blocked_options": _blocked_options(form.blocked_response),
            "oauth_checked": " checked" if form.oauth_whitelist else "",
            "trust_checked": " checked" if form.trust_x_forwarded_for else "",
            "enforce_error": _field_error("enforce", errors),
            "groups_error": _field_error("groups", errors),
            "ip_whitelist_error": _field_error("ip_whitelist", errors),
            "blocked_response_error": _field_error("blocked_response", errors),
        },
        action=base_url + ADMIN_PATH,
        groups=form.groups,
        ip_whitelist=form.ip_whitelist,
        atl_token=token,
    )
