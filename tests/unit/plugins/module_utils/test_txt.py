"""TXT character-strings (RFC 1035 3.3.14): split at 255 octets, join, quote, parse."""
import pytest

from ansible_collections.mailauth.hardening.plugins.module_utils._core.errors import InputError
from ansible_collections.mailauth.hardening.plugins.module_utils._records.txt import (
    join_txt, normalise_txt, parse_txt, quote_txt, split_txt)


def octets(strings):
    return [len(s.encode("utf-8")) for s in strings]


@pytest.mark.parametrize("length, expected", [
    (0, [0]),
    (1, [1]),
    (255, [255]),
    (256, [255, 1]),
    (510, [255, 255]),
    (511, [255, 255, 1]),
])
def test_split_join_round_trip_ascii(length, expected):
    value = "".join(chr(ord("a") + i % 26) for i in range(length))
    strings = split_txt(value)
    assert octets(strings) == expected
    assert join_txt(strings) == value
    assert normalise_txt(quote_txt(strings)) == value


@pytest.mark.parametrize("prefix, char, expected", [
    (254, "\u00e9", [254, 2]),      # 2-octet character would cross 255: moved whole
    (253, "\u00e9", [255]),         # ends exactly at 255
    (253, "\u20ac", [253, 3]),      # 3-octet euro sign
    (254, "\U0001f512", [254, 4]),  # 4-octet character
    (509, "\u00e9", [255, 254, 2]),
])
def test_split_never_cuts_a_character(prefix, char, expected):
    value = "x" * prefix + char
    strings = split_txt(value)
    assert octets(strings) == expected
    assert join_txt(strings) == value
    assert max(octets(strings)) <= 255


def test_split_long_multibyte_value():
    value = "\u00e9\u20ac" * 300  # 1500 octets
    strings = split_txt(value)
    assert all(n <= 255 for n in octets(strings))
    assert join_txt(strings) == value
    assert parse_txt(quote_txt(value)) == strings


def test_split_custom_limit_and_dkim_size():
    record = "v=DKIM1; k=rsa; p=" + "A" * 392  # a 2048-bit key record is about 410 characters
    assert octets(split_txt(record)) == [255, 155]
    assert octets(split_txt("abcdef", limit=4)) == [4, 2]


@pytest.mark.parametrize("value", [None, 5, ["a"], b"bytes"])
def test_split_refuses_non_text(value):
    with pytest.raises(InputError) as err:
        split_txt(value)
    assert err.value.field == "value"


def test_join_accepts_bytes_and_plain_text():
    assert join_txt([b"v=spf1 ", "-all"]) == "v=spf1 -all"
    assert join_txt("already joined") == "already joined"
    assert join_txt([]) == ""


def test_quote_escapes_and_parse_reverses():
    strings = ['say "hi"', "back\\slash"]
    text = quote_txt(strings)
    assert text == '"say \\"hi\\"" "back\\\\slash"'
    assert parse_txt(text) == strings


@pytest.mark.parametrize("text, expected", [
    ("v=spf1 -all", ["v=spf1 -all"]),
    ('"v=spf1 " "-all"', ["v=spf1 ", "-all"]),
    ('  "a"   "b"  ', ["a", "b"]),
    ('"caf\\195\\169"', ["caf\u00e9"]),
    ('""', [""]),
])
def test_parse_txt(text, expected):
    assert parse_txt(text) == expected


@pytest.mark.parametrize("text, words", [
    ('"a" b', "unquoted text"),
    ('"abc', "unterminated"),
    ('"abc\\', "lone backslash"),
])
def test_parse_txt_errors_name_the_field(text, words):
    with pytest.raises(InputError) as err:
        parse_txt(text)
    assert err.value.field == "value"
    assert words in str(err.value)
