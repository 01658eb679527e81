"""Barcodes: GTIN check digits, scale labels, GS1 element strings, in-store codes and the till's dispatcher."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.barcodes import (
    DEFAULT_RULES,
    GS,
    Gs1Data,
    MeasureRule,
    classify,
    encode_variable_measure,
    format_gs1,
    gs1_check_digit,
    gs1_year,
    instore_ean13,
    is_gtin,
    match_variable_measure,
    next_free_instore,
    normalise_gtin,
    parse_gs1,
    parse_rule,
    validate_gtin,
)
from pos.errors import InvalidInput

WEIGHT, PRICE = DEFAULT_RULES
TODAY = dt.date(2025, 6, 1)


def hand_check_digit(body: str) -> int:
    """An independent check-digit computation, written the way the GS1 tables show it for each length."""
    padded = body.rjust(17, "0")  # GS1's table: align everything to the 18-digit SSCC, weights 3,1,3,...,3 from left
    weights = [3, 1] * 8 + [3]
    total = 0
    for digit, weight in zip(padded, weights, strict=True):
        total += int(digit) * weight
    remainder = total % 10
    return 0 if remainder == 0 else 10 - remainder


def complete(body: str) -> str:
    return body + str(hand_check_digit(body))


# --- GTIN check digits --------------------------------------------------------------------------------------------

# Published Indonesian retail codes (listed on Open Food Facts): Indomie chicken noodles 8994963002824, Bango kecap
# manis 8999999002503; Indomie Goreng carries the UPC-A 089686010947.
PUBLISHED = ["8994963002824", "8999999002503", "089686010947"]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_indonesian_codes_are_valid(code):
    assert hand_check_digit(code[:-1]) == int(code[-1])
    assert validate_gtin(code) == code
    assert is_gtin(code)


@pytest.mark.parametrize(("code", "digit"), [("8992753102400", 2), ("8999999003577", 9)])
def test_codes_that_only_look_right_are_refused_with_the_right_digit(code, digit):
    # Both circulate as "known-good examples", yet fail the GS1 check when computed by hand.
    assert hand_check_digit(code[:-1]) == digit
    with pytest.raises(InvalidInput) as err:
        validate_gtin(code)
    assert err.value.params == {"code": code, "digit": digit}
    assert f"should end in {digit}" in str(err.value)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_any_899_code_gets_the_check_digit_a_hand_computation_gives(body):
    body = "899" + body
    digit = gs1_check_digit(body)
    assert digit == hand_check_digit(body)
    assert validate_gtin(body + str(digit)) == body + str(digit)
    for wrong in set(range(10)) - {digit}:
        with pytest.raises(InvalidInput) as err:
            validate_gtin(body + str(wrong))
        assert err.value.params["digit"] == digit


@given(st.text(alphabet="0123456789", min_size=1, max_size=17))
def test_check_digit_matches_the_gs1_table_for_every_length(body):
    assert gs1_check_digit(body) == hand_check_digit(body)


def test_upc_a_ean_8_and_gtin_14():
    assert validate_gtin("036000291452") == "036000291452"
    assert validate_gtin("96385074") == "96385074"
    assert validate_gtin(" 8994963002824\n") == "8994963002824"
    assert validate_gtin("18994963002821") == "18994963002821"  # a case of Indomie: indicator digit 1
    with pytest.raises(InvalidInput, match="should end in 2"):
        validate_gtin("036000291453")
    with pytest.raises(InvalidInput, match="should end in 4"):
        validate_gtin("96385071")


def test_gtin_14_normalisation_makes_forms_of_one_product_equal():
    assert normalise_gtin("036000291452") == normalise_gtin("0036000291452") == "00036000291452"
    assert normalise_gtin("8994963002824") == normalise_gtin("08994963002824") == "08994963002824"
    assert normalise_gtin("96385074") == "00000096385074"
    assert parse_gs1("(01)08994963002824").gtin == normalise_gtin("8994963002824")


@pytest.mark.parametrize(
    ("code", "part"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("899496300282X", "only the digits"),
        ("8994963-002824", "only the digits"),
        ("٨٩٩٤٩٦٣٠٠٢٨٢٤", "only the digits"),  # Arabic-Indic digits: str.isdigit() would say yes
        ("８９９４９６３００２８２４", "only the digits"),  # full-width digits
        ("899496300282", "should end in"),  # UPC-A length, but the check digit is wrong
        ("1234567", "has 7"),
        ("899496300282400", "has 15"),
    ],
)
def test_malformed_gtins_are_refused(code, part):
    with pytest.raises(InvalidInput, match=part):
        validate_gtin(code)
    assert not is_gtin(code)


def test_wrong_length_message_names_the_count():
    with pytest.raises(InvalidInput) as err:
        validate_gtin("1234567")
    assert err.value.params == {"code": "1234567", "count": 7}
    assert "%(count)s" in err.value.message  # the msgid stays untranslated and unformatted


def test_non_text_is_not_a_gtin():
    assert not is_gtin(8994963002824)
    assert not is_gtin(None)
    with pytest.raises(InvalidInput):
        validate_gtin(8994963002824)
    with pytest.raises(InvalidInput):
        gs1_check_digit("12a")


# --- variable-measure EAN-13 --------------------------------------------------------------------------------------


def test_default_rules():
    assert WEIGHT == MeasureRule("21.....{NNDDD}", "weight", 3)
    assert PRICE == MeasureRule("22.....{NNNNN}", "price", 0)
    assert (WEIGHT.prefix, WEIGHT.value_start, WEIGHT.value_end) == ("21", 7, 12)


def test_weight_label_gives_kilograms_and_the_item_code():
    code = complete("21" + "12345" + "01250")
    found = match_variable_measure(code, DEFAULT_RULES)
    assert found is not None
    assert found.rule == WEIGHT
    assert found.value == Decimal("1.250") and isinstance(found.value, Decimal)
    assert found.item_code == complete("2112345" + "00000")
    assert is_gtin(found.item_code)
    assert encode_variable_measure(found.item_code, Decimal("1.250"), WEIGHT) == code
    assert encode_variable_measure("12345", Decimal("1.25"), WEIGHT) == code


def test_price_label_gives_whole_rupiah():
    code = complete("22" + "00042" + "15000")
    found = match_variable_measure(code)
    assert found is not None
    assert found.value == 15000 and type(found.value) is int
    assert found.item_code == complete("2200042" + "00000")


def test_rules_other_than_the_defaults():
    rule = parse_rule("23...{NNNDD}..", "weight")  # value in the middle, item reference on both sides
    assert rule.decimals == 2 and rule.reference_positions == (2, 3, 4, 10, 11)
    code = encode_variable_measure("12345", Decimal("7.5"), rule)
    assert code[:12] == "231230075045"
    found = match_variable_measure(code, [rule])
    assert found is not None and found.value == Decimal("7.50")
    assert found.item_code == complete("231230000045")


def test_labels_that_are_not_variable_measure():
    assert match_variable_measure("8994963002824") is None  # prefix 899
    assert match_variable_measure(complete("20" + "1" * 10)) is None  # in-store prefix 20: not a scale rule
    assert match_variable_measure("211234501250") is None  # 12 digits
    assert match_variable_measure("21123450125X6") is None
    assert match_variable_measure(complete("2112345012" + "50"), rules=()) is None


def test_scale_labels_with_a_wrong_check_digit_or_no_value_are_refused():
    code = complete("2112345" + "01250")
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(InvalidInput) as err:
        match_variable_measure(wrong)
    assert err.value.params["digit"] == int(code[-1])
    with pytest.raises(InvalidInput, match="no weight or price"):
        match_variable_measure(complete("2112345" + "00000"))


@pytest.mark.parametrize(
    "pattern",
    [
        "23....{NNDDD}",  # 11 digits
        "21......{NNDDD}",  # 13 digits
        "31.....{NNDDD}",  # not an in-store prefix
        "2......{NNDDD}",  # one-digit prefix
        "21.....{NNDDD",
        "21.....{DDNNN}",
        "21.....{NN}{DD}.",
        "21.....NNDDD",
        "2112345{}.....",
        "21{NNNNNNNNNN}",  # no item reference
        "21..x..{NNDDD}",
        "",
    ],
)
def test_malformed_patterns_are_refused(pattern):
    with pytest.raises(ValueError):
        parse_rule(pattern, "weight")


def test_rule_kinds_and_decimals_are_checked():
    with pytest.raises(ValueError):
        parse_rule("22.....{NNNDD}", "price")  # rupiah are whole
    with pytest.raises(ValueError):
        parse_rule("21.....{NNDDD}", "volume")
    with pytest.raises(ValueError):
        MeasureRule("21.....{NNDDD}", "weight", 2)


def test_values_that_do_not_fit_are_refused():
    with pytest.raises(InvalidInput, match="decimals"):
        encode_variable_measure("12345", Decimal("1.2505"), WEIGHT)
    with pytest.raises(InvalidInput, match="does not fit"):
        encode_variable_measure("12345", Decimal("100"), WEIGHT)
    with pytest.raises(InvalidInput, match="does not fit"):
        encode_variable_measure("12345", 100000, PRICE)
    with pytest.raises(InvalidInput, match="more than zero"):
        encode_variable_measure("12345", Decimal(0), WEIGHT)
    with pytest.raises(InvalidInput, match="more than zero"):
        encode_variable_measure("12345", -500, PRICE)
    with pytest.raises(InvalidInput):
        encode_variable_measure("12345", Decimal("NaN"), WEIGHT)
    with pytest.raises(TypeError):
        encode_variable_measure("12345", 1.25, WEIGHT)
    with pytest.raises(TypeError):
        encode_variable_measure("12345", Decimal(15000), PRICE)
    with pytest.raises(TypeError):
        encode_variable_measure("12345", True, PRICE)


def test_item_codes_that_do_not_belong_to_the_rule_are_refused():
    with pytest.raises(InvalidInput, match="not an item code"):
        encode_variable_measure(complete("2212345" + "00000"), Decimal(1), WEIGHT)  # price prefix
    with pytest.raises(InvalidInput, match="not an item code"):
        encode_variable_measure(complete("2112345" + "01250"), Decimal(1), WEIGHT)  # a label, not a base code
    with pytest.raises(InvalidInput, match="should end in"):
        encode_variable_measure("2112345000001", Decimal(1), WEIGHT)
    with pytest.raises(InvalidInput, match="13 digits"):
        encode_variable_measure("1234", Decimal(1), WEIGHT)


RULES_UNDER_TEST = [WEIGHT, PRICE, parse_rule("23...{NNNDD}..", "weight"), parse_rule("2456{NNNN}....", "price")]


@given(st.sampled_from(RULES_UNDER_TEST), st.data())
def test_encode_then_match_gives_back_item_and_value(rule, data):
    size = len(rule.reference_positions)
    reference = data.draw(st.text(alphabet="0123456789", min_size=size, max_size=size))
    units = data.draw(st.integers(min_value=1, max_value=10**rule.value_width - 1))
    value = Decimal(units).scaleb(-rule.decimals) if rule.kind == "weight" else units
    code = encode_variable_measure(reference, value, rule)
    assert len(code) == 13 and is_gtin(code) and code.startswith(rule.prefix)
    found = match_variable_measure(code, [rule])
    assert found is not None
    assert found.value == value and found.rule == rule
    assert encode_variable_measure(found.item_code, value, rule) == code
    assert is_gtin(found.item_code)
    assert found.item_code[rule.value_start : rule.value_end] == "0" * rule.value_width
    assert "".join(found.item_code[i] for i in rule.reference_positions) == reference


# --- GS1 element strings ------------------------------------------------------------------------------------------

GTIN14 = "08994963002824"
GOOD_SSCC = complete("08991234" + "000000001")
BAD_SSCC = GOOD_SSCC[:-1] + str((int(GOOD_SSCC[-1]) + 5) % 10)


def test_gs1_128_with_group_separators():
    data = f"]C101{GTIN14}10LOT42{GS}17270131{GS}21SN-0007"  # a GS after a fixed field is tolerated
    parsed = parse_gs1(data, today=TODAY)
    assert parsed.gtin == GTIN14
    assert parsed.lot == "LOT42"
    assert parsed.expiry == dt.date(2027, 1, 31)
    assert parsed.serial == "SN-0007"
    assert parsed.raw_ais == {"01": GTIN14, "10": "LOT42", "17": "270131", "21": "SN-0007"}


def test_gs1_datamatrix_with_symbology_identifier_and_leading_fnc1():
    parsed = parse_gs1(f"]d2{GS}01{GTIN14}17270100" + "10B-2701\r\n", today=TODAY)
    assert parsed == Gs1Data(
        gtin=GTIN14,
        lot="B-2701",
        expiry=dt.date(2027, 1, 31),
        raw_ais={"01": GTIN14, "17": "270100", "10": "B-2701"},
    )


@pytest.mark.parametrize("prefix", ["]Q3", "]e0", "]J1", ""])
def test_other_gs1_symbologies(prefix):
    assert parse_gs1(f"{prefix}01{GTIN14}", today=TODAY).gtin == GTIN14


def test_human_readable_form_with_parentheses():
    parsed = parse_gs1("(01)08994963002824(17)270131(10)LOT42", today=TODAY)
    assert (parsed.gtin, parsed.expiry, parsed.lot) == (GTIN14, dt.date(2027, 1, 31), "LOT42")
    spaced = parse_gs1("(01) 08994963002824 (17) 270131 (10) LOT42", today=TODAY)
    assert spaced == parsed


def test_fixed_length_fields_back_to_back():
    data = f"01{GTIN14}11250101" + "15260630" + "3103001250" + "17261231"
    parsed = parse_gs1(data, today=TODAY)
    assert parsed.production_date == dt.date(2025, 1, 1)
    assert parsed.best_before == dt.date(2026, 6, 30)
    assert parsed.net_weight_kg == Decimal("1.250")
    assert parsed.expiry == dt.date(2026, 12, 31)


def test_sscc_and_counts():
    parsed = parse_gs1(f"00{GOOD_SSCC}02{GTIN14}37144", today=TODAY)
    assert parsed.sscc == GOOD_SSCC and parsed.count == 144 and parsed.gtin is None
    assert parsed.raw_ais["02"] == GTIN14
    assert parse_gs1(f"01{GTIN14}306", today=TODAY).count == 6


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("270200", dt.date(2027, 2, 28)),
        ("280200", dt.date(2028, 2, 29)),  # leap year
        ("271200", dt.date(2027, 12, 31)),
        ("270400", dt.date(2027, 4, 30)),
    ],
)
def test_expiry_day_00_is_the_last_day_of_the_month(value, expected):
    assert parse_gs1(f"01{GTIN14}17{value}", today=TODAY).expiry == expected
    assert parse_gs1(f"01{GTIN14}15{value}", today=TODAY).best_before == expected


def test_production_day_00_is_the_first_day_of_the_month():
    assert parse_gs1(f"01{GTIN14}11250300", today=TODAY).production_date == dt.date(2025, 3, 1)


@pytest.mark.parametrize(
    ("ai", "value", "kg"),
    [
        ("3100", "000012", Decimal(12)),
        ("3101", "000125", Decimal("12.5")),
        ("3102", "001250", Decimal("12.50")),
        ("3103", "001250", Decimal("1.250")),
        ("3105", "001250", Decimal("0.01250")),
    ],
)
def test_net_weight_310n(ai, value, kg):
    assert parse_gs1(f"01{GTIN14}{ai}{value}", today=TODAY).net_weight_kg == kg


def test_two_digit_years_follow_the_gs1_window():
    assert gs1_year(75, TODAY) == 2075  # 50 years ahead at most
    assert gs1_year(76, TODAY) == 1976  # otherwise the past 49
    assert gs1_year(0, TODAY) == 2000
    assert gs1_year(9, dt.date(2060, 1, 1)) == 2109
    assert gs1_year(11, dt.date(2060, 1, 1)) == 2011
    assert parse_gs1(f"01{GTIN14}17991231", today=TODAY).expiry == dt.date(1999, 12, 31)


@pytest.mark.parametrize(
    ("data", "part"),
    [
        (f"01{GTIN14}99ABC", "unknown application identifier (99AB)"),
        (f"01{GTIN14}3106001250", "unknown application identifier (3106)"),
        ("]C1ZZ", "unknown application identifier"),
        ("01089949630028", "needs 14 characters but has 12"),  # cut short
        (f"01{GTIN14}172701", "(17) needs 6"),
        (f"01{GTIN14}1727{GS}0131", "(17) needs 6"),
        ("0108994963002825", "(01) is wrong: 08994963002825 should end in 4"),
        (f"00{BAD_SSCC}{GS}", "(00) is wrong"),
        (f"01{GTIN14}10{'L' * 21}", "(10) is longer than 20"),
        (f"01{GTIN14}21{'9' * 21}", "(21) is longer than 20"),
        (f"01{GTIN14}30123456789", "(30) is longer than 8"),
        (f"01{GTIN14}10{GS}17270131", "(10) is empty"),
        (f"01{GTIN14}10LOT 42", "(10) holds characters"),
        (f"01{GTIN14}37ABC", "(37) must be digits"),
        (f"01{GTIN14}17271301", "no month 13"),
        (f"01{GTIN14}17270230", "270230 in GS1 field (17) does not exist"),
        (f"01{GTIN14}11250132", "(11) does not exist"),
        (f"01{GTIN14}10A{GS}10B", "(10) appears twice"),
        (f"01{GTIN14}31030012503102000125", "net weight twice"),
        ("]C1", "empty"),
        ("]E08994963002824", "symbology ]E0"),
        ("(01)08994963002824(17)", "(17) is empty"),
        ("(01)08994963002824 junk", "(01) needs 14"),
        ("(17)2701311", "(17) needs 6 characters but has 7"),
        ("(01)089949630028(17)270131", "(01) needs 14"),
        ("(0108994963002824", "not of the form"),
        (f"(01)08994963002824{GS}", "not of the form"),
        ("(99)123", "unknown application identifier (99)"),
    ],
)
def test_bad_gs1_data_is_refused_naming_the_problem(data, part):
    with pytest.raises(InvalidInput) as err:
        parse_gs1(data, today=TODAY)
    assert part in str(err.value)


def test_gs1_input_limits():
    with pytest.raises(InvalidInput, match="NUL"):
        parse_gs1(f"01{GTIN14}\x0010LOT")
    with pytest.raises(InvalidInput, match="longer than 200"):
        parse_gs1(f"01{GTIN14}10" + "A" * 200)
    with pytest.raises(InvalidInput, match="text"):
        parse_gs1(b"01" + GTIN14.encode())
    duplicate = parse_gs1(f"01{GTIN14}10A{GS}01{GTIN14}", today=TODAY)  # the same value twice is harmless
    assert duplicate.gtin == GTIN14


def test_format_gs1_builds_what_parse_reads():
    elements = {"01": GTIN14, "10": "LOT42", "17": "270131", "3103": "001250", "21": "7"}
    raw = format_gs1(elements)
    assert raw == f"01{GTIN14}10LOT42{GS}172701313103001250217"
    assert format_gs1(elements, human_readable=True) == f"(01){GTIN14}(10)LOT42(17)270131(3103)001250(21)7"
    with pytest.raises(InvalidInput):
        format_gs1({"10": "(x)"}, human_readable=True)
    with pytest.raises(InvalidInput, match="does not exist"):
        format_gs1({"17": "270230"})
    with pytest.raises(InvalidInput, match="empty"):
        format_gs1({})


CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
digits_of = st.text(alphabet="0123456789", min_size=1, max_size=8)
gs1_dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2049, 12, 31)).map(lambda d: d.strftime("%y%m%d"))
gs1_gtins = st.text(alphabet="0123456789", min_size=13, max_size=13).map(complete)
gs1_values = {
    "01": gs1_gtins,
    "02": gs1_gtins,
    "00": st.text(alphabet="0123456789", min_size=17, max_size=17).map(complete),
    "10": st.text(alphabet=CSET82, min_size=1, max_size=20),
    "21": st.text(alphabet=CSET82, min_size=1, max_size=20),
    "11": gs1_dates,
    "15": gs1_dates,
    "17": gs1_dates,
    "30": digits_of,
    "37": digits_of,
    "3102": st.text(alphabet="0123456789", min_size=6, max_size=6),
}


@st.composite
def gs1_elements(draw):
    ais = draw(st.lists(st.sampled_from(sorted(gs1_values)), min_size=1, max_size=6, unique=True))
    return {ai: draw(gs1_values[ai]) for ai in ais}


@given(gs1_elements(), st.sampled_from(["", "]C1", "]d2", "]Q3"]))
def test_gs1_build_then_parse_round_trip(elements, symbology):
    parsed = parse_gs1(symbology + format_gs1(elements), today=TODAY)
    assert parsed.raw_ais == elements
    assert parsed.gtin == elements.get("01")
    assert parsed.lot == elements.get("10")
    assert parsed.serial == elements.get("21")
    if "17" in elements:
        assert parsed.expiry is not None and parsed.expiry.strftime("%y%m%d") == elements["17"]
    if "3102" in elements:
        assert parsed.net_weight_kg == Decimal(int(elements["3102"])) / 100
    if not any("(" in value for value in elements.values()):
        assert parse_gs1(format_gs1(elements, human_readable=True), today=TODAY) == parsed


# --- in-store codes -----------------------------------------------------------------------------------------------


def test_instore_codes_are_valid_ean13_in_the_20_range():
    code = instore_ean13("20", 1)
    assert code == complete("200000000001")
    assert is_gtin(code) and len(code) == 13
    assert instore_ean13("2999", 42)[:12] == "299900000042"
    with pytest.raises(ValueError):
        instore_ean13("20", 10**10)
    with pytest.raises(ValueError):
        instore_ean13("20", -1)
    for prefix in ["30", "2", "2a", "", "899", "2" * 12]:
        with pytest.raises(ValueError):
            instore_ean13(prefix, 1)


def test_next_free_skips_codes_in_use():
    used = {instore_ean13("20", n) for n in range(1, 6)}
    assert next_free_instore(used) == instore_ean13("20", 6)
    assert next_free_instore([]) == instore_ean13("20", 1)
    assert next_free_instore(used, start=3) == instore_ean13("20", 6)
    assert next_free_instore(set(), prefix="25", start=7) == instore_ean13("25", 7)
    stored_as_gtin14 = {code.zfill(14) for code in used}
    assert next_free_instore(stored_as_gtin14) == instore_ean13("20", 6)


def test_next_free_with_a_database_check():
    asked = []

    def taken(code: str) -> bool:
        asked.append(code)
        return len(asked) < 3

    assert next_free_instore(taken) == instore_ean13("20", 3)
    assert asked == [instore_ean13("20", n) for n in (1, 2, 3)]


@given(st.sets(st.integers(min_value=1, max_value=60), max_size=40), st.integers(min_value=1, max_value=30))
def test_next_free_never_collides_and_is_the_first_gap(numbers, start):
    used = {instore_ean13("20", n) for n in numbers}
    code = next_free_instore(used, start=start)
    assert code not in used
    first_gap = next(n for n in range(start, 100) if n not in numbers)
    assert code == instore_ean13("20", first_gap)


def test_next_free_refuses_prefixes_of_variable_measure_rules():
    for prefix in ["21", "22", "2105"]:
        with pytest.raises(ValueError, match="variable-measure"):
            next_free_instore(set(), prefix=prefix)
    with pytest.raises(ValueError):
        next_free_instore(set(), prefix="2")  # would cover 21 and 22 too
    custom = [parse_rule("23.....{NNDDD}", "weight")]
    with pytest.raises(ValueError, match="variable-measure"):
        next_free_instore(set(), prefix="23", rules=custom)
    assert next_free_instore(set(), prefix="21", rules=custom) == instore_ean13("21", 1)
    with pytest.raises(TypeError):
        next_free_instore("2000000000015")


# --- the till's dispatcher ----------------------------------------------------------------------------------------


def test_classify_gtin():
    scanned = classify(" 8994963002824\r\n")
    assert (scanned.kind, scanned.gtin, scanned.code) == ("gtin", "8994963002824", "8994963002824")
    assert scanned.lookup_code == "8994963002824"
    assert scanned.gtin14 == GTIN14
    assert classify("96385074").kind == "gtin"
    assert classify("036000291452").kind == "gtin"
    assert classify(GTIN14).kind == "gtin"
    assert classify(instore_ean13("20", 5)).kind == "gtin"  # in-store item codes are GTIN-shaped
    assert classify("]E08994963002824").gtin == "8994963002824"
    assert classify("]E496385074").gtin == "96385074"


def test_classify_never_falls_back_on_a_wrong_check_digit():
    with pytest.raises(InvalidInput) as err:
        classify("8994963002825")
    assert err.value.params["digit"] == 4
    with pytest.raises(InvalidInput, match="should end in"):
        classify("96385071")


def test_classify_variable_measure():
    code = complete("2112345" + "01250")
    scanned = classify(code)
    assert scanned.kind == "variable_measure"
    assert scanned.measure is not None and scanned.measure.value == Decimal("1.250")
    assert scanned.lookup_code == complete("2112345" + "00000")
    price_rule = [parse_rule("26.....{NNNNN}", "price")]
    assert classify(complete("2600042" + "12500"), rules=price_rule).measure.value == 12500
    assert classify(code, rules=price_rule).kind == "gtin"  # without a rule for 21 it is just a GTIN


def test_classify_gs1():
    for data in [
        f"]C101{GTIN14}10LOT42",
        f"01{GTIN14}10LOT42{GS}17270131",
        "(01)08994963002824(10)LOT42",
        f"01{GTIN14}10LOT42",  # a scanner that sends neither symbology identifier nor FNC1
        f"01{GTIN14}17270131",
    ]:
        scanned = classify(data, today=TODAY)
        assert scanned.kind == "gs1", data
        assert scanned.gs1 is not None and scanned.gs1.gtin == GTIN14
        assert scanned.lookup_code == GTIN14
        assert scanned.gtin14 == classify("8994963002824").gtin14
    with pytest.raises(InvalidInput, match="unknown application identifier"):
        classify(f"]C101{GTIN14}99X")


def test_classify_internal_codes():
    for code in ["SKU-001", "12345", "beras5kg", "A", "X" * 40, "0108994963002825"]:
        scanned = classify(code)
        assert scanned.kind == "internal", code
        assert scanned.lookup_code == code and scanned.gtin14 is None


@pytest.mark.parametrize(
    "code",
    [
        "8" * 10_240,  # 10 KB
        "SKU-1" + "\x00",
        "\x00",
        "8994963002824\x00",
        "kopi☕",
        "🍜",
        "\u200f8994963002824",  # right-to-left mark
        "SKU\u202e-1",  # right-to-left override
        "\u200b",
        "SKU 1",
        "X" * 41,
        "-SKU",
        "sku_1",
        "beras\u00a05kg",
        "",
        " \r\n",
        "<script>",
        "'; DROP TABLE produk; --",
    ],
)
def test_classify_refuses_junk(code):
    with pytest.raises(InvalidInput) as err:
        classify(code)
    assert "\x00" not in str(err.value) and len(str(err.value)) < 200


def test_classify_refuses_non_text():
    with pytest.raises(InvalidInput):
        classify(8994963002824)
    with pytest.raises(InvalidInput):
        classify(None)


@given(st.text(max_size=60))
def test_classify_either_answers_or_refuses_with_invalid_input(text):
    try:
        scanned = classify(text, today=TODAY)
    except InvalidInput:
        return
    assert scanned.kind in {"gtin", "variable_measure", "gs1", "internal"}
