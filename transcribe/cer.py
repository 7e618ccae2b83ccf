"""Character error rate for Mandarin: the accuracy measure used by the tests and the benchmark."""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz.distance import Levenshtein

from transcribe.chinese import to_simplified

_NOT_TEXT = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Simplified characters, half-width forms, no punctuation or spaces, lower case."""
    return _NOT_TEXT.sub("", to_simplified(unicodedata.normalize("NFKC", text))).lower()


def character_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(ref, hyp) / len(ref)
