"""Run one training job on several processes: ``torchrun`` starts them, each calls ``train``.

The job's arguments travel as a JSON spec file, so the processes run exactly the function the
single-process path calls. On one node ``torchrun --standalone`` needs nothing else; on several,
the same command runs once per node (``srun`` under SLURM) and meets at ``rdzv_endpoint``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PATH_ARGUMENTS = ("target_paths", "feature_indexes", "llm_manifest", "encoder_manifest", "out_dir", "init_from")


def processes(distributed: Mapping[str, Any]) -> int:
    return distributed.get("processes_per_node", 1) * distributed.get("nodes", 1)


def torchrun_command(
    spec_path: Path, processes_per_node: int, nodes: int = 1, rdzv_endpoint: str | None = None
) -> list[str]:
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={processes_per_node}"]
    if nodes == 1:
        command.append("--standalone")
    else:
        if not rdzv_endpoint:
            raise ValueError("training.distributed.rdzv_endpoint (host:port of the first node) is needed for nodes > 1")
        command += [f"--nnodes={nodes}", "--rdzv-backend=c10d", f"--rdzv-endpoint={rdzv_endpoint}"]
        if "SLURM_JOB_ID" in os.environ:
            command = ["srun", f"--nodes={nodes}", "--ntasks-per-node=1", *command]
    return [*command, "-m", "balsa_core.stages.distributed", str(spec_path)]


def train_variant(distributed: Mapping[str, Any], **arguments: Any) -> None:
    """``stages.models.train(**arguments)`` in this process, or under torchrun when the config
    asks for several processes."""
    from balsa_core.stages.models import train

    if processes(distributed) == 1:
        train(**arguments)
        return
    out_dir = Path(arguments["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    spec_path = out_dir / "train_spec.json"
    spec_path.write_text(json.dumps(_to_json(arguments), indent=2) + "\n")
    command = torchrun_command(
        spec_path, distributed["processes_per_node"], distributed.get("nodes", 1), distributed.get("rdzv_endpoint")
    )
    log.info("launching: %s", " ".join(command))
    result = subprocess.run(command, check=False)
    spec_path.unlink(missing_ok=True)
    if result.returncode != 0:
        raise RuntimeError(f"distributed training failed (exit code {result.returncode}): {' '.join(command)}")


def _to_json(arguments: Mapping[str, Any]) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, (list, tuple)):
            return [convert(item) for item in value]
        return value

    return {name: convert(value) for name, value in arguments.items()}


def _from_json(spec: Mapping[str, Any]) -> dict[str, Any]:
    arguments = dict(spec)
    for name in PATH_ARGUMENTS:
        value = arguments.get(name)
        if isinstance(value, list):
            arguments[name] = [Path(item) for item in value]
        elif value is not None:
            arguments[name] = Path(value)
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    from balsa_core.logs import setup_logging
    from balsa_core.stages.models import train

    (spec_path,) = argv if argv is not None else sys.argv[1:]
    setup_logging()
    train(**_from_json(json.loads(Path(spec_path).read_text())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
