"""tools/gpu_campaign.sh: every run of the full-setting campaign starts, chains and exports (CPU, one step each)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dsdviz.data import load_image, save_image
from dsdviz.models import load_model, model_meta

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "gpu_campaign.sh"
RUNS = ["sr_psnr", "sr_dsd", "deblur_psnr", "deblur_dsd", "fig13_psnr", "fig13_style", "fig13_multiscale_style",
        "fig13_dsd", "regressor_a2", "regressor_a4"]  # fmt: skip


@pytest.mark.slow
def test_the_campaign_trains_chains_and_exports_every_network(vgg_weights, shared_data, tmp_path):
    validation = tmp_path / "val"  # one validation image, as small as psi_4's 320 px crop allows
    save_image(load_image(shared_data / "Set5" / "HR" / "baby.png")[..., 96:416, 96:416], validation / "baby.png")
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHON": sys.executable, "WORKERS": "0", "DSDVIZ_DATA": str(shared_data),
           "EXTRA": f"--device cpu --steps 1 --batch-size 1 --val-data {validation} --monitor-batch 1"}  # fmt: skip
    done = subprocess.run(["bash", str(SCRIPT), str(runs), "30"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": exit 0") == len(RUNS), done.stdout
    for run in RUNS:
        meta = model_meta(runs / run / "model.pt")
        assert meta["step"] == meta["train_config"]["steps"] == 1, run
        assert meta["train_config"]["crop"] == {"sr": 40, "deblur": 160, "regressor": 80}[meta["task"]], run  # full
    assert model_meta(runs / "sr_dsd" / "model.pt")["train_config"]["init"] == str(runs / "sr_psnr" / "model.pt")
    assert model_meta(runs / "fig13_dsd" / "model.pt")["train_config"]["feature_loss"] == "dsd"
    assert len(load_model(runs / "fig13_style" / "model.pt").body) == 5
    assert load_model(runs / "regressor_a4" / "model.pt").alpha == 4.0
