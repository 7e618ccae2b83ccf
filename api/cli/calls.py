"""`callqa calls list|show|delete`: what the store holds."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from api.cli.common import settings_or_exit, store_or_exit
from api.cli.output import ExitCode, fail, out, plain, write_json_line
from api.errors import BadInput, NotFound
from api.services.calls import check_audio
from api.services.deletion import delete_call, remove_uploads
from api.services.queries import CallSummary, find_call_id, list_calls, show_call
from api.store.models import JobStatus

app = typer.Typer(no_args_is_help=True, help="The calls in the store.")


@app.command("list")
def list_command(
    status: Annotated[JobStatus | None, typer.Option(help="only calls in this processing state")] = None,
    needs_review: Annotated[bool, typer.Option("--needs-review", help="only calls a person must review")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per call (JSON Lines)")] = False,
) -> None:
    """The calls table: score, verdict, hang-up and top findings of each call's latest scorecard."""
    sessions = store_or_exit()
    with sessions() as session:
        calls = list_calls(session, status=status, needs_review=needs_review, findings=3)
    if as_json:
        for call in calls:
            write_json_line(json.dumps(call.to_dict(), ensure_ascii=False))
        return
    table = Table(title=f"Calls ({len(calls)})")
    for column in ("id", "file", "status", "score", "verdict", "hang-up", "top findings"):
        table.add_column(column, overflow="fold")
    for call in calls:
        table.add_row(*_row(call))
    out.print(table)


def _row(call: CallSummary) -> tuple[str | Text, ...]:
    status = call.status if not call.attempts else f"{call.status} ({call.attempts}×)"
    if call.passed is None:
        verdict = Text("—")
    else:
        verdict = Text("pass", style="green") if call.passed else Text("fail", style="red")
        if call.needs_review:
            verdict.append(" · review")
    findings = plain("; ".join(call.top_findings) or (call.error or "—"))
    score = "—" if call.score is None else str(call.score)
    file = plain(call.file or "—")
    if call.audio_state != "ok":
        file.append(f" (audio {call.audio_state})", style="yellow")
    return str(call.id), file, status, score, verdict, plain(call.hangup_by or "—"), findings


@app.command("show")
def show_command(
    key: Annotated[str, typer.Argument(help="call id or SHA-256 (at least 8 hex digits)")],
    as_json: Annotated[bool, typer.Option("--json", help="everything as one JSON object")] = False,
) -> None:
    """One call: files, metadata, processing attempts, score, findings and transcript."""
    sessions = store_or_exit()
    try:
        with sessions.begin() as session:
            call_id = find_call_id(session, key=key)
            check_audio(session, call_id=call_id)  # a file gone or replaced is said, never served as this call
        with sessions() as session:
            detail = show_call(session, call_id=call_id)
    except NotFound as exc:
        fail(str(exc), ExitCode.BAD_INPUT)
    data = detail.to_dict()
    if as_json:
        write_json_line(json.dumps(data, ensure_ascii=False))
        return
    for key_name in ("id", "sha256", "status", "attempts", "error", "score", "passed", "needs_review", "hangup_by"):
        out.print(plain(f"{key_name}: {data[key_name]}"))
    out.print(plain(f"audio: {data['audio_state']}, {data['duration'] or 0:.1f} s, {data['channels']} channel(s)"))
    for file in data["files"]:
        out.print(plain(f"file: {file['path']}{'' if file['present'] else ' (gone or changed)'}"))
    metadata = {k: v for k, v in data["metadata"].items() if v is not None}
    out.print(plain(f"metadata: {json.dumps(metadata, ensure_ascii=False)}"))
    out.print(plain(f"versions: {data['transcription_version']} / {data['phrasebook_version']}"))
    for finding in data["findings"]:
        if finding["verdict"] in ("fail", "uncertain"):
            when = f" @{finding['start']:.1f}s" if finding["start"] is not None else ""
            out.print(
                plain(f"{finding['verdict']}: {finding['rule_id']}{when}: {finding['message']} — {finding['evidence']}")
            )
    for segment in (data["transcript"] or {}).get("segments", []):
        out.print(plain(f"[{segment['start']:7.1f}] {segment['role']}: {segment['text']}"))


@app.command("delete")
def delete_command(
    key: Annotated[str, typer.Argument(help="call id or SHA-256 (at least 8 hex digits)")],
    reason: Annotated[str, typer.Option(help="why: retention period, mistaken upload, … (kept in the audit trail)")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Delete a call's stored data (transcripts, scorecards, findings, review, appeals), audited as call.delete.
    A recording on the recorder's disk is never touched; one that callqa stored as an upload is removed."""
    settings = settings_or_exit()
    sessions = store_or_exit()
    try:
        with sessions() as session:
            call_id = find_call_id(session, key=key)
        if not yes and not typer.confirm(f"delete call {call_id} and everything stored about it?"):
            fail("not deleted", ExitCode.BAD_INPUT)
        with sessions.begin() as session:
            deleted = delete_call(session, call_id=call_id, actor="cli", reason=reason, upload_dir=settings.upload_dir)
    except (NotFound, BadInput) as exc:
        fail(str(exc), ExitCode.BAD_INPUT)
    remove_uploads(deleted)
    out.print(plain(f"call {call_id} ({deleted.sha256[:12]}…) deleted; uploads removed: {len(deleted.uploads)}"))
