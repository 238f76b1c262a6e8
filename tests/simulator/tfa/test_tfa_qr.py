"""The enrolment page's QR encoder (simulator/tfa/qr.py). Its matrices were cross-checked
against segno 1.6.6 for every length up to 213 bytes and every mask; these tests pin the
parts that can be checked without a decoder."""

from __future__ import annotations

import hashlib

import pytest

from simulator.tfa import qr


def test_reed_solomon_matches_the_standards_example() -> None:
    # ISO/IEC 18004 annex I: "01234567" in 1-M.
    data = [16, 32, 12, 86, 97, 128, 236, 17, 236, 17, 236, 17, 236, 17, 236, 17]
    assert qr.ec_codewords(data, 10) == [165, 36, 212, 193, 237, 54, 199, 135, 44, 85]


@pytest.mark.parametrize(
    ("length", "version"), [(1, 1), (14, 1), (15, 2), (84, 5), (85, 6), (213, 10)]
)
def test_version_is_the_smallest_that_holds_the_text(length: int, version: int) -> None:
    assert qr.choose_version(length) == version
    assert len(qr.qr_matrix("x" * length)) == 17 + 4 * version


def test_text_longer_than_version_10_gets_no_image() -> None:
    with pytest.raises(qr.QrTooLongError):
        qr.choose_version(214)
    assert qr.qr_svg("x" * 214) == ""


def test_finder_patterns_sit_in_three_corners() -> None:
    grid = qr.qr_matrix("otpauth://totp/Bitbucket:alice?secret=JBSWY3DPEHPK3PXP")
    size = len(grid)
    ring = [[True] * 7, [True, *[False] * 5, True], [True, False, *[True] * 3, False, True]]
    finder = [ring[0], ring[1], ring[2], ring[2], ring[2], ring[1], ring[0]]
    for top, left in ((0, 0), (0, size - 7), (size - 7, 0)):
        assert [row[left : left + 7] for row in grid[top : top + 7]] == finder


def test_format_information_names_level_m_and_a_valid_mask() -> None:
    grid = qr.qr_matrix("otpauth://totp/Bitbucket:alice?secret=JBSWY3DPEHPK3PXP")
    bits = [grid[i][8] for i in (0, 1, 2, 3, 4, 5, 7, 8)] + [
        grid[8][x] for x in (7, 5, 4, 3, 2, 1, 0)
    ]
    value = sum(int(bit) << i for i, bit in enumerate(bits)) ^ 0x5412
    assert value >> 13 == 0b00  # level M
    assert 0 <= (value >> 10) & 0b111 < 8


def test_matrix_is_stable() -> None:
    grid = qr.qr_matrix("otpauth://totp/Bitbucket:alice?secret=JBSWY3DPEHPK3PXP&issuer=Bitbucket")
    text = "\n".join("".join("#" if dark else "." for dark in row) for row in grid)
    assert len(grid) == 37
    assert hashlib.sha256(text.encode()).hexdigest() == EXPECTED_SHA256


def test_svg_draws_every_dark_module_inside_a_quiet_zone() -> None:
    text = "otpauth://totp/Bitbucket:alice?secret=JBSWY3DPEHPK3PXP"
    svg = qr.qr_svg(text)
    grid = qr.qr_matrix(text)
    side = len(grid) + 2 * qr.QUIET_ZONE
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert f'viewBox="0 0 {side} {side}"' in svg
    assert svg.count("h1v1h-1z") == sum(map(sum, grid))


EXPECTED_SHA256 = "b54227e433d695f2834ce872f5827673ac9200d6ecd7f4b6b15e7e50b3845956"
