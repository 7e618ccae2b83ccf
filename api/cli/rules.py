"""`callqa rules check|explain`: validate the phrasebooks and run their cases; explain one rule."""

from __future__ import annotations

import difflib
from typing import Annotated

import typer
import yaml
from rich.text import Text

from api.cli.common import phrasebook_or_exit, settings_or_exit
from api.cli.output import ExitCode, err, error, fail, out, plain
from scoring import PhrasebookError, coverage_problems, load_cases, run_cases, source_problems

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Inspect and test the phrasebooks.")


@app.command("check")
def rules_check() -> None:
    """Validate the phrasebooks, check each rule's source against the seed documents, run the example dialogues."""
    book = phrasebook_or_exit()
    settings = settings_or_exit()
    try:
        cases = load_cases(settings.phrasebooks_dir)
    except PhrasebookError as exc:
        fail(str(exc), ExitCode.CONFIG)
    seeds = settings.seeds_dir
    if not seeds.is_dir():
        fail(f"CALLQA_SEEDS_DIR={seeds}: not a directory", ExitCode.CONFIG)
    wrong_sources = source_problems(book, seeds)
    problems = coverage_problems(book, cases) + wrong_sources
    failed = [r for r in run_cases(book, cases) if not r.ok]
    for result in failed:
        got = result.got.value if result.got else "nothing"
        detail = f"{result.file}: {result.case.id}: expected {result.case.expect.value}, got {got} ({result.evidence})"
        err.print(Text.assemble(("FAIL", "red"), " ", plain(detail)), soft_wrap=True)
    for problem in problems:
        error(problem)
    out.print(
        f"{len(book.rules)} rules ({len(book.active_rules)} active) in {len(set(book.files.values()))} phrasebooks; "
        f"{len(cases) - len(failed)} of {len(cases)} cases pass"
    )
    out.print(plain(f"rule sources checked against {seeds}: {len(wrong_sources)} problems"))
    if failed or problems:
        raise typer.Exit(ExitCode.BAD_INPUT)


@app.command("explain")
def rules_explain(rule_id: Annotated[str, typer.Argument(help="e.g. greeting.opening")]) -> None:
    """What a rule checks, why, where the standard says so, and its parameters."""
    book = phrasebook_or_exit()
    try:
        rule = book.rule(rule_id)
    except KeyError:
        close = difflib.get_close_matches(rule_id, [r.id for r in book.rules], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `callqa rules check` lists the phrasebooks"
        fail(f"no rule {rule_id!r}{hint}", ExitCode.BAD_INPUT)
    data = rule.model_dump(mode="json", exclude_none=True)
    head = ("id", "category", "kind", "severity", "points", "status", "message", "source", "why")
    out.print(Text.assemble((rule.id, "bold"), f"  ({book.files[rule.id]})"))
    for key in head[1:]:
        if key in data:
            out.print(plain(f"  {key}: {data[key]}"), soft_wrap=True)
    params = {k: v for k, v in data.items() if k not in head}
    if params:
        out.print("  parameters:")
        text = yaml.safe_dump(params, allow_unicode=True, sort_keys=False, width=110)
        out.print("    " + text.rstrip().replace("\n", "\n    "))
