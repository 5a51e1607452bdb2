"""The training experiments: stage settings (and their smoke size), captions of runs, the restoration figures."""

from __future__ import annotations

import torch

from dsdviz.data import Example, save_image
from dsdviz.experiments.noref import noref_versions, regressor_config
from dsdviz.experiments.restoration_training import (
    TwoStages,
    loss_caption,
    restoration_figures,
    restoration_rows,
    restorations_figure,
    stage_configs,
)
from dsdviz.experiments.settings import SMOKE_ENV, SMOKE_SIZE, SMOKE_STEPS
from dsdviz.experiments.stages import first_last, shipped_note, validation_table
from dsdviz.metrics import psnr
from dsdviz.models import network_caption, xsrresnet_sr
from dsdviz.training import TrainConfig, Trainer
from test_viz_figures import assert_legible, suptitle


def test_stage_configs_chain_the_stages_and_shrink_only_at_the_smoke_size(shared_data, tmp_path, monkeypatch):
    monkeypatch.delenv(SMOKE_ENV, raising=False)
    first, second = stage_configs("sr", True, tmp_path, prefix="sr_")
    assert first.loop.out == str(tmp_path / "sr_psnr") and second.loop.init == str(tmp_path / "sr_psnr" / "model.pt")
    assert (first.loop.steps, second.loop.steps, first.task.crop, second.task.stage) == (24, 12, 16, "dsd")
    assert regressor_config(True, 4, tmp_path).loop.out == str(tmp_path / "a4")
    monkeypatch.setenv(SMOKE_ENV, "1")
    small, _ = stage_configs("deblur", True, tmp_path)
    sizes = (small.loop.steps, small.loop.batch_size, small.task.crop, small.task.val_limit)
    assert sizes == (SMOKE_STEPS, 2, SMOKE_SIZE, 1)
    assert stage_configs("sr", False, tmp_path)[0].loop.steps == 200_000  # full settings never shrink
    assert len(noref_versions(True)["natural"]) == 1


def test_loss_captions_name_each_weighted_term():
    stage2 = TrainConfig.from_flat("sr", data="unused", stage="dsd")
    assert loss_caption(TrainConfig.from_flat("sr", data="unused")) == "L1"
    assert loss_caption(stage2) == "L1 + perceptual + 100 DSD"
    styled = TrainConfig.from_flat("deblur", data="unused", stage="dsd", feature_loss="multiscale_style",
                                   perceptual_weight=0.0, l1_weight=0.5, feature_weight=10.0)  # fmt: skip
    assert loss_caption(styled) == "0.5 L1 + 10 multi-scale style"


def test_run_summaries():
    history = [{"step": s, "split": "train", "loss": float(s)} for s in range(1, 11)]
    history += [{"step": 0, "split": "val", "psnr": 20.0}, {"step": 10, "split": "val", "psnr": 22.0}]
    assert first_last(history) == (1.5, 9.5)  # the first and last 2 of 10 logged values
    assert [row["psnr"] for row in validation_table(history)] == [20.0, 22.0]


def test_restoration_rows_score_each_output_against_the_ground_truth(rng):
    lr, hr = torch.rand(1, 3, 8, 8, generator=rng), torch.rand(1, 3, 32, 32, generator=rng)
    net = xsrresnet_sr(num_blocks=1)
    ((name, panels),) = restoration_rows([Example("x", lr, hr)], {"mine": net}, scale=4)
    assert name == "x" and [p.title for p in panels] == ["bicubic", "mine", "ground truth"]
    assert panels[1].caption == f"{float(psnr(panels[1].image, hr, shave=4)[0]):.2f} dB" and panels[2].caption is None
    fig = restorations_figure([Example("x", lr, hr)], {"mine": net}, scale=4, crop=16)
    assert suptitle(fig).startswith(network_caption(net)) and "(shave 4 px)" in suptitle(fig)


def test_restoration_figures_show_both_stages_labelled_by_their_losses(vgg_weights, tmp_path, rng):
    for index in range(2):
        save_image(torch.rand(1, 3, 48, 48, generator=rng), tmp_path / "images" / f"im{index}.png")
    common = dict(
        task="deblur", data=str(tmp_path / "images"), val_data=str(tmp_path / "images"), val_crop=32, num_blocks=2,
        steps=2, batch_size=2, crop=32, kernel_size=9, workers=0, progress=False, val_every=100, checkpoint_every=100,
    )  # fmt: skip
    first = Trainer(TrainConfig.from_flat(out=str(tmp_path / "psnr"), **common))
    first.run()
    second = Trainer(TrainConfig.from_flat(out=str(tmp_path / "style"), stage="dsd", feature_loss="style", **common))
    second.run()
    losses, restorations = restoration_figures(TwoStages.trained(first, second))
    assert suptitle(losses).startswith(f"Training {network_caption(first.network)}")
    assert [ax.get_title() for ax in losses.axes] == ["stage 1 (L1)", "stage 2 (L1 + perceptual + 100 style)"]
    assert [ax.get_title().split("\n")[0] for ax in restorations.axes] == [
        "im0: blurred input", "stage 1 (L1)", "stage 2 (+ style)", "ground truth",
        "im1: blurred input", "stage 1 (L1)", "stage 2 (+ style)", "ground truth",
    ]  # fmt: skip
    assert_legible(losses)
    assert_legible(restorations)


def test_the_note_of_gpu_and_mixed_models_says_where_and_how_far_they_were_trained():
    assert shipped_note(["xsrresnet5_sr_x4_dsd_gpu"]) == (
        "GPU-trained models shipped with dsdviz, not the paper's: "
        "xsrresnet5_sr_x4_dsd_gpu 2,577 of 100,000 steps (3 min)"
    )
    assert shipped_note(["xsrresnet_deblur_dsd_cpu", "dsd_regressor_a4_gpu"]).startswith(
        "CPU- and GPU-trained models shipped with dsdviz, not the paper's: xsrresnet_deblur_dsd_cpu 1,000 steps (")


def test_the_shipped_sr_stages_have_their_logs_settings_and_a_budget_note(shared_data, monkeypatch):
    monkeypatch.delenv(SMOKE_ENV, raising=False)  # the quick setting's examples: Set5 crops
    stages = TwoStages.shipped("sr")
    first, second = stages.configs
    assert (first.task.stage, second.task.stage, second.task.feature_loss) == ("psnr", "dsd", "dsd")
    assert second.loop.init == "xsrresnet_sr_x4_psnr_cpu"  # stage 2 continued the shipped stage 1
    for config, history in zip(stages.configs, stages.histories):
        steps = [e["step"] for e in history if e["split"] == "train"]
        assert steps == sorted(steps) and steps[-1] == config.loop.steps  # the whole run was logged
        assert [e["step"] for e in history if e["split"] == "val"][0] == 0
    assert stages.note.startswith(
        "CPU-trained models shipped with dsdviz, not the paper's: xsrresnet_sr_x4_psnr_cpu 7,000")
    assert " min)" in stages.note and [e.name for e in stages.examples] == ["baby", "bird"]
    losses, _ = restoration_figures(stages)
    assert stages.note in suptitle(losses)
