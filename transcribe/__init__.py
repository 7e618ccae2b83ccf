"""Audio in, role-labelled Mandarin transcript out. Knows nothing of rules."""

from transcribe.errors import AudioError, ModelError, TranscribeError, one_line
from transcribe.options import TranscribeOptions
from transcribe.transcriber import Transcriber
from transcribe.types import ChannelInfo, Role, Segment, Transcript, TranscriptFormatError, Word

__all__ = [
    "AudioError",
    "ChannelInfo",
    "ModelError",
    "Role",
    "Segment",
    "TranscribeError",
    "TranscribeOptions",
    "Transcriber",
    "Transcript",
    "TranscriptFormatError",
    "Word",
    "one_line",
]
