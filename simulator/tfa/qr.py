"""A small QR code encoder (byte mode, error correction level M, versions 1-10) rendering
an inline SVG, so that the enrolment page needs no imaging dependency.

It follows ISO/IEC 18004: Reed-Solomon codewords over GF(256) (polynomial 0x11D), blocks
interleaved, finder/timing/alignment patterns, BCH-coded format and version information, and
the mask with the lowest penalty score. Up to 213 bytes fit, ample for an ``otpauth://`` URI;
longer text gets no image (the page still shows the key and the URI as text).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

#: Level M: (EC codewords per block, [(blocks, data codewords per block), ...]) per version.
_BLOCKS_M: dict[int, tuple[int, tuple[tuple[int, int], ...]]] = {
    1: (10, ((1, 16),)),
    2: (16, ((1, 28),)),
    3: (26, ((1, 44),)),
    4: (18, ((2, 32),)),
    5: (24, ((2, 43),)),
    6: (16, ((4, 27),)),
    7: (18, ((4, 31),)),
    8: (22, ((2, 38), (2, 39))),
    9: (22, ((3, 36), (2, 37))),
    10: (26, ((4, 43), (1, 44))),
}
_ALIGNMENT: dict[int, tuple[int, ...]] = {
    1: (),
    2: (6, 18),
    3: (6, 22),
    4: (6, 26),
    5: (6, 30),
    6: (6, 34),
    7: (6, 22, 38),
    8: (6, 24, 42),
    9: (6, 26, 46),
    10: (6, 28, 50),
}
_REMAINDER_BITS = {1: 0, 2: 7, 3: 7, 4: 7, 5: 7, 6: 7, 7: 0, 8: 0, 9: 0, 10: 0}
_LEVEL_M_BITS = 0b00
QUIET_ZONE = 4

_MASKS: tuple[Callable[[int, int], bool], ...] = (
    lambda x, y: (x + y) % 2 == 0,
    lambda x, y: y % 2 == 0,
    lambda x, y: x % 3 == 0,
    lambda x, y: (x + y) % 3 == 0,
    lambda x, y: (x // 3 + y // 2) % 2 == 0,
    lambda x, y: x * y % 2 + x * y % 3 == 0,
    lambda x, y: (x * y % 2 + x * y % 3) % 2 == 0,
    lambda x, y: ((x + y) % 2 + x * y % 3) % 2 == 0,
)


class QrTooLongError(ValueError):
    """The text does not fit in a version 10-M symbol."""


# -- Reed-Solomon over GF(256) ------------------------------------------------------------------


def _gf_tables() -> tuple[list[int], list[int]]:
    exp = [0] * 512
    log = [0] * 256
    value = 1
    for power in range(255):
        exp[power] = value
        log[value] = power
        value <<= 1
        if value & 0x100:
            value ^= 0x11D
    for power in range(255, 512):
        exp[power] = exp[power - 255]
    return exp, log


_EXP, _LOG = _gf_tables()


def _multiply(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


def _generator(degree: int) -> list[int]:
    """Coefficients (highest first, leading 1 dropped) of prod (x - a^i), i < degree."""
    poly = [1]
    for i in range(degree):
        nxt = [0] * (len(poly) + 1)
        for j, coefficient in enumerate(poly):
            nxt[j] ^= coefficient
            nxt[j + 1] ^= _multiply(coefficient, _EXP[i])
        poly = nxt
    return poly[1:]


def ec_codewords(data: list[int], degree: int) -> list[int]:
    """The Reed-Solomon remainder of ``data`` for ``degree`` EC codewords."""
    generator = _generator(degree)
    remainder = [0] * degree
    for byte in data:
        factor = byte ^ remainder[0]
        remainder = [*remainder[1:], 0]
        for i, coefficient in enumerate(generator):
            remainder[i] ^= _multiply(coefficient, factor)
    return remainder


# -- codewords ----------------------------------------------------------------------------------


def choose_version(length: int) -> int:
    """The smallest version (level M, byte mode) holding ``length`` bytes."""
    for version, (_, groups) in _BLOCKS_M.items():
        capacity_bits = 8 * sum(count * size for count, size in groups)
        needed = 4 + (8 if version < 10 else 16) + 8 * length
        if needed <= capacity_bits:
            return version
    raise QrTooLongError(f"{length} bytes do not fit in a QR code up to version 10-M")


def codewords(payload: bytes, version: int) -> list[int]:
    """Data (padded) and EC codewords, interleaved as they are placed."""
    ec_size, groups = _BLOCKS_M[version]
    capacity = sum(count * size for count, size in groups)
    bits: list[int] = []

    def put(value: int, width: int) -> None:
        bits.extend((value >> shift) & 1 for shift in range(width - 1, -1, -1))

    put(0b0100, 4)
    put(len(payload), 8 if version < 10 else 16)
    for byte in payload:
        put(byte, 8)
    put(0, min(4, capacity * 8 - len(bits)))
    put(0, -len(bits) % 8)
    data = [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8)]
    pads = (0xEC, 0x11)
    data += [pads[i % 2] for i in range(capacity - len(data))]
    blocks: list[list[int]] = []
    offset = 0
    for count, size in groups:
        for _ in range(count):
            blocks.append(data[offset : offset + size])
            offset += size
    ecs = [ec_codewords(block, ec_size) for block in blocks]
    out: list[int] = []
    for i in range(max(len(block) for block in blocks)):
        out.extend(block[i] for block in blocks if i < len(block))
    for i in range(ec_size):
        out.extend(ec[i] for ec in ecs)
    return out


# -- the matrix ---------------------------------------------------------------------------------


class _Matrix:
    def __init__(self, version: int) -> None:
        self.version = version
        self.size = 17 + 4 * version
        self.dark = [[False] * self.size for _ in range(self.size)]
        self.function = [[False] * self.size for _ in range(self.size)]

    def set(self, x: int, y: int, dark: bool) -> None:
        self.dark[y][x] = dark
        self.function[y][x] = True

    def draw_function_patterns(self) -> None:
        size = self.size
        for i in range(size):
            self.set(6, i, i % 2 == 0)
            self.set(i, 6, i % 2 == 0)
        for cx, cy in ((3, 3), (size - 4, 3), (3, size - 4)):
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    x, y = cx + dx, cy + dy
                    if 0 <= x < size and 0 <= y < size:
                        ring = max(abs(dx), abs(dy))
                        self.set(x, y, ring not in (2, 4))
        positions = _ALIGNMENT[self.version]
        last = len(positions) - 1
        for i, cy in enumerate(positions):
            for j, cx in enumerate(positions):
                if (i, j) in ((0, 0), (0, last), (last, 0)):
                    continue
                for dy in range(-2, 3):
                    for dx in range(-2, 3):
                        self.set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1)
        self.draw_format(0)  # reserve; real bits come with the mask
        if self.version >= 7:
            self.draw_version()

    def draw_format(self, mask: int) -> None:
        data = _LEVEL_M_BITS << 3 | mask
        remainder = data
        for _ in range(10):
            remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
        bits = (data << 10 | remainder) ^ 0x5412
        size = self.size

        def bit(i: int) -> bool:
            return (bits >> i) & 1 == 1

        for i in range(6):
            self.set(8, i, bit(i))
        self.set(8, 7, bit(6))
        self.set(8, 8, bit(7))
        self.set(7, 8, bit(8))
        for i in range(9, 15):
            self.set(14 - i, 8, bit(i))
        for i in range(8):
            self.set(size - 1 - i, 8, bit(i))
        for i in range(8, 15):
            self.set(8, size - 15 + i, bit(i))
        self.set(8, size - 8, True)

    def draw_version(self) -> None:
        remainder = self.version
        for _ in range(12):
            remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25)
        bits = self.version << 12 | remainder
        for i in range(18):
            dark = (bits >> i) & 1 == 1
            a, b = self.size - 11 + i % 3, i // 3
            self.set(a, b, dark)
            self.set(b, a, dark)

    def place(self, words: list[int]) -> None:
        total = len(words) * 8
        i = 0
        right = self.size - 1
        while right >= 1:
            if right == 6:
                right = 5
            upward = (right + 1) & 2 == 0
            for vert in range(self.size):
                y = self.size - 1 - vert if upward else vert
                for x in (right, right - 1):
                    if not self.function[y][x] and i < total:
                        self.dark[y][x] = (words[i >> 3] >> (7 - (i & 7))) & 1 == 1
                        i += 1
            right -= 2

    def masked(self, mask: int) -> list[list[bool]]:
        test = _MASKS[mask]
        return [
            [self.dark[y][x] != (not self.function[y][x] and test(x, y)) for x in range(self.size)]
            for y in range(self.size)
        ]


_FINDER_LIKE = ([1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1])


def penalty(grid: list[list[bool]]) -> int:
    """The standard's penalty score (rules N1-N4) of a masked symbol."""
    size = len(grid)
    lines = [list(row) for row in grid] + [[grid[y][x] for y in range(size)] for x in range(size)]
    score = 0
    for line in lines:
        run = 1
        for a, b in itertools.pairwise(line):
            if a == b:
                run += 1
                continue
            score += run - 2 if run >= 5 else 0
            run = 1
        score += run - 2 if run >= 5 else 0
        padded = [0] * 4 + [int(v) for v in line] + [0] * 4
        for start in range(len(padded) - 10):
            if padded[start : start + 11] in _FINDER_LIKE:
                score += 40
    for y in range(size - 1):
        for x in range(size - 1):
            if grid[y][x] == grid[y][x + 1] == grid[y + 1][x] == grid[y + 1][x + 1]:
                score += 3
    dark = sum(map(sum, grid))
    total = size * size
    score += 10 * (abs(dark * 20 - total * 10) // total)
    return score


def qr_matrix(text: str, mask: int | None = None) -> list[list[bool]]:
    """The QR code of ``text`` (UTF-8) as rows of dark (True) modules, quiet zone excluded."""
    payload = text.encode("utf-8")
    version = choose_version(len(payload))
    matrix = _Matrix(version)
    matrix.draw_function_patterns()
    matrix.place(codewords(payload, version))
    best: tuple[int, list[list[bool]]] | None = None
    for candidate in range(8) if mask is None else (mask,):
        matrix.draw_format(candidate)
        grid = matrix.masked(candidate)
        score = penalty(grid)
        if best is None or score < best[0]:
            best = (score, grid)
    assert best is not None
    return best[1]


def qr_svg(text: str, module_px: int = 4) -> str:
    """An inline ``<svg>`` of the QR code of ``text`` ('' when it is too long)."""
    try:
        grid = qr_matrix(text)
    except QrTooLongError:
        return ""
    side = len(grid) + 2 * QUIET_ZONE
    path = "".join(
        f"M{x + QUIET_ZONE} {y + QUIET_ZONE}h1v1h-1z"
        for y, row in enumerate(grid)
        for x, dark in enumerate(row)
        if dark
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="tfa-qr-code" viewBox="0 0 {side} {side}" '
        f'width="{side * module_px}" height="{side * module_px}" role="img" '
        'aria-label="QR code of the authenticator URI" shape-rendering="crispEdges">'
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )
