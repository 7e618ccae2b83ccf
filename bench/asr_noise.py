"""Measure the substitutions Whisper makes on the bundled samples and store them as `scoring/data/asr_noise.yaml`.

    callqa transcribe samples/*.mp3 --json --workers 1 > /tmp/real.jsonl
    python -m bench.asr_noise /tmp/real.jsonl            # prints the rates, writes the table

Each true turn (`samples/NAME.truth.json`) is paired with the transcribed segments of its role whose middle lies
inside it; the homophone table lists, per syllable, the most frequent characters of jieba's dictionary.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import jieba
import yaml

from scoring.noise import DATA, KINDS, measure, syllable

ROOT = Path(__file__).resolve().parents[1]
PER_SYLLABLE = 8
COMMON_CHARS = 3500


def turn_pairs(transcripts: Path) -> list[tuple[str, str]]:
    pairs = []
    for line in transcripts.read_text(encoding="utf-8").splitlines():
        call = json.loads(line)
        truth = json.loads((ROOT / "samples" / f"{Path(call['source']).stem}.truth.json").read_text(encoding="utf-8"))
        for turn in truth["turns"]:
            heard = [
                s["text"]
                for s in call["segments"]
                if s["role"] == turn["role"] and turn["start"] - 0.3 <= (s["start"] + s["end"]) / 2 <= turn["end"] + 0.3
            ]
            pairs.append((turn["text"], "".join(heard)))
    return pairs


def common_homophones() -> dict[str, list[str]]:
    weight: Counter[str] = Counter()
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as words:
        for line in words:
            word, freq = line.split()[:2]
            for char in word:
                if "\u4e00" <= char <= "\u9fff":
                    weight[char] += int(freq)
    table: dict[str, list[str]] = defaultdict(list)
    for char, _ in weight.most_common(COMMON_CHARS):
        sound = syllable(char)
        if len(table[sound]) < PER_SYLLABLE:
            table[sound].append(char)
    return dict(sorted(table.items()))


def main() -> None:
    transcripts = Path(sys.argv[1])
    confusions = measure(turn_pairs(transcripts), "the 10 bundled samples, Whisper base int8", common_homophones())
    for kind in KINDS:
        print(f"{kind:12s} {confusions.counts[kind]:5d}  {confusions.rate(kind):6.2%} of {confusions.chars} chars")
    target = ROOT / "scoring" / "data" / DATA
    target.parent.mkdir(exist_ok=True)
    header = "# Measured by `python -m bench.asr_noise` (see its docstring); counts are per true character.\n"
    body = yaml.safe_dump(confusions.model_dump(), allow_unicode=True, sort_keys=False, width=200)
    target.write_text(header + body, encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
