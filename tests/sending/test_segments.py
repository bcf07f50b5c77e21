from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sending.segments import (
    GSM_BASIC,
    GSM_BASIC_TABLE,
    GSM_EXTENSION,
    SegmentInfo,
    analyse,
    describe,
)

BASIC = sorted(GSM_BASIC)
ALL_GSM = sorted(GSM_BASIC | GSM_EXTENSION)
NON_GSM = st.characters(codec="utf-8").filter(
    lambda c: c not in GSM_BASIC and c not in GSM_EXTENSION
)


def gsm_parts(units: int) -> int:
    return 0 if units == 0 else 1 if units <= 160 else math.ceil(units / 153)


def unicode_parts(units: int) -> int:
    return 0 if units == 0 else 1 if units <= 70 else math.ceil(units / 67)


# The alphabet


def test_basic_table_is_the_128_gsm_03_38_characters() -> None:
    assert len(GSM_BASIC_TABLE) == 128
    assert len(set(GSM_BASIC_TABLE)) == 128
    assert GSM_BASIC_TABLE[0x1B] == "\x1b"
    assert "\x1b" not in GSM_BASIC


def test_french_accents_in_the_gsm_table_stay_gsm() -> None:
    info = analyse("éèùìòàÇÉ ÄÖÑÜäöñü ¡¿§¤ ΔΦΓΛΩΠΨΣΘΞ ßÆæØøÅå @£$¥")
    assert info.encoding == "GSM-7"
    assert info.unicode_chars == ()


def test_lower_case_c_cedilla_forces_unicode() -> None:
    info = analyse("Ça va, garçon ?")
    assert info.encoding == "Unicode"
    assert info.unicode_chars == ("ç",)


def test_common_pasted_characters_force_unicode() -> None:
    for char in ["’", "“", "œ", "â", "ê", "\u00a0", "…", "–"]:
        assert analyse(f"a{char}b").unicode_chars == (char,)


def test_literal_escape_character_forces_unicode() -> None:
    assert analyse("a\x1bb").encoding == "Unicode"


def test_unicode_chars_are_distinct_in_order_of_first_appearance() -> None:
    assert analyse("çaœç😀ç œ").unicode_chars == ("ç", "œ", "😀")


# Counting GSM-7


def test_empty_text_is_zero_sms() -> None:
    assert analyse("") == SegmentInfo(encoding="GSM-7", units=0, parts=0)


def test_gsm_single_sms_holds_160_characters() -> None:
    assert analyse("a" * 160).parts == 1
    assert analyse("a" * 161).parts == 2


def test_gsm_concatenated_parts_hold_153_characters() -> None:
    assert analyse("a" * 306).parts == 2
    assert analyse("a" * 307).parts == 3
    assert analyse("a" * 1224).parts == 8


def test_gsm_extension_characters_count_two_septets() -> None:
    info = analyse("^{}\\[~]|€\x0c")
    assert info.encoding == "GSM-7"
    assert info.units == 20


def test_extension_characters_tip_a_text_over_160() -> None:
    assert analyse("€" * 80).parts == 1
    assert analyse("€" * 80 + "a").parts == 2
    assert analyse("a" * 159 + "€").units == 161
    assert analyse("a" * 159 + "€").parts == 2


def test_an_escape_pair_is_never_split_across_parts() -> None:
    # 152 + 2 would overflow the first part by one septet, so "€" moves to part 2.
    fits = "a" * 152 + "€" + "a" * 151  # parts of 152 and 153 septets
    assert analyse(fits).units == 305
    assert analyse(fits).parts == 2
    spills = fits + "a"  # 306 septets, but part 2 would need 154
    assert analyse(spills).units == 306
    assert analyse(spills).parts == 3


def test_remaining_counts_what_still_fits_in_the_last_sms() -> None:
    assert analyse("a" * 10).remaining == 150
    assert analyse("a" * 160).remaining == 0
    assert analyse("a" * 161).remaining == 153 * 2 - 161
    # "€" does not fit in the one septet left in part 2, so it opens part 3.
    assert analyse("a" * 305 + "€").parts == 3
    assert analyse("a" * 305 + "€").remaining == 153 - 2


def test_per_part_drops_once_a_text_is_split() -> None:
    assert analyse("a").per_part == 160
    assert analyse("a" * 161).per_part == 153
    assert analyse("ç").per_part == 70
    assert analyse("ç" * 71).per_part == 67


# Counting Unicode


def test_unicode_single_sms_holds_70_characters() -> None:
    assert analyse("ç" * 70).parts == 1
    assert analyse("ç" * 71).parts == 2


def test_unicode_concatenated_parts_hold_67_characters() -> None:
    assert analyse("ç" * 134).parts == 2
    assert analyse("ç" * 135).parts == 3


def test_extension_characters_count_one_unit_in_unicode() -> None:
    assert analyse("ç€").units == 2


def test_emoji_outside_the_bmp_count_two_units() -> None:
    info = analyse("😀")
    assert (info.encoding, info.units, info.parts) == ("Unicode", 2, 1)
    assert analyse("😀" * 35).parts == 1
    assert analyse("😀" * 35 + "a").parts == 2


def test_a_surrogate_pair_is_never_split_across_parts() -> None:
    fits = "ç" * 66 + "😀" + "ç" * 65  # parts of 66 and 67 units
    assert analyse(fits).parts == 2
    assert analyse(fits + "ç").parts == 3


# Describing


def test_describe_gsm_gives_count_and_sms() -> None:
    assert describe(analyse("a" * 172)) == "GSM-7, 172 characters: 2 SMS per recipient"


def test_describe_unicode_names_the_characters() -> None:
    assert (
        describe(analyse("ça 😀"))
        == "Unicode because of 'ç', '😀', 5 characters: 1 SMS per recipient"
    )


def test_describe_names_invisible_characters() -> None:
    assert "U+00A0 NO-BREAK SPACE" in describe(analyse("a\u00a0b"))


def test_describe_sums_up_many_unicode_characters() -> None:
    line = describe(analyse("âêîôûœç"))
    assert line.startswith("Unicode because of 'â', 'ê', 'î', 'ô', 'û' and 2 more,")


def test_describe_empty_text() -> None:
    assert describe(analyse("")) == "Empty message: 0 SMS"


# Properties


@settings(max_examples=200)
@given(st.text(alphabet=BASIC, max_size=1300))
def test_basic_gsm_text_follows_the_formula(text: str) -> None:
    info = analyse(text)
    assert info.encoding == "GSM-7"
    assert info.units == len(text)
    assert info.parts == gsm_parts(len(text))


@settings(max_examples=200)
@given(st.text(alphabet=ALL_GSM, max_size=1300))
def test_gsm_text_with_extensions_wastes_at_most_one_septet_per_part(
    text: str,
) -> None:
    info = analyse(text)
    extension = sum(char in GSM_EXTENSION for char in text)
    assert info.encoding == "GSM-7"
    assert info.units == len(text) + extension
    if info.units > 160:
        assert math.ceil(info.units / 153) <= info.parts <= math.ceil(info.units / 152)
    else:
        assert info.parts == gsm_parts(info.units)


@settings(max_examples=200)
@given(st.text(alphabet=ALL_GSM, max_size=400), NON_GSM, st.data())
def test_any_non_gsm_character_makes_the_text_unicode_and_is_named(
    text: str, char: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(min_value=0, max_value=len(text)))
    info = analyse(text[:at] + char + text[at:])
    assert info.encoding == "Unicode"
    assert char in info.unicode_chars
    assert info.units == len(text) + 1 + (ord(char) > 0xFFFF)


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_bmp_unicode_text_follows_the_formula(text: str) -> None:
    info = analyse(text)
    if info.encoding == "Unicode" and all(ord(char) <= 0xFFFF for char in text):
        assert info.parts == unicode_parts(len(text))


@settings(max_examples=100)
@given(
    st.text(
        alphabet=st.sampled_from(ALL_GSM) | st.sampled_from("çœ’😀"),
        max_size=400,
    )
)
def test_parts_never_decrease_as_a_text_grows(text: str) -> None:
    counts = [analyse(text[:end]).parts for end in range(len(text) + 1)]
    assert counts == sorted(counts)
