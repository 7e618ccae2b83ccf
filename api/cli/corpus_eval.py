"""`callqa eval --transcripts DIR`: a labelled dialogue corpus scored as transcripts, clean and with ASR noise."""

from __future__ import annotations

import json
from pathlib import Path

from rich.table import Table

from api.cli.output import ExitCode, fail, out, plain, write_json_line
from api.cli.tables import print_evaluation, ratio
from scoring import (
    CorpusError,
    CorpusEvaluation,
    NoiseError,
    Phrasebook,
    evaluate_corpus,
    load_corpus,
    load_noise,
    noisy_variants,
    score_corpus,
)


def run(directory: Path, book: Phrasebook, *, noisy: int, seed: int, as_json: bool) -> None:
    try:
        dialogues = load_corpus(directory)
    except CorpusError as exc:
        fail(str(exc), ExitCode.BAD_INPUT)
    passes = [evaluate_corpus("clean", score_corpus(dialogues, book), book)]
    if noisy:
        try:
            noise = load_noise()
        except NoiseError as exc:
            fail(str(exc), ExitCode.CONFIG)
        shaken = noisy_variants(dialogues, noise, count=noisy, seed=seed)
        passes.append(evaluate_corpus(f"noisy ×{noisy}, seed {seed}", score_corpus(shaken, book), book))
    for result in passes:
        if as_json:
            write_json_line(json.dumps(summary(result), ensure_ascii=False))
        else:
            print_pass(result)


def summary(result: CorpusEvaluation) -> dict[str, object]:
    evaluation = result.categories
    return {
        "pass": result.name,
        "dialogues": evaluation.calls,
        "categories": {
            c.value: dict(zip(("precision", "recall"), evaluation.precision_recall(c), strict=True))
            for c in evaluation.confusion
        },
        "rules": {
            r: dict(zip(("precision", "recall"), result.rule_precision_recall(r), strict=True)) for r in result.rules
        },
        "fatal_recall": result.fatal_recall,
        "fatal_total": result.fatal_total,
        "fatal_uncertain": result.fatal_uncertain,
        "fatal_missed": result.fatal_missed,
        "false_fatal_rate": result.false_fatal_rate,
        "hard_negatives": result.hard_negatives,
        "false_fatal": result.false_fatal,
    }


def print_pass(result: CorpusEvaluation) -> None:
    out.rule(plain(f"corpus, {result.name}"))
    print_evaluation(result.categories, mismatches=False)
    table = Table(title="Per rule (positive = fail; true when the rule's category is labelled fail)")
    for column in ("rule", "category", "precision", "recall", "tp", "fp", "fn", "uncertain"):
        table.add_column(column)
    for rule_id in sorted(result.rules):
        counts = result.rules[rule_id]
        precision, recall = result.rule_precision_recall(rule_id)
        if not (counts["tp"] or counts["fp"] or counts["fn"]):
            continue
        cells = [str(counts[k]) for k in ("tp", "fp", "fn", "uncertain")]
        table.add_row(rule_id, result.rule_categories[rule_id].value, ratio(precision), ratio(recall), *cells)
    out.print(table)
    out.print(
        f"fatal recall: {ratio(result.fatal_recall)} ({result.fatal_caught}/{result.fatal_total}, "
        f"{result.fatal_uncertain} uncertain); false-fatal rate on hard negatives: {ratio(result.false_fatal_rate)} "
        f"(of {result.hard_negatives})"
    )
    for missed in result.fatal_missed:
        out.print(plain(f"  fatal missed: {missed}"))
    for wrong in result.false_fatal:
        out.print(plain(f"  false fatal: {wrong}"))
