"""Synthetic identifiers: resident numbers, credit codes, vehicle plates and dog licences.

Four kinds of identifier, each valid in format and checksum yet naming nobody real:

* **Resident identity number** (GB 11643, 18 characters): ``0RRRdd`` area code, birth date
  ``YYYYMMDD``, 3-digit sequence (odd = male, even = female), ISO 7064 MOD 11-2 check character.
  Synthetic area codes start with ``0``, which no scheme assigns (see :mod:`socialcredit.regions`).
* **Unified social credit code** (GB 32100, 18 characters): registration authority, entity type,
  6-digit division code ``0RRRdd``, 9-character organisation code (GB 11714, own check character)
  and a MOD 31 check character.
* **Vehicle plate** ``SY0002-7KQ3P5``: ``SY``, the 4-digit region prefix, ``-``, five characters
  from :data:`ALPHABET` (no I, O, S, V, Z) and a MOD 31 check character. Real plates start with a
  Chinese province character, so these can never be real.
* **Dog licence** ``DL0005-0001234-5``: ``DL``, the region prefix, a 7-digit serial and a Damm
  check digit.

Generators are deterministic and one-to-one: for one seed (and kind and region), distinct indices
below :func:`capacity` give distinct identifiers. They map the index through a keyed Feistel
permutation (with cycle-walking) onto a mixed-radix space of area x birth date x sequence (or the
equivalent fields of the other kinds), so no table of issued numbers is needed. The ``*s`` forms
(``generate_resident_ids`` ...) do the same on numpy arrays and return identical strings.

Outputs depend on the seed and on the jurisdictions table: adding a jurisdiction changes what
``region=None`` generates. Outputs for different regions never collide (their area codes differ),
but ``region=None`` and ``region="..."`` draw from overlapping spaces, so use one style per seed.

Example:
    >>> generate_resident_id(1, 0, region="Rongcheng")[:4]
    '0006'
    >>> identify(generate_uscc(1, 0))
    'organisation'
    >>> mask_identifier("000601199001011239")
    '0006**********1239'
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from stdnum import damm
from stdnum.cn import uscc as stdnum_uscc
from stdnum.iso7064 import mod_11_2

from socialcredit.errors import IdentifierError
from socialcredit.regions import is_synthetic_region, jurisdiction, jurisdictions, region_of_area

__all__ = [
    "ALPHABET",
    "GENERATED_BIRTH_DATES",
    "USCC_KINDS",
    "IdentifierKind",
    "ResidentId",
    "Uscc",
    "UsccKind",
    "capacity",
    "generate_dog_licence",
    "generate_dog_licences",
    "generate_plate",
    "generate_plates",
    "generate_resident_id",
    "generate_resident_ids",
    "generate_uscc",
    "generate_usccs",
    "identify",
    "make_resident_id",
    "make_uscc",
    "mask_identifier",
    "parse_resident_id",
    "parse_uscc",
    "region_of",
    "validate_dog_licence",
    "validate_identifier",
    "validate_plate",
    "validate_resident_id",
    "validate_uscc",
]

IdentifierKind = Literal["person", "organisation", "government", "social_organisation", "vehicle", "dog"]
UsccKind = Literal["organisation", "government", "social_organisation"]

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100 character set (31 characters, no I, O, S, V, Z); also used for plates."""

USCC_KINDS: dict[str, str] = {"organisation": "91", "government": "11", "social_organisation": "51"}
"""Registration authority and entity type characters the generators use for each kind
(GB 32100: ``91`` enterprise registered by market regulation, ``11`` organ registered by a
staffing authority, ``51`` social group registered by civil affairs)."""

MIN_BIRTH_DATE = date(1900, 1, 1)
MAX_BIRTH_DATE = date(2099, 12, 31)
GENERATED_BIRTH_DATES = (date(1930, 1, 1), date(2012, 12, 31))
"""First and last birth date :func:`generate_resident_id` uses (uniformly over indices)."""

AREAS_PER_REGION = 100  # area codes 0RRR00..0RRR99 inside jurisdiction 0RRR00
_DAYS = (GENERATED_BIRTH_DATES[1] - GENERATED_BIRTH_DATES[0]).days + 1
_SEQUENCES = 1000
_USCC_BODY = len(ALPHABET) ** 8
_PLATE_BODY = len(ALPHABET) ** 5
_DOG_SERIALS = 10**7

_DIGITS = frozenset("0123456789")
_CHARSET = frozenset(ALPHABET)
_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_MOD_11_2_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7, 9, 10, 5, ...
_MOD_31_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, ...
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUES = np.array([int(c, 36) for c in ALPHABET], dtype=np.uint8)  # GB 11714: A=10 ... Z=35
_ALPHABET_CODES = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


def _clean(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise IdentifierError(
            f"a {what} must be a string, got {type(value).__name__}: pass the identifier as text",
            reason="format",
            value=value,
        )
    return value.strip().translate(_UPPER)


def _bad_char(
    value: str, number: str, what: str, positions: Iterable[int], allowed: frozenset[str], text: str
) -> None:
    for i in positions:
        if number[i] not in allowed:
            raise IdentifierError(
                f"{what} {value!r}: character {i + 1} ({number[i]!r}) must be {text}; "
                "re-copy the identifier from its source",
                reason="character",
                value=value,
            )


def _known_regions() -> str:
    return ", ".join(f"{j.code} ({j.name})" for j in jurisdictions())


def _check_area(value: str, area: str, what: str, field: str, hint: str) -> None:
    if area[0] != "0":
        raise IdentifierError(
            f"{what} {value!r} has {field} {area}, which is not synthetic: socialcredit only "
            f"handles synthetic identifiers whose {field} starts with 0. {hint}",
            reason="area",
            value=value,
        )
    if not is_synthetic_region(area):
        raise IdentifierError(
            f"{what} {value!r} has {field} {area}, which lies in no synthetic jurisdiction; use "
            f"one inside {_known_regions()} (see `socialcredit regions list`)",
            reason="area",
            value=value,
        )


def _region_code(region: str | None) -> str | None:
    return None if region is None else jurisdiction(region).code


def _prefixes(region: str | None) -> tuple[str, ...]:
    if region is None:
        return tuple(j.code[:4] for j in jurisdictions())
    return (region[:4],)


def _capacity(kind: str, region: str | None) -> int:
    n = len(_prefixes(region))
    if kind == "person":
        return n * AREAS_PER_REGION * _DAYS * _SEQUENCES
    if kind in USCC_KINDS:
        return n * AREAS_PER_REGION * _USCC_BODY
    if kind == "vehicle":
        return n * _PLATE_BODY
    if kind == "dog":
        return n * _DOG_SERIALS
    raise ValueError(
        f"unknown identifier kind {kind!r}: use one of person, organisation, government, "
        "social_organisation, vehicle, dog"
    )


def capacity(kind: str, *, region: str | None = None) -> int:
    """How many distinct identifiers the generator for ``kind`` can make (indices ``0..n-1``).

    Args:
        kind: ``person``, ``organisation``, ``government``, ``social_organisation``, ``vehicle``
            or ``dog``.
        region: a jurisdiction name or code, or None for all synthetic jurisdictions.

    Example:
        >>> capacity("person", region="Rongcheng")
        3031600000
        >>> capacity("person") > 1_400_000_000
        True
    """
    return _capacity(kind, _region_code(region))


def _check_index(index: int, size: int, what: str) -> int:
    i = operator.index(index)
    if not 0 <= i < size:
        raise IndexError(
            f"index {i} is outside 0..{size - 1}, the {what} this generator can make; "
            "use a smaller index or another seed"
        )
    return i


def _check_indices(indices: ArrayLike, size: int, what: str) -> NDArray[np.uint64]:
    arr = np.asarray(indices)
    if arr.size == 0:
        return arr.astype(np.uint64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"indices must be an integer array, got dtype {arr.dtype}")
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= size:
        bad = lo if lo < 0 else hi
        raise IndexError(
            f"index {bad} is outside 0..{size - 1}, the {what} this generator can make; "
            "use smaller indices or another seed"
        )
    return arr.astype(np.uint64)


def _to_strings(chars: NDArray[np.uint8]) -> NDArray[np.str_]:
    """Rows of ASCII codes -> array of str."""
    n, width = chars.shape
    return chars.astype(np.uint32).view(f"U{width}").reshape(n)  # UCS-4 code points


@cache
def _radix_table(base: int, width: int) -> NDArray[np.uint8]:
    """Row ``v`` holds the ``width`` base-``base`` digits of ``v``, most significant first."""
    powers = base ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((np.arange(base**width, dtype=np.int64)[:, None] // powers) % base).astype(np.uint8)


def _radix_columns(values: NDArray[np.int64], base: int, width: int) -> NDArray[np.uint8]:
    """Zero-padded base-``base`` digit values of ``values``, shape (n, width), via lookup tables
    of at most four digits (much faster than one division per digit)."""
    out = np.empty((values.size, width), dtype=np.uint8)
    while width:
        k = min(4, width)
        values, low = np.divmod(values, base**k)
        out[:, width - k : width] = _radix_table(base, k)[low]
        width -= k
    return out


def _digit_columns(values: NDArray[np.int64], width: int) -> NDArray[np.uint8]:
    """Zero-padded decimal digits of ``values`` as ASCII codes, shape (n, width)."""
    return _radix_columns(values, 10, width) + np.uint8(ord("0"))


@cache
def _birth_date_table() -> NDArray[np.uint8]:
    """Row ``d``: ASCII ``YYYYMMDD`` of the ``d``-th day of :data:`GENERATED_BIRTH_DATES`."""
    first = GENERATED_BIRTH_DATES[0]
    text = "".join(f"{first + timedelta(days=d):%Y%m%d}" for d in range(_DAYS))
    return np.frombuffer(text.encode(), dtype=np.uint8).reshape(_DAYS, 8)


def _weighted_sum(columns: NDArray[np.uint8], weights: Iterable[int]) -> NDArray[np.int64]:
    """Row-wise sum of ``columns[:, i] * weights[i]`` (a column loop beats integer matmul)."""
    total = np.zeros(columns.shape[0], dtype=np.int64)
    for i, w in enumerate(weights):
        total += columns[:, i] * np.int64(w)
    return total


def _prefix_columns(prefixes: tuple[str, ...], which: NDArray[np.int64]) -> NDArray[np.uint8]:
    table = np.frombuffer("".join(prefixes).encode(), dtype=np.uint8).reshape(len(prefixes), 4)
    return table[which]


# --------------------------------------------------------------------------------------------
# Keyed Feistel permutation with cycle-walking
# --------------------------------------------------------------------------------------------

_M64 = (1 << 64) - 1
_C1, _C2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB  # splitmix64 finaliser
_ROUNDS = 8
# Each step leaves the range with probability < 3/4, so a real permutation needs more than this
# many steps with probability < 1e-500; reaching it means a bug, not bad luck.
_MAX_WALK = 4096


def _mix(z: int) -> int:
    z ^= z >> 30
    z = (z * _C1) & _M64
    z ^= z >> 27
    z = (z * _C2) & _M64
    return z ^ (z >> 31)


def _mix_np(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    z = z ^ (z >> np.uint64(30))
    z = z * np.uint64(_C1)
    z = z ^ (z >> np.uint64(27))
    z = z * np.uint64(_C2)
    return z ^ (z >> np.uint64(31))


@dataclass(frozen=True, slots=True)
class _Permutation:
    """A bijection of ``range(size)``: a balanced Feistel network on ``2 * half`` bits, applied
    again while the result is ``>= size`` (cycle-walking keeps it a bijection of the range)."""

    size: int
    half: int
    keys: tuple[int, ...]

    def _once(self, x: int) -> int:
        mask = (1 << self.half) - 1
        left, right = x >> self.half, x & mask
        for k in self.keys:
            left, right = right, left ^ (_mix(right ^ k) & mask)
        return (left << self.half) | right

    def _once_np(self, x: NDArray[np.uint64]) -> NDArray[np.uint64]:
        half, mask = np.uint64(self.half), np.uint64((1 << self.half) - 1)
        left, right = x >> half, x & mask
        for k in self.keys:
            left, right = right, left ^ (_mix_np(right ^ np.uint64(k)) & mask)
        return (left << half) | right

    def __call__(self, x: int) -> int:
        x = self._once(x)
        for _ in range(_MAX_WALK):
            if x < self.size:
                return x
            x = self._once(x)
        raise RuntimeError("cycle-walking did not end: the Feistel network is not a permutation")

    def array(self, x: NDArray[np.uint64]) -> NDArray[np.uint64]:
        y = self._once_np(x)
        todo = np.flatnonzero(y >= self.size)
        for _ in range(_MAX_WALK):
            if not todo.size:
                return y
            y[todo] = self._once_np(y[todo])
            todo = todo[y[todo] >= self.size]
        raise RuntimeError("cycle-walking did not end: the Feistel network is not a permutation")


@lru_cache(maxsize=512)
def _permutation(domain: str, seed: int, size: int) -> _Permutation:
    bits = max(2, (size - 1).bit_length())
    half = (bits + 1) // 2
    tag = f"socialcredit.ids|{domain}|{size}|{seed}".encode()
    digest = hashlib.blake2b(tag, digest_size=8 * _ROUNDS).digest()
    keys = tuple(int.from_bytes(digest[8 * r : 8 * r + 8], "little") for r in range(_ROUNDS))
    return _Permutation(size, half, keys)


def _setup(kind: str, seed: int, region: str | None) -> tuple[str | None, int, _Permutation]:
    code = _region_code(region)
    size = _capacity(kind, code)
    return code, size, _permutation(f"{kind}|{code or 'all'}", operator.index(seed), size)


# --------------------------------------------------------------------------------------------
# Resident identity number (GB 11643)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResidentId:
    """The fields of a resident identity number.

    ``region`` is the synthetic jurisdiction code, or None for a non-synthetic number.
    """

    number: str
    area: str
    region: str | None
    birth_date: date
    sequence: int
    sex: Literal["male", "female"]


def _birth_date(digits: str) -> date | None:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
    return born if MIN_BIRTH_DATE <= born <= MAX_BIRTH_DATE else None


def validate_resident_id(value: str, *, synthetic: bool = True) -> str:
    """Check a resident identity number and return it normalised (trimmed, upper-case ``X``).

    Checks, in order: length (18), characters (17 digits then a digit or ``X``), birth date (a real
    date in 1900-01-01..2099-12-31), the MOD 11-2 check character, and, when ``synthetic``, that
    the area code starts with ``0`` and lies in a synthetic jurisdiction.

    Raises:
        IdentifierError: ``reason`` is ``length``, ``character``, ``date``, ``checksum`` or
            ``area``.

    Example:
        >>> validate_resident_id(" 00060119900101101x ")
        '00060119900101101X'
        >>> validate_resident_id("000601199002301251")
        Traceback (most recent call last):
        ...
        socialcredit.errors.IdentifierError: resident identity number '000601199002301251': \
characters 7-14 (19900230) must be a real birth date YYYYMMDD between 1900-01-01 and 2099-12-31; \
re-copy the number from its source
    """
    what = "resident identity number"
    number = _clean(value, what)
    if len(number) != 18:
        raise IdentifierError(
            f"{what} {value!r} has {len(number)} characters; it needs 18 (6-digit area code, "
            "8-digit birth date, 3-digit sequence, check character)",
            reason="length",
            value=value,
        )
    _bad_char(value, number, what, range(17), _DIGITS, "a digit 0-9")
    _bad_char(value, number, what, [17], _DIGITS | {"X"}, "a digit 0-9 or X (the check character)")
    if _birth_date(number[6:14]) is None:
        raise IdentifierError(
            f"{what} {value!r}: characters 7-14 ({number[6:14]}) must be a real birth date "
            f"YYYYMMDD between {MIN_BIRTH_DATE} and {MAX_BIRTH_DATE}; re-copy the number from its "
            "source",
            reason="date",
            value=value,
        )
    if not mod_11_2.is_valid(number):
        raise IdentifierError(
            f"{what} {value!r}: the check character is {number[17]!r} but the first 17 characters "
            f"require {mod_11_2.calc_check_digit(number[:17])!r} (ISO 7064 MOD 11-2); a character "
            "is probably mistyped, re-copy the number from its source",
            reason="checksum",
            value=value,
        )
    if synthetic:
        _check_area(
            value, number[:6], what, "area code",
            "Generate one with generate_resident_id(), or pass synthetic=False to check the "
            "format only.",
        )  # fmt: skip
    return number


def parse_resident_id(value: str, *, synthetic: bool = True) -> ResidentId:
    """Validate a resident identity number and split it into its fields.

    Example:
        >>> p = parse_resident_id("000601199001011239")
        >>> p.region, p.birth_date.isoformat(), p.sequence, p.sex
        ('000600', '1990-01-01', 123, 'male')
    """
    number = validate_resident_id(value, synthetic=synthetic)
    area = number[:6]
    born = _birth_date(number[6:14])
    assert born is not None  # validated above
    sequence = int(number[14:17])
    return ResidentId(
        number=number,
        area=area,
        region=region_of_area(area) if is_synthetic_region(area) else None,
        birth_date=born,
        sequence=sequence,
        sex="male" if sequence % 2 else "female",
    )


def make_resident_id(area: str, birth_date: date, sequence: int, *, synthetic: bool = True) -> str:
    """Assemble a resident identity number, computing its check character.

    Args:
        area: six-digit area code; with ``synthetic`` it must lie in a synthetic jurisdiction.
        birth_date: between 1900-01-01 and 2099-12-31.
        sequence: 0..999; odd for a man, even for a woman.
        synthetic: refuse area codes outside the synthetic jurisdictions.

    Example:
        >>> make_resident_id("000601", date(1990, 1, 1), 123)
        '000601199001011239'
    """
    if not (isinstance(area, str) and len(area) == 6 and set(area) <= _DIGITS):
        raise IdentifierError(
            f"area code {area!r} must be six digits 0-9, such as '000601'",
            reason="area",
            value=area,
        )
    if not isinstance(birth_date, date) or not MIN_BIRTH_DATE <= birth_date <= MAX_BIRTH_DATE:
        raise IdentifierError(
            f"birth date {birth_date!r} must be a datetime.date between {MIN_BIRTH_DATE} and "
            f"{MAX_BIRTH_DATE}",
            reason="date",
            value=birth_date,
        )
    seq = operator.index(sequence)
    if not 0 <= seq <= 999:
        raise IdentifierError(
            f"sequence {seq} must be 0..999 (odd for a man, even for a woman)",
            reason="format",
            value=sequence,
        )
    body = f"{area}{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}{seq:03d}"
    return validate_resident_id(body + mod_11_2.calc_check_digit(body), synthetic=synthetic)


def generate_resident_id(seed: int, index: int, *, region: str | None = None) -> str:
    """The ``index``-th synthetic resident identity number for ``seed``.

    One-to-one: distinct indices in ``0..capacity("person", region=region) - 1`` give distinct
    numbers. Area codes are ``0RRR00``..``0RRR99`` of the jurisdiction(s), birth dates lie in
    :data:`GENERATED_BIRTH_DATES`, sequences in 000..999. Capacity: 100 areas x 30,316 days x
    1,000 sequences = 3,031,600,000 per jurisdiction; 18 times that (54.6 billion) over the 18
    jurisdictions of the table when ``region`` is None.

    Args:
        seed: any integer; the same seed always gives the same numbers.
        index: which number, ``0 <= index < capacity``.
        region: a jurisdiction name or code, or None for all of them.

    Raises:
        IndexError: when ``index`` is negative or not below the capacity.
        JurisdictionError: when ``region`` is unknown.

    Example:
        >>> a = generate_resident_id(7, 0, region="000600")
        >>> a == generate_resident_id(7, 0, region="Rongcheng") != generate_resident_id(7, 1)
        True
        >>> parse_resident_id(a).region
        '000600'
    """
    code, size, perm = _setup("person", seed, region)
    y = perm(_check_index(index, size, "resident numbers"))
    y, seq = divmod(y, _SEQUENCES)
    area_index, day = divmod(y, _DAYS)
    prefix = _prefixes(code)[area_index // AREAS_PER_REGION]
    area = f"{prefix}{area_index % AREAS_PER_REGION:02d}"
    return make_resident_id(area, GENERATED_BIRTH_DATES[0] + timedelta(days=day), seq)


def generate_resident_ids(seed: int, indices: ArrayLike, *, region: str | None = None) -> NDArray[np.str_]:
    """Vectorised :func:`generate_resident_id`: the same numbers for an integer array of indices.

    Example:
        >>> out = generate_resident_ids(7, np.arange(3), region="Rongcheng")
        >>> out.tolist() == [generate_resident_id(7, i, region="Rongcheng") for i in range(3)]
        True
    """
    code, size, perm = _setup("person", seed, region)
    x = _check_indices(indices, size, "resident numbers")
    shape = x.shape
    y = perm.array(x.ravel()).astype(np.int64)
    y, seq = np.divmod(y, _SEQUENCES)
    area_index, day = np.divmod(y, _DAYS)
    chars = np.empty((y.size, 18), dtype=np.uint8)
    chars[:, 0:4] = _prefix_columns(_prefixes(code), area_index // AREAS_PER_REGION)
    chars[:, 4:6] = _digit_columns(area_index % AREAS_PER_REGION, 2)
    chars[:, 6:14] = _birth_date_table()[day]
    chars[:, 14:17] = _digit_columns(seq, 3)
    remainder = _weighted_sum(chars[:, :17] - np.uint8(ord("0")), _MOD_11_2_WEIGHTS) % 11
    chars[:, 17] = np.frombuffer(b"10X98765432", dtype=np.uint8)[remainder]
    return _to_strings(chars).reshape(shape)


# --------------------------------------------------------------------------------------------
# Unified social credit code (GB 32100)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Uscc:
    """The fields of a unified social credit code.

    ``kind`` follows the registration authority: ``1`` (staffing authorities: organs, public
    institutions) -> ``government``, ``5`` (civil affairs) -> ``social_organisation``, anything
    else -> ``organisation``. ``region`` is None for a non-synthetic code.
    """

    code: str
    authority: str
    entity_type: str
    kind: UsccKind
    division: str
    region: str | None
    organisation_code: str


def _org_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    c = 11 - sum(int(ch, 36) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def _uscc_kind(authority: str) -> UsccKind:
    if authority == "1":
        return "government"
    return "social_organisation" if authority == "5" else "organisation"


def validate_uscc(value: str, *, synthetic: bool = True) -> str:
    """Check a unified social credit code and return it normalised (trimmed, upper case).

    Checks, in order: length (18), characters (positions 1-2 and 9-18 from :data:`ALPHABET`,
    3-8 digits), the GB 11714 organisation-code check (position 17), the GB 32100 MOD 31 check
    (position 18), and, when ``synthetic``, that the division code starts with ``0`` and lies in
    a synthetic jurisdiction.

    Raises:
        IdentifierError: ``reason`` is ``length``, ``character``, ``checksum`` or ``area``.

    Example:
        >>> validate_uscc("91310110666007217T", synthetic=False)
        '91310110666007217T'
        >>> validate_uscc("91310110666007217T").startswith("91")
        Traceback (most recent call last):
        ...
        socialcredit.errors.IdentifierError: unified social credit code '91310110666007217T' has \
division code 310110, which is not synthetic: socialcredit only handles synthetic identifiers \
whose division code starts with 0. Generate one with generate_uscc(), or pass synthetic=False to \
check the format only.
    """
    what = "unified social credit code"
    code = _clean(value, what)
    if len(code) != 18:
        raise IdentifierError(
            f"{what} {value!r} has {len(code)} characters; it needs 18 (authority, entity type, "
            "6-digit division code, 9-character organisation code, check character)",
            reason="length",
            value=value,
        )
    letters = f"a digit or one of the letters {ALPHABET[10:]} (no I, O, S, V, Z)"
    _bad_char(value, code, what, [0, 1], _CHARSET, letters)
    _bad_char(value, code, what, range(2, 8), _DIGITS, "a digit 0-9 (division code)")
    _bad_char(value, code, what, range(8, 18), _CHARSET, letters)
    if code[16] != _org_check(code[8:16]):
        raise IdentifierError(
            f"{what} {value!r}: the organisation code {code[8:17]} has check character "
            f"{code[16]!r} but its first 8 characters require {_org_check(code[8:16])!r} "
            "(GB 11714); a character is probably mistyped, re-copy the code from its source",
            reason="checksum",
            value=value,
        )
    expected = stdnum_uscc.calc_check_digit(code[:17])
    if code[17] != expected:
        raise IdentifierError(
            f"{what} {value!r}: the check character is {code[17]!r} but the first 17 characters "
            f"require {expected!r} (GB 32100 MOD 31); a character is probably mistyped, re-copy "
            "the code from its source",
            reason="checksum",
            value=value,
        )
    if synthetic:
        _check_area(
            value, code[2:8], what, "division code",
            "Generate one with generate_uscc(), or pass synthetic=False to check the format only.",
        )  # fmt: skip
    return code


def parse_uscc(value: str, *, synthetic: bool = True) -> Uscc:
    """Validate a unified social credit code and split it into its fields.

    Example:
        >>> u = parse_uscc(make_uscc("000601", "MA123456", kind="government"))
        >>> u.kind, u.authority + u.entity_type, u.region, u.organisation_code
        ('government', '11', '000600', 'MA1234569')
    """
    code = validate_uscc(value, synthetic=synthetic)
    division = code[2:8]
    return Uscc(
        code=code,
        authority=code[0],
        entity_type=code[1],
        kind=_uscc_kind(code[0]),
        division=division,
        region=region_of_area(division) if is_synthetic_region(division) else None,
        organisation_code=code[8:17],
    )


def make_uscc(
    division: str,
    organisation_body: str,
    *,
    kind: UsccKind = "organisation",
    synthetic: bool = True,
) -> str:
    """Assemble a unified social credit code, computing both check characters.

    Args:
        division: six-digit division code; with ``synthetic`` inside a synthetic jurisdiction.
        organisation_body: the first 8 characters of the organisation code, from
            :data:`ALPHABET`; its GB 11714 check character is appended.
        kind: picks the authority and entity type characters (:data:`USCC_KINDS`).
        synthetic: refuse division codes outside the synthetic jurisdictions.

    Example:
        >>> make_uscc("000601", "MA123456")
        '91000601MA12345692'
    """
    if kind not in USCC_KINDS:
        raise IdentifierError(
            f"unknown credit code kind {kind!r}: use one of {', '.join(USCC_KINDS)}",
            reason="format",
            value=kind,
        )
    if not (isinstance(division, str) and len(division) == 6 and set(division) <= _DIGITS):
        raise IdentifierError(
            f"division code {division!r} must be six digits 0-9, such as '000601'",
            reason="area",
            value=division,
        )
    body = organisation_body.upper() if isinstance(organisation_body, str) else ""
    if len(body) != 8 or not set(body) <= _CHARSET:
        raise IdentifierError(
            f"organisation code body {organisation_body!r} must be 8 characters from {ALPHABET}",
            reason="character",
            value=organisation_body,
        )
    first = USCC_KINDS[kind] + division + body + _org_check(body)
    return validate_uscc(first + stdnum_uscc.calc_check_digit(first), synthetic=synthetic)


def generate_uscc(
    seed: int, index: int, *, kind: UsccKind = "organisation", region: str | None = None
) -> str:
    """The ``index``-th synthetic unified social credit code of ``kind`` for ``seed``.

    One-to-one per (seed, kind, region): division codes ``0RRR00``..``0RRR99``, organisation code
    bodies over all 31**8 strings of :data:`ALPHABET`. Capacity: 100 x 31**8 (about 8.5e13) per
    jurisdiction, 18 times that with ``region=None``.

    Raises:
        IndexError: when ``index`` is negative or not below the capacity.

    Example:
        >>> code = generate_uscc(7, 5, kind="social_organisation", region="Jinan")
        >>> parse_uscc(code).kind, parse_uscc(code).region
        ('social_organisation', '000500')
    """
    code, size, perm = _setup(kind, seed, region)
    y = perm(_check_index(index, size, "credit codes"))
    area_index, body_number = divmod(y, _USCC_BODY)
    body = ""
    for _ in range(8):
        body_number, digit = divmod(body_number, len(ALPHABET))
        body = ALPHABET[digit] + body
    prefix = _prefixes(code)[area_index // AREAS_PER_REGION]
    return make_uscc(f"{prefix}{area_index % AREAS_PER_REGION:02d}", body, kind=kind)


def generate_usccs(
    seed: int,
    indices: ArrayLike,
    *,
    kind: UsccKind = "organisation",
    region: str | None = None,
) -> NDArray[np.str_]:
    """Vectorised :func:`generate_uscc`: the same codes for an integer array of indices."""
    code, size, perm = _setup(kind, seed, region)
    x = _check_indices(indices, size, "credit codes")
    shape = x.shape
    y = perm.array(x.ravel()).astype(np.int64)
    area_index, body_number = np.divmod(y, _USCC_BODY)
    body = _radix_columns(body_number, len(ALPHABET), 8)  # alphabet indices
    org = 11 - _weighted_sum(_ORG_VALUES[body], _ORG_WEIGHTS) % 11
    values = np.empty((y.size, 18), dtype=np.uint8)  # alphabet indices
    values[:, 0:2] = [ALPHABET.index(c) for c in USCC_KINDS[kind]]
    values[:, 2:6] = _prefix_columns(_prefixes(code), area_index // AREAS_PER_REGION) - ord("0")
    values[:, 6:8] = _radix_columns(area_index % AREAS_PER_REGION, 10, 2)
    values[:, 8:16] = body
    values[:, 16] = np.where(org == 10, ALPHABET.index("X"), org % 11)  # 11 -> '0'
    values[:, 17] = (31 - _weighted_sum(values, _MOD_31_WEIGHTS) % 31) % 31
    return _to_strings(_ALPHABET_CODES[values]).reshape(shape)


# --------------------------------------------------------------------------------------------
# Vehicle plates and dog licences (synthetic formats)
# --------------------------------------------------------------------------------------------


def _format_error(what: str, value: str, example: str) -> IdentifierError:
    return IdentifierError(
        f"{what} {value!r} does not have the synthetic format {example}; re-copy it from its source",
        reason="format",
        value=value,
    )


def validate_plate(value: str) -> str:
    """Check a synthetic vehicle plate ``SYrrrr-ccccck`` and return it normalised.

    ``rrrr`` is the jurisdiction prefix (``0002`` for ``000200``), ``ccccc`` five characters from
    :data:`ALPHABET` and ``k`` the GB 32100 MOD 31 check over the nine characters ``rrrrccccc``.

    Raises:
        IdentifierError: ``reason`` is ``length``, ``format``, ``character``, ``checksum`` or
            ``area``.

    Example:
        >>> validate_plate(generate_plate(1, 0, region="Shanghai"))[:7]
        'SY0002-'
    """
    what = "vehicle plate"
    plate = _clean(value, what)
    if len(plate) != 13:
        raise IdentifierError(
            f"{what} {value!r} has {len(plate)} characters; a synthetic plate has 13, like SY0002-7KQ3P5",
            reason="length",
            value=value,
        )
    if not plate.startswith("SY") or plate[6] != "-":
        raise _format_error(what, value, "SY0002-7KQ3P5 ('SY', region digits, '-', 6 characters)")
    _bad_char(value, plate, what, range(2, 6), _DIGITS, "a digit 0-9 (region)")
    _bad_char(value, plate, what, range(7, 13), _CHARSET, f"one of {ALPHABET}")
    expected = stdnum_uscc.calc_check_digit(plate[2:6] + plate[7:12])
    if plate[12] != expected:
        raise IdentifierError(
            f"{what} {value!r}: the check character is {plate[12]!r} but the plate requires "
            f"{expected!r}; a character is probably mistyped, re-copy it from its source",
            reason="checksum",
            value=value,
        )
    _check_area(value, plate[2:6] + "00", what, "region", "Generate one with generate_plate().")
    return plate


def generate_plate(seed: int, index: int, *, region: str | None = None) -> str:
    """The ``index``-th synthetic vehicle plate for ``seed``.

    One-to-one per (seed, region). Capacity: 31**5 = 28,629,151 per jurisdiction, 18 times that
    (515 million) with ``region=None``.

    Example:
        >>> generate_plate(1, 0) == generate_plate(1, 0) != generate_plate(1, 1)
        True
    """
    code, size, perm = _setup("vehicle", seed, region)
    which, number = divmod(perm(_check_index(index, size, "plates")), _PLATE_BODY)
    body = ""
    for _ in range(5):
        number, digit = divmod(number, len(ALPHABET))
        body = ALPHABET[digit] + body
    prefix = _prefixes(code)[which]
    return f"SY{prefix}-{body}{stdnum_uscc.calc_check_digit(prefix + body)}"


def generate_plates(seed: int, indices: ArrayLike, *, region: str | None = None) -> NDArray[np.str_]:
    """Vectorised :func:`generate_plate`."""
    code, size, perm = _setup("vehicle", seed, region)
    x = _check_indices(indices, size, "plates")
    shape = x.shape
    which, number = np.divmod(perm.array(x.ravel()).astype(np.int64), _PLATE_BODY)
    values = np.empty((which.size, 10), dtype=np.uint8)  # alphabet indices
    values[:, 0:4] = _prefix_columns(_prefixes(code), which) - ord("0")
    values[:, 4:9] = _radix_columns(number, len(ALPHABET), 5)
    values[:, 9] = (31 - _weighted_sum(values, _MOD_31_WEIGHTS[:9]) % 31) % 31
    chars = np.empty((which.size, 13), dtype=np.uint8)
    chars[:, 0:2] = np.frombuffer(b"SY", dtype=np.uint8)
    chars[:, 2:6] = _ALPHABET_CODES[values[:, 0:4]]
    chars[:, 6] = ord("-")
    chars[:, 7:13] = _ALPHABET_CODES[values[:, 4:10]]
    return _to_strings(chars).reshape(shape)


@cache
def _damm_table() -> NDArray[np.int64]:
    """The Damm operation table, rebuilt from stdnum's public ``checksum``."""
    first = [damm.checksum(str(d)) for d in range(10)]  # row 0, a permutation of 0..9
    rows = [[damm.checksum(f"{first.index(i)}{d}") for d in range(10)] for i in range(10)]
    return np.array(rows, dtype=np.int64)


def validate_dog_licence(value: str) -> str:
    """Check a synthetic dog licence ``DLrrrr-nnnnnnn-k`` and return it normalised.

    ``rrrr`` is the jurisdiction prefix, ``nnnnnnn`` a serial and ``k`` the Damm check digit over
    the eleven digits ``rrrrnnnnnnn`` (it catches every single wrong digit and every swap of two
    neighbours).

    Raises:
        IdentifierError: ``reason`` is ``length``, ``format``, ``character``, ``checksum`` or
            ``area``.

    Example:
        >>> validate_dog_licence("dl0005-0001234-5")
        'DL0005-0001234-5'
    """
    what = "dog licence"
    licence = _clean(value, what)
    if len(licence) != 16:
        raise IdentifierError(
            f"{what} {value!r} has {len(licence)} characters; a synthetic dog licence has 16, "
            "like DL0005-0001234-5",
            reason="length",
            value=value,
        )
    if not licence.startswith("DL") or licence[6] != "-" or licence[14] != "-":
        raise _format_error(what, value, "DL0005-0001234-5 ('DL', region, serial, check digit)")
    _bad_char(value, licence, what, [*range(2, 6), *range(7, 14), 15], _DIGITS, "a digit 0-9")
    digits = licence[2:6] + licence[7:14]
    if licence[15] != damm.calc_check_digit(digits):
        raise IdentifierError(
            f"{what} {value!r}: the check digit is {licence[15]!r} but the licence requires "
            f"{damm.calc_check_digit(digits)!r}; a digit is probably mistyped, re-copy it",
            reason="checksum",
            value=value,
        )
    _check_area(value, licence[2:6] + "00", what, "region", "Generate one with generate_dog_licence().")
    return licence


def generate_dog_licence(seed: int, index: int, *, region: str | None = None) -> str:
    """The ``index``-th synthetic dog licence for ``seed``.

    One-to-one per (seed, region). Capacity: 10**7 per jurisdiction, 18 times that (180 million)
    with ``region=None``.

    Example:
        >>> generate_dog_licence(1, 0, region="Jinan")[:7]
        'DL0005-'
    """
    code, size, perm = _setup("dog", seed, region)
    which, serial = divmod(perm(_check_index(index, size, "dog licences")), _DOG_SERIALS)
    digits = f"{_prefixes(code)[which]}{serial:07d}"
    return f"DL{digits[:4]}-{digits[4:]}-{damm.calc_check_digit(digits)}"


def generate_dog_licences(seed: int, indices: ArrayLike, *, region: str | None = None) -> NDArray[np.str_]:
    """Vectorised :func:`generate_dog_licence`."""
    code, size, perm = _setup("dog", seed, region)
    x = _check_indices(indices, size, "dog licences")
    shape = x.shape
    which, serial = np.divmod(perm.array(x.ravel()).astype(np.int64), _DOG_SERIALS)
    chars = np.empty((which.size, 16), dtype=np.uint8)
    chars[:, 0:2] = np.frombuffer(b"DL", dtype=np.uint8)
    chars[:, 2:6] = _prefix_columns(_prefixes(code), which)
    chars[:, 6] = chars[:, 14] = ord("-")
    chars[:, 7:14] = _digit_columns(serial, 7)
    table, interim = _damm_table(), np.zeros(which.size, dtype=np.int64)
    for col in [*range(2, 6), *range(7, 14)]:
        interim = table[interim, chars[:, col].astype(np.int64) - ord("0")]
    chars[:, 15] = interim + ord("0")
    return _to_strings(chars).reshape(shape)


# --------------------------------------------------------------------------------------------
# Any identifier
# --------------------------------------------------------------------------------------------


_PROGRESS = {"format": 0, "length": 0, "character": 1, "date": 2, "checksum": 2, "area": 3}


def validate_identifier(value: str, *, synthetic: bool = True) -> tuple[IdentifierKind, str]:
    """Recognise and check any identifier; return ``(kind, normalised)``.

    ``SY...`` is a plate, ``DL...`` a dog licence; an 18-character value is a resident number
    when it passes as one (a synthetic one starts with ``0``), else a credit code. Plates and dog
    licences are always checked as synthetic.

    Raises:
        IdentifierError: for an 18-character value, the error of whichever reading (resident
            number or credit code) passed more checks.

    Example:
        >>> validate_identifier("000601199001011239")
        ('person', '000601199001011239')
    """
    text = _clean(value, "identifier")
    if text.startswith("SY"):
        return "vehicle", validate_plate(value)
    if text.startswith("DL"):
        return "dog", validate_dog_licence(value)
    if len(text) != 18:
        raise IdentifierError(
            f"identifier {value!r} has {len(text)} characters: a resident identity number or a "
            "unified social credit code has 18, a plate looks like SY0002-7KQ3P5 and a dog "
            "licence like DL0005-0001234-5",
            reason="length",
            value=value,
        )
    try:
        return "person", validate_resident_id(value, synthetic=synthetic)
    except IdentifierError as person_error:
        try:
            code = validate_uscc(value, synthetic=synthetic)
        except IdentifierError as uscc_error:
            # Report the check that got further; on a tie, what the value looks like.
            looks_personal = text[0] == "0" or set(text[:17]) <= _DIGITS
            person_rank = _PROGRESS[person_error.reason] + looks_personal * 0.5
            raise (person_error if person_rank > _PROGRESS[uscc_error.reason] else uscc_error) from None
        return _uscc_kind(code[0]), code


def identify(value: str, *, synthetic: bool = True) -> IdentifierKind:
    """The kind of a valid identifier: ``person``, ``organisation``, ``government``,
    ``social_organisation``, ``vehicle`` or ``dog``.

    Example:
        >>> identify("DL0005-0001234-5")
        'dog'
    """
    return validate_identifier(value, synthetic=synthetic)[0]


def region_of(value: str) -> str:
    """The synthetic jurisdiction code of any valid synthetic identifier.

    Example:
        >>> region_of("000601199001011239"), region_of("DL0005-0001234-5")
        ('000600', '000500')
    """
    kind, text = validate_identifier(value)
    area = {"person": text[:6], "vehicle": text[2:6], "dog": text[2:6]}.get(kind, text[2:8])
    return region_of_area(area[:4] + "00")


def mask_identifier(value: str) -> str:
    """Keep the first and last four characters and star the rest (all of it when 8 or shorter).

    Example:
        >>> mask_identifier("000601199001011239"), mask_identifier("short")
        ('0006**********1239', '*****')
    """
    text = str(value).strip()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]
