"""``balsa``: every rule of the workflow by hand, through the very function its job runs.

``balsa <rule> [WILDCARDS] --<input or output> PATH ...`` calls the stage named as the rule
(``balsa_core.stages.<step>.<rule>``) with the config and the files its rule names, so a stage
can be rerun or debugged outside Snakemake: ``balsa train_adapter --help``. ``balsa ask`` asks a
trained adapter about audio files.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from balsa_core.config import ConfigError, load_config
from balsa_core.logs import setup_logging
from balsa_core.settings import PipelineConfig
from balsa_core.stages import demo, evaluate, features, generate, grounding, metadata, models, stage_parameters, train

# Subcommand -> stage: every rule of rules/*.smk, by its name.
STAGES: dict[str, Callable[..., None]] = {
    stage.__name__: stage
    for stage in (
        demo.demo_corpus,
        demo.demo_benchmarks,
        metadata.metadata,
        metadata.data_summary,
        metadata.multi_audio_pairs,
        models.prepare_model,
        models.check_shapes,
        generate.generate_targets,
        generate.generate_pair_targets,
        generate.generation_quality,
        features.cache_features,
        train.train_adapter,
        evaluate.evaluation_clips,
        evaluate.evaluation_items,
        evaluate.evaluation_features,
        evaluate.evaluate_adapter,
        evaluate.evaluate_text_ceiling,
        evaluate.evaluate_baseline,
        evaluate.evaluation_tables,
        grounding.untrained_adapter,
        grounding.grounding_table,
    )
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="balsa", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", type=Path, default=Path("config.yaml"), help="pipeline config (default: config.yaml)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, stage in STAGES.items():
        summary = " ".join(stage.__doc__.split("\n\n")[0].split())
        command = commands.add_parser(name, help=summary, description=summary)
        for parameter in stage_parameters(stage):
            option = "--" + parameter.name.replace("_", "-")
            if parameter.kind == "wildcard":
                command.add_argument(parameter.name, help=f"the rule's {{{parameter.name}}} wildcard")
            elif parameter.kind == "paths":
                command.add_argument(option, dest=parameter.name, type=Path, nargs="+", required=True, metavar="PATH")
            else:
                required = parameter.kind == "path"
                command.add_argument(option, dest=parameter.name, type=Path, required=required, metavar="PATH")

    ask = commands.add_parser("ask", help="ask a trained adapter about audio files")
    ask.add_argument("audio", type=Path, nargs="+", help="one or more audio files, then the question")
    ask.add_argument("question")
    ask.add_argument("--adapter", type=Path, default=Path("models/adapters/positive_negative"))
    ask.add_argument("--max-new-tokens", type=int, default=128)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup_logging(args.threads)
    if args.command == "ask":
        from balsa_core.audio_llm import AudioLLM

        model = AudioLLM.from_pretrained(args.adapter)
        print(model.generate(args.audio, args.question, max_new_tokens=args.max_new_tokens))
        return 0
    try:
        config = PipelineConfig.from_validated(load_config(args.config))
    except ConfigError as error:
        raise SystemExit(f"balsa: {error}") from None
    stage = STAGES[args.command]
    arguments = {parameter.name: getattr(args, parameter.name) for parameter in stage_parameters(stage)}
    known = config.wildcard_values()
    for name, value in arguments.items():
        if name in known and value not in known[name]:
            raise SystemExit(f"balsa: no {name} {value!r} in {args.config}; there are {known[name]}")
    stage(config, **arguments)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
