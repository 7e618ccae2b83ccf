"""Guards against Whisper's known failure modes on silence and noise. Every drop is counted, never hidden."""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass

# Subtitle credits and video outros that Whisper emits on silence (seen on Chinese telephone audio).
_KNOWN = re.compile(
    r"字幕\s*(by|BY|由|提供|制作|组)|中文字幕|请不吝点赞|点赞\s*订阅|订阅\s*转发|打赏支持|明镜与点点|点点栏目"
    r"|感谢观看|谢谢观看|谢谢收看|欢迎订阅|YoYo|优优独播|Amara\.org|索兰娅"
)
# A unit of 2+ characters said 3+ times in a row ("这些东西,这些东西,这些东西"); "对对对" is ordinary speech.
_LOOP = re.compile(r"(.{2,8}?)\1{2,}")


_NO_WORDS = re.compile(r"^[\W_]*$")


@dataclass(frozen=True)
class HallucinationGuard:
    # Whisper echoes its initial prompt on digital silence (measured: "以下是普通话的句子。" on 30 s of zeros).
    prompt: str | None = None
    no_speech_threshold: float = 0.7
    max_compression_ratio: float = 2.4
    # no_speech_prob is Whisper's guess for a whole 30 s window: alone it condemns real speech that shares a
    # window with a long pause (measured: 0.74 on clearly spoken turns decoded at avg_logprob -0.16).
    # So, as in Whisper's own silence test, a drop also needs a doubtful decode.
    likely_no_speech_logprob: float = -0.5
    doubtful_no_speech: float = 0.45
    doubtful_logprob: float = -1.0

    def reason_to_drop(self, text: str, no_speech_prob: float, avg_logprob: float = 0.0) -> str | None:
        """A reason key if the segment is a hallucination, else None."""
        if _NO_WORDS.match(text):
            return "no_words"
        if _KNOWN.search(text) or (self.prompt and _compact(text) == _compact(self.prompt)):
            return "known_hallucination"
        if _is_loop(text) or _compression_ratio(text) > self.max_compression_ratio:
            return "repetition"
        if no_speech_prob >= self.no_speech_threshold and avg_logprob < self.likely_no_speech_logprob:
            return "no_speech"
        if no_speech_prob >= self.doubtful_no_speech and avg_logprob < self.doubtful_logprob:
            return "no_speech"
        return None


def repeated_runs(texts: list[str], min_run: int = 3, min_chars: int = 4) -> set[int]:
    """Indices of segments that repeat the same text 3+ times in a row: Whisper's loop across segments
    (measured: "再来一会儿" ×11 on hold music). Short replies ("好的") may repeat naturally, so they are exempt.
    """
    flagged: set[int] = set()
    start = 0
    for i in range(1, len(texts) + 1):
        if i < len(texts) and _compact(texts[i]) == _compact(texts[start]):
            continue
        if i - start >= min_run and len(_compact(texts[start])) >= min_chars:
            flagged.update(range(start, i))
        start = i
    return flagged


def count(reasons: list[str]) -> dict[str, int]:
    return dict(Counter(reasons))


def _compact(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


def _is_loop(text: str) -> bool:
    compact = _compact(text)
    match = _LOOP.search(compact)
    return match is not None and len(match.group(0)) >= max(6, len(compact) // 2)


def _compression_ratio(text: str) -> float:
    raw = text.encode("utf-8")
    # Short texts never compress well enough to judge; only long runs are loops by this measure.
    return len(raw) / len(zlib.compress(raw)) if len(raw) > 60 else 0.0
