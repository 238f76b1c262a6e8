"""Variants of the reference's rules: :mod:`conformance.reference.rules` with one rule
replaced, as a new module object.

    rules = variant(SCOPE="REPO_WRITE")
    reference = Reference(state, rules)

Every function of the variant is a copy of the original bound to the variant's own globals, so
a replaced constant or helper changes every rule that uses it (``SCOPE`` changes
``authorize_url``), exactly as editing that one line of ``rules.py`` would. The original
module is never touched: the unmutated reference and any number of mutants can run in one
process. Classes (``RefusalError``, ``CallbackUrls``) are shared, so ``except RefusalError``
catches a variant's refusals too.
"""

from __future__ import annotations

import types
from typing import cast

from conformance.reference import rules
from conformance.reference.service import RuleBook

#: Module attributes that name the module itself rather than a rule.
_MODULE_ATTRIBUTES = frozenset({"__name__", "__doc__", "__spec__", "__loader__", "__package__"})


def _rebound(function: types.FunctionType, namespace: dict[str, object]) -> types.FunctionType:
    """A copy of ``function`` whose global names are looked up in ``namespace``."""
    copy = types.FunctionType(
        function.__code__,
        namespace,
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    copy.__doc__ = function.__doc__
    copy.__annotations__ = dict(function.__annotations__)
    copy.__module__ = function.__module__
    return copy


def variant(**changes: object) -> RuleBook:
    """The rules with ``changes`` (rule name -> new value or function) applied.

    Raises :class:`ValueError` for a name that is not a rule, or a function replaced by
    something that cannot be called."""
    if not changes:
        raise ValueError("a variant changes at least one rule")
    original = vars(rules)
    for name, value in changes.items():
        if name not in original or name.startswith("_"):
            raise ValueError(f"conformance.reference.rules has no rule {name!r}")
        if callable(original[name]) and not callable(value):
            raise ValueError(f"the rule {name!r} is a function: replace it with a function")
    module = types.ModuleType(f"{rules.__name__}[{', '.join(sorted(changes))}]", rules.__doc__)
    namespace = module.__dict__
    for name, value in original.items():
        if name in _MODULE_ATTRIBUTES:
            continue
        is_rule_function = (
            isinstance(value, types.FunctionType) and value.__module__ == rules.__name__
        )
        namespace[name] = _rebound(value, namespace) if is_rule_function else value
    namespace.update(changes)
    return cast(RuleBook, module)


def changed_rules(book: RuleBook) -> tuple[str, ...]:
    """The names a variant changed (empty for the rules module itself)."""
    if book is cast(RuleBook, rules):
        return ()
    module = cast(types.ModuleType, book)
    return tuple(
        name
        for name, value in vars(module).items()
        if name not in _MODULE_ATTRIBUTES
        and name in vars(rules)
        and value is not vars(rules)[name]
        and not _is_copy_of(value, vars(rules)[name])
    )


def _is_copy_of(value: object, original: object) -> bool:
    return (
        isinstance(value, types.FunctionType)
        and isinstance(original, types.FunctionType)
        and value.__code__ is original.__code__
    )
