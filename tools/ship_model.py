"""Ship a finished training run as a package model: ``python tools/ship_model.py RUN NAME``.

Writes ``dsdviz/models/weights/<NAME>.pt`` (the run's ``model.pt`` in float16, its metadata plus
``train_seconds``, the summed time of the logged training steps, and ``hardware``) and
``<NAME>.log.jsonl`` (the run's train, validation and monitor log entries, for the training
notebooks' curves). Add the model's row, command and scores to ``weights/README.md`` by hand.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from dsdviz.models import load_model, model_meta
from dsdviz.models.serialization import atomic_save, model_record
from dsdviz.models.store import WEIGHTS_DIR, training_budget

#: Log entries kept in the shipped log.
KEPT = ("train", "val", "monitor")


def train_seconds(log: list[dict]) -> float:
    """Seconds spent in training steps: each train entry's mean step time times the steps since the previous one."""
    total, previous = 0.0, 0
    for entry in log:
        if entry["split"] == "train":
            total += entry["seconds"] * (entry["step"] - previous)
            previous = entry["step"]
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run folder of dsdviz train (model.pt, log.jsonl)")
    parser.add_argument("name", help="the shipped model's name, e.g. xsrresnet_sr_x4_dsd_cpu")
    parser.add_argument("--hardware", default=f"{os.cpu_count()} CPU cores", help="what it was trained on")
    args = parser.parse_args()
    log = [json.loads(line) for line in (args.run / "log.jsonl").read_text().splitlines() if line.strip()]
    meta = {**model_meta(args.run / "model.pt"), "train_seconds": round(train_seconds(log), 1),
            "hardware": args.hardware}  # fmt: skip
    record = model_record(load_model(args.run / "model.pt"), half=True, meta=meta)
    model = atomic_save(record, WEIGHTS_DIR / f"{args.name}.pt")
    kept = "".join(json.dumps(entry) + "\n" for entry in log if entry["split"] in KEPT)
    (WEIGHTS_DIR / f"{args.name}.log.jsonl").write_text(kept)
    print(f"{model} ({model.stat().st_size / 1e6:.1f} MB): {training_budget(meta)}")


if __name__ == "__main__":
    main()
