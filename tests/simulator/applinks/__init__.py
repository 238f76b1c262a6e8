"""Tests of the Application Links pages and the OAuth 2 client REST, with a tiny browser.

The helpers parse pages with :mod:`html.parser` into a small element tree, find forms and
submit them as a browser would: text and hidden fields and text areas with their values,
checkboxes and radio buttons only when checked, a select's selected (else first) option, the
submit button without a name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

from aiohttp import ClientResponse

from simulator.oauth2.backend import TokenRequest
from simulator.oauth2.models import OAuth2Client
from simulator.oauth2.scopes import Scope
from simulator.store import Store
from tests.conftest import Client

VOID = frozenset({"input", "meta", "br", "link", "img", "hr"})
ADMIN_LOGIN = {"j_username": "admin", "j_password": "admin"}


@dataclass
class Element:
    """One HTML element: tag, attributes, children and its own text."""

    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    own_text: list[str] = field(default_factory=list)

    def walk(self) -> Iterator[Element]:
        """This element and every descendant, in document order."""
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def raw_text(self) -> str:
        """All text inside, as written (a text area's value)."""
        return "".join(self.own_text) + "".join(child.raw_text for child in self.children)

    @property
    def text(self) -> str:
        """All text inside, whitespace collapsed."""
        parts: list[str] = []

        def collect(element: Element) -> None:
            parts.extend(element.own_text)
            for child in element.children:
                collect(child)

        collect(self)
        return " ".join(" ".join(parts).split())

    def by_id(self, element_id: str) -> Element:
        """The descendant with this id (AssertionError when absent)."""
        found = self.find_id(element_id)
        assert found is not None, f"no element with id {element_id!r}"
        return found

    def find_id(self, element_id: str) -> Element | None:
        """The descendant with this id, or None."""
        return next((e for e in self.walk() if e.attrs.get("id") == element_id), None)

    def all(self, tag: str, css_class: str | None = None) -> list[Element]:
        """Descendants with this tag (and class, when given)."""
        return [
            e
            for e in self.walk()
            if e.tag == tag and (css_class is None or css_class in e.attrs.get("class", "").split())
        ]

    def inputs(self) -> list[Element]:
        """The input elements inside."""
        return self.all("input")


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self._stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self._stack[-1].children.append(element)
        if tag not in VOID:
            self._stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack[-1].children.append(Element(tag, {n: v or "" for n, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            if self._stack[depth].tag == tag:
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._stack[-1].own_text.append(data)


def parse(page: str) -> Element:
    """The element tree of a page."""
    builder = _TreeBuilder()
    builder.feed(page)
    builder.close()
    return builder.root


def _selected(select: Element) -> str:
    options = select.all("option")
    chosen = next((o for o in options if "selected" in o.attrs), options[0] if options else None)
    if chosen is None:
        return ""
    return chosen.attrs.get("value", chosen.text)


def form_fields(
    form: Element, changes: Mapping[str, str | Sequence[str]] | None = None
) -> list[tuple[str, str]]:
    """What a browser submits for ``form`` after the user made ``changes``.

    A change to a text field, text area or select replaces its value; a change to checkboxes
    or radio buttons names the values that end up checked (a string or a list of strings).
    """
    changes = changes or {}
    pairs: list[tuple[str, str]] = []
    for element in form.walk():
        if element.tag not in ("input", "textarea", "select"):
            continue
        name = element.attrs.get("name")
        if element.tag != "input":
            if name:
                change = changes.get(name)
                value = element.raw_text if element.tag == "textarea" else _selected(element)
                pairs.append((name, change if isinstance(change, str) else value))
            continue
        kind = element.attrs.get("type", "text")
        if not name or kind in ("submit", "button", "reset"):
            continue
        value = element.attrs.get("value", "on" if kind in ("checkbox", "radio") else "")
        if kind in ("checkbox", "radio"):
            if name in changes:
                wanted = changes[name]
                chosen = [wanted] if isinstance(wanted, str) else list(wanted)
                checked = value in chosen
            else:
                checked = "checked" in element.attrs
            if checked:
                pairs.append((name, value))
        else:
            change = changes.get(name)
            pairs.append((name, change if isinstance(change, str) else value))
    return pairs


def path_of(url: str, base_url: str) -> str:
    """A URL under the simulator's base URL as a path the test client can request."""
    assert url.startswith(base_url), f"{url!r} is not under {base_url!r}"
    return url[len(base_url) :] or "/"


async def login(client: Client, username: str = "admin") -> None:
    """Log in through the form; the client's cookie jar keeps the session."""
    response = await client.post(
        "/j_atl_security_check",
        data={"j_username": username, "j_password": username},
        allow_redirects=False,
    )
    assert response.status == 302, await response.text()


async def open_page(client: Client, path: str, status: int = 200) -> Element:
    """GET a page, check its status and HTML content type, and parse it."""
    response = await client.get(path, allow_redirects=False)
    body = await response.text()
    assert response.status == status, body
    assert response.headers["Content-Type"] == "text/html;charset=UTF-8"
    return parse(body)


async def submit(
    client: Client,
    base_url: str,
    form: Element,
    changes: Mapping[str, str | Sequence[str]] | None = None,
    *,
    extra: Sequence[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> ClientResponse:
    """Submit a parsed form like a browser would (redirects not followed)."""
    assert form.attrs.get("method", "get").lower() == "post"
    action = path_of(form.attrs["action"], base_url)
    data = [*form_fields(form, changes), *extra]
    return await client.post(action, data=data, headers=dict(headers or {}), allow_redirects=False)


def issue_access_token(store: Store, link: OAuth2Client, redirect_uri: str) -> str:
    """An access token issued to ``link`` through the authorization-code grant."""
    code = store.oauth2.issue_code(
        link,
        redirect_uri=redirect_uri,
        scopes=(Scope.REPO_READ,),
        user_id=2,
        challenge=None,
        method=None,
    )
    body = store.oauth2.token(
        TokenRequest(
            grant_type="authorization_code",
            code=code,
            redirect_uri=redirect_uri,
            client_id=link.client_id,
            client_secret=link.client_secret,
        )
    )
    return str(body["access_token"])
