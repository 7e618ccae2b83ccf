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


@dataclass(frozen=True)
class HallucinationGuard:
    no_speech_threshold: float = 0.7
    max_compression_ratio: float = 2.4
    doubtful_no_speech: float = 0.45
    doubtful_logprob: float = -1.0

    def reason_to_drop(self, text: str, no_speech_prob: float, avg_logprob: float = 0.0) -> str | None:
        """A reason key if the segment is a hallucination, else None."""
        if _KNOWN.search(text):
            return "known_hallucination"
        if _is_loop(text) or _compression_ratio(text) > self.max_compression_ratio:
            return "repetition"
        if no_speech_prob >= self.no_speech_threshold:
            return "no_speech"
        # Whisper's own silence test: likely silence and a doubtful decode together.
        if no_speech_prob >= self.doubtful_no_speech and avg_logprob < self.doubtful_logprob:
            return "no_speech"
        return None


def count(reasons: list[str]) -> dict[str, int]:
    return dict(Counter(reasons))


def _is_loop(text: str) -> bool:
    compact = re.sub(r"[\s,,。.!!??、]", "", text)
    match = _LOOP.search(compact)
    return bool(match) and len(match.group(0)) >= max(6, len(compact) // 2)


def _compression_ratio(text: str) -> float:
    raw = text.encode("utf-8")
    # Short texts never compress well enough to judge; only long runs are loops by this measure.
    return len(raw) / len(zlib.compress(raw)) if len(raw) > 60 else 0.0
