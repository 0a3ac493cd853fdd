"""Benchmark: reading a large AudioCaps-format corpus into metadata.

Writes a synthetic AudioCaps layout (one caption per clip, as in the real train.csv) with a
tiny WAV per clip (the check reads headers only, so length does not matter), then times the
reader with its header-only audio check.

    python scripts/bench_metadata.py --rows 100000
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from balsa_core.readers import read_corpus


def write_corpus(root: Path, rows: int) -> None:
    audio = root / "audio"
    audio.mkdir(parents=True)
    samples = (0.1 * np.sin(np.arange(160) / 3)).astype("float32")  # 10 ms: the header is what counts
    with (root / "train.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["audiocap_id", "youtube_id", "start_time", "caption"])
        for index in range(rows):
            youtube_id = f"{index:011d}"
            writer.writerow([index, youtube_id, 30, f"A dog barks, then rain falls on a roof ({index})"])
            sf.write(audio / f"Y{youtube_id}.wav", samples, 16000)
    for split in ("val", "test"):
        (root / f"{split}.csv").write_text("audiocap_id,youtube_id,start_time,caption\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=None, help="where to write the corpus (default: a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.workdir) as directory:
        root = Path(directory)
        started = time.perf_counter()
        write_corpus(root, args.rows)
        print(f"wrote {args.rows} rows and WAV files in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        result = read_corpus("bench", "audiocaps", root)
        header_seconds = time.perf_counter() - started
        assert len(result.rows) == args.rows and result.rejects.empty, "every row must come through"
        rate = args.rows / header_seconds
        print(f"reader + header-only check: {args.rows} rows in {header_seconds:.2f} s = {rate:,.0f} rows/s")


if __name__ == "__main__":
    main()
