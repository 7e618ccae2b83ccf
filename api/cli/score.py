"""`callqa score` and `callqa eval`: findings, score and review flag per call, and agreement with labels.

Exit codes as for `callqa transcribe`: 0 ok, 1 some call unusable or unscorable, 2 configuration, model or
phrasebook problem.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from api.cli.common import WorkersOption, phrasebook_or_exit, transcribe_all
from api.cli.corpus_eval import run as evaluate_corpus_dir
from api.cli.output import ExitCode, error, fail, out, plain, warning, write_json_line
from api.cli.tables import print_evaluation
from api.ingest import AUDIO_SUFFIXES, Call, read_cti, read_transcripts
from api.services.process import score_or_reason
from scoring import (
    LABELS_SUFFIX,
    Labels,
    Phrasebook,
    Scorecard,
    Verdict,
    evaluate,
    read_labels,
)
from transcribe import Role, TranscribeError


def score_files(
    files: Annotated[
        list[Path] | None, typer.Argument(help="audio files; a NAME.json beside one is its CTI data", readable=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON scorecard per line (JSON Lines)")] = False,
    workers: WorkersOption = None,
    transcripts: Annotated[
        Path | None,
        typer.Option(help="transcripts to score (JSON Lines of `callqa transcribe --json`; - = stdin)", readable=False),
    ] = None,
) -> None:
    """Score calls against the phrasebooks: findings, score, pass/fail and whether a person must review."""
    book = phrasebook_or_exit()
    if not files and transcripts is None:
        fail("give audio files or --transcripts FILE", ExitCode.BAD_INPUT)
    table = _score_table()
    failures = 0
    for call in _calls(files or [], transcripts, workers):
        card = _score_call(call, book)
        if isinstance(card, str):
            failures += 1
            error(card)
        elif as_json:
            write_json_line(json.dumps({**card.to_dict(), "file": str(call.path)}, ensure_ascii=False))
        else:
            table.add_row(*_score_row(call.path, card))
    if table.row_count:
        out.print(table)
    if failures:
        raise typer.Exit(ExitCode.BAD_INPUT)


def evaluate_directory(
    directory: Annotated[
        Path | None, typer.Argument(help="folder of audio files with NAME.labels.json beside them", readable=False)
    ] = None,
    workers: WorkersOption = None,
    transcripts: Annotated[
        Path | None,
        typer.Option(help="folder of a labelled dialogue corpus (*.yaml), scored without audio", readable=False),
    ] = None,
    noisy: Annotated[int, typer.Option(min=0, max=50, help="also score N ASR-noise variants of each dialogue")] = 0,
    seed: Annotated[int, typer.Option(help="seed of the noise variants")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON summary per pass (clean, noisy)")] = False,
) -> None:
    """Compare verdicts with the labels of every labelled call in DIRECTORY (audio) or --transcripts DIR (corpus)."""
    book = phrasebook_or_exit()
    if transcripts is not None:
        if directory is not None:
            fail("give either DIRECTORY (audio) or --transcripts DIR (corpus), not both", ExitCode.BAD_INPUT)
        evaluate_corpus_dir(transcripts, book, noisy=noisy, seed=seed, as_json=as_json)
        return
    if directory is None:
        fail("give a DIRECTORY of labelled audio or --transcripts DIR", ExitCode.BAD_INPUT)
    if not directory.is_dir():
        fail(f"{directory}: not a directory", ExitCode.BAD_INPUT)
    labelled = _labelled_audio(directory)
    if not labelled:
        fail(f"{directory}: no audio file with a NAME{LABELS_SUFFIX} beside it", ExitCode.BAD_INPUT)
    results: list[tuple[str, Scorecard, Labels]] = []
    failures: list[str] = []
    for call in _calls(list(labelled), None, workers):
        card = _score_call(call, book)
        if isinstance(card, str):
            failures.append(card)
        else:
            results.append((call.path.name, card, labelled[call.path]))
    print_evaluation(evaluate(results))
    # Listed after the tables, which leave these calls out: an evaluation of fewer calls must not look clean.
    for failure in failures:
        error(failure)
    if failures:
        raise typer.Exit(ExitCode.BAD_INPUT)


def _calls(files: list[Path], transcripts: Path | None, workers: int | None) -> Iterator[Call]:
    if transcripts is not None:
        yield from read_transcripts(transcripts)
    for path, outcome in transcribe_all(files, workers):
        yield Call(path, outcome)


def _score_call(call: Call, book: Phrasebook) -> Scorecard | str:
    """The call's scorecard, or one line saying why there is none."""
    if isinstance(call.outcome, TranscribeError):
        return str(call.outcome)
    hangup_by = call.hangup_by if call.hangup_by is not None else _cti(call.path)
    card = score_or_reason(call.outcome, book, hangup_by=hangup_by)
    return f"{call.path}: {card}" if isinstance(card, str) else card


def _cti(path: Path) -> Role | None:
    party, problem = read_cti(path)
    if problem:
        warning(problem)
    return party


def _labelled_audio(directory: Path) -> dict[Path, Labels]:
    """One audio file per labelled call (MP3 preferred, as the samples ship both MP3 and WAV)."""
    found: dict[Path, Labels] = {}
    for labels_path in sorted(directory.glob(f"*{LABELS_SUFFIX}")):
        stem = labels_path.name.removesuffix(LABELS_SUFFIX)
        audio = next((directory / f"{stem}{s}" for s in AUDIO_SUFFIXES if (directory / f"{stem}{s}").is_file()), None)
        if audio is None:
            continue
        try:
            found[audio] = read_labels(labels_path)
        except ValueError as exc:
            warning(str(exc))
    return found


def _score_table() -> Table:
    table = Table(title="Scorecards", show_lines=True)
    for column in ("call", "duration", "score", "verdict", "hang-up", "findings (fail / uncertain)"):
        table.add_column(column, overflow="fold")
    return table


def _score_row(path: Path, card: Scorecard) -> tuple[RenderableType, ...]:
    verdict = Text("pass", style="green") if card.passed else Text("fail", style="red")
    if card.needs_review:
        verdict.append(" · review")
    hangup = f"{card.hangup.by} ({card.hangup.source}, {card.hangup.confidence:.2f})"
    lines = []
    for finding in card.findings:
        if finding.verdict in (Verdict.FAIL, Verdict.UNCERTAIN):
            when = f" @{finding.start:.1f}s" if finding.start is not None else ""
            mark = "✗" if finding.verdict == Verdict.FAIL else "?"
            lines.append(plain(f"{mark} {finding.rule_id}{when}: {finding.message} — {finding.evidence}"))
    findings = Text("\n").join(lines) if lines else "—"
    return (plain(path.name), f"{card.duration:.1f} s", str(card.score), verdict, plain(hangup), findings)
