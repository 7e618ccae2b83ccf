"""All configuration, from `CALLQA_*` environment variables (or a `.env` file)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Literal, TypeAlias

import re2
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

import phrasebooks
from api.errors import ConfigError
from transcribe import TranscribeOptions

# Decoded audio is held in memory for the whole call; a day is far beyond any real recording.
MAX_DURATION_LIMIT_S = 24 * 3600
# Each worker holds its own model and uses one core: beyond a few per core only memory use grows.
MAX_WORKERS = min(64, 4 * len(os.sched_getaffinity(0)))
# A task slower than this (× realtime) is stopped: one single-thread CPU worker does ~10× with the base model.
SLOWEST_SPEED = 1.0
TASK_SLACK_S = 300.0  # decoding, database and scheduling on top of transcription
# The call metadata a file name may carry (CALLQA_FILENAME_PATTERN's named groups).
FILENAME_FIELDS = frozenset({"branch", "agent_id", "agent_name", "call_time", "direction"})
# HS256 needs a key at least as long as its hash (RFC 7518 3.2): a short one can be guessed offline from a token.
MIN_SECRET_CHARS = 32
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the configuration error says it in one line; no absl log on stderr


def default_database_url() -> str:
    """An embedded SQLite file in the user's data directory (XDG), so that cron, a shell and `make demo` started
    from different folders all see the same store."""
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{data_home / 'callqa' / 'callqa.db'}"


class Settings(BaseSettings):
    # No setting is infinite or NaN: `inf` seconds would pass `gt=0` and then break every call.
    model_config = SettingsConfigDict(
        env_prefix="CALLQA_", env_file=".env", env_file_encoding="utf-8", extra="ignore", allow_inf_nan=False
    )

    whisper_model: str = Field("base", min_length=1, description="'base' (bundled) or a faster-whisper name/path")
    whisper_device: Literal["auto", "cpu", "cuda"] = "auto"
    whisper_compute_type: str = Field("auto", min_length=1)
    whisper_beam_size: int = Field(5, ge=1, le=10)
    model_cache_dir: Path = Path(os.path.expanduser("~/.cache/callqa/models"))
    agent_channel: Literal["left", "right"] = "left"
    vad_threshold: float = Field(0.3, gt=0.0, lt=1.0)
    max_duration_s: float = Field(
        3 * 3600, gt=0, le=MAX_DURATION_LIMIT_S, description="longer recordings are refused before decoding"
    )
    workers: int = Field(
        0,
        ge=0,
        le=MAX_WORKERS,
        description=f"local transcription processes; 0 = one per CPU core, at most {MAX_WORKERS}",
    )
    phrasebooks_dir: Path = Field(phrasebooks.DIRECTORY, description="directory of the scoring rules (YAML)")
    seeds_dir: Path = Field(
        phrasebooks.STANDARDS, description="the standards' documents that rules cite (default: the bundled copy)"
    )

    database_url: str = Field(
        default_factory=default_database_url,
        min_length=1,
        description="SQLAlchemy URL of the store: sqlite:///PATH (default, embedded) or postgresql+psycopg://…",
    )
    broker_url: str | None = Field(
        None,
        min_length=1,
        description="Celery broker for `batch --distributed` and `callqa worker`: redis://… or amqp://…",
    )
    queue: str = Field("callqa", min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")
    broker_visibility_timeout_s: float | None = Field(
        None,
        gt=0,
        le=7 * 24 * 3600,
        description="Redis: an unacknowledged task is handed out again after this long (default: longer than "
        "the longest allowed recording takes; see task_time_limits)",
    )
    filename_pattern: str | None = Field(
        None,
        max_length=1000,
        description="RE2 regex with named groups (branch, agent_id, agent_name, call_time, direction) "
        "searched in each audio file's name without its suffix",
    )

    @field_validator("filename_pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern:
            compile_filename_pattern(pattern)
        return pattern or None

    def filename_regex(self) -> FilenamePattern | None:
        return compile_filename_pattern(self.filename_pattern) if self.filename_pattern else None

    @field_validator("model_cache_dir", "phrasebooks_dir", "seeds_dir", "upload_dir")
    @classmethod
    def _expand_home(cls, path: Path) -> Path:
        return path.expanduser()

    # --- the review service (`callqa serve`) ---
    secret_key: SecretStr | None = Field(
        None, min_length=MIN_SECRET_CHARS, description="signs the API's tokens; never logged (`callqa serve`)"
    )
    token_minutes: int = Field(60, ge=1, le=7 * 24 * 60, description="lifetime of an access token")
    lease_minutes: int = Field(30, ge=1, le=24 * 60, description="how long a claimed call stays with its reviewer")
    queue_aging_hours: float = Field(48.0, gt=0, le=24 * 365, description="a call waiting longer climbs the queue")
    sample_rate: float = Field(0.05, ge=0.0, le=1.0, description="share of passed calls sent to review anyway")
    appeal_days: int = Field(7, ge=0, le=365, description="how long after a review its agent may appeal")
    upload_dir: Path = Field(
        Path(os.path.expanduser("~/.local/share/callqa/uploads")), description="where uploaded recordings are kept"
    )
    upload_max_bytes: int = Field(500 * 1024 * 1024, ge=1, description="largest upload accepted")

    def task_time_limits(self) -> tuple[float, float]:
        """(soft, hard) seconds for one call's task: the longest allowed recording at the slowest speed we accept."""
        soft = self.max_duration_s / SLOWEST_SPEED + TASK_SLACK_S
        return soft, soft + TASK_SLACK_S

    def visibility_timeout_s(self) -> float:
        """Longer than any task may run, so that Redis never hands a running task to a second worker."""
        return self.broker_visibility_timeout_s or self.task_time_limits()[1] + TASK_SLACK_S

    def transcribe_options(self) -> TranscribeOptions:
        return TranscribeOptions(
            model=self.whisper_model,
            device=self.whisper_device,
            compute_type=self.whisper_compute_type,
            beam_size=self.whisper_beam_size,
            model_cache_dir=self.model_cache_dir,
            agent_channel=0 if self.agent_channel == "left" else 1,
            vad_threshold=self.vad_threshold,
            max_duration_s=self.max_duration_s,
        )


FilenamePattern: TypeAlias = re2._Regexp  # google-re2 ships no type hints


def compile_filename_pattern(pattern: str) -> FilenamePattern:
    """RE2 runs in time linear in the name whatever the pattern: a recorder's odd file name cannot hang a batch.
    Raises ValueError naming what is wrong."""
    try:
        regex = re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(f"not a valid RE2 regular expression ({reason})") from None
    unknown = sorted(set(regex.groupindex) - FILENAME_FIELDS)
    if unknown:
        raise ValueError(f"unknown group name(s) {', '.join(unknown)}; use {', '.join(sorted(FILENAME_FIELDS))}")
    if not regex.groupindex:
        raise ValueError(f"no named group such as (?P<agent_id>\\d+); use {', '.join(sorted(FILENAME_FIELDS))}")
    return regex


@cache
def get_settings() -> Settings:
    """The settings, read once. Raises `ConfigError` naming the variable (or the `.env` file) that is wrong."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"CALLQA_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"configuration error: {problems}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"configuration error: .env is not UTF-8 text (byte 0x{exc.object[exc.start]:02x})") from None
    except OSError as exc:
        raise ConfigError(f"configuration error: cannot read .env ({exc.strerror or exc})") from None
