"""Roles in a mono recording, where both parties share one channel.

Heuristic (documented in the README, always marked low-confidence): estimate each segment's median pitch,
split the segments into two pitch clusters, and call the cluster of the first speaker the agent (the agent
answers the call). When the two clusters are not clearly apart (under 3 semitones), fall back to alternating
speakers from segment to segment, starting with the agent.
"""

from __future__ import annotations

import numpy as np

from transcribe.audio import SAMPLE_RATE, as_float
from transcribe.types import Role

_MIN_SEPARATION_SEMITONES = 3.0
_F0_RANGE_HZ = (70.0, 400.0)
_FRAME = int(0.04 * SAMPLE_RATE)


def assign_roles(audio: np.ndarray, spans: list[tuple[float, float]]) -> list[Role]:
    if not spans:
        return []
    pitches = np.array([_median_f0(as_float(audio[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)])) for s, e in spans])
    voiced = pitches > 0
    if voiced.sum() >= 2:
        semitones = 12 * np.log2(pitches[voiced])
        threshold, separation = _best_split(np.sort(semitones))
        if separation >= _MIN_SEPARATION_SEMITONES:
            high = 12 * np.log2(np.where(voiced, pitches, 1.0)) > threshold
            first_high = next(bool(h) for h, v in zip(high, voiced, strict=True) if v)
            return ["agent" if (bool(h) == first_high) else "client" for h in high]
    return ["agent" if i % 2 == 0 else "client" for i in range(len(spans))]


def _best_split(values: np.ndarray) -> tuple[float, float]:
    """Split sorted values in two groups with the smallest total variance: (threshold, mean gap)."""
    best = (float(values[0]), 0.0, np.inf)
    for i in range(1, len(values)):
        low, high = values[:i], values[i:]
        cost = low.var() * len(low) + high.var() * len(high)
        if cost < best[2]:
            best = ((values[i - 1] + values[i]) / 2, float(high.mean() - low.mean()), cost)
    return best[0], best[1]


def _median_f0(audio: np.ndarray) -> float:
    """Median autocorrelation pitch over voiced frames; 0.0 when nothing is voiced."""
    min_lag, max_lag = int(SAMPLE_RATE / _F0_RANGE_HZ[1]), int(SAMPLE_RATE / _F0_RANGE_HZ[0])
    estimates = []
    for start in range(0, len(audio) - _FRAME - max_lag, _FRAME):
        frame = audio[start : start + _FRAME + max_lag].astype(np.float64)
        frame = frame - frame.mean()
        energy = float(np.dot(frame[:_FRAME], frame[:_FRAME]))
        if energy < 1e-6:
            continue
        corr = np.array([np.dot(frame[:_FRAME], frame[lag : lag + _FRAME]) for lag in range(min_lag, max_lag)])
        best = int(np.argmax(corr))
        if corr[best] / energy > 0.5:
            estimates.append(SAMPLE_RATE / (best + min_lag))
    return float(np.median(estimates)) if estimates else 0.0
