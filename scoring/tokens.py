"""Word boundaries from jieba, with callqa's own tokenizer (the global one is never touched)."""

from __future__ import annotations

import logging
import warnings
from functools import cache
from typing import Any


@cache
def _tokenizer() -> Any:
    with warnings.catch_warnings():  # jieba imports pkg_resources, which warns on new setuptools
        warnings.simplefilter("ignore")
        import jieba
    jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict" chatter on stderr
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def boundaries(text: str) -> tuple[set[int], set[int]]:
    """(word start offsets, word end offsets) of `text` as jieba cuts it."""
    starts, ends, offset = set(), set(), 0
    for word in _tokenizer().cut(text, HMM=False):
        starts.add(offset)
        offset += len(word)
        ends.add(offset)
    return starts, ends
