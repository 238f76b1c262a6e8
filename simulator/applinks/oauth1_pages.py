"""The Application Links admin pages for OAuth 1 "Atlassian product / Generic Application" links.

The path Private Packagist's OAuth 1 guide walks (system administrators only, every version):

- ``GET|POST /plugins/servlet/applinks/oauth1/new``: the Application URL. Continue never
  contacts the URL (the simulator makes no network requests): it always answers with real
  Bitbucket's "No response was received" warning, and a second Continue with the same URL
  goes on.
- ``GET|POST /plugins/servlet/applinks/oauth1/new/link?url=``: "Link applications":
  Application Name and Application Type. Continue creates the link, without Incoming
  Authentication, and shows the list.
- ``GET|POST /plugins/servlet/applinks/oauth1/{id}/edit``: the link's Incoming
  Authentication (Consumer Key, Consumer Name, Description, Public Key, Consumer Callback
  URL and the 2-legged options). Save validates through the OAuth 1 backend; a bad field
  re-renders the form (400) with the error next to it and saves nothing.
- ``GET|POST /plugins/servlet/applinks/oauth1/{id}/delete``: confirm, then delete (the link's
  tokens go with it).

The gates, XSRF rule and error pages are those of :mod:`simulator.applinks.pages`. A link
has no backend object until its first Save (the backend needs a consumer key and a public
key); until then it waits in ``store.oauth1_pages``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from aiohttp import web

from simulator.applinks import paths
from simulator.applinks.pages import (
    GENERIC_APPLICATION,
    NOT_SAVED,
    Form,
    banner,
    checked_form,
    delete_page,
    error_div,
    first,
    form_token,
    link_name_taken,
    message_page,
    not_found,
    oauth1_name_taken,
    oauth1_path,
    oauth1_state,
    refuse,
    store_of,
)
from simulator.applinks.paths import LIST_PATH, NEW_OAUTH1_PATH
from simulator.oauth1.backend import MAX_FIELD_LENGTH, OAuth1ValidationError, is_http_url
from simulator.oauth1.models import OAuth1Link, PendingLink
from simulator.store import Store
from simulator.web.pages import escape, html_response, redirect, render

LINK_APPLICATIONS_PATH = paths.LINK_APPLICATIONS_PATH

#: What real Bitbucket says when the Application URL does not answer (it always does here).
NO_RESPONSE = (
    "No response was received from the URL you entered - it may not be valid. "
    "Please fix the URL below, if needed, and click Continue."
)
URL_REQUIRED = "Enter the URL of the application you want to link."
URL_INVALID = "Enter a valid URL, starting with http:// or https://."
URL_TOO_LONG = f"The URL must be at most {MAX_FIELD_LENGTH} characters."
URL_LOST = "The application URL is missing or not valid. Start again from Create link."
NAME_REQUIRED = "Application Name is required."
TYPE_REQUIRED = "Choose an application type."
ONLY_GENERIC = (
    "This simulator creates only Generic Application links. Choose Generic Application to "
    "link Private Packagist or another application that is not an Atlassian product."
)
LINK_GONE = "The application link you are looking for does not exist."

#: The Application Type choices of "Link applications" (applinks type ids), as ordered there.
GENERIC = "generic"
APPLICATION_TYPES: tuple[tuple[str, str], ...] = (
    ("bamboo", "Bamboo"),
    ("stash", "Bitbucket"),
    ("confluence", "Confluence"),
    ("crowd", "Crowd"),
    ("fecru", "FishEye / Crucible"),
    (GENERIC, GENERIC_APPLICATION),
    ("jira", "Jira"),
)
#: The Incoming Authentication fields, in the order the form shows them.
INCOMING_FIELDS = (
    "consumer_key",
    "consumer_name",
    "description",
    "public_key",
    "callback_url",
    "two_legged",
    "execute_as",
    "impersonation",
)


# -- rules ---------------------------------------------------------------------------------------


def check_application_url(url: str) -> str | None:
    """The error of an Application URL (absolute http(s), at most 255 characters), or None."""
    if not url:
        return URL_REQUIRED
    if len(url) > MAX_FIELD_LENGTH:
        return URL_TOO_LONG
    if not is_http_url(url):
        return URL_INVALID
    return None


def check_link_name(store: Store, name: str) -> str | None:
    """The error of an Application Name (required, at most 255, unique), or None."""
    if not name:
        return NAME_REQUIRED
    if len(name) > MAX_FIELD_LENGTH:
        return f"Application Name must be at most {MAX_FIELD_LENGTH} characters."
    if link_name_taken(store, name):
        return f"An application named {name} already exists."
    return None


def link_applications_errors(store: Store, name: str, app_type: str) -> dict[str, str]:
    """The errors of the "Link applications" form, by field."""
    errors: dict[str, str] = {}
    if (name_error := check_link_name(store, name)) is not None:
        errors["name"] = name_error
    if app_type not in dict(APPLICATION_TYPES):
        errors["application-type"] = TYPE_REQUIRED
    return errors


def create_pending_link(store: Store, name: str, application_url: str) -> PendingLink:
    """A link without Incoming Authentication, as Continue on "Link applications" makes it."""
    link = PendingLink(str(uuid.uuid4()), name, application_url, store.clock.now())
    oauth1_state(store).pending[link.id] = link
    return link


def find_oauth1_link(store: Store, link_id: str) -> OAuth1Link | PendingLink | None:
    """The OAuth 1 link with this id, configured or still waiting for its first Save."""
    return store.oauth1.links.get(link_id) or oauth1_state(store).pending.get(link_id)


def application_url_of(store: Store, link: OAuth1Link | PendingLink) -> str:
    """The Application URL entered for a link ('' for links made by the control API)."""
    if isinstance(link, PendingLink):
        return link.application_url
    return oauth1_state(store).application_urls.get(link.id, "")


@dataclass(slots=True)
class IncomingForm:
    """The Incoming Authentication form: entered values and errors by field."""

    consumer_key: str = ""
    consumer_name: str = ""
    description: str = ""
    public_key: str = ""
    callback_url: str = ""
    two_legged: bool = False
    execute_as: str = ""
    impersonation: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_link(cls, link: OAuth1Link | PendingLink) -> IncomingForm:
        """The form prefilled from a link (a waiting link offers its name as Consumer Name)."""
        if isinstance(link, PendingLink):
            return cls(consumer_name=link.name)
        return cls(
            link.consumer_key,
            link.consumer_name,
            link.description,
            link.public_key,
            link.callback_url or "",
            link.two_legged,
            link.execute_as or "",
            link.impersonation,
        )

    @classmethod
    def of_form(cls, form: Form) -> IncomingForm:
        """What was submitted; a ticked checkbox is any non-empty value."""
        return cls(
            first(form, "consumer_key"),
            first(form, "consumer_name"),
            first(form, "description"),
            first(form, "public_key"),
            first(form, "callback_url"),
            bool(first(form, "two_legged")),
            first(form, "execute_as"),
            bool(first(form, "impersonation")),
        )


def save_incoming(
    store: Store, link: OAuth1Link | PendingLink, entered: IncomingForm
) -> OAuth1Link | None:
    """Save a link's Incoming Authentication through the backend, all or nothing.

    A waiting link becomes a backend link (with a new id); a configured one is updated.
    Returns None and records the errors in ``entered`` when a field is bad.
    """
    if not entered.consumer_name.strip():
        entered.errors["consumer_name"] = "Consumer Name is required."
    execute_as = entered.execute_as.strip()
    if execute_as and execute_as.lower() not in store.catalog.users_by_name:
        entered.errors["execute_as"] = f"No user is named {execute_as}."
    if entered.errors:
        return None
    try:
        if isinstance(link, OAuth1Link):
            return store.oauth1.update_link(
                link,
                consumer_key=entered.consumer_key,
                consumer_name=entered.consumer_name,
                public_key=entered.public_key,
                description=entered.description,
                callback_url=entered.callback_url,
                two_legged=entered.two_legged,
                execute_as=execute_as or None,
                impersonation=entered.impersonation,
            )
        if oauth1_name_taken(store, link.name, exclude=link.id):
            raise OAuth1ValidationError("name", f"An application named {link.name} already exists.")
        created = store.oauth1.create_link(
            name=link.name,
            consumer_key=entered.consumer_key,
            consumer_name=entered.consumer_name,
            public_key=entered.public_key,
            description=entered.description,
            callback_url=entered.callback_url,
            two_legged=entered.two_legged,
            execute_as=execute_as or None,
            impersonation=entered.impersonation,
        )
    except OAuth1ValidationError as exc:
        entered.errors[exc.field] = exc.message
        return None
    state = oauth1_state(store)
    del state.pending[link.id]
    state.application_urls[created.id] = link.application_url
    return created


def delete_oauth1_link(store: Store, link: OAuth1Link | PendingLink) -> None:
    """Delete a link; a configured link's tokens go with it."""
    state = oauth1_state(store)
    state.pending.pop(link.id, None)
    state.application_urls.pop(link.id, None)
    if isinstance(link, OAuth1Link):
        store.oauth1.delete_link(link.id)


# -- markup --------------------------------------------------------------------------------------


def application_url_page(
    base_url: str,
    token: str,
    *,
    url: str = "",
    entered: str = "",
    error: str = "",
    message: str = "",
    kind: str = "error",
) -> str:
    """The Application URL page; with ``entered``, the "no response" warning's form."""
    entered_markup = ""
    if entered:
        entered_markup = (
            '<div class="field-group" id="entered-url-group">'
            '<span class="field-label">Entered URL</span> '
            f'<span id="entered-url">{escape(entered)}</span>'
            f'<input type="hidden" name="entered-url" value="{escape(entered)}">'
            "</div>"
        )
    return render(
        "applinks-oauth1-url.html",
        markup={
            "message": banner(message, kind),
            "entered": entered_markup,
            "url_error": error_div("application-url", {"application-url": error} if error else {}),
        },
        url_label="New URL" if entered else "Application URL",
        application_url=url,
        action=base_url + NEW_OAUTH1_PATH,
        atl_token=token,
        cancel_url=base_url + LIST_PATH,
    )


def _type_options(chosen: str) -> str:
    return "\n".join(
        f'<option value="{value}"{" selected" if value == chosen else ""}>{escape(label)}</option>'
        for value, label in APPLICATION_TYPES
    )


def link_applications_page(
    base_url: str,
    token: str,
    application_url: str,
    *,
    name: str = "",
    app_type: str = GENERIC,
    errors: dict[str, str] | None = None,
    message: str = "",
    kind: str = "error",
) -> str:
    """The "Link applications" page: Application Name and Application Type."""
    errors = errors or {}
    return render(
        "applinks-oauth1-link.html",
        markup={
            "message": banner(message, kind),
            "name_error": error_div("name", errors),
            "type_error": error_div("application-type", errors),
            "type_options": _type_options(app_type),
        },
        application_url=application_url,
        link_name=name,
        action=base_url + LINK_APPLICATIONS_PATH,
        atl_token=token,
        cancel_url=base_url + LIST_PATH,
    )


def _checkbox(name: str, label: str, checked: bool) -> str:
    return (
        '<div class="checkbox">'
        f'<input type="checkbox" class="checkbox" name="{name}" id="{name}" value="true"'
        f"{' checked' if checked else ''}>"
        f'<label for="{name}">{escape(label)}</label>'
        "</div>"
    )


def incoming_page(
    base_url: str,
    link: OAuth1Link | PendingLink,
    form: IncomingForm,
    token: str,
    *,
    application_url: str,
    message: str = "",
) -> str:
    """A link's edit page: its details and the Incoming Authentication form."""
    outside = [msg for name, msg in form.errors.items() if name not in INCOMING_FIELDS]
    if outside:
        message = " ".join([message, *outside]).strip()
    return render(
        "applinks-oauth1-edit.html",
        markup={
            "message": banner(message),
            **{f"{name}_error": error_div(name, form.errors) for name in INCOMING_FIELDS},
            "two_legged_box": _checkbox("two_legged", "Allow 2-Legged OAuth", form.two_legged),
            "impersonation_box": _checkbox(
                "impersonation",
                "Allow user impersonation through 2-Legged OAuth",
                form.impersonation,
            ),
        },
        link_name=link.name,
        application_type=GENERIC_APPLICATION,
        application_url=application_url or "-",
        status="Configured" if isinstance(link, OAuth1Link) else "Not configured",
        consumer_key=form.consumer_key,
        consumer_name=form.consumer_name,
        description=form.description,
        public_key=form.public_key,
        callback_url=form.callback_url,
        execute_as=form.execute_as,
        action=base_url + oauth1_path(link.id, "edit"),
        atl_token=token,
        cancel_url=base_url + LIST_PATH,
    )


# -- helpers of the handlers ---------------------------------------------------------------------


def _link_page(request: web.Request) -> OAuth1Link | PendingLink | web.Response:
    """The link an edit or delete page is about, or the answer instead (login, 401, 404)."""
    refused = refuse(request)
    if refused is not None:
        return refused
    store = store_of(request)
    link = find_oauth1_link(store, request.match_info["id"])
    if link is None:
        return not_found(store, LINK_GONE)
    return link


def _url_lost(store: Store) -> web.Response:
    page = message_page(
        "Application URL missing", URL_LOST, store.base_url + NEW_OAUTH1_PATH, "Start again"
    )
    return html_response(page, status=400)


# -- handlers ------------------------------------------------------------------------------------


async def get_new_oauth1_link(request: web.Request) -> web.Response:
    """``GET .../oauth1/new``: ask for the Application URL."""
    refused = refuse(request)
    if refused is not None:
        return refused
    store = store_of(request)
    return html_response(application_url_page(store.base_url, form_token(request)))


async def post_application_url(request: web.Request) -> web.Response:
    """``POST .../oauth1/new``: Continue. A new URL gets the "no response" warning (nothing
    is contacted); the same URL a second time goes on to "Link applications"."""
    refused = refuse(request)
    if refused is not None:
        return refused
    store = store_of(request)
    form = await checked_form(request, NEW_OAUTH1_PATH)
    if isinstance(form, web.Response):
        return form
    url, entered = first(form, "application-url").strip(), first(form, "entered-url").strip()
    error = check_application_url(url)
    if error is not None:
        page = application_url_page(
            store.base_url, form_token(request), url=url, entered=entered, error=error
        )
        return html_response(page, status=400)
    if url == entered:
        query = urlencode({"url": url})
        return redirect(f"{store.base_url}{LINK_APPLICATIONS_PATH}?{query}", status=303)
    token = form_token(request)
    page = application_url_page(
        store.base_url, token, url=url, entered=url, message=NO_RESPONSE, kind="warning"
    )
    return html_response(page)


async def get_link_applications(request: web.Request) -> web.Response:
    """``GET .../oauth1/new/link?url=``: the "Link applications" step for that URL."""
    refused = refuse(request)
    if refused is not None:
        return refused
    store = store_of(request)
    url = request.query.get("url", "").strip()
    if check_application_url(url) is not None:
        return _url_lost(store)
    return html_response(link_applications_page(store.base_url, form_token(request), url))


async def post_link_applications(request: web.Request) -> web.Response:
    """``POST .../oauth1/new/link``: Continue; creates the link and shows the list."""
    refused = refuse(request)
    if refused is not None:
        return refused
    store = store_of(request)
    form = await checked_form(request, NEW_OAUTH1_PATH)
    if isinstance(form, web.Response):
        return form
    url = first(form, "application-url").strip()
    if check_application_url(url) is not None:
        return _url_lost(store)
    name, app_type = first(form, "name").strip(), first(form, "application-type")
    errors = link_applications_errors(store, name, app_type)
    if not errors and app_type == GENERIC:
        create_pending_link(store, name, url)
        return redirect(store.base_url + LIST_PATH, status=303)
    # A valid form of another application type: not offered here (501, as Outgoing is).
    status, message, kind = (400, NOT_SAVED, "error") if errors else (501, ONLY_GENERIC, "warning")
    page = link_applications_page(
        store.base_url,
        form_token(request),
        url,
        name=name,
        app_type=app_type if app_type in dict(APPLICATION_TYPES) else GENERIC,
        errors=errors,
        message=message,
        kind=kind,
    )
    return html_response(page, status=status)


async def get_edit_oauth1_link(request: web.Request) -> web.Response:
    """``GET .../oauth1/{id}/edit``: the link's Incoming Authentication, prefilled."""
    found = _link_page(request)
    if isinstance(found, web.Response):
        return found
    store = store_of(request)
    page = incoming_page(
        store.base_url,
        found,
        IncomingForm.of_link(found),
        form_token(request),
        application_url=application_url_of(store, found),
    )
    return html_response(page)


async def update_oauth1_link(request: web.Request) -> web.Response:
    """``POST .../oauth1/{id}/edit``: Save; the list, or the form with the errors (400)."""
    found = _link_page(request)
    if isinstance(found, web.Response):
        return found
    store = store_of(request)
    form = await checked_form(request, oauth1_path(found.id, "edit"))
    if isinstance(form, web.Response):
        return form
    entered = IncomingForm.of_form(form)
    application_url = application_url_of(store, found)
    if save_incoming(store, found, entered) is not None:
        return redirect(store.base_url + LIST_PATH, status=303)
    page = incoming_page(
        store.base_url,
        found,
        entered,
        form_token(request),
        application_url=application_url,
        message=NOT_SAVED,
    )
    return html_response(page, status=400)


async def get_delete_oauth1_link(request: web.Request) -> web.Response:
    """``GET .../oauth1/{id}/delete``: ask before deleting."""
    found = _link_page(request)
    if isinstance(found, web.Response):
        return found
    store = store_of(request)
    page = delete_page(
        store.base_url, found.name, oauth1_path(found.id, "delete"), form_token(request)
    )
    return html_response(page)


async def delete_oauth1_link_page(request: web.Request) -> web.Response:
    """``POST .../oauth1/{id}/delete``: delete the link and every token issued to it."""
    found = _link_page(request)
    if isinstance(found, web.Response):
        return found
    store = store_of(request)
    form = await checked_form(request, oauth1_path(found.id, "delete"))
    if isinstance(form, web.Response):
        return form
    delete_oauth1_link(store, found)
    return redirect(store.base_url + LIST_PATH, status=303)
