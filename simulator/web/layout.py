"""The frame around every page: the head, Bitbucket's header bar, the admin sidebar, the footer.

Every template is a whole HTML document that places the frame with four placeholders, which
:func:`simulator.web.pages.render` fills from :func:`chrome`:

- ``$_head``: the viewport, an inline favicon and the one stylesheet
  (:mod:`simulator.web.stylesheet`, at the context path);
- ``$_dialog_backdrop``: the admin page a dialog of Application links sits over, dimmed;
- ``$_header``: the dark-blue Atlassian header: the Bitbucket logo (inline SVG) linking to the
  dashboard, "Projects" and "Repositories", and on the right the Administration cog (system
  administrators), the user's avatar with a menu holding the display name
  (``#current-user``) and "Log out" (``#logout-link``), or "Log in" for anonymous visitors;
- ``$_admin_nav``: the Administration sidebar of admin pages (Application Links, and the
  two-factor app's page while the app is installed);
- ``$_footer``: Bitbucket's footer line with the simulated version (``#product-version``).

What a page frame shows depends on the request (who is logged in, the base URL, the version):
:mod:`simulator.web.middleware` puts a :class:`Layout` in a context variable for the request,
so that page builders need not pass it along. Outside a request (a unit test calling a page
builder) the frame is anonymous, at the root, without a version.

Header and sidebar entries the simulator has no page for ("Projects", "Users", ...) are shown
as text, not links, so that nothing leads to a 404; links are absolute URLs under the base URL,
like every other link of the simulator. Nothing here adds a form control, a heading or a link
text that the pages' own (which tests and the conformance harness look for) could be confused
with.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from simulator.model import GlobalLevel, User
from simulator.tfa.paths import ADMIN_PATH as TFA_ADMIN_PATH
from simulator.web.stylesheet import stylesheet_url

#: The Application links list (simulator.applinks.pages.LIST_PATH; not imported: that module
#: renders pages itself).
APPLINKS_LIST_PATH = "/plugins/servlet/applinks/listApplicationLinks"
DASHBOARD_PATH = "/dashboard"
NOT_SIMULATED = "Not simulated"

#: The Bitbucket logo: a bucket with a hole (the simulator's own drawing, not Atlassian's).
_LOGO_PATHS = (
    '<path fill="currentColor" fill-rule="evenodd" d="M2.6 4h26.8c.7 0 1.2.6 1.1 1.3l-3.9 22.4'
    "c-.1.7-.7 1.3-1.4 1.3H6.8c-.7 0-1.3-.6-1.4-1.3L1.5 5.3C1.4 4.6 1.9 4 2.6 4zM12.1 11.2l1.4 "
    '7.9h5l1.4-7.9z"/>'
)
LOGO_SVG = (
    f'<svg class="bitbucket-logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">'
    f"{_LOGO_PATHS}</svg>"
)
_GEAR_SVG = (
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" '
    'fill-rule="evenodd" d="M10.2 2h3.6l.5 2.6 1.6.7 2.2-1.5 2.5 2.5-1.5 2.2.7 1.6 2.6.5v3.6'
    "l-2.6.5-.7 1.6 1.5 2.2-2.5 2.5-2.2-1.5-1.6.7-.5 2.6h-3.6l-.5-2.6-1.6-.7-2.2 1.5-2.5-2.5 "
    "1.5-2.2-.7-1.6-2.6-.5v-3.6l2.6-.5.7-1.6-1.5-2.2 2.5-2.5 2.2 1.5 1.6-.7zM12 8.5a3.5 3.5 0 1 "
    '0 0 7 3.5 3.5 0 0 0 0-7z"/></svg>'
)
#: The logo as the tab's icon (a data: URI, so that browsers do not ask for /favicon.ico).
_FAVICON = "data:image/svg+xml," + quote(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" color="#0052cc">'
    f"{_LOGO_PATHS}</svg>",
    safe="",
)

#: The Administration sidebar: (heading, entries); an entry is (label, key of a page or None).
_ADMIN_SECTIONS: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...] = (
    (
        "Accounts",
        (
            ("Users", None),
            ("Groups", None),
            ("Global permissions", None),
            ("User directories", None),
            ("Avatars", None),
        ),
    ),
    (
        "Settings",
        (
            ("Server settings", None),
            ("Application Links", "applinks"),
            ("Licensing", None),
            ("Database", None),
            ("Mail server", None),
            ("Audit log", None),
        ),
    ),
)
_TFA_SECTION = ("2FA for Bitbucket", (("U2F & TOTP", "tfa"),))
_APPS_SECTION = ("Apps", (("Find new apps", None), ("Manage apps", None)))
_ADMIN_TARGETS = {"applinks": APPLINKS_LIST_PATH, "tfa": TFA_ADMIN_PATH}


@dataclass(frozen=True, slots=True)
class Layout:
    """What the frame of a page shows: where Bitbucket is, who is logged in, its version."""

    base_url: str = ""
    user: User | None = None
    version: str = ""
    tfa_installed: bool = False

    @property
    def context_path(self) -> str:
        """The base URL's path without a trailing slash ('' at the root)."""
        return urlsplit(self.base_url).path.rstrip("/")

    @property
    def is_sysadmin(self) -> bool:
        """Whether the user may open the Administration pages."""
        return self.user is not None and self.user.global_level >= GlobalLevel.SYS_ADMIN


_current: ContextVar[Layout] = ContextVar("bbdc_sim_layout", default=Layout())  # noqa: B039


def current() -> Layout:
    """The layout of the request being served (anonymous at the root outside a request)."""
    return _current.get()


@contextmanager
def using(layout: Layout) -> Iterator[Layout]:
    """Render pages with ``layout`` inside the block (the middleware's, and tests')."""
    token = _current.set(layout)
    try:
        yield layout
    finally:
        _current.reset(token)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def head(layout: Layout) -> str:
    """The head's viewport, favicon and stylesheet link."""
    return (
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<link rel="icon" type="image/svg+xml" href="{_e(_FAVICON)}">\n'
        f'<link rel="stylesheet" type="text/css" media="all" '
        f'href="{_e(stylesheet_url(layout.context_path))}">'
    )


def _user_menu(layout: Layout, user: User) -> str:
    shown = user.display_name or user.name
    initial = shown.strip()[:1].upper() or "?"
    return (
        '<li class="user-menu">'
        f'<span class="aui-avatar aui-avatar-small" data-initial="{_e(initial)}" tabindex="0" '
        f'title="{_e(shown)}" aria-haspopup="true"></span>\n'
        '<div class="aui-dropdown2" role="menu">'
        '<span class="aui-dropdown2-heading">'
        f'<span id="current-user" data-username="{_e(user.name)}" '
        f'data-userslug="{_e(user.slug)}">{_e(user.display_name)}</span></span>\n'
        f'<ul><li><a id="logout-link" href="{_e(layout.base_url + "/j_atl_security_logout")}">'
        "Log out</a></li></ul></div></li>"
    )


def header(layout: Layout) -> str:
    """The Atlassian header bar."""
    base = layout.base_url
    primary = ""
    secondary = []
    if layout.user is not None:
        primary = (
            '\n<ul class="aui-nav">'
            f'<li><span class="aui-nav-item" title="{NOT_SIMULATED}">Projects</span></li>'
            f'<li><span class="aui-nav-item" title="{NOT_SIMULATED}">Repositories</span></li>'
            "</ul>"
        )
        if layout.is_sysadmin:
            secondary.append(
                f'<li><a class="aui-nav-imagelink" id="admin-link" '
                f'href="{_e(base + APPLINKS_LIST_PATH)}" title="Administration">{_GEAR_SVG}'
                '<span class="assistive">Administration</span></a></li>'
            )
        secondary.append(_user_menu(layout, layout.user))
    else:
        secondary.append(f'<li><a id="login-link" href="{_e(base + "/login")}">Log in</a></li>')
    return (
        '<header id="header" role="banner">\n'
        '<nav class="aui-header" aria-label="Site">\n<div class="aui-header-inner">\n'
        '<div class="aui-header-primary">'
        '<span id="logo" class="aui-header-logo aui-header-logo-bitbucket">'
        f'<a href="{_e(base + DASHBOARD_PATH)}">{LOGO_SVG}'
        f'<span class="aui-header-logo-text">Bitbucket</span></a></span>{primary}</div>\n'
        f'<div class="aui-header-secondary"><ul class="aui-nav">{"".join(secondary)}</ul></div>\n'
        "</div>\n</nav>\n</header>"
    )


def admin_nav(layout: Layout, selected: str) -> str:
    """The Administration sidebar, with the entry ``selected`` ("applinks", "tfa") marked."""
    sections = list(_ADMIN_SECTIONS)
    if layout.tfa_installed or selected == "tfa":
        sections.append(_TFA_SECTION)
    sections.append(_APPS_SECTION)
    parts = []
    for heading, entries in sections:
        items = []
        for label, key in entries:
            if key is None:
                items.append(f'<li><span title="{NOT_SIMULATED}">{_e(label)}</span></li>')
                continue
            chosen = ' class="aui-nav-selected"' if key == selected else ""
            href = _e(layout.base_url + _ADMIN_TARGETS[key])
            items.append(f'<li{chosen}><a href="{href}">{_e(label)}</a></li>')
        parts.append(
            f'<span class="aui-nav-heading">{_e(heading)}</span>\n'
            f'<ul class="aui-nav">{"".join(items)}</ul>'
        )
    return (
        '<div class="aui-page-panel-nav">\n'
        '<nav class="aui-navgroup aui-navgroup-vertical" id="admin-sidebar" '
        'aria-label="Administration">\n<div class="aui-navgroup-inner">\n'
        + "\n".join(parts)
        + "\n</div>\n</nav>\n</div>"
    )


def footer(layout: Layout) -> str:
    """Bitbucket's footer, naming the simulated version."""
    version = (
        f'<li>Atlassian Bitbucket <span id="product-version">v{_e(layout.version)}</span></li>'
        if layout.version
        else "<li>Atlassian Bitbucket</li>"
    )
    return (
        '<footer id="footer" role="contentinfo">\n<section class="footer-body">\n<ul>'
        "<li>Git repository management for enterprise teams powered by Atlassian Bitbucket</li>"
        f"{version}<li>Simulated by bbdc-sim</li></ul>\n"
        '<div class="footer-logo">ATLASSIAN</div>\n</section>\n</footer>'
    )


def chrome(template: str, layout: Layout | None = None) -> dict[str, str]:
    """The frame's placeholders for ``template`` (trusted markup)."""
    layout = layout or current()
    selected = "tfa" if template.startswith("tfa-") else "applinks"
    nav = admin_nav(layout, selected)
    return {
        "_head": head(layout),
        "_header": header(layout),
        "_admin_nav": nav,
        "_dialog_backdrop": dialog_backdrop(nav),
        "_footer": footer(layout),
    }


def dialog_backdrop(nav: str) -> str:
    """What a dialog of Application links sits over: the admin page, dimmed by a blanket
    (it opens ``<main>``, which the dialog's template closes)."""
    return (
        '<main id="content" role="main">\n'
        '<div class="aui-page-panel"><div class="aui-page-panel-inner">\n'
        f"{nav}\n"
        '<section class="aui-page-panel-content" aria-hidden="true">\n'
        '<header class="aui-page-header"><div class="aui-page-header-main">'
        "<h1>Application links</h1></div></header>\n"
        "</section>\n"
        "</div></div>\n"
        '<div class="aui-blanket" aria-hidden="true"></div>'
    )
