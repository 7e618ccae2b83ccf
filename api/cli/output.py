"""What the command line prints: one console for results, one for errors, and the exit codes.

User data (file names, evidence, CTI values) is never read as Rich markup: every message goes out as a plain
`Text`, with control characters made visible so that one problem stays one line.
"""

from __future__ import annotations

import sys
import unicodedata
from enum import IntEnum
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text


class ExitCode(IntEnum):
    OK = 0
    BAD_INPUT = 1  # some file, line or rule case was unusable; the others were processed
    CONFIG = 2  # settings, model, phrasebooks or arguments: nothing was processed


# markup=False: no string we print is ever parsed for `[style]` tags, whoever wrote it; colour comes from `Text`.
out = Console(highlight=False, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, markup=False, emoji=False)


def escape_controls(text: str) -> str:
    r"""`text` with control characters (newline, tab, escape…) shown as `\n`, `\t`, `\x1b`: a newline in a file
    name must not split an error line, and an escape sequence must not drive the user's terminal."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _visible(ch) for ch in text)


def _visible(ch: str) -> str:
    if unicodedata.category(ch) == "Zs":  # full-width and other spaces are normal in Chinese text
        return " "
    return ch.encode("unicode_escape").decode("ascii")


def plain(text: str, style: str = "") -> Text:
    """User data as a table cell or message: never markup, never two lines for one value."""
    return Text(escape_controls(text), style=style)


def error(message: str) -> None:
    err.print(Text.assemble(("error:", "red"), " ", escape_controls(message)), soft_wrap=True)


def warning(message: str) -> None:
    err.print(Text.assemble(("warning:", "yellow"), " ", escape_controls(message)), soft_wrap=True)


def fail(message: str, code: ExitCode) -> NoReturn:
    error(message)
    raise typer.Exit(int(code))


def write_json_line(line: str) -> None:
    """One JSON Lines record, flushed at once so a pipe reader sees each call as soon as it is done."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
