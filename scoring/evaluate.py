"""How well verdicts agree with labelled calls: per-category precision/recall of `fail`, and a confusion table.

Labels (`NAME.labels.json`, written by the sample generator):
`{"passed": bool, "hangup_by": "client"|"agent", "categories": {"<category>": "pass"|"fail"|"na", ...}}`.
A category's verdict is the worst over its rules (fail > uncertain > pass > na); unlisted categories are not
evaluated. `pass` and `na` both mean "nothing wrong" and count as agreeing with each other.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from scoring.findings import Category, Verdict
from scoring.scorecard import Scorecard

LABELS_SUFFIX = ".labels.json"


@dataclass(frozen=True)
class Labels:
    passed: bool | None
    hangup_by: str | None
    categories: dict[Category, Verdict]


def read_labels(path: Path) -> Labels:
    """Raises ValueError with a one-line reason when the file is not a labels file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        categories = {Category(k): Verdict(v) for k, v in (data.get("categories") or {}).items()}
    except (OSError, json.JSONDecodeError, AttributeError, ValueError) as exc:
        raise ValueError(f"{path}: not a labels file ({exc})") from None
    return Labels(passed=data.get("passed"), hangup_by=data.get("hangup_by"), categories=categories)


def agrees(label: Verdict, got: Verdict) -> bool:
    return label == got or {label, got} == {Verdict.PASS, Verdict.NA}


@dataclass(frozen=True)
class Mismatch:
    file: str
    what: str  # a category, "passed" or "hangup"
    label: str
    got: str


@dataclass
class Evaluation:
    calls: int = 0
    confusion: dict[Category, Counter[tuple[Verdict, Verdict]]] = field(default_factory=dict)
    passed_agree: int = 0
    passed_total: int = 0
    hangup_agree: int = 0
    hangup_total: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    def precision_recall(self, category: Category) -> tuple[float | None, float | None]:
        """Of `fail` verdicts: (precision, recall); None where undefined (nothing predicted / nothing to find)."""
        counts = self.confusion.get(category, Counter())
        true_pos = counts[(Verdict.FAIL, Verdict.FAIL)]
        predicted = sum(n for (_, got), n in counts.items() if got == Verdict.FAIL)
        actual = sum(n for (label, _), n in counts.items() if label == Verdict.FAIL)
        return (true_pos / predicted if predicted else None, true_pos / actual if actual else None)

    def agreement(self) -> tuple[int, int]:
        pairs = [(pair, n) for counts in self.confusion.values() for pair, n in counts.items()]
        return sum(n for (label, got), n in pairs if agrees(label, got)), sum(n for _, n in pairs)


def evaluate(results: Iterable[tuple[str, Scorecard, Labels]]) -> Evaluation:
    evaluation = Evaluation()
    for file, card, labels in results:
        evaluation.calls += 1
        verdicts = card.categories()
        for category, label in labels.categories.items():
            got = verdicts.get(category, Verdict.NA)
            evaluation.confusion.setdefault(category, Counter())[(label, got)] += 1
            if not agrees(label, got):
                evaluation.mismatches.append(Mismatch(file, category.value, label.value, got.value))
        if labels.passed is not None:
            evaluation.passed_total += 1
            evaluation.passed_agree += card.passed == labels.passed
            if card.passed != labels.passed:
                evaluation.mismatches.append(Mismatch(file, "passed", str(labels.passed), str(card.passed)))
        if labels.hangup_by is not None:
            evaluation.hangup_total += 1
            evaluation.hangup_agree += card.hangup.by == labels.hangup_by
            if card.hangup.by != labels.hangup_by:
                evaluation.mismatches.append(Mismatch(file, "hangup", labels.hangup_by, card.hangup.by))
    return evaluation
