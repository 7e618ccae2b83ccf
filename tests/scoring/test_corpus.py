"""The evaluation corpus: loading is validated, `callqa eval --transcripts` reports, and the tune part holds floors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from scoring import CorpusError, evaluate_corpus, load_corpus, score_corpus
from tests.scoring.factory import ROOT, book

TUNE = ROOT / "samples" / "corpus" / "tune"
runner = CliRunner()

_DIALOGUE = """\
- id: d-01
  intent: a promise
  kind: violation
  ending: client
  turns:
  - {role: agent, text: '您好,这个产品保本保收益。'}
  - {role: client, text: '好的,再见。'}
  labels: {return_promise: fail}
"""


def _corpus(tmp_path: Path, text: str) -> Path:
    (tmp_path / "money.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_a_valid_corpus_loads_and_renders(tmp_path: Path) -> None:
    [dialogue] = load_corpus(_corpus(tmp_path, _DIALOGUE))
    transcript = dialogue.transcript()
    assert [s.role for s in transcript.segments] == ["agent", "client"]
    assert transcript.source == "d-01.wav"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("  kind: violation", "  kind: violation\n  speaker: x"), "money.yaml: dialogue d-01: field speaker: Extra"),
        (("kind: violation", "kind: bad"), "money.yaml: dialogue d-01: field kind:"),
        (("{return_promise: fail}", "{return_promis: fail}"), "money.yaml: dialogue d-01: field labels.return_promis"),
        (("role: client", "role: boss"), "money.yaml: dialogue d-01: field turns.1.role:"),
    ],
)
def test_a_bad_dialogue_is_one_line_naming_file_and_id(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(CorpusError) as caught:
        load_corpus(_corpus(tmp_path, _DIALOGUE.replace(*change)))
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="field id: already used"):
        load_corpus(_corpus(tmp_path, _DIALOGUE + _DIALOGUE))


def test_eval_over_a_corpus_prints_tables_and_json(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path, _DIALOGUE)
    result = runner.invoke(app, ["eval", "--transcripts", str(corpus)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "return.guaranteed" in result.stdout and "fatal recall: 1.00 (1/1" in result.stdout
    result = runner.invoke(app, ["eval", "--transcripts", str(corpus), "--json", "--noisy", "2", "--seed", "3"])
    assert result.exit_code == 0, result.output
    clean, noisy = (json.loads(line) for line in result.stdout.splitlines())
    assert clean["pass"] == "clean" and clean["dialogues"] == 1 and noisy["dialogues"] == 2
    assert clean["categories"]["return_promise"] == {"precision": 1.0, "recall": 1.0}


def test_eval_of_a_broken_corpus_is_one_error_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "--transcripts", str(_corpus(tmp_path, "- id: x\n")), "--json"])
    assert result.exit_code == 1
    assert "money.yaml: dialogue x: field intent: Field required" in result.stderr


def test_tune_corpus_holds_the_floors() -> None:
    """A regression that misses a fatal violation or accuses an innocent call on the tune part fails CI (clean text;
    the noisy numbers are reported by `callqa eval --noisy`, not asserted)."""
    result = evaluate_corpus("clean", score_corpus(load_corpus(TUNE), book()), book())
    assert result.fatal_total >= 40 and result.hard_negatives >= 40
    assert result.fatal_recall == 1.0, result.fatal_missed
    assert result.false_fatal_rate is not None and result.false_fatal_rate <= 0.02, result.false_fatal
