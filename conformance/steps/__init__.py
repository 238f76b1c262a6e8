"""The step library: one module per section of the setup guide, registered by the pytest
plugin (:mod:`conformance.plugin`), so a new ``.feature`` file needs no Python.

A step is declared with :func:`given`, :func:`when` or :func:`then` and a *readable pattern*:
literal text where ``"{name}"`` (inside double quotes) captures any text without a double
quote, ``{name:d}`` captures a whole number, and ``{name}`` elsewhere captures one word::

    @given('a Bitbucket Data Center server at version "{version}"')
    def server_at_version(ctx: ScenarioContext, version: str) -> None:
        \"\"\"Sets the version the simulated Bitbucket reports and behaves as.\"\"\"

The first line of the docstring says what the step does; ``bbdc-sim steps`` prints it with
the pattern and an example line from the feature files. A ``Then`` step only asserts, and
fails with :class:`ExpectationError` saying what was expected and what happened.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar

from pytest_bdd.parsers import StepParser
from pytest_bdd.steps import step as bdd_step

#: The step modules, in the guide's order; the plugin registers each as a pytest plugin.
STEP_MODULES: Final = (
    "conformance.steps.common",
    "conformance.steps.version_note",
    "conformance.steps.open_the_add_integration_form",
    "conformance.steps.configure_application_link",
    "conformance.steps.finish_the_setup",
    "conformance.steps.share_the_login_link",
    "conformance.steps.configure_bitbucket_server_plugins",
    "conformance.steps.oauth1_open_the_add_integration_form",
    "conformance.steps.oauth1_create_the_application_link",
    "conformance.steps.oauth1_finish_the_setup",
    "conformance.steps.oauth1_log_in",
    "conformance.steps.login_security",
    "conformance.steps.oauth1_bitbucket_8",
    "conformance.steps.matrix",
    "conformance.steps.after_login",
    "conformance.steps.after_login_webhooks",
)

Kind = Literal["given", "when", "then"]
F = TypeVar("F", bound=Callable[..., Any])

_PLACEHOLDER = re.compile(r'"\{(\w+)\}"|\{(\w+):d\}|\{(\w+)\}')


class ExpectationError(AssertionError):
    """A step's expectation was not met: what was expected, what the SUT did, and a hint."""

    def __init__(self, expected: str, actual: str, hint: str | None = None) -> None:
        self.expected = expected
        self.actual = actual
        self.hint = hint
        text = f"expected {expected}\n  actual: {actual}"
        if hint:
            text += f"\n  hint: {hint}"
        super().__init__(text)


def expect(condition: object, expected: str, actual: str, hint: str | None = None) -> None:
    """Raise :class:`ExpectationError` unless ``condition`` holds."""
    if not condition:
        raise ExpectationError(expected, actual, hint)


class StepPattern(StepParser):
    """A readable step pattern compiled to a full-match regular expression.

    ``"{name}"`` matches quoted text (no double quote inside), ``{name:d}`` digits (converted
    to ``int`` by :attr:`converters`), ``{name}`` one word; everything else is literal.
    """

    def __init__(self, pattern: str) -> None:
        super().__init__(pattern)
        self.pattern = pattern
        self.converters: dict[str, Callable[[str], object]] = {}
        parts: list[str] = []
        position = 0
        for match in _PLACEHOLDER.finditer(pattern):
            parts.append(re.escape(pattern[position : match.start()]))
            quoted, number, word = match.groups()
            if quoted:
                parts.append(f'"(?P<{quoted}>[^"]*)"')
            elif number:
                parts.append(f"(?P<{number}>\\d+)")
                self.converters[number] = int
            else:
                parts.append(f"(?P<{word}>\\S+)")
            position = match.end()
        parts.append(re.escape(pattern[position:]))
        self.regex = re.compile("".join(parts))

    def parse_arguments(self, name: str) -> dict[str, Any] | None:
        """The captured arguments (as text), or None when ``name`` does not match."""
        match = self.regex.fullmatch(name)
        return None if match is None else match.groupdict()

    def is_matching(self, name: str) -> bool:
        """Whether the whole step text matches."""
        return self.regex.fullmatch(name) is not None

    def __repr__(self) -> str:
        return f"StepPattern({self.pattern!r})"


@dataclass(frozen=True, slots=True)
class StepDefinition:
    """One step of the library, as the catalogue lists it."""

    kinds: tuple[Kind, ...]
    pattern: StepPattern
    function: Callable[..., Any]

    @property
    def module(self) -> str:
        """The step module that defines it."""
        return str(self.function.__module__)

    @property
    def summary(self) -> str:
        """What the step does: the first paragraph of its docstring, on one line."""
        doc = (self.function.__doc__ or "").strip()
        paragraph = doc.split("\n\n", 1)[0]
        return " ".join(paragraph.split()).replace("``", "")

    def matches(self, kind: str, text: str) -> bool:
        """Whether this step parses ``text`` written under ``kind`` (given, when, then)."""
        return kind in self.kinds and self.pattern.is_matching(text)


#: Every step of the library by (module, function name, pattern), in definition order. A module
#: imported again (pytester restores ``sys.modules`` after an in-process run) replaces its
#: entries instead of adding to them.
_REGISTRY: dict[tuple[str, str, str], StepDefinition] = {}


def registry() -> list[StepDefinition]:
    """Every step declared so far, in definition order."""
    return list(_REGISTRY.values())


def _register(
    kinds: tuple[Kind, ...], pattern: str, target_fixture: str | None
) -> Callable[[F], F]:
    parser = StepPattern(pattern)

    def decorator(function: F) -> F:
        # pytest-bdd puts the step's fixture into the namespace of the module that declares the
        # step: two frames above its own decorator (this function, then that module).
        for kind in kinds:
            bdd_step(
                parser,
                kind,
                converters=dict(parser.converters),
                target_fixture=target_fixture,
                stacklevel=2,
            )(function)
        key = (str(function.__module__), function.__qualname__, pattern)
        _REGISTRY[key] = StepDefinition(kinds, parser, function)
        return function

    return decorator


def given(pattern: str, target_fixture: str | None = None) -> Callable[[F], F]:
    """Declare a ``Given`` step (it sets the scene)."""
    return _register(("given",), pattern, target_fixture)


def when(pattern: str, target_fixture: str | None = None) -> Callable[[F], F]:
    """Declare a ``When`` step (it does what a person does)."""
    return _register(("when",), pattern, target_fixture)


def then(pattern: str, target_fixture: str | None = None) -> Callable[[F], F]:
    """Declare a ``Then`` step (it only asserts)."""
    return _register(("then",), pattern, target_fixture)


def given_or_when(pattern: str) -> Callable[[F], F]:
    """Declare a step usable both as ``Given`` and as ``When``."""
    return _register(("given", "when"), pattern, None)


def definitions_matching(kind: str, text: str) -> list[StepDefinition]:
    """The library's steps that parse ``text`` under ``kind``."""
    return [definition for definition in registry() if definition.matches(kind, text)]
