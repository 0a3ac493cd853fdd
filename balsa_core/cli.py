"""``balsa``: every pipeline stage by hand, through the same functions the workflow runs.

Each subcommand takes the config file plus explicit input and output paths, so a stage can
be rerun or debugged outside Snakemake: ``balsa generate --help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from balsa_core.config import (
    UNTRAINED,
    ConfigError,
    configured_evaluations,
    generation_params,
    load_config,
    target_set_entry,
    variant_mix,
    variant_training,
)
from balsa_core.evaluation.registry import GROUNDING
from balsa_core.logs import setup_logging
from balsa_core.stages import data as data_stages
from balsa_core.stages import evaluation as evaluation_stages
from balsa_core.stages import models as model_stages
from balsa_core.stages.distributed import train_variant


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="balsa", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", type=Path, default=Path("config.yaml"), help="pipeline config (default: config.yaml)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo-corpus", help="write the synthetic demo corpus")
    demo.add_argument("--out", type=Path, default=Path("data/demo"))

    metadata = commands.add_parser("metadata", help="read one corpus into the common metadata table")
    metadata.add_argument("corpus", help="a key of the config's corpora")
    metadata.add_argument("--out", type=Path, required=True, help="metadata Parquet")
    metadata.add_argument("--rejects", type=Path, required=True, help="rejected files Parquet")

    models = commands.add_parser("models", help="resolve (and convert, if bundled) the LLM or encoder")
    models.add_argument("role", choices=["llm", "encoder"])
    models.add_argument("--out", type=Path, required=True, help="manifest JSON")

    generate = commands.add_parser("generate", help="write one target set (the backbone, or the ground truth)")
    generate.add_argument("--target-set", required=True, help="a name under targets in the config")
    generate.add_argument("--metadata", type=Path, nargs="+", required=True, help="metadata table(s)")
    generate.add_argument("--pairs", type=Path, help="pairs table, for two-audio sets")
    generate.add_argument("--llm", type=Path, help="LLM manifest JSON (backends that run the backbone)")
    generate.add_argument("--out", type=Path, required=True, help="targets Parquet; shards go beside it")

    features = commands.add_parser("features", help="cache the encoder's hidden states for one corpus")
    features.add_argument("--metadata", type=Path, required=True)
    features.add_argument("--encoder", type=Path, required=True, help="encoder manifest JSON")
    features.add_argument("--out", type=Path, required=True, help="index Parquet; shards go beside it")

    train = commands.add_parser("train", help="train the adapter of one variant")
    train.add_argument("variant", help="a key of the config's variants")
    train.add_argument("--targets", type=Path, nargs="+", required=True)
    train.add_argument("--features", type=Path, nargs="+", required=True, help="feature index Parquets")
    train.add_argument("--llm", type=Path, required=True)
    train.add_argument("--encoder", type=Path, required=True)
    train.add_argument("--out", type=Path, required=True, help="adapter directory")
    train.add_argument("--init-from", type=Path, help="stage-1 adapter directory (multi-audio curriculum)")

    untrained = commands.add_parser(
        "untrained-adapter", help="save the adapter as training starts it (the grounding evaluation's floor)"
    )
    untrained.add_argument("--features", type=Path, nargs="+", required=True, help="feature index Parquets")
    untrained.add_argument("--llm", type=Path, required=True)
    untrained.add_argument("--encoder", type=Path, required=True)
    untrained.add_argument("--out", type=Path, default=Path("models/adapters") / UNTRAINED, help="adapter directory")

    items = commands.add_parser("eval-items", help="write the prepared items of one evaluation")
    items.add_argument(
        "evaluation", help="an evaluation of Tables IV and V, or grounding (see balsa_core/evaluation/registry.py)"
    )
    items.add_argument("--metadata", type=Path, nargs="+", required=True, help="metadata tables of the corpora")
    items.add_argument("--truth", type=Path, help="the demo's events.csv (the demo's captioned clips' tags)")
    items.add_argument("--out", type=Path, required=True, help="items Parquet")

    evaluate = commands.add_parser("evaluate", help="answer and score one evaluation's items with one model")
    evaluate.add_argument("evaluation", help="the evaluation the items belong to")
    evaluate.add_argument("--items", type=Path, required=True, help="items Parquet (eval-items)")
    evaluate.add_argument("--adapter", type=Path, help="adapter directory; omit for the text ceiling")
    evaluate.add_argument(
        "--features",
        type=Path,
        nargs="+",
        help="feature indexes: the corpora's and the evaluation's own (with --adapter)",
    )
    evaluate.add_argument("--llm", type=Path, required=True)
    evaluate.add_argument("--answers", type=Path, required=True)
    evaluate.add_argument("--metrics", type=Path, required=True)

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
        print(model_stages.ask(args.adapter, args.audio, args.question, args.max_new_tokens))
        return 0
    try:
        config = load_config(args.config)
    except ConfigError as error:
        raise SystemExit(f"balsa: {error}") from None

    if args.command == "demo-corpus":
        data_stages.demo_corpus(config["demo_corpus"], args.out)
    elif args.command == "metadata":
        data_stages.metadata(
            args.corpus, config["corpora"][args.corpus], config["audio_hygiene"], args.out, args.rejects
        )
    elif args.command == "models":
        model_stages.prepare(args.role, config["models"][args.role], args.out)
    elif args.command == "generate":
        if args.target_set not in config["targets"]:
            raise SystemExit(f"balsa: no target set {args.target_set!r} under targets in {args.config}")
        entry = config["targets"][args.target_set]
        model_stages.generate(
            target_set_entry(config, args.target_set),
            args.metadata,
            args.pairs,
            Path(entry["questions"]) if entry["source"] == "questions" else None,
            args.llm,
            config["prompts"],
            generation_params(config, args.target_set),
            args.out,
            args.out.with_suffix(".quality.json"),
        )
    elif args.command == "features":
        model_stages.features(args.metadata, args.encoder, config["features"], args.out)
    elif args.command == "train":
        train_variant(
            config["training"]["distributed"],
            target_paths=args.targets,
            feature_indexes=args.features,
            llm_manifest=args.llm,
            encoder_manifest=args.encoder,
            mix=variant_mix(config["variants"][args.variant]),
            prompts=config["prompts"],
            layers=config["features"]["layers"],
            adapter_settings=config["adapter"],
            training_settings=variant_training(config, args.variant),
            out_dir=args.out,
            init_from=args.init_from,
            feature_settings=config["features"],
        )
    elif args.command == "untrained-adapter":
        model_stages.untrained_adapter(
            args.features,
            args.llm,
            args.encoder,
            config["prompts"],
            config["features"]["layers"],
            config["adapter"],
            config["features"],
            config["training"]["seed"],
            args.out,
        )
    elif args.command == "eval-items":
        runnable = [*configured_evaluations(config), GROUNDING]
        if args.evaluation not in runnable:
            raise SystemExit(f"balsa: {args.evaluation!r} is not configured; configured: {runnable}")
        evaluation = config["evaluation"]
        evaluation_stages.evaluation_items(
            args.evaluation,
            evaluation["benchmarks"].get(args.evaluation),
            evaluation,
            evaluation_stages.known_clips(args.metadata, args.truth),
            args.out,
        )
    elif args.command == "evaluate":
        if args.adapter is not None and args.features is None:
            raise SystemExit("balsa: --adapter needs --features, the feature indexes of the items' clips")
        model_stages.evaluate(
            args.evaluation,
            args.items,
            args.adapter.name if args.adapter else model_stages.TEXT_CEILING,
            args.adapter,
            args.features or [],
            args.llm,
            config["prompts"],
            config["evaluation"]["answering"],
            args.answers,
            args.metrics,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
