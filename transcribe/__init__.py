"""Audio in, role-labelled Mandarin transcript out. Knows nothing of rules."""

from transcribe.errors import AudioError, ModelError, TranscribeError
from transcribe.options import TranscribeOptions
from transcribe.transcriber import Transcriber
from transcribe.types import ChannelInfo, Segment, Transcript, Word

__all__ = [
    "AudioError",
    "ChannelInfo",
    "ModelError",
    "Segment",
    "TranscribeError",
    "TranscribeOptions",
    "Transcriber",
    "Transcript",
    "Word",
]
