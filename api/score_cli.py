"""`callqa score`, `callqa eval` and `callqa rules …`: scoring from the command line.

Exit codes as for `callqa transcribe`: 0 ok, 1 some call unusable or unscorable (or a rule case failing), 2
configuration, model or phrasebook problem. Hang-up CTI data is a `"hangup_by": "client"|"agent"` key on a
transcript line or, failing that, a sidecar `NAME.json` beside `NAME.mp3` (`{"hangup_by": ...}`), read
automatically; `NAME.truth.json` and `NAME.labels.json` are never taken for one.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
import yaml
from rich.table import Table

from api.config import MAX_WORKERS
from scoring import Phrasebook, PhrasebookError, Scorecard, Verdict, load_phrasebooks, score
from scoring.cases import coverage_problems, load_cases, run_cases
from scoring.evaluate import LABELS_SUFFIX, Evaluation, Labels, evaluate, read_labels
from scoring.findings import Category
from scoring.sources import source_problems
from transcribe import ModelError, TranscribeError, Transcript
from transcribe.errors import one_line
from transcribe.types import Role, TranscriptFormatError

AUDIO_SUFFIXES = (".mp3", ".wav", ".m4a", ".ogg", ".flac", ".amr", ".opus", ".aac", ".wma")
EXIT_CASES_FAIL = 1


class _Call(NamedTuple):
    path: Path  # the audio the call came from
    outcome: Transcript | TranscribeError
    hangup_by: Role | None = None  # CTI metadata given with the transcript itself


rules_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Inspect and test the phrasebooks.")


def register(app: typer.Typer) -> None:
    app.command("score")(score_files)
    app.command("eval")(evaluate_directory)
    app.add_typer(rules_app, name="rules")


def score_files(
    files: Annotated[
        list[Path] | None, typer.Argument(help="audio files; a NAME.json beside one is its CTI data")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON scorecard per line (JSON Lines)")] = False,
    workers: Annotated[
        int | None, typer.Option(min=0, max=MAX_WORKERS, help="parallel processes (default: CALLQA_WORKERS or cores)")
    ] = None,
    transcripts: Annotated[
        Path | None, typer.Option(help="score these transcripts (JSON Lines from `callqa transcribe --json`)")
    ] = None,
) -> None:
    """Score calls against the phrasebooks: findings, score, pass/fail and whether a person must review."""
    cli = _cli()
    book = _book()
    if not files and transcripts is None:
        cli._fail("give audio files or --transcripts FILE", cli.EXIT_BAD_INPUT)
    table = _score_table()
    failures = 0
    for call in _transcripts(files or [], transcripts, workers):
        card = _score_call(call, book)
        if isinstance(card, str):
            failures += 1
            cli.err.print(f"[red]error:[/red] {card}", highlight=False, soft_wrap=True)
            continue
        path = call.path
        if as_json:
            sys.stdout.write(json.dumps({**card.to_dict(), "file": str(path)}, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            table.add_row(*_score_row(path, card, book))
    if table.row_count:
        cli.out.print(table)
    if failures:
        raise typer.Exit(cli.EXIT_BAD_INPUT)


def evaluate_directory(
    directory: Annotated[Path, typer.Argument(help="folder of audio files with NAME.labels.json beside them")],
    workers: Annotated[
        int | None, typer.Option(min=0, max=MAX_WORKERS, help="parallel processes (default: CALLQA_WORKERS or cores)")
    ] = None,
) -> None:
    """Compare verdicts with the labels of every labelled call in DIRECTORY: precision/recall and confusion."""
    cli = _cli()
    book = _book()
    if not directory.is_dir():
        cli._fail(f"{directory}: not a directory", cli.EXIT_BAD_INPUT)
    labelled = _labelled_audio(directory)
    if not labelled:
        cli._fail(f"{directory}: no audio file with a NAME{LABELS_SUFFIX} beside it", cli.EXIT_BAD_INPUT)
    results: list[tuple[str, Scorecard, Labels]] = []
    failures: list[str] = []
    for call in _transcripts(list(labelled), None, workers):
        card = _score_call(call, book)
        if isinstance(card, str):
            failures.append(card)
        else:
            results.append((call.path.name, card, labelled[call.path]))
    _print_evaluation(evaluate(results))
    # Listed after the tables, which leave these calls out: an evaluation of fewer calls must not look clean.
    for failure in failures:
        cli.err.print(f"[red]error:[/red] {failure}", highlight=False, soft_wrap=True)
    if failures:
        raise typer.Exit(cli.EXIT_BAD_INPUT)


@rules_app.command("check")
def rules_check() -> None:
    """Validate the phrasebooks, check each rule's source against the seed documents, run the example dialogues."""
    cli = _cli()
    book = _book()
    settings = cli._settings()
    try:
        cases = load_cases(settings.phrasebooks_dir)
    except PhrasebookError as exc:
        cli._fail(str(exc), cli.EXIT_CONFIG)
    seeds = settings.seeds_directory()
    if seeds is not None and not seeds.is_dir():
        cli._fail(f"CALLQA_SEEDS_DIR={seeds}: not a directory", cli.EXIT_CONFIG)
    wrong_sources = source_problems(book, seeds) if seeds is not None else []
    problems = coverage_problems(book, cases) + wrong_sources
    failed = [r for r in run_cases(book, cases) if not r.ok]
    for result in failed:
        got = result.got.value if result.got else "nothing"
        cli.err.print(
            f"[red]FAIL[/red] {result.file}: {result.case.id}: expected {result.case.expect.value}, got {got} "
            f"({result.evidence})",
            highlight=False,
            soft_wrap=True,
        )
    for problem in problems:
        cli.err.print(f"[red]error:[/red] {problem}", highlight=False, soft_wrap=True)
    active = len(book.active_rules)
    cli.out.print(
        f"{len(book.rules)} rules ({active} active) in {len(set(book.files.values()))} phrasebooks; "
        f"{len(cases) - len(failed)} of {len(cases)} cases pass",
        highlight=False,
    )
    if seeds is None:
        cli.out.print("rule sources not verified: no seed documents (set CALLQA_SEEDS_DIR)", highlight=False)
    else:
        cli.out.print(f"rule sources checked against {seeds}: {len(wrong_sources)} problems", highlight=False)
    if failed or problems:
        raise typer.Exit(EXIT_CASES_FAIL)


@rules_app.command("explain")
def rules_explain(rule_id: Annotated[str, typer.Argument(help="e.g. greeting.opening")]) -> None:
    """What a rule checks, why, where the standard says so, and its parameters."""
    cli = _cli()
    book = _book()
    try:
        rule = book.rule(rule_id)
    except KeyError:
        close = difflib.get_close_matches(rule_id, [r.id for r in book.rules], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `callqa rules check` lists the phrasebooks"
        cli._fail(f"no rule {rule_id!r}{hint}", EXIT_CASES_FAIL)
    data = rule.model_dump(mode="json", exclude_none=True)
    head = ("id", "category", "kind", "severity", "points", "status", "message", "source", "why")
    cli.out.print(f"[bold]{rule.id}[/bold]  ({book.files[rule.id]})", highlight=False)
    for key in head[1:]:
        if key in data:
            cli.out.print(f"  {key}: {data[key]}", highlight=False, soft_wrap=True)
    params = {k: v for k, v in data.items() if k not in head}
    if params:
        cli.out.print("  parameters:", highlight=False)
        text = yaml.safe_dump(params, allow_unicode=True, sort_keys=False, width=110)
        cli.out.print("    " + text.rstrip().replace("\n", "\n    "), highlight=False)


def sidecar_path(audio: Path) -> Path:
    """`call.mp3` → `call.json` (never `call.labels.json` or `call.truth.json`)."""
    return audio.with_suffix(".json")


def read_cti(audio: Path) -> tuple[Role | None, str | None]:
    """(hang-up party from the CTI sidecar or None, a warning when a sidecar is there but unusable)."""
    path = sidecar_path(audio)
    if path == audio or not path.is_file():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{path}: unreadable CTI sidecar ({exc}); hang-up order inferred from the audio"
    if not isinstance(data, dict) or "hangup_by" not in data:
        return None, None  # some other JSON that happens to share the name: not CTI data
    party = data["hangup_by"]
    if party not in ("client", "agent"):
        return None, f'{path}: "hangup_by" must be "client" or "agent", not {party!r}; inferred from the audio'
    return party, None


def _score_call(call: _Call, book: Phrasebook) -> Scorecard | str:
    """The call's scorecard, or one line saying why there is none."""
    if isinstance(call.outcome, TranscribeError):
        return str(call.outcome)
    hangup_by = call.hangup_by if call.hangup_by is not None else _cti(call.path)
    try:
        return score(call.outcome, book, hangup_by=hangup_by)
    except Exception as exc:  # a transcript no validation foresaw must cost only its own call, not the batch
        return f"{call.path}: could not be scored ({one_line(exc)})"


def _cti(path: Path) -> Role | None:
    party, warning = read_cti(path)
    if warning:
        _cli().err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False, soft_wrap=True)
    return party


def _transcripts(files: list[Path], transcripts: Path | None, workers: int | None) -> Iterator[_Call]:
    cli = _cli()
    if transcripts is not None:
        yield from _read_transcripts(transcripts)
    if not files:
        return
    from api.worker import TranscriberPool, default_workers

    settings = cli._settings()
    count = min(workers or settings.workers or default_workers(), len(files))
    try:
        with TranscriberPool(settings.transcribe_options(), workers=count) as pool:
            for path, outcome in pool.transcribe(files):
                if isinstance(outcome, ModelError):
                    raise outcome
                yield _Call(path, outcome)
    except ModelError as exc:  # every other file would fail the same way
        cli._fail(str(exc), cli.EXIT_CONFIG)


def _read_transcripts(path: Path) -> Iterator[_Call]:
    """One call per line of a JSON Lines file; a bad line is one error naming `FILE:LINE` and the field."""
    try:
        handle = path.open("rb")  # bytes: a line that is not UTF-8 must not take the others with it
    except OSError as exc:
        yield _Call(path, TranscribeError(f"{path}: cannot read ({exc.strerror})"))
        return
    with handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                transcript, hangup_by = parse_transcript_line(raw)
            except ValueError as exc:
                yield _Call(path, TranscribeError(f"{path}:{number}: {exc}"))
                continue
            yield _Call(Path(transcript.source), transcript, hangup_by)


def parse_transcript_line(raw: bytes) -> tuple[Transcript, Role | None]:
    """A transcript as `callqa transcribe --json` writes it, plus an optional `"hangup_by"` (CTI metadata).
    Raises ValueError with a one-line reason (`field X: problem` when one field is wrong)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise ValueError(f"not a transcript: a JSON object expected, got {type(data).__name__}")
    hangup_by = data.get("hangup_by")
    if hangup_by not in (None, "client", "agent"):
        raise ValueError(f'field hangup_by: must be "client" or "agent", not {hangup_by!r}')
    try:
        return Transcript.from_dict(data), hangup_by
    except TranscriptFormatError as exc:
        raise ValueError(str(exc) if exc.field else f"not a transcript: {exc}") from None


def _labelled_audio(directory: Path) -> dict[Path, Labels]:
    """One audio file per labelled call (MP3 preferred, as the samples ship both MP3 and WAV)."""
    cli = _cli()
    found: dict[Path, Labels] = {}
    for labels_path in sorted(directory.glob(f"*{LABELS_SUFFIX}")):
        stem = labels_path.name.removesuffix(LABELS_SUFFIX)
        audio = next((directory / f"{stem}{s}" for s in AUDIO_SUFFIXES if (directory / f"{stem}{s}").is_file()), None)
        if audio is None:
            continue
        try:
            found[audio] = read_labels(labels_path)
        except ValueError as exc:
            cli.err.print(f"[yellow]warning:[/yellow] {exc}", highlight=False, soft_wrap=True)
    return found


def _book() -> Phrasebook:
    cli = _cli()
    try:
        return load_phrasebooks(cli._settings().phrasebooks_dir)
    except PhrasebookError as exc:
        cli._fail(str(exc), cli.EXIT_CONFIG)


def _score_table() -> Table:
    table = Table(title="Scorecards", show_lines=True)
    for column in ("call", "duration", "score", "verdict", "hang-up", "findings (fail / uncertain)"):
        table.add_column(column, overflow="fold")
    return table


def _score_row(path: Path, card: Scorecard, book: Phrasebook) -> tuple[str, ...]:
    verdict = "[green]pass[/green]" if card.passed else "[red]fail[/red]"
    if card.needs_review:
        verdict += " · review"
    hangup = f"{card.hangup.by} ({card.hangup.source}, {card.hangup.confidence:.2f})"
    lines = []
    for finding in card.findings:
        if finding.verdict in (Verdict.FAIL, Verdict.UNCERTAIN):
            when = f" @{finding.start:.1f}s" if finding.start is not None else ""
            mark = "✗" if finding.verdict == Verdict.FAIL else "?"
            lines.append(f"{mark} {finding.rule_id}{when}: {finding.message} — {finding.evidence}")
    return (path.name, f"{card.duration:.1f} s", str(card.score), verdict, hangup, "\n".join(lines) or "—")


def _print_evaluation(evaluation: Evaluation) -> None:
    cli = _cli()
    table = Table(title=f"Per category, over {evaluation.calls} labelled calls (positive = fail)")
    for column in ("category", "precision", "recall", "label → verdict counts"):
        table.add_column(column)
    for category in Category:
        counts = evaluation.confusion.get(category)
        if not counts:
            continue
        precision, recall = evaluation.precision_recall(category)
        cells = ", ".join(f"{label.value}→{got.value}: {n}" for (label, got), n in sorted(counts.items()))
        table.add_row(category.value, _ratio(precision), _ratio(recall), cells)
    cli.out.print(table)
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
    cli.out.print(confusion)
    agree, total = evaluation.agreement()
    cli.out.print(
        f"categories agree: {agree}/{total}; passed agrees: {evaluation.passed_agree}/{evaluation.passed_total}; "
        f"hang-up agrees: {evaluation.hangup_agree}/{evaluation.hangup_total}",
        highlight=False,
    )
    for m in evaluation.mismatches:
        cli.out.print(f"  mismatch {m.file}: {m.what}: labelled {m.label}, got {m.got}", highlight=False)


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _cli() -> Any:
    from api import cli  # api.cli registers this module's commands, so import it lazily

    return cli
