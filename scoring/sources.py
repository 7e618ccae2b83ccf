"""Every rule cites the standard it enforces: `source` is a seed document's file name, a space, then the clause,
e.g. `003_eda5909ba40dd7a1.txt 第五十四条 第19项`; several clauses are separated by ';'
(`003_….txt 第五十四条 第20项;第五十三条 服务忌语`). Each clause starts with a heading that must occur in the
document (an article such as 第五十四条, or a section title); `第N项` after it must be a numbered item ("N.")
inside that article. Other words after the heading describe the clause and are not checked.
"""

from __future__ import annotations

import re
from pathlib import Path

from scoring.phrasebook import Phrasebook

_CLAUSE_SEPARATOR = re.compile(r"[;；]")
_ARTICLE_HEADING = re.compile(r"^\s*第[〇零一二三四五六七八九十百千]+条", re.MULTILINE)
_ITEM = re.compile(r"第(\d+)项")


def source_problems(book: Phrasebook, seeds_dir: Path) -> list[str]:
    """One line per rule whose `source` names a document not in `seeds_dir` or a clause not in that document."""
    texts: dict[str, str | None] = {}
    problems: list[str] = []
    for rule in book.rules:
        seed, _, citation = rule.source.partition(" ")
        if seed not in texts:
            texts[seed] = _read_seed(seeds_dir / seed)
        text = texts[seed]
        where = f"{book.files.get(rule.id, '?')}: rule {rule.id}: field source"
        if text is None:
            problems.append(f"{where}: {seed} is not a readable seed document in {seeds_dir}")
            continue
        problems += [f"{where}: {problem}" for problem in clause_problems(seed, text, citation)]
    return problems


def clause_problems(seed: str, text: str, citation: str) -> list[str]:
    """What the document `seed` (its `text`) lacks of `citation`, the part of a `source` after the file name."""
    problems: list[str] = []
    for clause in filter(None, (c.strip() for c in _CLAUSE_SEPARATOR.split(citation))):
        heading, _, rest = clause.partition(" ")
        section = _section(text, heading)
        if section is None:
            problems.append(f"{heading!r} does not occur in {seed}")
            continue
        for item in _ITEM.findall(rest):
            if not re.search(rf"^\s*{item}\s*[.．、]", section, re.MULTILINE):
                problems.append(f"{heading} of {seed} has no item {item}")
    return problems


def _section(text: str, heading: str) -> str | None:
    """From `heading` (where it starts a line, else its first occurrence) to the next article, or None."""
    found = re.search(rf"^\s*{re.escape(heading)}", text, re.MULTILINE)
    start = found.end() if found else text.find(heading)
    if start < 0:
        return None
    if not found:
        start += len(heading)
    following = _ARTICLE_HEADING.search(text, start)
    return text[start : following.start() if following else len(text)]


def _read_seed(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def clause_texts(text: str, citation: str, limit: int = 1200) -> list[tuple[str, str | None]]:
    """Each clause of `citation` with the words the document `text` gives it: the numbered items it names, else
    its section from the first line holding its description (e.g. 服务忌语 inside 第五十三条), else the whole
    section; at most `limit` characters each, and None for a heading the document lacks."""
    found: list[tuple[str, str | None]] = []
    for clause in filter(None, (c.strip() for c in _CLAUSE_SEPARATOR.split(citation))):
        heading, _, rest = clause.partition(" ")
        section = _section(text, heading)
        if section is None:
            found.append((clause, None))
            continue
        items = [_item(section, number) for number in _ITEM.findall(rest)]
        if items:
            body = "\n".join(item for item in items if item)
        else:
            words = _ITEM.sub("", rest).strip()
            at = section.find(words.split()[0]) if words else -1
            body = section[at:] if at >= 0 else section
        body = re.sub(r"\n\s*\n+", "\n", body).strip()
        found.append((clause, body[:limit] + ("…" if len(body) > limit else "")))
    return found


def _item(section: str, number: str) -> str:
    """Numbered item `number` ("N." up to the next numbered line) of an article's `section`."""
    start = re.search(rf"^\s*{number}\s*[.．、]", section, re.MULTILINE)
    if start is None:
        return ""
    following = re.compile(r"^\s*\d+\s*[.．、]", re.MULTILINE).search(section, start.end())
    return section[start.start() : following.start() if following else len(section)].strip()
