"""Measure the substitutions Whisper makes on the bundled samples and store them as `scoring/data/asr_noise.yaml`.

    callqa transcribe samples/*.mp3 --json --workers 1 > /tmp/real.jsonl
    python -m bench.asr_noise /tmp/real.jsonl            # prints the rates, writes the table

Each true turn (`samples/NAME.truth.json`) is paired with the transcribed segments of its role whose middle lies
inside it (0.3 s of slack).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scoring import measure_noise

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "scoring" / "data" / "asr_noise.yaml"


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


def main() -> None:
    confusions = measure_noise(turn_pairs(Path(sys.argv[1])), "the 10 bundled samples, Whisper base int8, beam 5")
    for kind, count in confusions.counts.items():
        print(f"{kind:12s} {count:5d}  {confusions.rate(kind):6.2%} of {confusions.chars} true characters")
    TABLE.write_text(confusions.dump(), encoding="utf-8")
    print(f"wrote {TABLE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
