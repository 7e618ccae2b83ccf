"""An evaluation corpus of labelled dialogues, written apart from the phrasebooks, and how well rules agree with it.

A corpus file (`*.yaml`) is a list of dialogues: `id`, `intent`, `kind` (violation | hard_negative | clean),
`ending` (who hangs up), `turns` in the shape of the phrasebook cases, optional `channels` facts, and `labels`
per category (pass | fail | na). Each dialogue becomes a timed transcript exactly as a case does
(`scoring.cases.render`), is scored, and compared with its labels: per category and per rule precision/recall of
`fail`, the recall of fatal violations, and how often an innocent hard negative gets a fatal finding.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scoring.cases import ChannelFacts, Turn, render
from scoring.engine import score
from scoring.evaluate import Evaluation, Labels, evaluate
from scoring.findings import Category, Severity, Verdict
from scoring.phrasebook import Phrasebook, PhrasebookError, read_yaml
from scoring.scorecard import Scorecard
from transcribe.types import Role, Transcript

Kind = Literal["violation", "hard_negative", "clean"]


class CorpusError(Exception):
    """A corpus file cannot be used; `str(err)` is 'FILE: dialogue ID: field FIELD: problem'."""


class Dialogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    intent: str = Field(min_length=1)
    kind: Kind
    ending: Literal["client", "agent", "none"] = "client"
    cti: Role | None = None
    mono: bool = False
    channels: dict[Role, ChannelFacts] = Field(default_factory=dict)
    turns: list[Turn] = Field(min_length=1)
    labels: dict[Category, Verdict] = Field(min_length=1)

    def transcript(self) -> Transcript:
        return render(self.turns, ending=self.ending, mono=self.mono, channels=self.channels, source=f"{self.id}.wav")


def load_corpus(directory: str | Path) -> list[Dialogue]:
    """Every dialogue of every `*.yaml` in `directory`. Raises `CorpusError` (one line) on any problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CorpusError(f"{directory}: not a directory")
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise CorpusError(f"{directory}: no corpus file (*.yaml)")
    found: list[Dialogue] = []
    seen: dict[str, str] = {}
    for path in paths:
        for dialogue in _load_file(path):
            if dialogue.id in seen:
                raise CorpusError(f"{path.name}: dialogue {dialogue.id}: field id: already used in {seen[dialogue.id]}")
            seen[dialogue.id] = path.name
            found.append(dialogue)
    return found


def _load_file(path: Path) -> list[Dialogue]:
    try:
        data = read_yaml(path)
    except PhrasebookError as exc:
        raise CorpusError(str(exc)) from None
    if not isinstance(data, list) or not data:
        raise CorpusError(f"{path.name}: field (top level): expected a non-empty list of dialogues")
    dialogues = []
    for number, raw in enumerate(data, start=1):
        try:
            dialogues.append(Dialogue.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            name = raw.get("id") if isinstance(raw, dict) else None
            where = ".".join(map(str, first["loc"])) or "(dialogue)"
            more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
            raise CorpusError(
                f"{path.name}: dialogue {name or f'#{number}'}: field {where}: {first['msg']}{more}"
            ) from None
    return dialogues


@dataclass(frozen=True)
class Scored:
    dialogue: Dialogue
    card: Scorecard


@dataclass
class CorpusEvaluation:
    """Agreement of one pass over the corpus (clean or noisy) with its labels."""

    name: str
    categories: Evaluation
    rules: dict[str, Counter[str]] = field(default_factory=dict)  # rule id → tp / fp / fn / uncertain
    rule_categories: dict[str, Category] = field(default_factory=dict)
    fatal_total: int = 0
    fatal_caught: int = 0
    fatal_uncertain: int = 0
    fatal_missed: list[str] = field(default_factory=list)  # "dialogue: category"
    hard_negatives: int = 0
    false_fatal: list[str] = field(default_factory=list)  # "dialogue: rule"

    @property
    def fatal_recall(self) -> float | None:
        return self.fatal_caught / self.fatal_total if self.fatal_total else None

    @property
    def false_fatal_rate(self) -> float | None:
        dialogues = {item.split(": ")[0] for item in self.false_fatal}
        return len(dialogues) / self.hard_negatives if self.hard_negatives else None

    def rule_precision_recall(self, rule_id: str) -> tuple[float | None, float | None]:
        counts = self.rules.get(rule_id, Counter())
        flagged, actual = counts["tp"] + counts["fp"], counts["tp"] + counts["fn"]
        return (counts["tp"] / flagged if flagged else None, counts["tp"] / actual if actual else None)


def fatal_categories(book: Phrasebook) -> set[Category]:
    return {r.category for r in book.active_rules if r.severity == Severity.FATAL}


def score_corpus(dialogues: Iterable[Dialogue], book: Phrasebook) -> list[Scored]:
    return [Scored(d, score(d.transcript(), book, hangup_by=d.cti)) for d in dialogues]


def evaluate_corpus(name: str, scored: list[Scored], book: Phrasebook) -> CorpusEvaluation:
    labelled = [(s.dialogue.id, s.card, Labels(None, None, s.dialogue.labels)) for s in scored]
    result = CorpusEvaluation(name=name, categories=evaluate(labelled))
    fatal = fatal_categories(book)
    for item in scored:
        _count_rules(result, item)
        _count_fatal(result, item, fatal)
    return result


def _count_rules(result: CorpusEvaluation, item: Scored) -> None:
    labels = item.dialogue.labels
    for finding in item.card.findings:
        if finding.category not in labels:
            continue
        result.rule_categories[finding.rule_id] = finding.category
        counts = result.rules.setdefault(finding.rule_id, Counter())
        flagged, actual = finding.verdict == Verdict.FAIL, labels[finding.category] == Verdict.FAIL
        counts["tp" if flagged and actual else "fp" if flagged else "fn" if actual else "tn"] += 1
        counts["uncertain"] += finding.verdict == Verdict.UNCERTAIN


def _count_fatal(result: CorpusEvaluation, item: Scored, fatal: set[Category]) -> None:
    dialogue, verdicts = item.dialogue, item.card.categories()
    for category in sorted(fatal):
        if dialogue.labels.get(category) != Verdict.FAIL:
            continue
        result.fatal_total += 1
        got = verdicts.get(category, Verdict.NA)
        result.fatal_caught += got == Verdict.FAIL
        result.fatal_uncertain += got == Verdict.UNCERTAIN
        if got != Verdict.FAIL:
            result.fatal_missed.append(f"{dialogue.id}: {category.value} ({got.value})")
    if dialogue.kind == "hard_negative":
        result.hard_negatives += 1
        result.false_fatal += [
            f"{dialogue.id}: {f.rule_id}"
            for f in item.card.findings
            if f.severity == Severity.FATAL
            and f.verdict == Verdict.FAIL
            and dialogue.labels.get(f.category) != Verdict.FAIL
        ]


Variant = Callable[[Dialogue, int], Dialogue]  # (dialogue, variant number) → a noisy copy


def variants(dialogues: list[Dialogue], make: Variant, count: int) -> list[Dialogue]:
    """`count` noisy copies of every dialogue, ids suffixed `~1`, `~2`…"""
    return [make(d, n) for n in range(1, count + 1) for d in dialogues]
