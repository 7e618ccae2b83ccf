"""All configuration, from `CALLQA_*` environment variables (or a `.env` file)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from transcribe import TranscribeOptions

# The phrasebooks ship in the source tree (the package is installed editable); CALLQA_PHRASEBOOKS_DIR overrides.
_BUNDLED_PHRASEBOOKS = Path(__file__).resolve().parent.parent / "phrasebooks"
# The standards' seed documents that rules cite, where a checkout keeps them beside the repository.
_SIBLING_SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
# Each worker holds its own model and uses one core: beyond a few per core only memory use grows.
MAX_WORKERS = min(64, 4 * len(os.sched_getaffinity(0)))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CALLQA_", env_file=".env", extra="ignore")

    whisper_model: str = Field("base", min_length=1, description="'base' (bundled) or a faster-whisper name/path")
    whisper_device: Literal["auto", "cpu", "cuda"] = "auto"
    whisper_compute_type: str = Field("auto", min_length=1)
    whisper_beam_size: int = Field(5, ge=1, le=10)
    model_cache_dir: Path = Path(os.path.expanduser("~/.cache/callqa/models"))
    agent_channel: Literal["left", "right"] = "left"
    vad_threshold: float = Field(0.3, gt=0.0, lt=1.0)
    max_duration_s: float = Field(3 * 3600, gt=0, description="longer recordings are refused before decoding")
    workers: int = Field(
        0,
        ge=0,
        le=MAX_WORKERS,
        description=f"local transcription processes; 0 = one per CPU core, at most {MAX_WORKERS}",
    )
    phrasebooks_dir: Path = Field(_BUNDLED_PHRASEBOOKS, description="directory of the scoring rules (YAML)")
    seeds_dir: Path | None = Field(
        None, description="seed documents the rules' `source` cite (default: ../shared/seeds beside the repository)"
    )

    @field_validator("model_cache_dir", "phrasebooks_dir", "seeds_dir")
    @classmethod
    def _expand_home(cls, path: Path | None) -> Path | None:
        return None if path is None else path.expanduser()

    def seeds_directory(self) -> Path | None:
        """Where `rules check` verifies sources: CALLQA_SEEDS_DIR, else ../shared/seeds if it exists, else None."""
        if self.seeds_dir is not None:
            return self.seeds_dir
        return _SIBLING_SEEDS if _SIBLING_SEEDS.is_dir() else None

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


@cache
def get_settings() -> Settings:
    return Settings()
