"""The user's browser: a synchronous user agent that does what a person's browser does.

It keeps cookies, follows redirects one hop at a time, parses HTML forms and links and submits
forms as a browser builds them, so the guide's steps on Bitbucket's pages (log in, create an
application link, consent) and on the integration's pages are done as a person would do them.
Every request it sends is recorded in a trace (secrets redacted) for the conformance report::

    browser = UserAgent()
    page = browser.log_in_to_bitbucket(base_url, "admin", "admin")
    page = browser.get(base_url + "/plugins/servlet/applinks/createLink")
    form = page.find_form(has_field="application-type")
    form.choose("application-type", "external").choose("direction", "incoming")
    page = browser.submit(form, button="Continue")

Choices:

- **Cookies per origin.** One :class:`http.cookiejar.CookieJar` per origin (scheme, host,
  port). Everything here runs on ``127.0.0.1`` on different ports, and cookies ignore ports,
  so one shared jar would hand the simulator's cookies to the integration and back. A
  deployed integration and its Bitbucket live on different hosts; a jar per origin models
  that. ``SameSite`` is not enforced: sites ignore ports, so every loopback server is the
  same site anyway.
- **Redirects** (301, 302, 303, 307, 308) are followed hop by hop, at most
  :data:`MAX_REDIRECTS`; 303, and 301/302 after a POST, become a GET without a body (as
  browsers do); 307/308 repeat the method and body. A relative ``Location`` is resolved
  against the URL that answered it; its fragment is never sent. A ``Location`` that is not
  http(s) (a native app's callback) ends the navigation there, as a browser hands it off.
  ``follow=False`` stops at the first redirect and ``stop_at`` (a predicate on the next URL)
  stops before a chosen one; :meth:`UserAgent.follow` goes on, optionally to a tampered URL.
- **Headers** as a browser sends them: ``Referer`` under ``strict-origin-when-cross-origin``
  (full URL within an origin, only the origin across origins), ``Origin`` on form POSTs.
  No proxy is ever used (environment proxy variables are ignored).
- **Forms**: the data set is built in tree order as HTML specifies: disabled controls and
  unnamed ones are left out, checkboxes and radios only when checked (value ``on`` by
  default), selects send their selected options (a single select with none selected sends its
  first option), textareas send CRLF line breaks, only the button that submits is included.
  Implicit submission (no ``button`` given) uses the form's first submit button, as pressing
  Enter does. Only ``application/x-www-form-urlencoded`` bodies are sent.
- **Tampering**: :meth:`Form.fill` also sets hidden fields, :meth:`Form.add` and
  :meth:`Form.remove` change the field set; a person cannot, an attacker can, and scenarios
  about ``state`` or XSRF tokens need to.
- **Redaction** (the trace only; pages keep real values): ``Authorization`` keeps its scheme,
  ``Cookie`` and ``Set-Cookie`` their names and attributes, and query or form values whose
  names are secrets (:data:`SECRET_NAME`: passwords, secrets, tokens, codes, verifiers,
  signatures, ``state``) become ``<redacted>``; an empty value stays empty, so that "sent but
  blank" remains visible.
"""

from __future__ import annotations

import copy
import dataclasses
import http.client
import json
import re
import ssl
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import Cookie, CookieJar
from typing import Any
from urllib.parse import quote, unquote_plus, urlencode, urljoin, urlsplit, urlunsplit

MAX_REDIRECTS = 20
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_TIMEOUT = 15.0
REDACTED = "<redacted>"
#: How every request of the harness to Bitbucket introduces itself (the journal tells the
#: integration's requests from the harness's by it: :mod:`conformance.wire`).
HARNESS_USER_AGENT = "bbdc-sim-conformance/"
USER_AGENT = HARNESS_USER_AGENT + "1 (the user's browser)"
ACCEPT_HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

#: Names of query and form parameters whose values are secrets (whole name, any case):
#: anything naming a password, secret, token, verifier, signature, assertion, credential or
#: API key, and exactly ``code``, ``state``, one-time passwords and session handles.
SECRET_NAME = re.compile(
    r"^(?:.*(?:password|passwd|secret|token|verifier|signature|assertion|credential"
    r"|api[_-]?key).*"
    r"|code|state|otp|totp|passcode|pin|session|sessionid|oauth_session_handle)$",
    re.IGNORECASE,
)
#: Headers whose whole value is a secret (besides Authorization, Cookie and Set-Cookie).
_SECRET_HEADER = re.compile(r"token|secret|api[_-]?key|password", re.IGNORECASE)
#: Response headers left out of the trace: they change on every run and say nothing of the flow.
_NOISY_HEADERS = frozenset({"date", "server"})
_UNSAFE_IN_TARGET = re.compile(r"[^\x21-\x7e]")

_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())  # noqa: SIM905
_INVISIBLE = frozenset({"script", "style", "template", "title", "head", "noscript", "textarea"})
_BLOCK = frozenset(
    """address article aside blockquote br dd details div dl dt fieldset figcaption figure
    footer form h1 h2 h3 h4 h5 h6 header hr legend li main nav ol option p pre section summary
    table tbody thead tfoot tr ul""".split()  # noqa: SIM905
)
#: An open element implicitly closed when a sibling of one of these tags starts.
_IMPLIED_END = {
    "option": frozenset({"option", "optgroup"}),
    "li": frozenset({"li"}),
    "dt": frozenset({"dt", "dd"}),
    "dd": frozenset({"dt", "dd"}),
    "td": frozenset({"td", "th", "tr"}),
    "th": frozenset({"td", "th", "tr"}),
    "tr": frozenset({"tr"}),
    "p": frozenset({"p", "div", "ul", "ol", "table", "form", "h1", "h2", "h3", "h4", "h5", "h6"}),
}
_SUBMIT_INPUTS = frozenset({"submit", "image"})
_NEVER_SUBMITTED = frozenset({"reset", "button"})


class UserAgentError(Exception):
    """The browser could not do what was asked (unreachable server, too many redirects...)."""


class TooManyRedirectsError(UserAgentError):
    """More than :data:`MAX_REDIRECTS` redirects in one navigation."""


class ElementNotFoundError(UserAgentError, LookupError):
    """No form, field, button, link or element matches; the message lists what there is."""


# -- redaction ---------------------------------------------------------------------------------


def is_secret(name: str) -> bool:
    """Whether a query or form parameter of this name carries a secret."""
    return SECRET_NAME.match(name) is not None


def redact_query(query: str) -> str:
    """A query string with secret values replaced, every other byte kept as sent."""
    if not query:
        return query
    parts = []
    for pair in query.split("&"):
        name, sep, value = pair.partition("=")
        if sep and value and is_secret(unquote_plus(name)):
            parts.append(f"{name}={REDACTED}")
            continue
        inner = unquote_plus(value)
        nested = redact_nested(inner)
        parts.append(f"{name}={quote(nested, safe='/:')}" if nested != inner else pair)
    return "&".join(parts)


def redact_nested(value: str) -> str:
    """A parameter value that is itself a URL or query (``next``, ``redirect_uri``) with the
    secrets inside it replaced; any other value unchanged."""
    if "?" in value:
        return redact_url(value)
    if "=" in value and "&" in value:
        return redact_query(value)
    return value


def redact_url(url: str) -> str:
    """A URL with secret query values (and any userinfo password) replaced."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{hostport}" if ":" in userinfo else netloc
    return urlunsplit(parts._replace(netloc=netloc, query=redact_query(parts.query)))


def redact_pairs(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Form fields with secret values replaced (an empty value stays empty)."""
    return tuple((n, REDACTED if v and is_secret(n) else redact_nested(v)) for n, v in pairs)


def redact_header(name: str, value: str) -> str:
    """A header value without its secret: ``Bearer <redacted>``, cookie names, safe URLs."""
    lowered = name.lower()
    if lowered in ("authorization", "proxy-authorization"):
        scheme, sep, _ = value.strip().partition(" ")
        if not value.strip():
            return ""
        return f"{scheme} {REDACTED}" if sep else REDACTED
    if lowered == "cookie":
        names = [part.split("=", 1)[0].strip() for part in value.split(";") if part.strip()]
        return "; ".join(f"{n}={REDACTED}" for n in names)
    if lowered == "set-cookie":
        first, sep, attributes = value.partition(";")
        cookie_name = first.split("=", 1)[0].strip()
        return f"{cookie_name}={REDACTED}{sep}{attributes}"
    if lowered in ("location", "referer", "content-location", "refresh"):
        return redact_url(value)
    if _SECRET_HEADER.search(lowered):
        return REDACTED if value else ""
    return value


def redact_headers(headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Every header with :func:`redact_header` applied."""
    return tuple((name, redact_header(name, value)) for name, value in headers)


# -- origins -----------------------------------------------------------------------------------


def origin_of(url: str) -> str:
    """``scheme://host:port`` of a URL, the default port made explicit, host lower-cased."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme, 0)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def leaving_origin(url: str) -> Callable[[str], bool]:
    """A ``stop_at`` predicate: stop before a redirect to another origin than ``url``'s."""
    start = origin_of(url)
    return lambda next_url: origin_of(next_url) != start


def entering_origin(url: str) -> Callable[[str], bool]:
    """A ``stop_at`` predicate: stop before a redirect to ``url``'s origin."""
    target = origin_of(url)
    return lambda next_url: origin_of(next_url) == target


def _referrer(source: str | None, target: str) -> str | None:
    """``Referer`` under ``strict-origin-when-cross-origin`` (never https -> http)."""
    if not source:
        return None
    src = urlsplit(source)
    if src.scheme == "https" and urlsplit(target).scheme != "https":
        return None
    if origin_of(source) == origin_of(target):
        return urlunsplit(src._replace(fragment=""))
    return f"{src.scheme}://{src.netloc}/"


def _serialised_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# -- the trace ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One request the browser sent and what came back, secrets redacted."""

    index: int
    method: str
    url: str
    status: int
    reason: str = ""
    location: str | None = None
    request_headers: tuple[tuple[str, str], ...] = ()
    response_headers: tuple[tuple[str, str], ...] = ()
    #: The form fields of a POST body (None when there was no form body).
    form: tuple[tuple[str, str], ...] | None = None
    #: Why no answer came (connection refused, timeout); status is then 0.
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; headers and form fields as ``[name, value]`` pairs."""
        return {
            "index": self.index,
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "reason": self.reason,
            "location": self.location,
            "request_headers": [list(pair) for pair in self.request_headers],
            "response_headers": [list(pair) for pair in self.response_headers],
            "form": None if self.form is None else [list(pair) for pair in self.form],
            "error": self.error,
        }


# -- HTML: forms, links, elements -------------------------------------------------------------


@dataclass(slots=True)
class Option:
    """One ``<option>`` of a select."""

    value: str
    label: str
    selected: bool = False
    disabled: bool = False


@dataclass(slots=True)
class Field:
    """A form control: an input, a button, a select or a textarea."""

    name: str
    value: str
    #: The input type lower-cased (``text``, ``hidden``, ``checkbox``, ...), ``select``,
    #: ``textarea``, or for ``<button>`` its type (``submit``, ``reset``, ``button``).
    kind: str
    tag: str = "input"
    checked: bool = False
    disabled: bool = False
    id: str = ""
    #: The text of its ``<label>`` (for a button: its text, or an input button's value).
    label: str = ""
    options: list[Option] = field(default_factory=list)
    multiple: bool = False
    form_id: str | None = None
    order: int = 0

    @property
    def is_button(self) -> bool:
        """Whether this control submits its form when activated."""
        if self.tag == "button":
            return self.kind == "submit"
        return self.kind in _SUBMIT_INPUTS

    @property
    def is_text_like(self) -> bool:
        """Whether ``fill`` types into it (text, password, hidden, textarea, email, ...)."""
        return self.tag in ("input", "textarea") and self.kind not in (
            "checkbox",
            "radio",
            "file",
            *_SUBMIT_INPUTS,
            *_NEVER_SUBMITTED,
        )

    def describe(self) -> str:
        """``name`` (kind, value) for error messages."""
        shown = "" if self.kind in ("password",) else f"={self.value!r}"
        return f"{self.name or '<unnamed>'} ({self.kind}{shown})"


@dataclass(slots=True)
class Form:
    """An HTML form as parsed, to be filled and handed to :meth:`UserAgent.submit`."""

    action: str
    method: str
    enctype: str
    fields: list[Field]
    page_url: str
    id: str = ""
    name: str = ""

    def copy(self) -> Form:
        """An independent copy (filling it leaves this one alone)."""
        return copy.deepcopy(self)

    def field_names(self) -> list[str]:
        """The names of its controls, in order, without repeats."""
        return list(dict.fromkeys(f.name for f in self.fields if f.name))

    def has_field(self, name: str) -> bool:
        """Whether a control of this name exists."""
        return any(f.name == name for f in self.fields)

    def named(self, name: str) -> list[Field]:
        """The controls of this name."""
        return [f for f in self.fields if f.name == name]

    def value(self, name: str) -> str:
        """The value a control of this name would submit ('' when none would)."""
        for pair_name, pair_value in self.data_set():
            if pair_name == name:
                return pair_value
        if not self.has_field(name):
            raise self._missing(name)
        return ""

    @property
    def buttons(self) -> list[Field]:
        """Its submit buttons, in order."""
        return [f for f in self.fields if f.is_button]

    def _missing(self, name: str) -> ElementNotFoundError:
        known = ", ".join(f.describe() for f in self.fields) or "none"
        return ElementNotFoundError(
            f"The form posting to {self.action} has no field {name!r}; it has: {known}"
        )

    def fill(self, values: Mapping[str, Any] | None = None, /, **fields: Any) -> Form:
        """Set controls by name; returns the form.

        Text-like controls (hidden ones too) take a string, or a list for several controls of
        one name in order; a checkbox group takes True/False (all boxes) or the values that are
        to be exactly the checked ones; a radio group takes the value to choose; a select the
        value (or label) of its option, or a list for a multiple select. A name the form does
        not have is an error (use :meth:`add` to invent a field).
        """
        for name, wanted in {**(values or {}), **fields}.items():
            controls = self.named(name)
            if not controls:
                raise self._missing(name)
            kinds = {c.kind for c in controls}
            if "checkbox" in kinds:
                self._set_checkboxes(name, controls, wanted)
            elif "radio" in kinds:
                self.choose(name, str(wanted))
            elif "select" in kinds:
                self.select(name, wanted)
            else:
                self._type(name, [c for c in controls if c.is_text_like], wanted)
        return self

    def _type(self, name: str, controls: list[Field], wanted: Any) -> None:
        if not controls:
            raise ElementNotFoundError(f"The field {name!r} of {self.action} takes no typing.")
        values = [str(v) for v in wanted] if isinstance(wanted, list | tuple) else [str(wanted)]
        if len(values) > len(controls):
            raise UserAgentError(f"{len(values)} values for {len(controls)} {name!r} fields.")
        for control, value in zip(controls, values, strict=False):
            control.value = value

    def _set_checkboxes(self, name: str, boxes: list[Field], wanted: Any) -> None:
        if isinstance(wanted, bool):
            for box in boxes:
                box.checked = wanted
            return
        chosen = {str(wanted)} if isinstance(wanted, str) else {str(v) for v in wanted}
        unknown = chosen - {b.value for b in boxes}
        if unknown:
            raise ElementNotFoundError(
                f"The checkboxes {name!r} have no value {sorted(unknown)[0]!r}; "
                f"values: {', '.join(b.value for b in boxes)}"
            )
        for box in boxes:
            box.checked = box.value in chosen

    def _boxes(self, name: str, value: str | None, kind: str) -> list[Field]:
        boxes = [f for f in self.named(name) if f.kind == kind]
        if not boxes:
            raise self._missing(name)
        if value is None:
            if len(boxes) > 1:
                values = ", ".join(b.value for b in boxes)
                raise UserAgentError(f"Several {kind}es are named {name!r}; give a value: {values}")
            return boxes
        matching = [b for b in boxes if b.value == value]
        if not matching:
            values = ", ".join(b.value for b in boxes)
            raise ElementNotFoundError(f"No {kind} {name!r} has value {value!r}; values: {values}")
        return matching

    def check(self, name: str, value: str | None = None) -> Form:
        """Tick the checkbox of this name (and value, when several share the name)."""
        for box in self._boxes(name, value, "checkbox"):
            box.checked = True
        return self

    def uncheck(self, name: str, value: str | None = None) -> Form:
        """Untick the checkbox of this name (and value)."""
        for box in self._boxes(name, value, "checkbox"):
            box.checked = False
        return self

    def choose(self, name: str, value: str) -> Form:
        """Choose the radio button of this name and value (the others of the group clear)."""
        chosen = self._boxes(name, value, "radio")[0]
        for radio in self.named(name):
            if radio.kind == "radio":
                radio.checked = radio is chosen
        return self

    def select(self, name: str, wanted: str | Sequence[str]) -> Form:
        """Select options of a select by value or label (a list for a multiple select)."""
        selects = [f for f in self.named(name) if f.kind == "select"]
        if not selects:
            raise self._missing(name)
        control = selects[0]
        chosen = [wanted] if isinstance(wanted, str) else list(wanted)
        if len(chosen) > 1 and not control.multiple:
            raise UserAgentError(f"The select {name!r} takes one option.")
        picked = []
        for choice in chosen:
            match = [o for o in control.options if choice in (o.value, o.label)]
            if not match:
                values = ", ".join(o.value for o in control.options)
                raise ElementNotFoundError(f"No option {choice!r} in {name!r}; options: {values}")
            picked.append(match[0])
        for option in control.options:
            option.selected = any(option is p for p in picked)
        return self

    def _by_label(self, label: str, kinds: tuple[str, ...]) -> Field:
        for control in self.fields:
            if control.kind in kinds and control.label == label:
                return control
        labels = ", ".join(repr(f.label) for f in self.fields if f.kind in kinds and f.label)
        raise ElementNotFoundError(f"No checkbox or radio labelled {label!r}; labels: {labels}")

    def tick(self, label: str) -> Form:
        """Tick the checkbox, or choose the radio button, whose label reads ``label``."""
        control = self._by_label(label, ("checkbox", "radio"))
        if control.kind == "radio":
            return self.choose(control.name, control.value)
        control.checked = True
        return self

    def untick(self, label: str) -> Form:
        """Untick the checkbox whose label reads ``label``."""
        self._by_label(label, ("checkbox",)).checked = False
        return self

    def add(self, name: str, value: str) -> Form:
        """Add a hidden field (tampering: a browser user cannot, an attacker can)."""
        order = max((f.order for f in self.fields), default=0) + 1
        self.fields.append(Field(name=name, value=value, kind="hidden", order=order))
        return self

    def remove(self, name: str) -> Form:
        """Remove every control of this name (tampering)."""
        if not self.has_field(name):
            raise self._missing(name)
        self.fields = [f for f in self.fields if f.name != name]
        return self

    def button(self, which: str | Field | None = None) -> Field | None:
        """The submit button matching ``which`` (its id, value, label, or name), or the first.

        None picks the form's first submit button (implicit submission), or None when it has
        none; an unknown button is an error.
        """
        buttons = self.buttons
        if isinstance(which, Field):
            if not any(which is b for b in buttons):
                raise ElementNotFoundError(f"{which.describe()} is not a button of this form.")
            return which
        if which is None:
            return buttons[0] if buttons else None
        for attribute in ("id", "value", "label", "name"):
            for candidate in buttons:
                if getattr(candidate, attribute) == which:
                    return candidate
        known = ", ".join(f"{b.label or b.value!r} (name={b.name!r})" for b in buttons) or "none"
        raise ElementNotFoundError(f"The form has no button {which!r}; buttons: {known}")

    def data_set(self, submitter: Field | None = None) -> list[tuple[str, str]]:
        """The name/value pairs a browser submits, in tree order."""
        pairs: list[tuple[str, str]] = []
        for control in self.fields:
            if control.disabled or not control.name:
                continue
            if control.is_button:
                if control is submitter:
                    if control.kind == "image":
                        pairs += [(control.name + ".x", "0"), (control.name + ".y", "0")]
                    else:
                        pairs.append((control.name, control.value))
                continue
            if control.kind in _NEVER_SUBMITTED:
                continue
            if control.kind in ("checkbox", "radio"):
                if control.checked:
                    pairs.append((control.name, control.value))
            elif control.kind == "select":
                pairs += [(control.name, o.value) for o in control.options if o.selected]
            elif control.kind == "textarea":
                text = control.value.replace("\r\n", "\n").replace("\r", "\n")
                pairs.append((control.name, text.replace("\n", "\r\n")))
            elif control.kind == "file":
                pairs.append((control.name, ""))
            else:
                pairs.append((control.name, control.value))
        return pairs

    def describe(self) -> str:
        """``METHOD action [fields]`` for error messages."""
        ident = f" #{self.id}" if self.id else ""
        return f"{self.method} {self.action}{ident} [{', '.join(self.field_names())}]"


@dataclass(frozen=True, slots=True)
class Link:
    """An ``<a href>``: its resolved URL, text and id."""

    href: str
    text: str
    id: str = ""
    page_url: str = ""


@dataclass(slots=True)
class Element:
    """Any element: tag, attributes and its text (whitespace collapsed)."""

    tag: str
    attrs: dict[str, str]
    text: str = ""

    @property
    def classes(self) -> list[str]:
        """Its class names."""
        return self.attrs.get("class", "").split()


@dataclass(slots=True)
class _Open:
    element: Element
    parts: list[str]
    hidden: bool
    control: Field | None = None
    label_for: str | None = None
    label_controls: list[Field] = field(default_factory=list)


def _collapse(text: str) -> str:
    return " ".join(text.split())


class _Parser(HTMLParser):
    """One pass over a page: elements, visible text, links, labels and form controls."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = url
        self.url = url
        self.stack: list[_Open] = []
        self.elements: list[Element] = []
        self.text_parts: list[str] = []
        self.links: list[Link] = []
        self.forms: list[Form] = []
        self.form_ids: dict[int, Form] = {}
        self.form: Form | None = None
        self.controls: list[tuple[Form | None, Field]] = []
        self.labels: dict[str, str] = {}
        self.order = 0

    # the stack

    @property
    def hidden(self) -> bool:
        return bool(self.stack) and self.stack[-1].hidden

    def _close(self, index: int) -> None:
        while len(self.stack) > index:
            self._finish(self.stack.pop())

    def _finish(self, item: _Open) -> None:
        element = item.element
        raw = "".join(item.parts)
        element.text = _collapse(raw)
        tag = element.tag
        if tag in _BLOCK:
            self.text_parts.append("\n")
        if tag == "a" and "href" in element.attrs:
            href = urljoin(self.base, element.attrs["href"].strip())
            self.links.append(Link(href, element.text, element.attrs.get("id", ""), self.url))
        elif tag == "label":
            if item.label_for:
                self.labels.setdefault(item.label_for, element.text)
            elif item.label_controls:
                item.label_controls[0].label = item.label_controls[0].label or element.text
        elif tag == "button" and item.control is not None:
            item.control.label = element.text
        elif tag == "textarea" and item.control is not None:
            item.control.value = raw[1:] if raw.startswith("\n") else raw
        elif tag == "option" and item.control is not None:
            option = item.control.options[-1]
            option.label = element.text
            if "value" not in element.attrs:
                option.value = element.text
        elif tag == "select" and item.control is not None:
            _settle_selection(item.control)
        elif tag == "form" and self.form is not None and self.form_ids.get(id(element)):
            self.form = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: (value if value is not None else "") for name, value in attrs}
        for index in range(len(self.stack) - 1, -1, -1):
            open_tag = self.stack[index].element.tag
            if open_tag in _IMPLIED_END and tag in _IMPLIED_END[open_tag]:
                self._close(index)
                continue
            if open_tag in ("select", "ul", "ol", "table", "dl", "div", "form"):
                break
        element = Element(tag, values)
        self.elements.append(element)
        if tag in _BLOCK:
            self.text_parts.append("\n")
        if tag == "base" and "href" in values:
            self.base = urljoin(self.url, values["href"])
        control = self._control(tag, values)
        if tag == "input" and not self.hidden and control is not None and control.is_button:
            self.text_parts.append(f" {control.value} ")
        if tag in _VOID:
            return
        hidden = self.hidden or tag in _INVISIBLE or "hidden" in values
        item = _Open(element, [], hidden, control)
        if tag == "label":
            item.label_for = values.get("for") or None
        if tag == "form" and self.form is None:
            self._open_form(values, element)
        self.stack.append(item)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index].element.tag == tag:
                self._close(index)
                return

    def handle_data(self, data: str) -> None:
        for item in self.stack:
            item.parts.append(data)
        if not self.hidden:
            self.text_parts.append(data)

    def close(self) -> None:
        super().close()
        self._close(0)
        self._assemble()

    # forms

    def _open_form(self, values: dict[str, str], element: Element) -> None:
        action = values.get("action", "").strip()
        method = values.get("method", "get").strip().upper()
        form = Form(
            action=urljoin(self.base, action) if action else self.url,
            method=method if method in ("GET", "POST") else "GET",
            enctype=values.get("enctype", FORM_CONTENT_TYPE).strip().lower() or FORM_CONTENT_TYPE,
            fields=[],
            page_url=self.url,
            id=values.get("id", ""),
            name=values.get("name", ""),
        )
        self.forms.append(form)
        self.form_ids[id(element)] = form
        self.form = form

    def _control(self, tag: str, values: dict[str, str]) -> Field | None:
        if tag == "option":
            select = self._open_control("select")
            if select is not None:
                select.options.append(
                    Option(
                        value=values.get("value", ""),
                        label="",
                        selected="selected" in values,
                        disabled="disabled" in values,
                    )
                )
            return select
        if tag not in ("input", "button", "select", "textarea"):
            return None
        self.order += 1
        if tag == "input":
            kind = values.get("type", "text").strip().lower() or "text"
            default = "on" if kind in ("checkbox", "radio") else ""
            value = values.get("value", default)
        elif tag == "button":
            kind = values.get("type", "submit").strip().lower()
            kind = kind if kind in ("submit", "reset", "button") else "submit"
            value = values.get("value", "")
        else:
            kind, value = tag, ""
        control = Field(
            name=values.get("name", ""),
            value=value,
            kind=kind,
            tag=tag,
            checked="checked" in values,
            disabled="disabled" in values,
            id=values.get("id", ""),
            label=value if tag == "input" and kind in _SUBMIT_INPUTS else "",
            multiple="multiple" in values,
            form_id=values.get("form"),
            order=self.order,
        )
        self.controls.append((self.form, control))
        for item in self.stack:
            if item.element.tag == "label" and item.label_for is None:
                item.label_controls.append(control)
        return control

    def _open_control(self, tag: str) -> Field | None:
        for item in reversed(self.stack):
            if item.element.tag == tag:
                return item.control
        return None

    def _assemble(self) -> None:
        by_id = {form.id: form for form in self.forms if form.id}
        for owner, control in self.controls:
            if control.id and not control.label and control.id in self.labels:
                control.label = self.labels[control.id]
            target = by_id.get(control.form_id) if control.form_id else owner
            if target is not None:
                target.fields.append(control)
        for form in self.forms:
            form.fields.sort(key=lambda f: f.order)


def _settle_selection(select: Field) -> None:
    """A single select shows exactly one option: the last selected, else the first enabled."""
    if select.multiple:
        return
    selected = [o for o in select.options if o.selected]
    for option in selected[:-1]:
        option.selected = False
    if not selected:
        for option in select.options:
            if not option.disabled:
                option.selected = True
                break


@dataclass(slots=True)
class _Parsed:
    forms: list[Form]
    links: list[Link]
    elements: list[Element]
    text: str
    title: str


def _parse(url: str, source: str) -> _Parsed:
    parser = _Parser(url)
    parser.feed(source)
    parser.close()
    lines = (_collapse(line) for line in "".join(parser.text_parts).split("\n"))
    titles = [e.text for e in parser.elements if e.tag == "title"]
    return _Parsed(
        forms=parser.forms,
        links=parser.links,
        elements=parser.elements,
        text="\n".join(line for line in lines if line),
        title=titles[0] if titles else "",
    )


# -- pages -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PendingRequest:
    method: str
    url: str
    body: tuple[tuple[str, str], ...] | None
    referrer: str | None
    origin: str | None


@dataclass(slots=True)
class Page:
    """What a navigation ended on: the last response, and the hops that led there."""

    url: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    hops: list[TraceEntry]
    #: The request the browser would make next, when it stopped before a redirect.
    pending: _PendingRequest | None = None
    _parsed: _Parsed | None = None

    def header(self, name: str) -> str | None:
        """The first value of a response header (any case), or None."""
        lowered = name.lower()
        return next((v for n, v in self.headers if n.lower() == lowered), None)

    def header_values(self, name: str) -> list[str]:
        """Every value of a response header."""
        lowered = name.lower()
        return [v for n, v in self.headers if n.lower() == lowered]

    @property
    def location(self) -> str | None:
        """The absolute URL a redirect points to (None for other answers)."""
        raw = self.header("Location")
        if self.status not in REDIRECT_STATUSES or raw is None:
            return None
        return urljoin(self.url, raw.strip())

    @property
    def is_redirect(self) -> bool:
        """Whether the browser stopped on a redirect it did not follow."""
        return self.location is not None

    @property
    def content_type(self) -> str:
        """The media type, lower-cased, without parameters."""
        return (self.header("Content-Type") or "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str:
        """The charset parameter of the Content-Type (UTF-8 by default)."""
        for parameter in (self.header("Content-Type") or "").split(";")[1:]:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return "utf-8"

    @property
    def source(self) -> str:
        """The body decoded with its charset (bad bytes replaced)."""
        try:
            return self.body.decode(self.charset, "replace")
        except LookupError:
            return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        try:
            return json.loads(self.source)
        except ValueError as exc:
            raise UserAgentError(
                f"{self.url} answered {self.status} {self.content_type or 'without a type'}, "
                f"not JSON: {self.source[:200]!r}"
            ) from exc

    @property
    def _html(self) -> _Parsed:
        if self._parsed is None:
            is_html = self.content_type in ("text/html", "application/xhtml+xml", "")
            self._parsed = _parse(self.url, self.source if is_html else "")
        return self._parsed

    @property
    def forms(self) -> list[Form]:
        """The page's forms, in document order."""
        return self._html.forms

    @property
    def links(self) -> list[Link]:
        """The page's links (``<a href>``), resolved, in document order."""
        return self._html.links

    @property
    def text(self) -> str:
        """The visible text, one line per block, whitespace collapsed (HTML pages only)."""
        if self.content_type not in ("text/html", "application/xhtml+xml", ""):
            return self.source
        return self._html.text

    @property
    def title(self) -> str:
        """The ``<title>``."""
        return self._html.title

    def find_form(
        self,
        action_contains: str | None = None,
        has_field: str | None = None,
        id: str | None = None,
    ) -> Form:
        """The first form matching every criterion given; an error lists the page's forms."""
        for form in self.forms:
            if action_contains is not None and action_contains not in form.action:
                continue
            if has_field is not None and not form.has_field(has_field):
                continue
            if id is not None and form.id != id:
                continue
            return form
        wanted = ", ".join(
            f"{k}={v!r}"
            for k, v in (("action_contains", action_contains), ("has_field", has_field), ("id", id))
            if v is not None
        )
        forms = "; ".join(f.describe() for f in self.forms) or "none"
        raise ElementNotFoundError(
            f"No form with {wanted or 'any criteria'} on {redact_url(self.url)} "
            f"({self.status}, {self.title!r}); forms: {forms}"
        )

    def find_link(self, text: str | None = None, href_contains: str | None = None) -> Link:
        """The first link whose text equals ``text`` and/or whose URL contains ``href_contains``."""
        for link in self.links:
            if text is not None and link.text != text:
                continue
            if href_contains is not None and href_contains not in link.href:
                continue
            return link
        known = ", ".join(f"{link.text!r} -> {redact_url(link.href)}" for link in self.links)
        raise ElementNotFoundError(
            f"No link text={text!r} href_contains={href_contains!r} on "
            f"{redact_url(self.url)}; links: {known or 'none'}"
        )

    def elements(self, tag: str | None = None, class_name: str | None = None) -> list[Element]:
        """Elements by tag and/or class, in document order."""
        return [
            e
            for e in self._html.elements
            if (tag is None or e.tag == tag) and (class_name is None or class_name in e.classes)
        ]

    def element(self, id: str) -> Element:
        """The element with this id; an error when there is none."""
        for candidate in self._html.elements:
            if candidate.attrs.get("id") == id:
                return candidate
        raise ElementNotFoundError(
            f"No element #{id} on {redact_url(self.url)} ({self.status}, {self.title!r})"
        )

    def has_element(self, id: str) -> bool:
        """Whether an element has this id."""
        return any(e.attrs.get("id") == id for e in self._html.elements)

    def element_text(self, id: str) -> str:
        """The text of the element with this id."""
        return self.element(id).text


# -- the browser -------------------------------------------------------------------------------


StopAt = Callable[[str], bool]
FormData = Mapping[str, str] | Sequence[tuple[str, str]]


class UserAgent:
    """A browser: cookies per origin, hop-by-hop redirects, forms, and a trace of every hop."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = USER_AGENT,
        accept_language: str = "en",
    ) -> None:
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.user_agent = user_agent
        self.accept_language = accept_language
        self.trace: list[TraceEntry] = []
        self._jars: dict[str, CookieJar] = {}

    # -- cookies

    def jar(self, url: str) -> CookieJar:
        """The cookie jar of ``url``'s origin (created empty on first use)."""
        return self._jars.setdefault(origin_of(url), CookieJar())

    def cookies_for(self, url: str) -> dict[str, str]:
        """The cookies this browser would send to ``url`` (name -> value)."""
        request = urllib.request.Request(url)  # noqa: S310 - for the jar; never opened
        self.jar(url).add_cookie_header(request)
        header = request.get_header("Cookie") or ""
        cookies: dict[str, str] = {}
        for part in header.split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and not name.startswith("$"):
                cookies.setdefault(name, value)
        return cookies

    def set_cookie(self, url: str, name: str, value: str, path: str = "/") -> None:
        """Put a cookie into ``url``'s jar, as if its server had set it (host-only)."""
        host = (urlsplit(url).hostname or "").lower()
        cookie = Cookie(
            version=0,
            name=name,
            value=value,
            port=None,
            port_specified=False,
            domain=host if "." in host else host + ".local",
            domain_specified=False,
            domain_initial_dot=False,
            path=path,
            path_specified=True,
            secure=False,
            expires=None,
            discard=True,
            comment=None,
            comment_url=None,
            rest={},
        )
        self.jar(url).set_cookie(cookie)

    def clear_cookies(self, url: str | None = None) -> None:
        """Forget the cookies of ``url``'s origin, or of every origin."""
        if url is None:
            self._jars.clear()
        else:
            self._jars.pop(origin_of(url), None)

    # -- the trace

    def mark(self) -> int:
        """A position in the trace, for :meth:`trace_since`."""
        return len(self.trace)

    def trace_since(self, mark: int) -> list[TraceEntry]:
        """The hops recorded since ``mark``."""
        return self.trace[mark:]

    # -- navigation

    def get(
        self,
        url: str,
        *,
        follow: bool = True,
        stop_at: StopAt | None = None,
        referrer: str | None = None,
    ) -> Page:
        """Navigate to ``url`` (typed into the address bar unless ``referrer`` is given)."""
        return self._navigate(
            _PendingRequest("GET", _without_fragment(url), None, referrer, None), follow, stop_at
        )

    def post(
        self,
        url: str,
        data: FormData,
        *,
        follow: bool = True,
        stop_at: StopAt | None = None,
        referrer: str | None = None,
    ) -> Page:
        """POST url-encoded fields to ``url``, as a form on ``referrer`` would."""
        pairs = tuple(data.items()) if isinstance(data, Mapping) else tuple(data)
        origin = _serialised_origin(referrer) if referrer else "null"
        pending = _PendingRequest("POST", _without_fragment(url), pairs, referrer, origin)
        return self._navigate(pending, follow, stop_at)

    def open(self, link: Link, *, follow: bool = True, stop_at: StopAt | None = None) -> Page:
        """Click a link."""
        return self.get(link.href, follow=follow, stop_at=stop_at, referrer=link.page_url)

    def submit(
        self,
        form: Form,
        fields: Mapping[str, Any] | None = None,
        button: str | Field | None = None,
        *,
        follow: bool = True,
        stop_at: StopAt | None = None,
    ) -> Page:
        """Submit a form, after filling ``fields`` into a copy of it, with a chosen button.

        ``button`` names the submit button by id, value, label or name (its name=value is
        sent, as a browser does); None presses Enter (the first submit button is used).
        """
        filled = form.copy()
        if fields:
            filled.fill(fields)
        if isinstance(button, Field):
            index = next((i for i, f in enumerate(form.fields) if f is button), None)
            if index is None:
                raise ElementNotFoundError(f"{button.describe()} is not a field of this form.")
            submitter = filled.button(filled.fields[index])
        else:
            submitter = filled.button(button)
        if filled.method == "POST" and filled.enctype == "multipart/form-data":
            raise UserAgentError(
                f"The form posting to {filled.action} is multipart/form-data, not supported."
            )
        pairs = tuple(filled.data_set(submitter))
        if filled.method == "GET":
            parts = urlsplit(filled.action)
            url = urlunsplit(parts._replace(query=urlencode(pairs), fragment=""))
            pending = _PendingRequest("GET", url, None, form.page_url, None)
        else:
            origin = _serialised_origin(form.page_url)
            action = _without_fragment(filled.action)
            pending = _PendingRequest("POST", action, pairs, form.page_url, origin)
        return self._navigate(pending, follow, stop_at)

    def follow(
        self,
        page: Page,
        url: str | None = None,
        *,
        follow: bool = True,
        stop_at: StopAt | None = None,
    ) -> Page:
        """Go on from a page where the browser stopped before a redirect.

        ``url`` replaces the redirect's target (a scenario tampering with a callback URL).
        """
        if page.pending is None:
            raise UserAgentError(f"{redact_url(page.url)} ({page.status}) is not a redirect.")
        pending = page.pending
        if url is not None:
            pending = _PendingRequest(
                pending.method, _without_fragment(url), pending.body, pending.referrer, None
            )
        return self._navigate(pending, follow, stop_at)

    def _navigate(self, request: _PendingRequest, follow: bool, stop_at: StopAt | None) -> Page:
        hops: list[TraceEntry] = []
        redirects = 0
        while True:
            page = self._send(request, hops)
            location = page.location
            if location is None:
                return page
            next_request = _redirected(request, page.status, location)
            if urlsplit(location).scheme.lower() not in ("http", "https"):
                return page  # handed to another application, as a browser does
            page.pending = next_request
            if not follow or (stop_at is not None and stop_at(next_request.url)):
                return page
            redirects += 1
            if redirects > MAX_REDIRECTS:
                raise TooManyRedirectsError(
                    f"More than {MAX_REDIRECTS} redirects from {redact_url(hops[0].url)}; "
                    f"the last went to {redact_url(location)}"
                )
            request = next_request

    def _send(self, request: _PendingRequest, hops: list[TraceEntry]) -> Page:
        parts = urlsplit(request.url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise UserAgentError(f"Cannot open {redact_url(request.url)}: not an http(s) URL.")
        headers: list[tuple[str, str]] = [
            ("Host", parts.netloc.rpartition("@")[2]),
            ("User-Agent", self.user_agent),
            ("Accept", ACCEPT_HTML),
            ("Accept-Language", self.accept_language),
        ]
        body: bytes | None = None
        if request.body is not None:
            body = urlencode(request.body).encode("utf-8")
            headers.append(("Content-Type", FORM_CONTENT_TYPE))
            headers.append(("Content-Length", str(len(body))))
        if request.origin is not None:
            headers.append(("Origin", request.origin))
        referer = _referrer(request.referrer, request.url)
        if referer:
            headers.append(("Referer", referer))
        # The jar reads and writes cookies through urllib's Request; nothing opens it.
        jar_request = urllib.request.Request(request.url, method=request.method)  # noqa: S310
        jar = self.jar(request.url)
        jar.add_cookie_header(jar_request)
        cookie = jar_request.get_header("Cookie")
        if cookie:
            headers.append(("Cookie", cookie))
        target = _request_target(parts.path, parts.query)
        sent = TraceEntry(
            index=len(self.trace),
            method=request.method,
            url=redact_url(request.url),
            status=0,
            request_headers=redact_headers(headers),
            form=None if request.body is None else redact_pairs(request.body),
        )
        connection = self._connection(scheme, parts.hostname, parts.port)
        try:
            connection.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders(body)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            entry = dataclasses.replace(sent, error=f"{type(exc).__name__}: {exc}")
            self.trace.append(entry)
            hops.append(entry)
            raise UserAgentError(
                f"{request.method} {redact_url(request.url)} failed: {entry.error}"
            ) from exc
        connection.close()
        jar.extract_cookies(response, jar_request)
        response_headers = tuple(response.getheaders())
        location = response.getheader("Location")
        entry = dataclasses.replace(
            sent,
            status=response.status,
            reason=response.reason,
            location=redact_url(location) if location is not None else None,
            response_headers=redact_headers(
                (n, v) for n, v in response_headers if n.lower() not in _NOISY_HEADERS
            ),
        )
        self.trace.append(entry)
        hops.append(entry)
        return Page(
            url=request.url,
            status=response.status,
            reason=response.reason,
            headers=response_headers,
            body=payload,
            hops=hops,
        )

    def _connection(self, scheme: str, host: str, port: int | None) -> http.client.HTTPConnection:
        if scheme == "https":
            return http.client.HTTPSConnection(
                host, port, timeout=self.timeout, context=self.ssl_context
            )
        return http.client.HTTPConnection(host, port, timeout=self.timeout)

    # -- Bitbucket conveniences

    def log_in_to_bitbucket(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        next_path: str | None = None,
        check: bool = True,
    ) -> Page:
        """Open ``{base}/login``, fill ``j_username``/``j_password``, submit; the page landed on.

        With ``check`` (the default) a login that lands on the login form again is an error
        naming the form's message (a two-factor page counts as landed).
        """
        login = base_url.rstrip("/") + "/login"
        if next_path:
            login += "?" + urlencode({"next": next_path})
        page = self.get(login)
        form = page.find_form(has_field="j_username")
        result = self.submit(form, {"j_username": username, "j_password": password})
        if check and _is_login_form(result):
            message = (
                result.element_text("login-error") if result.has_element("login-error") else ""
            )
            raise UserAgentError(
                f"Logging in to {base_url} as {username!r} failed: "
                f"{message or 'the login form came back'}"
            )
        return result

    def log_out_of_bitbucket(self, base_url: str) -> Page:
        """End the Bitbucket session (``/j_atl_security_logout``)."""
        return self.get(base_url.rstrip("/") + "/j_atl_security_logout")


def _is_login_form(page: Page) -> bool:
    return any(form.has_field("j_username") for form in page.forms)


def _request_target(path: str, query: str) -> str:
    """The request line's target; characters outside printable ASCII percent-encoded."""
    target = (path or "/") + (f"?{query}" if query else "")
    return _UNSAFE_IN_TARGET.sub(lambda m: quote(m.group(), safe=""), target)


def _without_fragment(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(fragment=""))


def _redirected(request: _PendingRequest, status: int, location: str) -> _PendingRequest:
    """The request a browser makes for a redirect (fragment dropped, method per status)."""
    url = _without_fragment(location)
    keeps_method = status in (307, 308) or (request.method in ("GET", "HEAD") and status != 303)
    if keeps_method or (status == 303 and request.method == "HEAD"):
        cross = origin_of(url) != origin_of(request.url)
        origin = "null" if cross and request.origin is not None else request.origin
        return _PendingRequest(request.method, url, request.body, request.referrer, origin)
    return _PendingRequest("GET", url, None, request.referrer, None)


__all__ = [
    "MAX_REDIRECTS",
    "REDACTED",
    "Element",
    "ElementNotFoundError",
    "Field",
    "Form",
    "Link",
    "Option",
    "Page",
    "TooManyRedirectsError",
    "TraceEntry",
    "UserAgent",
    "UserAgentError",
    "entering_origin",
    "is_secret",
    "leaving_origin",
    "origin_of",
    "redact_header",
    "redact_headers",
    "redact_pairs",
    "redact_query",
    "redact_url",
]
