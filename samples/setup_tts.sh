#!/usr/bin/env bash
# The TTS voices for regenerating the sample calls (samples/generate.py). Large (PyTorch), so it lives in its
# own venv, .venv-tts, and is never part of callqa's runtime install. Versions as measured in ../shared/AUDIO.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sox >/dev/null && command -v ffmpeg >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sox ffmpeg
}
VENV=.venv-tts
test -x $VENV/bin/python || python3 -m venv $VENV
$VENV/bin/pip install -q --upgrade pip
$VENV/bin/pip install -q torch==2.13.0  # the CPU build this machine kind keeps on disk
$VENV/bin/pip install -q --no-deps ttskit==0.3.8 aukit==1.4.6 phkit==0.2.11
$VENV/bin/pip install -q librosa pydub scipy numpy tqdm unidecode pyyaml requests scikit-learn \
  pypinyin jieba inflect dotmap hanziconv soundfile webrtcvad-wheels
