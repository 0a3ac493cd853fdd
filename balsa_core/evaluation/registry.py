"""Which evaluations the tables hold and which metric fills which column.

Kept free of heavy imports: the workflow reads it while parsing the Snakefile.
"""

from __future__ import annotations

from dataclasses import dataclass

TABLE4 = "table4"
TABLE5 = "table5"


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of the tables: ``loader`` reads its released files (None: built here);
    ``main_metric`` is the metric its validity and model comparisons are judged on (None: the
    metric of its first column over all items, see :func:`main_metric`)."""

    name: str
    loader: str | None
    main_metric: str | None = None


EVALUATIONS: dict[str, Evaluation] = {
    evaluation.name: evaluation
    for evaluation in (
        Evaluation("edansa", "edansa"),
        Evaluation("clotho_aqa", "clotho_aqa"),
        Evaluation("cochlscene", "cochlscene"),
        Evaluation("nonspeech7k", "nonspeech7k"),
        # The released files when configured, else POPE-style items from held-out tagged clips.
        Evaluation("hallucination", "audio_hallucination"),
        Evaluation("synonym_hypernym", None, main_metric="f1_weighted"),
        Evaluation("sakura", "sakura"),
        Evaluation("mmau", "mmau"),
        Evaluation("audio_entailment_clotho", "audio_entailment"),
        Evaluation("audio_entailment_audiocaps", "audio_entailment"),
        # Speech-IFEval's released files when configured, else constraints on held-out clips.
        Evaluation("instruction_following", "speech_ifeval"),
    )
}
# Built from the held-out clips of the training corpora, so always available.
ALWAYS_AVAILABLE = ("hallucination", "instruction_following")
# Not a column of Tables IV or V but a table of its own (results/grounding.csv): whether a
# model's description of a held-out tagged clip names its tags rather than another clip's
# (evaluation/grounding.py). Built from held-out clips, always run, and asked of the untrained
# adapter too, its floor.
GROUNDING = "grounding"
# Answered in free text: given answering.instruction_max_new_tokens, not the few tokens a yes/no
# answer or an option letter needs.
FREE_FORM = ("instruction_following", GROUNDING)


@dataclass(frozen=True)
class Column:
    """A table column: ``metric`` of ``evaluation`` over all items, or over one ``subset``."""

    name: str
    table: str
    evaluation: str
    metric: str
    subset: str | None = None


COLUMNS: tuple[Column, ...] = (
    Column("edansa_f1", TABLE4, "edansa", "f1_weighted"),
    Column("clotho_aqa_acc", TABLE4, "clotho_aqa", "acc"),
    Column("cochlscene_f1", TABLE4, "cochlscene", "f1_weighted"),
    Column("nonspeech7k_f1", TABLE4, "nonspeech7k", "f1_weighted"),
    Column("hallucination_acc", TABLE4, "hallucination", "acc"),
    Column("hallucination_f1_yes", TABLE4, "hallucination", "f1_yes"),
    Column("hallucination_f1_no", TABLE4, "hallucination", "f1_no"),
    Column("hallucination_f1_weighted", TABLE4, "hallucination", "f1_weighted"),
    Column("hallucination_yes_rate", TABLE4, "hallucination", "yes_rate"),
    Column("hallucination_unparsed", TABLE4, "hallucination", "unparsed"),
    Column("synonym_hypernym_precision", TABLE5, "synonym_hypernym", "precision_weighted"),
    Column("synonym_hypernym_recall", TABLE5, "synonym_hypernym", "recall_weighted"),
    Column("synonym_hypernym_f1", TABLE5, "synonym_hypernym", "f1_weighted"),
    Column("sakura_acc", TABLE5, "sakura", "acc"),
    Column("sakura_single_hop_acc", TABLE5, "sakura", "acc", "single"),
    Column("sakura_multi_hop_acc", TABLE5, "sakura", "acc", "multi"),
    Column("mmau_acc", TABLE5, "mmau", "acc"),
    Column("entailment_clotho_acc", TABLE5, "audio_entailment_clotho", "acc"),
    Column("entailment_audiocaps_acc", TABLE5, "audio_entailment_audiocaps", "acc"),
    Column("if_close", TABLE5, "instruction_following", "if_rate"),
)
# Speech-IFEval's closed- and open-ended rates; the IF rate is their mean (the BALSa journal's
# IFRate), the closed-ended rate alone when the open-ended one is not measured.
IF_COLUMNS = ("if_close", "if_open", "if_rate", "if_forgetting_rate")
IF_OPEN_NOTE = "if_open: open-ended instructions need an LLM judge and are not run; if_rate is the closed-ended rate"
# Why an item only an LLM judge can score was skipped (an evaluation job's "skipped" reason).
NO_JUDGE = "needs an LLM judge, none is configured (evaluation.judge)"
IF_NO_JUDGE_NOTE = (
    "if_open: Speech-IFEval's chain-of-thought replies need an LLM judge and none is configured "
    "(evaluation.judge); if_rate is the closed-ended rate"
)


def main_metric(evaluation: str) -> str | None:
    """The metric ``evaluation`` is judged on: its own, else its first column's over all items
    (None: it has neither)."""
    known = EVALUATIONS.get(evaluation)
    if known is not None and known.main_metric is not None:
        return known.main_metric
    return next((c.metric for c in COLUMNS if c.evaluation == evaluation and c.subset is None), None)


def table_columns(table: str) -> list[str]:
    names = [column.name for column in COLUMNS if column.table == table]
    return names + [name for name in IF_COLUMNS if name not in names] if table == TABLE5 else names
