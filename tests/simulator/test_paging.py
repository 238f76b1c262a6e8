"""Bitbucket's paging envelope and parameter rules."""

from __future__ import annotations

import pytest

from simulator.errors import ValidationError
from simulator.paging import PageRequest, java_int, page_of, page_of_chunks


def test_defaults_are_start_0_limit_25() -> None:
    assert PageRequest.from_query({}, 1000) == PageRequest(0, 25)


def test_oversize_limit_is_capped() -> None:
    assert PageRequest.from_query({"limit": "5000"}, 1000).limit == 1000


@pytest.mark.parametrize(
    ("query", "context"),
    [
        ({"limit": "-1"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"start": "abc"}, "start"),
        ({"start": "-5"}, "start"),
        ({"start": "1.5"}, "start"),
        # What Python's int() takes and Java's Integer.parseInt does not:
        ({"limit": "1_0"}, "limit"),
        ({"start": " 0"}, "start"),
        ({"start": "0 "}, "start"),
        ({"limit": "\uff11"}, "limit"),  # a full-width digit
        ({"start": "2147483648"}, "start"),  # beyond a Java int
    ],
)
def test_malformed_values_are_rejected_naming_the_parameter(
    query: dict[str, str], context: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        PageRequest.from_query(query, 1000)
    assert caught.value.context == context


@pytest.mark.parametrize(
    ("raw", "value"),
    [("+7", 7), ("007", 7), ("0000000000002147483647", 2**31 - 1), ("-2147483648", -(2**31))],
)
def test_java_int_reads_what_java_reads(raw: str, value: int) -> None:
    assert java_int(raw) == value


def test_next_page_start_only_when_another_page_follows() -> None:
    items = list(range(7))
    first = page_of(items, PageRequest(0, 5), str)
    assert first == {
        "size": 5,
        "limit": 5,
        "isLastPage": False,
        "values": ["0", "1", "2", "3", "4"],
        "start": 0,
        "nextPageStart": 5,
    }
    last = page_of(items, PageRequest(5, 5), str)
    assert last["isLastPage"] is True
    assert "nextPageStart" not in last
    assert last["values"] == ["5", "6"]


def test_start_past_the_end_is_an_empty_last_page() -> None:
    page = page_of([1, 2], PageRequest(10, 5), str)
    assert page["values"] == []
    assert page["isLastPage"] is True


def test_exact_fit_is_the_last_page() -> None:
    page = page_of([1, 2, 3], PageRequest(0, 3), str)
    assert page["isLastPage"] is True


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 7, 50])
def test_chunks_page_like_the_flat_sequence(limit: int) -> None:
    chunks: list[list[int] | range] = [range(0, 3), [], [3, 4], range(5, 5), range(5, 9), [9]]
    flat = [item for chunk in chunks for item in chunk]
    start = 0
    walked: list[int] = []
    while True:
        values, is_last = page_of_chunks(chunks, PageRequest(start, limit))
        walked.extend(values)
        assert is_last == (start + len(values) >= len(flat))
        if is_last:
            break
        start += len(values)
    assert walked == flat


def test_trailing_empty_chunks_do_not_hide_the_last_page() -> None:
    values, is_last = page_of_chunks([range(2), [], []], PageRequest(0, 2))
    assert values == [0, 1]
    assert is_last is True
