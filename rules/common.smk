# Config validation and the helpers rules use to name their inputs. Validation runs when
# the workflow is parsed, so a bad config stops before any job runs.
import json
from pathlib import Path

from balsa_core.config import ConfigError, generated_kinds, samples_per_seed, validate_config
from balsa_core.readers import annotation_files

try:
    validate_config(config, base_dir=Path.cwd(), source="config")
except ConfigError as error:
    raise WorkflowError(f"invalid configuration: {error}") from None

CORPORA = sorted(config["corpora"])
VARIANTS = sorted(config["variants"])
MODEL_THREADS = config["threads_per_job"]


wildcard_constraints:
    corpus="|".join(CORPORA),
    kind="|".join(generated_kinds(config)),
    variant="|".join(VARIANTS),
    role="llm|encoder",


def canonical(settings):
    """Settings with sorted keys: Snakemake compares params by their text, and reordering
    keys in config.yaml must not rerun anything."""
    return json.loads(json.dumps(settings, sort_keys=True))


def corpus_annotation_files(wildcards):
    corpus = config["corpora"][wildcards.corpus]
    return annotation_files(corpus["reader"], Path(corpus["root"]), corpus.get("options", {}))


def variant_targets(wildcards):
    kinds = sorted(config["variants"][wildcards.variant])
    return expand("data/targets/{corpus}/{kind}.parquet", corpus=CORPORA, kind=kinds)


def feature_indexes():
    return expand("data/features/{corpus}/index.parquet", corpus=CORPORA)


def metadata_tables():
    return expand("data/metadata/{corpus}.parquet", corpus=CORPORA)


def demo_truth():
    return ["data/demo/events.csv"] if "demo_corpus" in config else []


def evaluated_models():
    return VARIANTS + (["text_ceiling"] if config["evaluation"]["text_ceiling"] else [])
