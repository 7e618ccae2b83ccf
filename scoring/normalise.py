"""One form for every text that rules compare: NFKC (full-width → half-width), simplified characters, lower case,
no punctuation or spaces; and a toneless pinyin form of it for homophone-tolerant matching.

Both are character-for-character tables applied with `str.translate`, so they cost one C-level pass per text
and keep positions: character i of the normal form is syllable i of the pinyin form. A third table gives each
syllable one code point (`syllable_codes`): the cheapest form for exact homophone search, with no offsets to map.
"""

from __future__ import annotations

import os
import unicodedata
import warnings
from functools import cache
from types import ModuleType

import opencc

SEPARATOR = "|"  # joins turns in one searchable string; never produced by `normalise`


class _CharTable(dict[int, str]):
    """Lazily filled translate table: each code point is worked out once, on first sight."""

    def __init__(self, compute: object) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, code: int) -> str:
        value = self._compute(chr(code))  # type: ignore[operator]
        self[code] = value
        return value


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _fold_once(text: str) -> str:
    text = _t2s().convert(unicodedata.normalize("NFKC", text)).lower()
    return "".join(c for c in text if unicodedata.category(c)[0] in "LN")


def _fold(char: str) -> str:
    """A fixed point, so that folding a folded text changes nothing."""
    previous, current = char, _fold_once(char)
    for _ in range(4):
        if current == previous:
            break
        previous, current = current, "".join(_fold_once(c) for c in current)
    return current


_NORMAL = _CharTable(_fold)
_NORMAL[ord(SEPARATOR)] = SEPARATOR


def normalise(text: str) -> str:
    """Comparable form of `text`: '股市有風險,投資需謹慎!' → '股市有风险投资需谨慎'."""
    return text.translate(_NORMAL).replace(SEPARATOR, "")


def normalise_keep_separators(text: str) -> str:
    return text.translate(_NORMAL)


# Initials that 8 kHz ASR and southern accents confuse are merged: zh/z, ch/c, sh/s.
_MERGED_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))


@cache
def _pypinyin() -> ModuleType:
    """pypinyin without its phrase dictionary: we only ever ask it about one character, and every one of the 93,184
    characters `_syllable` asks about reads the same without it. Loaded, its ~190,000 lists sat in the garbage
    collector's oldest generation, and every full collection went through them (15% of the CPU time of scoring)."""
    previous = os.environ.get(_NO_PHRASES)
    os.environ[_NO_PHRASES] = "1"  # read once, when pypinyin is first imported
    try:
        with warnings.catch_warnings():  # keep an old dependency's import-time warnings out of strict test runs
            warnings.simplefilter("ignore")
            import pypinyin
    finally:
        if previous is None:
            del os.environ[_NO_PHRASES]
        else:
            os.environ[_NO_PHRASES] = previous
    return pypinyin


_NO_PHRASES = "PYPINYIN_NO_PHRASES"


def _syllable(char: str) -> str:
    if char == SEPARATOR:
        return SEPARATOR + " "
    if not ("\u3400" <= char <= "\u9fff" or "\U00020000" <= char <= "\U0002ffff"):
        return char + " "
    pypinyin = _pypinyin()
    syllable = pypinyin.lazy_pinyin(char, style=pypinyin.Style.NORMAL, errors="default")[0].replace("ü", "v")
    for long, short in _MERGED_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    return (syllable or char) + " "


_PINYIN = _CharTable(_syllable)


def pinyin(normal: str) -> str:
    """' gu si you feng xian ' for '股市有风险': one space-delimited syllable per character of a normal form."""
    return " " + normal.translate(_PINYIN)


# One code point per syllable: a syllable of one letter (a, e, o, n, m) or a character without pinyin (a digit, a
# Latin letter) is its own code, so "a" and 啊 still agree; longer syllables get a private-use code point, which
# `normalise` never outputs (it keeps only letters and digits). There are a few hundred syllables.
_CODE_OF_SYLLABLE: dict[str, str] = {}
_SYLLABLE_OF_CODE: dict[str, str] = {}  # only the private-use codes: any other code is its own syllable
_FIRST_CODE = 0xE000


def _code(char: str) -> str:
    syllable = _syllable(char)[:-1]
    if len(syllable) == 1:
        return syllable
    code = _CODE_OF_SYLLABLE.get(syllable)
    if code is None:
        code = chr(_FIRST_CODE + len(_CODE_OF_SYLLABLE))
        _CODE_OF_SYLLABLE[syllable] = code
        _SYLLABLE_OF_CODE[code] = syllable
    return code


_CODES = _CharTable(_code)


def syllable_codes(normal: str) -> str:
    """One character per character of a normal form, equal exactly where their pinyin syllables are equal:
    syllable_codes('股市') == syllable_codes('故事'). Positions are those of the normal form."""
    return normal.translate(_CODES)


def _normal_then_code(char: str) -> str:
    if char == SEPARATOR:
        return ""  # as `normalise` drops it
    return "".join(c + syllable_codes(c) for c in _NORMAL[ord(char)])


# Each character's normal form with every character followed by its syllable code: every turn of every call needs
# both forms, and one `translate` pass costs half of two (the per-character table lookup is what costs).
_NORMAL_THEN_CODE = _CharTable(_normal_then_code)


def normal_and_codes(text: str) -> tuple[str, str]:
    """`(normalise(text), syllable_codes(normalise(text)))` in one pass."""
    both = text.translate(_NORMAL_THEN_CODE)
    return both[0::2], both[1::2]


def syllables(codes: str) -> list[str]:
    """The syllables of a code string: `pinyin(normal).split()` from `syllable_codes(normal)`, without spelling out
    the whole text again ('|' stays '|')."""
    return list(map(_SYLLABLE_OF_CODE.get, codes, codes))  # get(code, default=code), looped in C


def _spelled_code(code: str) -> str:
    return _SYLLABLE_OF_CODE.get(code, code) + " "


_SPELLED = _CharTable(_spelled_code)


def spell_codes(codes: str) -> str:
    """`pinyin(normal)` from `syllable_codes(normal)`: ' ' + ' '.join(syllables(codes)) + ' ', in one C pass."""
    return " " + codes.translate(_SPELLED)


def char_at(pinyin_text: str, offset: int) -> int:
    """Index of the character whose syllable holds `offset` (a separator counts for the character after it)."""
    return pinyin_text.count(" ", 0, offset + 1) - 1


def char_end(pinyin_text: str, end: int) -> int:
    """Exclusive character index for an exclusive pinyin offset `end`."""
    last = max(end - 1, 0)
    index = pinyin_text.count(" ", 0, last + 1) - 1
    return index if pinyin_text[last] == " " else index + 1
