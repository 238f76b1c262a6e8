"""The Application Links admin pages: the list, the "Create link" dialog, OAuth 2 links.

Paths (relative to the base URL; system administrators only):

- ``GET  /plugins/servlet/applinks/listApplicationLinks``: every link, with Create link.
- ``GET|POST /plugins/servlet/applinks/createLink``: the "Create link" dialog as a page.
- ``GET|POST /plugins/servlet/applinks/oauth2/incoming/new``: the incoming-link form.
- ``GET|POST /plugins/servlet/applinks/oauth2/{id}/credentials``: Client ID and secret;
  POST regenerates the secret.
- ``GET|POST /plugins/servlet/applinks/oauth2/{id}/edit``: the form, prefilled.
- ``GET|POST /plugins/servlet/applinks/oauth2/{id}/delete``: confirm, then delete.

Only the list's path is Bitbucket's; the others are the simulator's (the real UI uses dialogs).
Anonymous callers are sent to log in and come back; a logged-in user who is not a system
administrator gets a 401 page. Every POST needs the form's ``atl_token`` (or, without a
browser session, ``X-Atlassian-Token: no-check``); a missing or stale token gets a 403 page
and changes nothing. Below 7.21 the ``oauth2`` pages answer 404 and the list shows no
OAuth 2 links.

"Atlassian product" leads to the OAuth 1 pages (:mod:`simulator.applinks.oauth1_pages`), in
every version. The list shows OAuth 1 links too, including those the pages created that have
no Incoming Authentication yet: the OAuth 1 backend only holds links with a consumer key and
public key, so those wait in ``store.oauth1_pages`` until their first Save. Link names are
unique across OAuth 2 links, OAuth 1 links and those waiting links.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from simulator.applinks.paths import (
    CREATE_PATH,
    LIST_PATH,
    NEW_INCOMING_PATH,
    NEW_OAUTH1_PATH,
    SERVLET,
)
from simulator.auth import principal_of
from simulator.keys import store_key
from simulator.oauth1.models import OAuth1Link, OAuth1PageState, PendingLink
from simulator.oauth2.backend import split_redirects
from simulator.oauth2.errors import ClientValidationError
from simulator.oauth2.models import OAuth2Client
from simulator.oauth2.scopes import FORM_SCOPES, SCOPE_INFO, Scope, closure
from simulator.store import Store
from simulator.web.pages import escape, html_response, redirect, render, xsrf_ok, xsrf_token

#: Application type and direction values of the "Create link" dialog.
ATLASSIAN = "atlassian"
EXTERNAL = "external"
INCOMING = "incoming"
OUTGOING = "outgoing"

NOT_PERMITTED = (
    "You do not have permission to access this page. "
    "Only system administrators can manage application links."
)
XSRF_FAILED = (
    "This form was submitted without a valid XSRF security token: it is missing, or it "
    "belongs to an earlier session. Nothing was changed. Reload the form and try again."
)
OUTGOING_NOT_OFFERED = (
    "This simulator does not offer outgoing links yet. "
    "Choose Incoming to let an external application access Bitbucket."
)
NOT_SAVED = "The link was not saved. Correct the errors below."
NEW_HEADING = "Configure an incoming link"
EDIT_HEADING = "Edit incoming link"
#: What a link gets when no permission box is ticked (Bitbucket's "no boxes" meaning).
NO_PERMISSION_TICKED_MEANS = Scope.PUBLIC_REPOS


#: How an OAuth 1 link's application type shows in the list.
GENERIC_APPLICATION = "Generic Application"


def client_path(client: OAuth2Client, action: str) -> str:
    """The path of one link's page: ``credentials``, ``edit`` or ``delete``."""
    return f"{SERVLET}/oauth2/{client.id}/{action}"


def oauth1_path(link_id: str, action: str) -> str:
    """The path of one OAuth 1 link's page: ``edit`` or ``delete``."""
    return f"{SERVLET}/oauth1/{link_id}/{action}"


# -- OAuth 1 links as the pages see them -------------------------------------------------------


def oauth1_state(store: Store) -> OAuth1PageState:
    """The pages' OAuth 1 state of this store (emptied by ``store.reset()``)."""
    return store.oauth1_pages


def _same_name(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def oauth1_name_taken(store: Store, name: str, exclude: str | None = None) -> bool:
    """Whether an OAuth 1 link, or one waiting for its Incoming Authentication, has this
    name (case-insensitively); ``exclude`` is the id of a link not to compare with."""
    names = [link.name for link in store.oauth1.links.values() if link.id != exclude]
    names += [p.name for p in oauth1_state(store).pending.values() if p.id != exclude]
    return any(_same_name(name, other) for other in names)


def link_name_taken(store: Store, name: str) -> bool:
    """Whether any application link (OAuth 2 or OAuth 1, waiting or not) has this name."""
    clients = store.oauth2.clients.values()
    return oauth1_name_taken(store, name) or any(_same_name(name, c.name) for c in clients)


# -- forms -------------------------------------------------------------------------------------


Form = dict[str, list[str]]


async def read_form(request: web.Request) -> Form:
    """The fields of a url-encoded body, every value of repeated names; else an empty form."""
    if request.content_type != "application/x-www-form-urlencoded" or not request.body_exists:
        return {}
    body = (await request.read()).decode("utf-8", "replace")
    fields: Form = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    return fields


def first(form: Form, name: str) -> str:
    """The first value of a field ('' when absent)."""
    values = form.get(name)
    return values[0] if values else ""


@dataclass(slots=True)
class LinkForm:
    """What the incoming-link form shows: entered values, ticked scopes and errors by field."""

    name: str = ""
    redirects: str = ""
    ticked: tuple[Scope, ...] = ()
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_client(cls, client: OAuth2Client) -> LinkForm:
        """The form prefilled with a link's current values."""
        return cls(client.name, ",".join(client.redirects), client.scopes)


def parse_ticked(values: Iterable[str]) -> tuple[tuple[Scope, ...], str | None]:
    """The ticked permission boxes and an error for a value that is not one of them."""
    ticked: list[Scope] = []
    for value in values:
        scope = Scope.__members__.get(value)
        if scope is None or scope not in FORM_SCOPES:
            return tuple(ticked), f"Unknown permission: {value}"
        if scope not in ticked:
            ticked.append(scope)
    return tuple(ticked), None


def granted_scopes(ticked: Iterable[Scope]) -> tuple[Scope, ...]:
    """What the ticked boxes grant (PUBLIC_REPOS alone when none is ticked)."""
    chosen = tuple(ticked) or (NO_PERMISSION_TICKED_MEANS,)
    return tuple(scope for scope in Scope if scope in closure(chosen))


# -- markup ------------------------------------------------------------------------------------


def error_div(field_name: str, errors: dict[str, str]) -> str:
    """The error shown under a field (``{field}-error``), or '' when it has none."""
    message = errors.get(field_name)
    if message is None:
        return ""
    return f'<div class="error" id="{field_name}-error">{escape(message)}</div>'


def banner(message: str, kind: str = "error") -> str:
    """The message at the top of a form (``form-message``), or '' without one."""
    if not message:
        return ""
    return (
        f'<div class="aui-message aui-message-{kind}" id="form-message" role="alert">'
        f"{escape(message)}</div>"
    )


def _checkboxes(granted: tuple[Scope, ...]) -> str:
    rows = []
    for scope in FORM_SCOPES:
        info = SCOPE_INFO[scope]
        checked = " checked" if scope in granted else ""
        rows.append(
            '<div class="checkbox">'
            f'<input type="checkbox" class="checkbox" name="scope" id="scope-{scope.name}" '
            f'value="{scope.name}" data-implies="{" ".join(s.name for s in scope.implies)}" '
            f'data-description="{escape(info.description)}"{checked}>'
            f'<label for="scope-{scope.name}">{escape(info.label)}</label>'
            "</div>"
        )
    return "\n".join(rows)


def _summary(granted: tuple[Scope, ...]) -> str:
    return "\n".join(
        f'<li data-scope="{scope.name}">{escape(SCOPE_INFO[scope].description)}</li>'
        for scope in granted
    )


def incoming_form_page(
    base_url: str, action: str, form: LinkForm, token: str, *, heading: str, message: str = ""
) -> str:
    """The incoming-link form (new or edit), with the summary of what the boxes grant."""
    granted = granted_scopes(form.ticked)
    boxes = tuple(scope for scope in granted if scope in FORM_SCOPES)
    return render(
        "applinks-incoming.html",
        markup={
            "message": banner(message),
            "name_error": error_div("name", form.errors),
            "redirects_error": error_div("redirects", form.errors),
            "scope_error": error_div("scope", form.errors),
            "checkboxes": _checkboxes(boxes),
            "summary": _summary(granted),
        },
        heading=heading,
        action=base_url + action,
        link_name=form.name,
        redirects=form.redirects,
        public_description=SCOPE_INFO[Scope.PUBLIC_REPOS].description,
        scope_order=" ".join(scope.name for scope in Scope),
        atl_token=token,
        cancel_url=base_url + LIST_PATH,
    )


class LinkRow(NamedTuple):
    """One row of the list: its markup, and the name and creation time it is sorted by."""

    name: str
    created_ms: int
    markup: str


def oauth2_row(base_url: str, client: OAuth2Client) -> LinkRow:
    """The row of an OAuth 2 "External application" link."""
    markup = (
        f'<tr class="application-link" data-link-type="oauth2" data-id="{escape(client.id)}" '
        f'data-client-id="{escape(client.client_id)}">'
        f'<td class="application"><span class="application-name">{escape(client.name)}'
        '</span> <span class="application-type">External application</span></td>'
        '<td class="direction">Incoming</td>'
        '<td class="status"><span class="aui-lozenge">Non-Atlassian</span></td>'
        '<td class="actions">'
        f'<a class="credentials" href="{escape(base_url + client_path(client, "credentials"))}"'
        ">Credentials</a> "
        f'<a class="edit" href="{escape(base_url + client_path(client, "edit"))}">Edit</a> '
        f'<a class="delete" href="{escape(base_url + client_path(client, "delete"))}"'
        ">Delete</a></td></tr>"
    )
    return LinkRow(client.name, client.created_ms, markup)


def oauth1_row(base_url: str, link: OAuth1Link | PendingLink, application_url: str) -> LinkRow:
    """The row of an OAuth 1 "Generic Application" link: direction Incoming once its
    Incoming Authentication is saved, "Not configured" before."""
    configured = isinstance(link, OAuth1Link)
    consumer = (
        f' data-consumer-key="{escape(link.consumer_key)}"' if isinstance(link, OAuth1Link) else ""
    )
    url = (
        f' <span class="application-url">{escape(application_url)}</span>'
        if application_url
        else ""
    )
    markup = (
        f'<tr class="application-link" data-link-type="oauth1" data-id="{escape(link.id)}"'
        f"{consumer}>"
        f'<td class="application"><span class="application-name">{escape(link.name)}</span> '
        f'<span class="application-type">{GENERIC_APPLICATION}</span>{url}</td>'
        f'<td class="direction">{"Incoming" if configured else "Not configured"}</td>'
        '<td class="status"><span class="aui-lozenge">Non-Atlassian</span></td>'
        '<td class="actions">'
        f'<a class="edit" href="{escape(base_url + oauth1_path(link.id, "edit"))}">Edit</a> '
        f'<a class="delete" href="{escape(base_url + oauth1_path(link.id, "delete"))}"'
        ">Delete</a></td></tr>"
    )
    return LinkRow(link.name, link.created_ms, markup)


def list_page(base_url: str, rows: Iterable[LinkRow]) -> str:
    """The application links table, by name (case-insensitively), then age."""
    ordered = [row.markup for row in sorted(rows, key=lambda r: (r.name.lower(), r.created_ms))]
    notice = "" if ordered else '<p id="no-links">No application links have been configured.</p>'
    return render(
        "applinks-list.html",
        markup={"rows": "\n".join(ordered), "notice": notice},
        create_url=base_url + CREATE_PATH,
    )


def link_rows(store: Store) -> list[LinkRow]:
    """Every row the list shows: OAuth 1 links always, OAuth 2 links from 7.21."""
    state = oauth1_state(store)
    base = store.base_url
    rows = [oauth1_row(base, p, p.application_url) for p in state.pending.values()]
    rows += [
        oauth1_row(base, link, state.application_urls.get(link.id, ""))
        for link in store.oauth1.links.values()
    ]
    if store.config.version.supports_oauth2:
        rows += [oauth2_row(base, client) for client in store.oauth2.clients.values()]
    return rows


def _radio(name: str, value: str, label: str, description: str, checked: bool) -> str:
    return (
        '<div class="radio">'
        f'<input type="radio" class="radio" name="{name}" id="{name}-{value}" value="{value}"'
        f"{' checked' if checked else ''}>"
        f'<label for="{name}-{value}">{escape(label)}</label>'
        f'<div class="description">{escape(description)}</div>'
        "</div>"
    )


def create_link_page(
    base_url: str,
    oauth2: bool,
    token: str,
    *,
    app_type: str = "",
    direction: str = "",
    message: str = "",
    kind: str = "error",
) -> str:
    """The "Create link" dialog; External application and Direction only where OAuth 2 is."""
    app_type = app_type or (EXTERNAL if oauth2 else ATLASSIAN)
    choices = [
        _radio(
            "application-type",
            ATLASSIAN,
            "Atlassian product",
            "Link with another Atlassian product, or a generic application, using OAuth 1.0.",
            app_type == ATLASSIAN,
        )
    ]
    direction_markup = ""
    if oauth2:
        choices.append(
            _radio(
                "application-type",
                EXTERNAL,
                "External application",
                "Link with an external application using OAuth 2.0.",
                app_type == EXTERNAL,
            )
        )
        direction = direction or INCOMING
        direction_markup = (
            '<fieldset class="group" id="direction">\n<legend>Direction</legend>\n'
            + _radio(
                "direction",
                INCOMING,
                "Incoming",
                "The external application can access data from Bitbucket.",
                direction == INCOMING,
            )
            + "\n"
            + _radio(
                "direction",
                OUTGOING,
                "Outgoing",
                "Bitbucket can access data from the external application.",
                direction == OUTGOING,
            )
            + "\n</fieldset>"
        )
    return render(
        "applinks-create.html",
        markup={
            "message": banner(message, kind),
            "type_choices": "\n".join(choices),
            "direction": direction_markup,
        },
        action=base_url + CREATE_PATH,
        atl_token=token,
        cancel_url=base_url + LIST_PATH,
    )


def credentials_page(base_url: str, client: OAuth2Client, token: str, message: str = "") -> str:
    """A link's Client ID and secret, with Regenerate secret."""
    labels = [SCOPE_INFO[scope].label for scope in client.scopes]
    return render(
        "applinks-credentials.html",
        markup={"message": banner(message, "success")},
        link_name=client.name,
        client_id=client.client_id,
        client_secret=client.client_secret,
        redirects=", ".join(client.redirects),
        scope=", ".join(labels),
        action=base_url + client_path(client, "credentials"),
        atl_token=token,
        edit_url=base_url + client_path(client, "edit"),
        delete_url=base_url + client_path(client, "delete"),
        list_url=base_url + LIST_PATH,
    )


def delete_page(base_url: str, name: str, path: str, token: str) -> str:
    """The confirmation before deleting the link ``name``; the form posts to ``path``."""
    return render(
        "applinks-delete.html",
        link_name=name,
        action=base_url + path,
        atl_token=token,
        cancel_url=base_url + LIST_PATH,
    )


def message_page(title: str, message: str, link_url: str, link_text: str) -> str:
    """An error page: 401, 403 (XSRF) or 404."""
    return render(
        "applinks-message.html",
        title=title,
        message=message,
        link_url=link_url,
        link_text=link_text,
    )


# -- gates -------------------------------------------------------------------------------------


def store_of(request: web.Request) -> Store:
    """The store behind the app."""
    return request.app[store_key]


def _relative(store: Store, path: str) -> str:
    """``path`` (as the request saw it) relative to the base URL's context path."""
    context = store.settings.context_path
    if context and (path == context or path.startswith(context + "/")):
        return path[len(context) :]
    return path


def refuse(request: web.Request) -> web.Response | None:
    """A login redirect (anonymous) or a 401 page (not a system admin); None for a sysadmin.

    The login page brings the user back here (a POST comes back to the same path's form).
    """
    store = store_of(request)
    principal = principal_of(request)
    if principal.is_sysadmin:
        return None
    if principal.user is None:
        back = request.path_qs if request.method in ("GET", "HEAD") else request.path
        query = urlencode({"next": _relative(store, back)})
        return redirect(f"{store.base_url}/login?{query}")
    page = message_page(
        "Unauthorized", NOT_PERMITTED, store.base_url + "/dashboard", "Go to the dashboard"
    )
    return html_response(page, status=401)


def not_found(store: Store, message: str = "") -> web.Response:
    """The 404 page."""
    page = message_page(
        "Page not found",
        message or "The page you requested does not exist.",
        store.base_url + LIST_PATH,
        "Back to application links",
    )
    return html_response(page, status=404)


def xsrf_refused(store: Store, retry_path: str) -> web.Response:
    """The 403 page for a POST without a valid ``atl_token``."""
    page = message_page(
        "XSRF Security Token Missing", XSRF_FAILED, store.base_url + retry_path, "Reload the form"
    )
    return html_response(page, status=403)


def _gate(request: web.Request, oauth2_page: bool) -> web.Response | None:
    """Version (404 below 7.21 for OAuth 2 pages), then who is asking."""
    store = store_of(request)
    if oauth2_page and not store.config.version.supports_oauth2:
        return not_found(store)
    return refuse(request)


def _client_page(request: web.Request) -> OAuth2Client | web.Response:
    """The link an OAuth 2 page is about, or the answer instead (404, login, 401)."""
    refused = _gate(request, oauth2_page=True)
    if refused is not None:
        return refused
    store = store_of(request)
    client = store.oauth2.find_client(request.match_info["id"])
    if client is None:
        return not_found(store, "The application link you are looking for does not exist.")
    return client


def _no_store(response: web.Response) -> web.Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def form_token(request: web.Request) -> str:
    """The ``atl_token`` a form rendered for this request carries."""
    return xsrf_token(store_of(request), request)


def xsrf_passes(request: web.Request, form: Form) -> bool:
    """Whether a submitted form passes the XSRF check."""
    return xsrf_ok(store_of(request), request, {name: values[0] for name, values in form.items()})


async def checked_form(request: web.Request, retry_path: str) -> Form | web.Response:
    """A POSTed form that passed the XSRF check, or the 403 page that offers ``retry_path``."""
    form = await read_form(request)
    if not xsrf_passes(request, form):
        return xsrf_refused(store_of(request), retry_path)
    return form


# -- handlers ----------------------------------------------------------------------------------


async def list_application_links(request: web.Request) -> web.Response:
    """``GET .../listApplicationLinks``: every link (OAuth 2 links only from 7.21)."""
    refused = _gate(request, oauth2_page=False)
    if refused is not None:
        return refused
    store = store_of(request)
    return html_response(list_page(store.base_url, link_rows(store)))


async def get_create_link(request: web.Request) -> web.Response:
    """``GET .../createLink``: the Create link dialog."""
    refused = _gate(request, oauth2_page=False)
    if refused is not None:
        return refused
    store = store_of(request)
    oauth2 = store.config.version.supports_oauth2
    return html_response(create_link_page(store.base_url, oauth2, form_token(request)))


def create_link_choice(oauth2: bool, app_type: str, direction: str) -> tuple[int, str]:
    """Where the dialog's choice leads: (303, the next page's path), else (status, message).

    Atlassian product goes to the OAuth 1 pages (every version; the direction is ignored);
    External application + Incoming to the OAuth 2 incoming form (7.21+).
    """
    if app_type == ATLASSIAN:
        return 303, NEW_OAUTH1_PATH
    if app_type != EXTERNAL:
        return 400, "Choose an application type."
    if not oauth2:
        return 400, (
            "External application links use OAuth 2.0, which needs Bitbucket 7.21 or later."
        )
    if direction == OUTGOING:
        return 501, OUTGOING_NOT_OFFERED
    if direction != INCOMING:
        return 400, "Choose a direction."
    return 303, NEW_INCOMING_PATH


async def post_create_link(request: web.Request) -> web.Response:
    """``POST .../createLink``: Continue, on to the OAuth 1 pages or the OAuth 2 form."""
    refused = _gate(request, oauth2_page=False)
    if refused is not None:
        return refused
    store = store_of(request)
    form = await checked_form(request, CREATE_PATH)
    if isinstance(form, web.Response):
        return form
    oauth2 = store.config.version.supports_oauth2
    app_type, direction = first(form, "application-type"), first(form, "direction")
    status, message = create_link_choice(oauth2, app_type, direction)
    if status == 303:
        return redirect(store.base_url + message, status=303)
    kind = "warning" if status == 501 else "error"
    shown_type = app_type if app_type in (ATLASSIAN, EXTERNAL) and oauth2 else ""
    shown_direction = direction if direction in (INCOMING, OUTGOING) else ""
    page = create_link_page(
        store.base_url,
        oauth2,
        form_token(request),
        app_type=shown_type,
        direction=shown_direction,
        message=message,
        kind=kind,
    )
    return html_response(page, status=status)


async def get_new_incoming_link(request: web.Request) -> web.Response:
    """``GET .../oauth2/incoming/new``: the empty incoming-link form."""
    refused = _gate(request, oauth2_page=True)
    if refused is not None:
        return refused
    store = store_of(request)
    page = incoming_form_page(
        store.base_url, NEW_INCOMING_PATH, LinkForm(), form_token(request), heading=NEW_HEADING
    )
    return html_response(page)


def _submitted(form: Form) -> tuple[LinkForm, tuple[Scope, ...]]:
    """The entered values, and the scopes to store (PUBLIC_REPOS when nothing is ticked)."""
    ticked, error = parse_ticked(form.get("scope", []))
    entered = LinkForm(first(form, "name"), first(form, "redirects"), ticked)
    if error is not None:
        entered.errors["scope"] = error
    return entered, ticked or (NO_PERMISSION_TICKED_MEANS,)


def _check_oauth1_names(store: Store, entered: LinkForm) -> None:
    """An error on ``name`` when an OAuth 1 link already has it (the OAuth 2 backend checks
    only its own clients)."""
    if entered.name.strip() and oauth1_name_taken(store, entered.name):
        entered.errors.setdefault("name", f"An application named {entered.name} already exists")


async def create_incoming_link(request: web.Request) -> web.Response:
    """``POST .../oauth2/incoming/new``: Save; shows the credentials, or the form with errors."""
    refused = _gate(request, oauth2_page=True)
    if refused is not None:
        return refused
    store = store_of(request)
    form = await checked_form(request, NEW_INCOMING_PATH)
    if isinstance(form, web.Response):
        return form
    entered, scopes = _submitted(form)
    _check_oauth1_names(store, entered)
    user = principal_of(request).user
    assert user is not None  # refuse() let only a system administrator through
    if not entered.errors:
        try:
            client = store.oauth2.create_client(
                entered.name, split_redirects(entered.redirects), scopes, user_key=str(user.id)
            )
        except ClientValidationError as exc:
            entered.errors[exc.field] = exc.message
        else:
            return redirect(store.base_url + client_path(client, "credentials"), status=303)
    page = incoming_form_page(
        store.base_url,
        NEW_INCOMING_PATH,
        entered,
        form_token(request),
        heading=NEW_HEADING,
        message=NOT_SAVED,
    )
    return html_response(page, status=400)


async def get_client_credentials(request: web.Request) -> web.Response:
    """``GET .../oauth2/{id}/credentials``: Client ID and Client secret."""
    found = _client_page(request)
    if isinstance(found, web.Response):
        return found
    page = credentials_page(store_of(request).base_url, found, form_token(request))
    return _no_store(html_response(page))


async def reset_client_secret(request: web.Request) -> web.Response:
    """``POST .../oauth2/{id}/credentials``: Regenerate secret, then show the credentials."""
    found = _client_page(request)
    if isinstance(found, web.Response):
        return found
    store = store_of(request)
    form = await checked_form(request, client_path(found, "credentials"))
    if isinstance(form, web.Response):
        return form
    store.oauth2.reset_secret(found)
    return redirect(store.base_url + client_path(found, "credentials"), status=303)


async def get_edit_client(request: web.Request) -> web.Response:
    """``GET .../oauth2/{id}/edit``: the form, prefilled with the link's values."""
    found = _client_page(request)
    if isinstance(found, web.Response):
        return found
    store = store_of(request)
    page = incoming_form_page(
        store.base_url,
        client_path(found, "edit"),
        LinkForm.of_client(found),
        form_token(request),
        heading=EDIT_HEADING,
    )
    return html_response(page)


async def update_client(request: web.Request) -> web.Response:
    """``POST .../oauth2/{id}/edit``: save the changes (credentials stay), or show errors."""
    found = _client_page(request)
    if isinstance(found, web.Response):
        return found
    store = store_of(request)
    form = await checked_form(request, client_path(found, "edit"))
    if isinstance(form, web.Response):
        return form
    entered, scopes = _submitted(form)
    _check_oauth1_names(store, entered)
    if not entered.errors:
        try:
            redirects = split_redirects(entered.redirects)
            store.oauth2.update_client(found, entered.name, redirects, scopes)
        except ClientValidationError as exc:
            entered.errors[exc.field] = exc.message
        else:
            return redirect(store.base_url + LIST_PATH, status=303)
    page = incoming_form_page(
        store.base_url,
        client_path(found, "edit"),
        entered,
        form_token(request),
        heading=EDIT_HEADING,
        message=NOT_SAVED,
    )
    return html_response(page, status=400)


async def get_delete_client(request: web.Request) -> web.Response:
    """``GET .../oauth2/{id}/delete``: ask before deleting."""
    found = _client_page(request)
    if isinstance(found, web.Response):
        return found
    page = delete_page(
        store_of(request).base_url, found.name, client_path(found, "delete"), form_token(request)
    )
    return html_response(page)


async def delete_client(request: web.Request) -> web.Response:
    """``POST .../oauth2/{id}/delete``: delete the link and revoke its codes and tokens."""
    found = _client_page(request)
    if isinstance(found, web.Response):
        return found
    store = store_of(request)
    form = await checked_form(request, client_path(found, "delete"))
    if isinstance(form, web.Response):
        return form
    store.oauth2.delete_client(found)
    return redirect(store.base_url + LIST_PATH, status=303)
