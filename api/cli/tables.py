"""Evaluation tables shared by `callqa eval` over audio and over a transcript corpus."""

from __future__ import annotations

from rich.table import Table

from api.cli.output import out, plain
from scoring import Category, Evaluation, Verdict


def print_evaluation(evaluation: Evaluation, *, mismatches: bool = True) -> None:
    table = Table(title=f"Per category, over {evaluation.calls} labelled calls (positive = fail)")
    for column in ("category", "precision", "recall", "label → verdict counts"):
        table.add_column(column)
    for category in Category:
        counts = evaluation.confusion.get(category)
        if not counts:
            continue
        precision, recall = evaluation.precision_recall(category)
        cells = ", ".join(f"{label.value}→{got.value}: {n}" for (label, got), n in sorted(counts.items()))
        table.add_row(category.value, ratio(precision), ratio(recall), cells)
    out.print(table)
    confusion = Table(title="Confusion (rows: label, columns: verdict), all categories")
    verdicts = list(Verdict)
    confusion.add_column("label \\ verdict")
    for verdict in verdicts:
        confusion.add_column(verdict.value, justify="right")
    totals: dict[tuple[Verdict, Verdict], int] = {}
    for counts in evaluation.confusion.values():
        for pair, n in counts.items():
            totals[pair] = totals.get(pair, 0) + n
    for label in verdicts:
        confusion.add_row(label.value, *(str(totals.get((label, got), 0)) for got in verdicts))
    out.print(confusion)
    agree, total = evaluation.agreement()
    out.print(
        f"categories agree: {agree}/{total}; passed agrees: {evaluation.passed_agree}/{evaluation.passed_total}; "
        f"hang-up agrees: {evaluation.hangup_agree}/{evaluation.hangup_total}"
    )
    for m in evaluation.mismatches if mismatches else ():
        out.print(plain(f"  mismatch {m.file}: {m.what}: labelled {m.label}, got {m.got}"))


def ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
