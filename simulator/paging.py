"""Bitbucket's paging: ``start``/``limit`` in, ``{size, limit, isLastPage, start, values,
nextPageStart?}`` out. ``nextPageStart`` is present only when another page follows."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from simulator.errors import ValidationError

T = TypeVar("T")
DEFAULT_LIMIT = 25
#: What Java's ``Integer.parseInt`` (Jersey's ``int`` parameters) reads: a sign and digits,
#: no spaces or underscores (Python's ``int()`` takes both), at most ``2**31 - 1``.
JAVA_INT = re.compile(r"[+-]?[0-9]+")
JAVA_INT_MAX = 2**31 - 1


def java_int(raw: str) -> int | None:
    """``raw`` read as Java reads an ``int``; ``None`` if Java would refuse it."""
    if not JAVA_INT.fullmatch(raw) or len(raw.lstrip("+-").lstrip("0")) > 10:
        return None
    value = int(raw)
    return value if -(2**31) <= value <= JAVA_INT_MAX else None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A validated ``start`` and an effective (capped) ``limit``."""

    start: int
    limit: int

    @classmethod
    def from_query(
        cls, query: Mapping[str, str], max_limit: int, default_limit: int = DEFAULT_LIMIT
    ) -> PageRequest:
        """Parse ``start`` and ``limit``; 400 for non-integers or negatives, cap the limit."""
        start = _non_negative(query, "start", 0)
        limit = _non_negative(query, "limit", default_limit)
        if limit == 0:
            raise ValidationError("limit must be at least 1.", context="limit")
        return cls(start=start, limit=min(limit, max_limit))


def _non_negative(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    value = java_int(raw)
    if value is None:
        raise ValidationError(f"{name} must be a whole number: '{raw}'.", context=name)
    if value < 0:
        raise ValidationError(f"{name} must not be negative.", context=name)
    return value


def page_json(values: list[Any], page: PageRequest, is_last: bool, **extra: Any) -> dict[str, Any]:
    """The paged envelope for values already cut to this page."""
    body: dict[str, Any] = {
        "size": len(values),
        "limit": page.limit,
        "isLastPage": is_last,
        "values": values,
        "start": page.start,
        **extra,
    }
    if not is_last:
        body["nextPageStart"] = page.start + len(values)
    return body


def page_of(
    items: Sequence[T], page: PageRequest, render: Callable[[T], Any], **extra: Any
) -> dict[str, Any]:
    """Cut a sequence to the page and render it."""
    chosen = items[page.start : page.start + page.limit]
    is_last = page.start + len(chosen) >= len(items)
    return page_json([render(item) for item in chosen], page, is_last, **extra)


def page_of_chunks(chunks: Iterable[Sequence[T]], page: PageRequest) -> tuple[list[T], bool]:
    """Cut a stream of ordered chunks to the page, skipping whole chunks without reading them.

    Returns the page's items and whether it is the last page. Cost grows with the number of
    chunks before the page, not the number of items, so a late page costs about what an
    early one does.
    """
    skip = page.start
    taken: list[T] = []
    iterator = iter(chunks)
    for chunk in iterator:
        if skip >= len(chunk):
            skip -= len(chunk)
            continue
        room = page.limit - len(taken)
        end = skip + room
        taken.extend(chunk[skip:end])
        skip = 0
        if len(taken) >= page.limit:
            if end < len(chunk):
                return taken, False
            return taken, not any(len(rest) for rest in iterator)
    return taken, True
