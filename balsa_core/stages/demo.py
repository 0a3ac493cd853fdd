"""rules/demo.smk: the synthetic demo corpus, and small benchmark files in the released formats
built from its held-out clips."""

from __future__ import annotations

import logging
from pathlib import Path

from balsa_core.demo.benchmarks import write_demo_benchmarks
from balsa_core.demo.corpus import DemoCorpusConfig, generate_demo_corpus
from balsa_core.settings import PipelineConfig

log = logging.getLogger(__name__)


def demo_corpus(config: PipelineConfig, truth: Path) -> None:
    """Write the demo corpus in the ESC-50 and AudioCaps layouts beside ``truth`` (its events.csv)."""
    summary = generate_demo_corpus(_demo_settings(config), truth.parent)
    log.info("demo corpus: %s", summary)


def demo_benchmarks(config: PipelineConfig, truth: Path) -> None:
    """Write the demo benchmarks (``DEMO_BENCHMARK_FILES``) under benchmarks/ beside ``truth``."""
    written = write_demo_benchmarks(truth.parent, truth.parent / "benchmarks", _demo_settings(config).seed)
    for benchmark, paths in written.items():
        log.info("demo benchmark %s: %s", benchmark, ", ".join(str(path) for path in paths))


def _demo_settings(config: PipelineConfig) -> DemoCorpusConfig:
    if config.demo_corpus is None:
        raise ValueError("the config has no demo_corpus section: the demo is not part of this run")
    return config.demo_corpus
