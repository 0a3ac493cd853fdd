# Config validation and the helpers rules use to name their inputs. Validation runs when
# the workflow is parsed, so a bad config stops before any job runs.
import json
import os
from dataclasses import asdict
from pathlib import Path

from balsa_core.config import (
    DEMO_BENCHMARKS,
    UNTRAINED,
    ConfigError,
    evaluation_input_files,
    generation_params,
    pair_sets,
    single_audio_sets,
    target_set_entry,
    target_set_backend,
    validate_config,
    variant_mix,
    variant_training,
)
from balsa_core.demo.benchmarks import DEMO_BENCHMARK_FILES
from balsa_core.evaluation.registry import GROUNDING
from balsa_core.generation.target_sets import QUESTION_SOURCES
from balsa_core.readers import annotation_files
from balsa_core.settings import PipelineConfig

try:
    validate_config(config, base_dir=Path.cwd(), source="config")
except ConfigError as error:
    raise WorkflowError(f"invalid configuration: {error}") from None
# The typed view every stage reads; the rules below name files and params from it or the config.
PIPELINE = PipelineConfig.from_validated(config)
WILDCARD_VALUES = PIPELINE.wildcard_values()

CORPORA = sorted(config["corpora"])
VARIANTS = sorted(config["variants"])
SINGLE_AUDIO_SETS = single_audio_sets(config)
PAIR_SETS = pair_sets(config)
MODEL_THREADS = config["threads_per_job"]
# The standard gpu resource of a job that runs one model on one GPU.
MODEL_GPUS = 1 if config["gpus"] else 0
TRAINING_GPUS = config["training"]["distributed"]["processes_per_node"] if config["gpus"] else 0
# Training's threads: threads_per_job for each of its processes.
TRAINING_THREADS = MODEL_THREADS * config["training"]["distributed"]["processes_per_node"]
# The backbones' shapes, written once the settings they constrain are checked (check_shapes).
SHAPES = "models/shapes.json"

# Every process of a job (the rule's script in its conda environment, torchrun's training
# processes, vLLM's workers) imports balsa_core from this workflow directory: envs/*.yaml hold
# only third-party packages.
_python_path = [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
if workflow.basedir not in _python_path:
    # Set, not required from the user: no envvars directive.
    os.environ.update(PYTHONPATH=os.pathsep.join([workflow.basedir, *_python_path]))


def job_resources(rule_name, threads=1, gpu=0):
    """What a rule's jobs ask of a scheduler, declared in the rule so that no profile or
    command-line default replaces it: memory and wall time from the config's `resources` (the
    rule's entry over `default`), CPUs as a number (a dry run's or a login node's --cores caps
    threads, not this) and GPUs."""
    settings = {**config["resources"]["default"], **config["resources"].get(rule_name, {})}
    return {"mem_mb": settings["mem_mb"], "runtime": settings["runtime"], "cpus_per_task": threads, "gpu": gpu}


wildcard_constraints:
    corpus="|".join(WILDCARD_VALUES["corpus"]),
    variant="|".join(WILDCARD_VALUES["variant"]),
    role="|".join(WILDCARD_VALUES["role"]),
    # With no baselines, a pattern nothing matches: Snakemake reads an empty one as "anything".
    baseline="|".join(WILDCARD_VALUES["baseline"]) or "(?!)",


def canonical(settings):
    """Settings with sorted keys: Snakemake compares params by their text, and reordering
    keys in config.yaml must not rerun anything."""
    return json.loads(json.dumps(settings, sort_keys=True))


def corpus_annotation_files(wildcards):
    corpus = config["corpora"][wildcards.corpus]
    return annotation_files(corpus["reader"], Path(corpus["root"]), corpus["options"])


def target_table(target_set):
    if target_set in PAIR_SETS:
        return ["data/pair_targets/{}.parquet".format(target_set)]
    return expand("data/targets/{corpus}/{target_set}.parquet", corpus=CORPORA, target_set=target_set)


def variant_targets(wildcards):
    mix = variant_mix(config["variants"][wildcards.variant])
    return [path for name in sorted(mix) for path in target_table(name)]


def stage_one_adapter(wildcards):
    stage_one = config["variants"][wildcards.variant].get("init_from")
    return ["models/adapters/{}/adapter.safetensors".format(stage_one)] if stage_one else []


def all_quality_reports():
    tables = [path for name in sorted(config["targets"]) for path in target_table(name)]
    return [path.removesuffix(".parquet") + ".quality.json" for path in tables]


def target_set_params(wildcards):
    return canonical(target_set_entry(config, wildcards.target_set))


def prompt_template():
    """The prompt settings of every chat rendered by generation, training and the text ceiling."""
    return asdict(PIPELINE.prompts)


def generation_gpus(wildcards):
    """vLLM's tensor-parallel GPUs; the other backends run on the CPU or elsewhere."""
    backend = target_set_backend(config, wildcards.target_set)
    if not config["gpus"] or backend is None or backend[1]["type"] != "vllm":
        return 0
    return backend[1]["tensor_parallel_size"]


def generation_models(wildcards):
    """The prepared backbone, for the backends that run it here (not for ground truth or a server)."""
    backend = target_set_backend(config, wildcards.target_set)
    return ["models/llm.json"] if backend and backend[1]["type"] != "openai" else []


def generation_shape_check(wildcards):
    """The shape check, before a backbone generates (ancient: a new check alone reruns nothing)."""
    return [ancient(SHAPES)] if generation_models(wildcards) else []


def question_file(wildcards):
    entry = config["targets"][wildcards.target_set]
    return [entry["questions"]] if entry["source"] in QUESTION_SOURCES else []


def feature_indexes():
    return expand("data/features/{corpus}/index.parquet", corpus=CORPORA)


def metadata_tables():
    return expand("data/metadata/{corpus}.parquet", corpus=CORPORA)


def demo_truth():
    return ["data/demo/events.csv"] if "demo_corpus" in config else []


EVALUATIONS_RUN = PIPELINE.evaluation.run


wildcard_constraints:
    # Grounding is not in the tables' evaluations: it has a table of its own.
    evaluation="|".join(WILDCARD_VALUES["evaluation"]),


def benchmark_files(wildcards):
    return evaluation_input_files(config, wildcards.evaluation)


def evaluation_item_settings(wildcards):
    """Only the settings that shape this evaluation's items, so changing one reruns only it."""
    evaluation = config["evaluation"]
    if wildcards.evaluation == GROUNDING:
        # Asked bare: no answer instruction, no options, so not evaluation.prompting.
        return canonical({GROUNDING: evaluation[GROUNDING]})
    settings = {"prompting": evaluation["prompting"]}
    if wildcards.evaluation in ("hallucination", "instruction_following"):
        settings[wildcards.evaluation] = evaluation[wildcards.evaluation]
    return canonical(settings)


def judge_settings(wildcards):
    """The LLM judge, for the one evaluation it scores (Speech-IFEval's chain-of-thought)."""
    if wildcards.evaluation != "instruction_following":
        return None
    return canonical(config["evaluation"].get("judge"))


def baseline_endpoint(wildcards):
    """What a baseline's answers depend on: the server and the model it serves."""
    entry = config["evaluation"]["baselines"][wildcards.baseline]
    return canonical({key: entry[key] for key in ("base_url", "model")})


def demo_benchmark_files():
    return [str(DEMO_BENCHMARKS / name) for name in DEMO_BENCHMARK_FILES]
