"""FSD50K: ``FSD50K.ground_truth/{dev,eval}.csv`` tag Freesound clips with AudioSet classes.

``dev.csv`` is ``fname,labels,mids,split`` (split train or val), ``eval.csv`` is
``fname,labels,mids`` (the test split). ``labels`` and ``mids`` are parallel quoted
lists; labels are AudioSet names with underscores, every ancestor of a label listed
too. Audio is ``FSD50K.{dev,eval}_audio/<fname>.wav``. Dev and eval fnames overlap, so
clip ids carry the subset: ``<corpus>/dev_<fname>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from balsa_core.ontology import Ontology, OntologyError, load_ontology
from balsa_core.readers.common import (
    AnnotationError,
    AnnotationRow,
    ReaderOptions,
    ReadResult,
    probe_seeds,
    read_annotation_rows,
    readable_tag,
    tags_seed,
)

READER = "fsd50k"
GROUND_TRUTH_DIR = Path("FSD50K.ground_truth")
DEV_COLUMNS = ("fname", "labels", "mids", "split")
EVAL_COLUMNS = ("fname", "labels", "mids")
DEV_SPLITS = ("train", "val")
EVAL_SPLIT = "test"


@dataclass(frozen=True)
class Fsd50kOptions:
    include_eval: bool
    leaf_labels_only: bool
    # Only leaf_labels_only reads the ontology.
    ontology: Path | None
    probe_audio: bool

    @property
    def subsets(self) -> tuple[str, ...]:
        return ("dev", "eval") if self.include_eval else ("dev",)

    @property
    def leaf_ontology(self) -> Path | None:
        return self.ontology if self.leaf_labels_only else None


def parse_options(root: Path, options: Mapping[str, object]) -> Fsd50kOptions:
    given = ReaderOptions(READER, options, ("include_eval", "leaf_labels_only", "ontology", "probe_audio"))
    ontology = given.get("ontology")
    if ontology is not None and not isinstance(ontology, (str, Path)):
        raise given.error("ontology", f"must be a path, got {ontology!r}")
    leaf_labels_only = given.flag("leaf_labels_only", False)
    if leaf_labels_only and ontology is None:
        # Without the hierarchy no label can be told a leaf; keeping all would hide the mistake.
        raise given.error("leaf_labels_only", "needs option 'ontology'")
    return Fsd50kOptions(
        include_eval=given.flag("include_eval", True),
        leaf_labels_only=leaf_labels_only,
        # A relative path is inside the corpus root; an absolute one replaces it.
        ontology=None if ontology is None else Path(root) / ontology,
        probe_audio=given.probe_audio,
    )


def ground_truth_file(root: Path, subset: str) -> Path:
    return Path(root) / GROUND_TRUTH_DIR / f"{subset}.csv"


def audio_dir(root: Path, subset: str) -> Path:
    return Path(root) / f"FSD50K.{subset}_audio"


def annotation_files(root: Path, options: Mapping[str, object]) -> list[Path]:
    parsed = parse_options(root, options)
    ground_truth = [ground_truth_file(root, subset) for subset in parsed.subsets]
    return ground_truth if parsed.leaf_ontology is None else [*ground_truth, parsed.leaf_ontology]


def _list_cell(row: AnnotationRow, column: str) -> list[str]:
    text = row.cell(column)
    items = [item.strip() for item in text.split(",")]
    if "" in items:
        raise row.error(f"empty item in {column} {text!r}")
    return items


def leaf_labels(labels: list[str], mids: list[str], ontology: Ontology) -> list[str]:
    """The labels no other listed label descends from.

    Checking all descendants, not just children, still finds the leaves when the
    vocabulary skips a class between a label and its listed ancestor.
    """
    covered = {ancestor for mid in mids for ancestor in ontology.ancestors_of(mid)}
    return [label for label, mid in zip(labels, mids) if mid not in covered]


def _labels(row: AnnotationRow, ontology: Ontology | None) -> list[str]:
    labels = _list_cell(row, "labels")
    if ontology is None:
        return labels
    mids = _list_cell(row, "mids")
    if len(mids) != len(labels):
        raise row.error(f"{len(labels)} labels but {len(mids)} mids")
    unknown = [mid for mid in mids if mid not in ontology.names]
    if unknown:
        raise row.error(f"unknown mid(s) {unknown}: not in {ontology.source}")
    return leaf_labels(labels, mids, ontology)


def _split(row: AnnotationRow, subset: str) -> str:
    if subset == "eval":
        return EVAL_SPLIT
    split = row.cell("split")
    if split not in DEV_SPLITS:
        raise row.error(f"split {split!r} is not one of {DEV_SPLITS}")
    return split


def _seed(corpus: str, root: Path, subset: str, row: AnnotationRow, ontology: Ontology | None) -> dict[str, object]:
    fname = row.cell("fname")
    tags = [readable_tag(label) for label in _labels(row, ontology)]
    return tags_seed(
        clip_id=f"{corpus}/{subset}_{fname}",
        corpus=corpus,
        split=_split(row, subset),
        audio_path=audio_dir(root, subset) / f"{fname}.wav",
        tags=tags,
        source=row.source,
    )


def _subset_seeds(corpus: str, root: Path, subset: str, ontology: Ontology | None) -> list[dict[str, object]]:
    rows = read_annotation_rows(ground_truth_file(root, subset), DEV_COLUMNS if subset == "dev" else EVAL_COLUMNS)
    return [_seed(corpus, root, subset, row, ontology) for row in rows]


def _load_ontology(path: Path | None) -> Ontology | None:
    if path is None:
        return None
    try:
        return load_ontology(path)
    except OntologyError as error:
        raise AnnotationError(str(error)) from error


def read(name: str, root: Path, options: Mapping[str, object]) -> ReadResult:
    root = Path(root)
    parsed = parse_options(root, options)
    ontology = _load_ontology(parsed.leaf_ontology)
    seeds = [seed for subset in parsed.subsets for seed in _subset_seeds(name, root, subset, ontology)]
    return probe_seeds(seeds, probe=parsed.probe_audio)
