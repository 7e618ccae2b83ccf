"""Transcript in, scorecard out: the service standards as data-driven rules that survive ASR errors.

The front door: loading and running the phrasebooks, their example cases, the sources they cite, and the
evaluation against labelled calls. Nothing outside `scoring` imports its submodules.
"""

from scoring.cases import Case, Turn, case_transcript, coverage_problems, load_cases, run_cases
from scoring.corpus import CorpusError, CorpusEvaluation, Dialogue, evaluate_corpus, load_corpus, score_corpus
from scoring.engine import score
from scoring.evaluate import LABELS_SUFFIX, Evaluation, Labels, evaluate, read_labels
from scoring.findings import Category, Finding, Verdict
from scoring.noise import NoiseError, NoiseModel, load_noise, noisy_variants
from scoring.noise import measure as measure_noise
from scoring.normalise import normalise
from scoring.phrasebook import Phrasebook, PhrasebookError, load_phrasebooks
from scoring.scorecard import Scorecard
from scoring.sources import clause_texts, source_problems

__all__ = [
    "LABELS_SUFFIX",
    "Case",
    "Category",
    "CorpusError",
    "CorpusEvaluation",
    "Dialogue",
    "Evaluation",
    "Finding",
    "Labels",
    "NoiseError",
    "NoiseModel",
    "Phrasebook",
    "PhrasebookError",
    "Scorecard",
    "Turn",
    "Verdict",
    "case_transcript",
    "clause_texts",
    "coverage_problems",
    "evaluate",
    "evaluate_corpus",
    "load_cases",
    "load_corpus",
    "load_noise",
    "load_phrasebooks",
    "measure_noise",
    "noisy_variants",
    "normalise",
    "read_labels",
    "run_cases",
    "score",
    "score_corpus",
    "source_problems",
]
