"""A concept spec is heard once per call and turns, equal specs alike: the cache gives what a fresh search gives."""

from __future__ import annotations

from scoring.checks import concepts
from scoring.checks.context import Context
from scoring.hangup import infer_hangup
from scoring.matching import CallText
from scoring.phrasebook import ConceptSpec, PhraseAfterAnchor
from tests.scoring.factory import book, call


def _context(*turns: tuple[str, str]) -> Context:
    transcript = call(*turns)
    text = CallText(transcript)
    hangup = infer_hangup(transcript, book().policy.hangup, cti=None, min_confidence=0.6)
    return Context(transcript, text, book(), book().index.search(text), hangup)


def _promise_specs() -> tuple[ConceptSpec, ConceptSpec]:
    """The promise of returns: its own rule's spec, and the copy a risk warning is contradicted by (one anchor)."""
    own = book().rule("return.promised_gains").spec
    warning = book().rule("risk.disclosure_after_product")
    assert isinstance(warning, PhraseAfterAnchor) and warning.contradicted_by is not None
    return own, warning.contradicted_by


def test_equal_specs_share_a_key_and_others_do_not() -> None:
    own, copy = _promise_specs()
    assert own is not copy and own == copy
    assert book().spec_key(own) == book().spec_key(copy)
    accept = book().rule("risk.disclosure_after_product").accept
    assert book().spec_key(accept) != book().spec_key(own)


def test_a_kept_hearing_is_what_a_fresh_search_finds() -> None:
    own, copy = _promise_specs()
    turns = [
        ("agent", "这个产品您放心,保证每年百分之八的收益。"),
        ("client", "真的吗?"),
        ("agent", "不会亏的,风险是零。"),
    ]
    ctx = _context(*turns)
    indices = ctx.turns("agent")
    first = concepts.heard(own, indices, ctx)
    assert first is not None and first[0].segment == 0
    assert concepts.heard(copy, indices, ctx) is first  # the second rule asking gets the kept answer
    assert concepts._heard(copy, indices, _context(*turns)) == first  # and it is what a fresh search gives
    later = concepts.heard(own, indices[1:], ctx)  # other turns: searched, not taken from the first answer
    assert later is not None and later[0].segment == 2
