"""Phrasebook regexes run in linear time (RE2): a pathological pattern cannot hang scoring, and a pattern RE2
cannot run is refused at load, naming file, rule and field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scoring import PhrasebookError, load_phrasebooks

ROOT = Path(__file__).resolve().parents[2]
RULE = {
    "id": "test.catastrophic",
    "kind": "regex_absent",
    "category": "forbidden_phrase",
    "severity": "minor",
    "points": 5,
    "message": "test",
    "source": "003_eda5909ba40dd7a1.txt 第五十四条",
}
# Scores one call whose agent says `chars` times "a" (in turns of 100, about 22 s each); prints the verdict and
# the seconds taken.
_SCORE = """
import json, sys, time
from scoring import load_phrasebooks, score
from scoring.cases import Case, Turn, case_transcript
book = load_phrasebooks(sys.argv[1])
chars = int(sys.argv[2])
turns = [Turn(role="agent", text="a" * min(chars, 100)) for _ in range(max(1, chars // 100))]
call = case_transcript(Case(rule="x.y", name="t", expect="pass", turns=turns))
began = time.perf_counter()
card = score(call, book)
print(json.dumps({"verdict": card.findings[0].verdict, "seconds": time.perf_counter() - began}))
"""


def _write(directory: Path, **fields: object) -> None:
    book = {"name": "extra", "description": "d", "rules": [{**RULE, **fields}]}
    (directory / "extra.yaml").write_text(yaml.safe_dump(book, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize("chars", [40, 40_000])
def test_catastrophic_pattern_scores_quickly(tmp_path: Path, chars: int) -> None:
    # `(a+)+b` backtracks forever on Python's `re`; "a" hits every character and "aaaa" excuses every hit (a
    # quadratic excuse lookup took 61 s on 49,000 characters).
    _write(tmp_path, patterns=["(a+)+b", "a"], exceptions=["aaaa"])
    # A subprocess with a timeout: a regression to a backtracking engine fails here instead of hanging the suite.
    done = subprocess.run(
        [sys.executable, "-c", _SCORE, str(tmp_path), str(chars)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["verdict"] == "pass"
    assert result["seconds"] < 5.0, result  # measured: 0.001 s for 40 characters, 0.7 s for 40,000


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("保(?=本)", "invalid perl operator: (?="),
        ("(?<!不)保本", "invalid perl operator: (?<"),
        ("(保)\\1", "invalid escape sequence: \\1"),
        ("\\w+保本", "\\w and \\b match ASCII only here"),
    ],
)
def test_pattern_re2_cannot_run_is_refused_at_load(tmp_path: Path, pattern: str, reason: str) -> None:
    _write(tmp_path, patterns=["保本"], exclude=[pattern])
    with pytest.raises(PhrasebookError) as caught:
        load_phrasebooks(tmp_path)
    message = str(caught.value)
    assert message.startswith("extra.yaml: rule test.catastrophic: field exclude: Value error, bad regular expression")
    assert reason in message and "\n" not in message
