"""End to end on real audio: every sample call, through the bundled model and the phrasebooks, scores as labelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.worker import TranscriberPool, default_workers
from scoring import load_phrasebooks, score
from scoring.evaluate import evaluate, read_labels
from transcribe import TranscribeOptions

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@pytest.mark.slow
def test_every_sample_call_scores_as_labelled() -> None:
    calls = sorted(SAMPLES.glob("*.mp3"))
    assert len(calls) >= 8
    book = load_phrasebooks(ROOT / "phrasebooks")
    results = []
    with TranscriberPool(TranscribeOptions(), workers=default_workers()) as pool:
        for path, transcript in pool.transcribe(calls):
            assert not isinstance(transcript, Exception), transcript
            labels = read_labels(path.with_name(path.stem + ".labels.json"))
            results.append((path.name, score(transcript, book), labels))
    evaluation = evaluate(results)
    assert evaluation.mismatches == []
    assert evaluation.passed_agree == evaluation.passed_total == len(calls)
    assert evaluation.hangup_agree == evaluation.hangup_total == len(calls)
    assert {card.passed for _, card, _ in results} == {True, False}  # good and bad calls are told apart
