"""Tests for socialcredit.ids: synthetic resident numbers, credit codes, plates and dog licences."""

from __future__ import annotations

import string
from datetime import date
from functools import partial

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum import damm
from stdnum.cn import uscc as stdnum_uscc
from stdnum.iso7064 import mod_11_2

from socialcredit import ids
from socialcredit.errors import IdentifierError
from socialcredit.regions import jurisdiction, jurisdictions

REGIONS = [j.code for j in jurisdictions()]
USCC_KINDS = ("organisation", "government", "social_organisation")

# kind -> (scalar generator, vectorised generator, validator)
GENERATORS = {
    "person": (ids.generate_resident_id, ids.generate_resident_ids, ids.validate_resident_id),
    **{
        k: (partial(ids.generate_uscc, kind=k), partial(ids.generate_usccs, kind=k), ids.validate_uscc)
        for k in USCC_KINDS
    },
    "vehicle": (ids.generate_plate, ids.generate_plates, ids.validate_plate),
    "dog": (ids.generate_dog_licence, ids.generate_dog_licences, ids.validate_dog_licence),
}
KINDS = list(GENERATORS)
SEEDS = [0, 1, 2014, -7, 2**80 + 3]


def spread(kind: str, n: int, region: str | None = None, offset: int = 0) -> np.ndarray:
    """n indices spread over the whole capacity, plus the very first and last ones."""
    cap = ids.capacity(kind, region=region)
    inner = np.linspace(0, cap - 1, n, dtype=np.int64) + offset
    return np.unique(np.clip(inner, 0, cap - 1))


def reason(fn, *args, **kwargs) -> str:
    with pytest.raises(IdentifierError) as info:
        fn(*args, **kwargs)
    return info.value.reason


# --------------------------------------------------------------------------------------------
# Generated identifiers are valid, deterministic, one-to-one
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("region", [None, "Rongcheng", "009300"])
def test_generated_identifiers_validate(kind, region):
    _, vector, validate = GENERATORS[kind]
    code = None if region is None else jurisdiction(region).code
    indices = np.concatenate([np.arange(100), spread(kind, 400, region, offset=11)])
    for value in vector(2014, indices, region=region).tolist():
        assert validate(value) == value
        assert ids.validate_identifier(value) == (kind, value)
        assert ids.identify(value) == kind
        if code is not None:
            assert ids.region_of(value) == code


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=40, deadline=None)
@given(data=st.data(), seed=st.sampled_from(SEEDS))
def test_scalar_generation_validates_anywhere_in_capacity(kind, data, seed):
    scalar, vector, validate = GENERATORS[kind]
    region = data.draw(st.sampled_from([None, *REGIONS]))
    index = data.draw(st.integers(0, ids.capacity(kind, region=region) - 1))
    value = scalar(seed, index, region=region)
    assert validate(value) == value
    assert vector(seed, np.array([index]), region=region).tolist() == [value]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_scalar_equals_vectorised(kind, seed):
    scalar, vector, _ = GENERATORS[kind]
    rng = np.random.default_rng(abs(seed) % 2**32)
    for region in (None, "Jinan"):
        cap = ids.capacity(kind, region=region)
        indices = np.concatenate([rng.integers(0, cap, 150), [0, cap - 1]])
        got = vector(seed, indices, region=region)
        assert got.shape == indices.shape
        assert got.tolist() == [scalar(seed, int(i), region=region) for i in indices]


def test_vectorised_keeps_shape_and_accepts_empty_input():
    grid = np.arange(6).reshape(2, 3)
    out = ids.generate_resident_ids(5, grid)
    assert out.shape == (2, 3)
    assert out[1, 2] == ids.generate_resident_id(5, 5)
    assert ids.generate_plates(5, np.array([], dtype=np.int64)).shape == (0,)
    with pytest.raises(TypeError):
        ids.generate_usccs(5, np.array([1.5]))


@pytest.mark.parametrize(
    ("kind", "region", "start"),
    [
        ("person", None, 0),
        ("person", "Rongcheng", 1_399_500_000),
        ("organisation", None, 0),
        ("vehicle", None, 0),
        ("dog", "Jinan", 0),  # 10% of that region's capacity, so cycle-walking is exercised
    ],
)
def test_one_to_one_over_a_million_indices(kind, region, start):
    _, vector, _ = GENERATORS[kind]
    out = vector(7, np.arange(start, start + 1_000_000), region=region)
    assert out.shape == (1_000_000,)
    assert len(set(out.tolist())) == 1_000_000  # same check as np.unique, three times faster


NEAR = st.integers(1_399_000_000, 1_401_000_000)


@settings(max_examples=200, deadline=None)
@given(i=NEAR, j=NEAR, seed=st.sampled_from(SEEDS), region=st.sampled_from([None, "Suining"]))
def test_distinct_indices_near_1_4_billion_give_distinct_numbers(i, j, seed, region):
    assume(i != j)
    a = ids.generate_resident_id(seed, i, region=region)
    b = ids.generate_resident_id(seed, j, region=region)
    assert a != b
    assert ids.generate_resident_id(seed, i, region=region) == a  # deterministic


@settings(max_examples=100, deadline=None)
@given(i=st.integers(0, 2**40), j=st.integers(0, 2**40), kind=st.sampled_from(USCC_KINDS))
def test_distinct_indices_give_distinct_credit_codes(i, j, kind):
    assume(i != j)
    assert ids.generate_uscc(3, i, kind=kind) != ids.generate_uscc(3, j, kind=kind)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 1000, 4097])
def test_permutation_is_a_bijection_of_its_range(size):
    perm = ids._permutation("test", 42, size)
    scalar = [perm(i) for i in range(size)]
    assert sorted(scalar) == list(range(size))
    vector = perm.array(np.arange(size, dtype=np.uint64))
    assert vector.tolist() == scalar
    if size >= 1000:
        assert sum(a == b for a, b in enumerate(scalar)) < size // 10  # it does permute


def test_seeds_and_regions_change_the_output():
    a = ids.generate_resident_ids(1, np.arange(1000))
    b = ids.generate_resident_ids(2, np.arange(1000))
    assert (a != b).mean() > 0.99
    assert ids.generate_resident_id(1, 0) == a[0]
    beijing = ids.generate_resident_ids(1, np.arange(1000), region="Beijing")
    assert all(n.startswith("0001") for n in beijing.tolist())
    regions = {ids.region_of(n) for n in ids.generate_resident_ids(1, np.arange(5000)).tolist()}
    assert regions == set(REGIONS)


def test_generated_population_is_plausibly_spread():
    people = [ids.parse_resident_id(n) for n in ids.generate_resident_ids(9, np.arange(20_000))]
    male = sum(p.sex == "male" for p in people) / len(people)
    assert 0.47 < male < 0.53
    first, last = ids.GENERATED_BIRTH_DATES
    assert all(first <= p.birth_date <= last for p in people)
    years = {p.birth_date.year for p in people}
    assert min(years) <= 1932 and max(years) >= 2010
    assert len({p.area for p in people}) > 1000  # 18 jurisdictions x 100 areas


def test_capacity_figures():
    n = len(REGIONS)
    days = (date(2012, 12, 31) - date(1930, 1, 1)).days + 1
    assert ids.capacity("person", region="Rongcheng") == 100 * days * 1000 == 3_031_600_000
    assert ids.capacity("person") == n * 3_031_600_000 > 1_400_000_000
    assert ids.capacity("organisation") == n * 100 * 31**8
    assert ids.capacity("vehicle", region="Shanghai") == 31**5
    assert ids.capacity("dog") == n * 10**7
    with pytest.raises(ValueError, match="unknown identifier kind"):
        ids.capacity("cat")


@pytest.mark.parametrize("kind", KINDS)
def test_index_outside_capacity_raises(kind):
    scalar, vector, validate = GENERATORS[kind]
    cap = ids.capacity(kind, region="Xiamen")
    assert validate(scalar(1, cap - 1, region="Xiamen"))
    for bad in (cap, cap + 10, -1):
        with pytest.raises(IndexError, match="outside"):
            scalar(1, bad, region="Xiamen")
    with pytest.raises(IndexError):
        vector(1, np.array([0, cap]), region="Xiamen")
    with pytest.raises(IndexError):
        vector(1, np.array([-1, 0]), region="Xiamen")


def test_unknown_region_raises():
    from socialcredit.errors import JurisdictionError

    with pytest.raises(JurisdictionError):
        ids.generate_resident_id(1, 0, region="Atlantis")


# --------------------------------------------------------------------------------------------
# Every single-character substitution is detected, with a precise reason
# --------------------------------------------------------------------------------------------

SUBSTITUTES = string.digits + string.ascii_uppercase + "-*é٣ "


def _samples() -> list[tuple[str, str]]:
    out = [("person", n) for n in ids.generate_resident_ids(11, spread("person", 100)).tolist()]
    for k in USCC_KINDS:
        out += [(k, c) for c in ids.generate_usccs(11, spread(k, 34), kind=k).tolist()]
    out += [("vehicle", p) for p in ids.generate_plates(11, spread("vehicle", 50)).tolist()]
    out += [("dog", d) for d in ids.generate_dog_licences(11, spread("dog", 50)).tolist()]
    return out


def _expected_reasons(kind: str, value: str, pos: int, new: str) -> set[str]:
    """The reason a validator must give when ``value[pos]`` becomes ``new``."""
    digit = new in string.digits
    in_alphabet = new in ids.ALPHABET
    if new == " " and pos in (0, len(value) - 1):
        return {"length"}  # stripped away
    if kind == "person":
        if not digit and not (pos == 17 and new == "X"):
            return {"character"}
        return {"date", "checksum"} if 6 <= pos < 14 else {"checksum"}
    if kind in USCC_KINDS:
        ok = digit if 2 <= pos < 8 else in_alphabet
        return {"checksum"} if ok else {"character"}
    if kind == "vehicle":
        if pos in (0, 1, 6):
            return {"format"}
        ok = digit if 2 <= pos < 6 else in_alphabet
        return {"checksum"} if ok else {"character"}
    if pos in (0, 1, 6, 14):
        return {"format"}
    return {"checksum"} if digit else {"character"}


def test_every_single_substitution_is_detected_with_a_precise_reason():
    samples = _samples()
    assert len(samples) >= 300
    checked = 0
    for kind, value in samples:
        validate = GENERATORS[kind][2]
        for pos, old in enumerate(value):
            for new in SUBSTITUTES:
                if new == old:
                    continue
                bad = value[:pos] + new + value[pos + 1 :]
                try:
                    validate(bad)
                except IdentifierError as error:
                    assert error.reason in _expected_reasons(kind, value, pos, new), (bad, pos)
                    assert error.value == bad
                    checked += 1
                else:
                    pytest.fail(f"{bad!r} (from {value!r}) was accepted")
    assert checked > 180_000


def test_substitutions_are_not_mistaken_for_another_kind():
    tried = 0
    for _, value in _samples()[::10]:
        for pos in range(len(value)):
            for new in string.digits + ids.ALPHABET:
                bad = value[:pos] + new + value[pos + 1 :]
                if bad != value:
                    tried += 1
                    with pytest.raises(IdentifierError):
                        ids.validate_identifier(bad)
    assert tried > 15_000


# --------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", [None, "Weihai"])
def test_resident_id_round_trip(region):
    for number in ids.generate_resident_ids(3, spread("person", 500, region), region=region).tolist():
        p = ids.parse_resident_id(number)
        assert p.number == number
        assert ids.make_resident_id(p.area, p.birth_date, p.sequence) == number
        assert p.region == ids.region_of(number) == p.area[:4] + "00"
        assert p.sex == ("male" if int(number[16]) % 2 else "female")
        assert p.birth_date.strftime("%Y%m%d") == number[6:14]
        if region is not None:
            assert p.region == "001500"


@pytest.mark.parametrize("kind", USCC_KINDS)
def test_uscc_round_trip(kind):
    for code in ids.generate_usccs(3, spread(kind, 300, "Hangzhou"), kind=kind, region="Hangzhou").tolist():
        u = ids.parse_uscc(code)
        assert (u.code, u.kind, u.region) == (code, kind, "001400")
        assert u.authority + u.entity_type == ids.USCC_KINDS[kind]
        assert u.division[:4] == "0014"
        assert ids.make_uscc(u.division, u.organisation_code[:8], kind=kind) == code
        assert stdnum_uscc.is_valid(code)  # the independent stdnum check agrees


def test_plate_and_dog_licence_carry_their_region():
    for region in REGIONS:
        plate = ids.generate_plate(4, 123, region=region)
        licence = ids.generate_dog_licence(4, 123, region=region)
        assert plate.startswith(f"SY{region[:4]}-") and licence.startswith(f"DL{region[:4]}-")
        assert ids.region_of(plate) == ids.region_of(licence) == region
        assert stdnum_uscc.calc_check_digit(plate[2:6] + plate[7:12]) == plate[-1]
        assert damm.is_valid(licence[2:6] + licence[7:14] + licence[15])


def test_make_resident_id_known_values():
    # Check characters from stdnum, computed independently of the module under test.
    number = ids.make_resident_id("000601", date(1990, 1, 1), 123)
    assert number == "00060119900101123" + mod_11_2.calc_check_digit("00060119900101123")
    assert ids.make_resident_id("000601", date(1990, 1, 1), 101).endswith("X")
    # The public example from facts.md (real-looking area, so synthetic=False).
    assert ids.make_resident_id("110105", date(1949, 12, 31), 2, synthetic=False) == "11010519491231002X"


def test_make_resident_id_rejects_bad_parts():
    assert reason(ids.make_resident_id, "0006", date(1990, 1, 1), 1) == "area"
    assert reason(ids.make_resident_id, "110105", date(1990, 1, 1), 1) == "area"  # not synthetic
    assert reason(ids.make_resident_id, "000601", date(1899, 12, 31), 1) == "date"
    assert reason(ids.make_resident_id, "000601", "19900101", 1) == "date"
    assert reason(ids.make_resident_id, "000601", date(1990, 1, 1), 1000) == "format"
    assert reason(ids.make_resident_id, "000601", date(1990, 1, 1), -1) == "format"


def test_make_uscc_rejects_bad_parts():
    assert reason(ids.make_uscc, "000601", "MA12345", kind="organisation") == "character"
    assert reason(ids.make_uscc, "000601", "MA12345I") == "character"
    assert reason(ids.make_uscc, "00060A", "MA123456") == "area"
    assert reason(ids.make_uscc, "310110", "MA123456") == "area"
    assert reason(ids.make_uscc, "000601", "MA123456", kind="church") == "format"


# --------------------------------------------------------------------------------------------
# Precise reasons and helpful messages
# --------------------------------------------------------------------------------------------

GOOD_ID = ids.make_resident_id("000601", date(1990, 1, 1), 123)


def _with_check(body17: str) -> str:
    return body17 + mod_11_2.calc_check_digit(body17)


def test_resident_id_length():
    for bad in (GOOD_ID[:-1], GOOD_ID + "1", "", "0" * 15):
        with pytest.raises(IdentifierError, match="needs 18") as info:
            ids.validate_resident_id(bad)
        assert info.value.reason == "length"


@pytest.mark.parametrize(
    "bad",
    [
        GOOD_ID[:5] + "A" + GOOD_ID[6:],
        GOOD_ID[:10] + "X" + GOOD_ID[11:],  # X only allowed as the check character
        GOOD_ID[:-1] + "Y",
        GOOD_ID[:3] + "٣" + GOOD_ID[4:],  # an Arabic-Indic digit is not 0-9
        GOOD_ID[:3] + " " + GOOD_ID[4:],
    ],
)
def test_resident_id_character(bad):
    with pytest.raises(IdentifierError, match=r"character \d+ .* must be") as info:
        ids.validate_resident_id(bad)
    assert info.value.reason == "character"


@pytest.mark.parametrize("birth", ["19900230", "19901301", "19900100", "18991231", "21000101", "20230229"])
def test_resident_id_date(birth):
    bad = _with_check("000601" + birth + "123")  # checksum fine, date not
    with pytest.raises(IdentifierError, match="YYYYMMDD") as info:
        ids.validate_resident_id(bad)
    assert info.value.reason == "date"
    assert ids.validate_resident_id(_with_check("000601" + "20240229" + "123"))  # a leap day is fine
    assert ids.validate_resident_id(_with_check("000601" + "19000101" + "123"))
    assert ids.validate_resident_id(_with_check("000601" + "20991231" + "123"))


def test_resident_id_checksum():
    wrong = "0" if GOOD_ID[-1] != "0" else "1"
    with pytest.raises(IdentifierError, match="MOD 11-2") as info:
        ids.validate_resident_id(GOOD_ID[:-1] + wrong)
    assert info.value.reason == "checksum"
    assert GOOD_ID[-1] in str(info.value)


def test_resident_id_area_must_be_synthetic():
    real_looking = "11010519491231002X"  # checksum-valid, area 110105 (Beijing Chaoyang)
    with pytest.raises(IdentifierError, match=r"not synthetic.*synthetic=False") as info:
        ids.validate_resident_id(real_looking)
    assert info.value.reason == "area"
    assert ids.validate_resident_id(real_looking.lower(), synthetic=False) == real_looking
    assert ids.parse_resident_id(real_looking, synthetic=False).region is None
    for area in ("110105", "371082", "910000", "810000"):
        assert reason(ids.validate_resident_id, _with_check(area + "19900101123")) == "area"
    # Starts with 0 but lies in no jurisdiction of the table.
    for area in ("001601", "009901", "099900"):
        with pytest.raises(IdentifierError, match=r"no synthetic jurisdiction.*Rongcheng") as info:
            ids.validate_resident_id(_with_check(area + "19900101123"))
        assert info.value.reason == "area"


def test_resident_id_normalisation_and_types():
    with_x = ids.make_resident_id("000601", date(1990, 1, 1), 101)
    assert ids.validate_resident_id(f"  {with_x.lower()}\n") == with_x
    assert reason(ids.validate_resident_id, 123456789012345678) == "format"
    assert reason(ids.validate_resident_id, None) == "format"


USCC = ids.make_uscc("000601", "MA123456")


def test_uscc_reasons():
    assert reason(ids.validate_uscc, USCC[:-1]) == "length"
    for letter in "IOSVZ":
        assert reason(ids.validate_uscc, USCC[:10] + letter + USCC[11:]) == "character"
    assert reason(ids.validate_uscc, USCC[:4] + "A" + USCC[5:]) == "character"  # division digits
    # Organisation-code check (position 17) wrong, overall check recomputed so only it fails.
    body = USCC[:16] + ("1" if USCC[16] != "1" else "2")
    with pytest.raises(IdentifierError, match="GB 11714") as info:
        ids.validate_uscc(body + stdnum_uscc.calc_check_digit(body))
    assert info.value.reason == "checksum"
    wrong = "0" if USCC[-1] != "0" else "1"
    with pytest.raises(IdentifierError, match="MOD 31") as info:
        ids.validate_uscc(USCC[:-1] + wrong)
    assert info.value.reason == "checksum"


def test_uscc_area_must_be_synthetic():
    # Real-looking codes from facts.md: both checks pass, the division is real.
    for code in ("91310110666007217T", "91350100M000100Y43"):
        with pytest.raises(IdentifierError, match=r"division code .* not synthetic") as info:
            ids.validate_uscc(code)
        assert info.value.reason == "area"
        assert ids.validate_uscc(code, synthetic=False) == code
        assert ids.parse_uscc(code, synthetic=False).region is None
    assert reason(ids.make_uscc, "009900", "MA123456") == "area"
    assert ids.make_uscc("009900", "MA123456", synthetic=False).startswith("91009900")


def test_plate_reasons():
    plate = ids.generate_plate(1, 0, region="Shanghai")
    body = plate[7:12]
    assert reason(ids.validate_plate, plate[:-1]) == "length"
    assert reason(ids.validate_plate, "沪" + plate[1:]) == "format"  # a real-plate province char
    assert reason(ids.validate_plate, plate.replace("-", "0")) == "format"
    assert reason(ids.validate_plate, plate[:8] + "O" + plate[9:]) == "character"
    assert reason(ids.validate_plate, plate[:-1] + ("0" if plate[-1] != "0" else "1")) == "checksum"
    unknown = "SY0099-" + body + stdnum_uscc.calc_check_digit("0099" + body)
    assert reason(ids.validate_plate, unknown) == "area"
    assert ids.validate_plate(plate.lower()) == plate


def test_dog_licence_reasons():
    licence = ids.generate_dog_licence(1, 0, region="Jinan")
    assert reason(ids.validate_dog_licence, licence + "0") == "length"
    assert reason(ids.validate_dog_licence, "DX" + licence[2:]) == "format"
    assert reason(ids.validate_dog_licence, licence[:14] + "/" + licence[15:]) == "format"
    assert reason(ids.validate_dog_licence, licence[:9] + "A" + licence[10:]) == "character"
    last = "0" if licence[-1] != "0" else "1"
    assert reason(ids.validate_dog_licence, licence[:-1] + last) == "checksum"
    unknown = "DL1005-1234567-" + damm.calc_check_digit("10051234567")
    assert reason(ids.validate_dog_licence, unknown) == "area"


# --------------------------------------------------------------------------------------------
# identify, validate_identifier, region_of, mask_identifier
# --------------------------------------------------------------------------------------------


def test_identify_each_kind():
    assert ids.identify(GOOD_ID) == "person"
    assert ids.identify(ids.make_uscc("000601", "MA123456", kind="government")) == "government"
    assert ids.identify(ids.make_uscc("000601", "MA123456", kind="social_organisation")) == (
        "social_organisation"
    )
    assert ids.identify(USCC) == "organisation"
    assert ids.identify(ids.generate_plate(0, 0)) == "vehicle"
    assert ids.identify(ids.generate_dog_licence(0, 0)) == "dog"
    assert ids.validate_identifier(f" {USCC.lower()} ") == ("organisation", USCC)
    assert ids.identify("11010519491231002X", synthetic=False) == "person"
    assert ids.identify("91310110666007217T", synthetic=False) == "organisation"


def test_identify_rejects_garbage_with_the_closest_reason():
    assert reason(ids.identify, "hello") == "length"
    assert reason(ids.identify, "SY") == "length"
    assert reason(ids.identify, "!" * 18) == "character"
    assert reason(ids.identify, GOOD_ID[:-1] + ("0" if GOOD_ID[-1] != "0" else "1")) == "checksum"
    assert reason(ids.identify, "11010519491231002X") == "area"  # a person, but not synthetic
    assert reason(ids.identify, "91310110666007217T") == "area"  # a company, but not synthetic
    assert reason(ids.validate_identifier, 42) == "format"


def test_region_of():
    assert ids.region_of(GOOD_ID) == "000600"
    assert ids.region_of(ids.make_uscc("009201", "12345678")) == "009200"
    with pytest.raises(IdentifierError):
        ids.region_of("11010519491231002X")


def test_mask_identifier():
    assert ids.mask_identifier("000601199001011239") == "0006**********1239"
    assert ids.mask_identifier("SY0002-7KQ3P5") == "SY00*****Q3P5"
    assert ids.mask_identifier(" 123456789 ") == "1234*6789"
    assert ids.mask_identifier("12345678") == "********"
    assert ids.mask_identifier("") == ""
    masked = ids.mask_identifier(USCC)
    assert len(masked) == 18 and masked.count("*") == 10 and masked[:4] == USCC[:4]
    assert USCC[4:14] not in masked
