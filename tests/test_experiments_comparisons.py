"""Figs. 13-16 experiments: schedules, aligned staging of test sets, tables and figures from given models."""

from __future__ import annotations

import pytest
import torch

from dsdviz.data import load_image, save_image
from dsdviz.evaluation import MISSING
from dsdviz.experiments.deblur_comparison import DeblurComparisonSetup, run_deblur_comparison
from dsdviz.experiments.loss_comparison import LossComparison, LossComparisonSetup, plot_loss_comparison
from dsdviz.experiments.methods import OURS_DSD
from dsdviz.experiments.settings import SMOKE_ENV
from dsdviz.experiments.sr_comparison import SRComparisonSetup, run_sr_comparison, stage_sr_set
from dsdviz.experiments.stages import TrainingSchedule
from dsdviz.experiments.staging import compare_folders
from dsdviz.metrics import psnr
from dsdviz.models import XSRResNet


def test_training_schedule_overrides():
    schedule = TrainingSchedule(quick=True, psnr_steps=400, feature_steps=200, crop=24, monitor=False, validation=False)
    expected = {"steps": 400, "crop": 24, "decay_every": 300, "monitor_every": None, "val_data": None}
    assert schedule.overrides("psnr") == expected
    assert schedule.overrides("dsd")["decay_every"] == 150
    assert TrainingSchedule(quick=False, feature_steps=10).overrides("dsd") == {"steps": 10}  # full: the preset's decay


def test_stage_sr_set_aligns_crops_of_every_method(shared_data, tmp_path):
    net = XSRResNet(scale=4, num_blocks=0)
    hr_folder, folders = stage_sr_set("Set5", ["baby", "bird"], 64, {"mine": net}, tmp_path)
    assert set(folders) >= {"bicubic", "mine", "RCAN", "SRGAN", "SRResNet", "nESRGAN+"}
    assert folders["ESRGAN"] is None  # the official ESRGAN result is Set14 baboon only
    full_hr = load_image(shared_data / "Set5" / "HR" / "bird.png")  # 288 x 288: central 64 px at (112, 112)
    torch.testing.assert_close(load_image(hr_folder / "bird.png"), full_hr[..., 112:176, 112:176])
    rcan = load_image(shared_data / "sr_results" / "RCAN" / "Set5" / "bird.png")[..., 112:176, 112:176]
    torch.testing.assert_close(load_image(folders["RCAN"] / "bird.png"), rcan)
    srgan = load_image(shared_data / "sr_results" / "SRGAN" / "Set5" / "bird.png")[..., 112:176, 112:176]
    torch.testing.assert_close(load_image(folders["SRGAN"] / "bird.png"), srgan)
    for method in ("bicubic", "mine"):
        assert load_image(folders[method] / "baby.png").shape == (1, 3, 64, 64)
    # bicubic of the aligned LR crop is close to the HR crop (misalignment would cost many dB)
    assert float(psnr(load_image(folders["bicubic"] / "bird.png"), full_hr[..., 112:176, 112:176], shave=4)) > 28


def test_sr_comparison_of_given_models_reports_missing_methods(vgg_weights, shared_data, tmp_path):
    models = {OURS_DSD: XSRResNet(scale=4, num_blocks=0)}
    setup = SRComparisonSetup(
        test_sets=(("Set5", 2),), crop=64, subsets=(), fig14=(("Set5", "butterfly"),), fig15=(), zoom=32
    )
    result = run_sr_comparison(setup, tmp_path / "runs", tmp_path / "work", models=models, progress=False)
    (table,) = result.tables
    assert table.test_set == "Set5, first 2 of 5 images, central 64 px crops"
    assert table.row("RCAN").scored == 2 and table.row("ESRGAN").note == MISSING
    assert table.row(OURS_DSD).params == 342_019 and table.row("bicubic").params == 0
    assert table.rows[0].method == "ground truth" and table.rows[0].is_reference  # Q_DSD of the HR crops
    assert sorted(table.rows[0].means) == ["q_dsd_a2", "q_dsd_a4"]
    panels = result.rows[("Set5", "butterfly")]
    # the drawn published methods with outputs on Set5 (ESRGAN: Set14 only; RCAN+ and the re-implementation: tables)
    assert [p.title for p in panels] == ["bicubic", OURS_DSD, "SRResNet", "SRGAN", "nESRGAN+", "RCAN",
                                         "ground truth (HR)"]  # fmt: skip
    assert "dB, DSD" in panels[0].caption and result.note is None


def test_deblur_comparison_of_given_models(vgg_weights, shared_data, tmp_path):
    models = {OURS_DSD: XSRResNet(scale=1, num_blocks=0)}
    setup = DeblurComparisonSetup(gopro_crop=64, levin_limit=1, levin_crop=64, examples_limit=1, examples_crop=64)
    result = run_deblur_comparison(setup, tmp_path / "runs", tmp_path / "work", models=models, progress=False)
    gopro, levin, examples = result.tables
    assert gopro.row("DeepDeblur").note == "scored on 1 of 2 images"  # Flower has DeepDeblur's output and GT
    assert gopro.row("DeblurGAN-v2").note == MISSING and levin.row("DeepDeblur").note == MISSING
    assert examples.columns == ["q_dsd_a2", "q_dsd_a4", "niqe"] and examples.row("DeepDeblur").scored == 1
    assert gopro.rows[0].is_reference and not any(r.is_reference for r in examples.rows)  # no ground truth there
    assert "Levin et al. kernels" in levin.test_set
    row = result.rows[f"{gopro.test_set}: Flower"]
    assert [p.title for p in row][-3:] == ["DeepDeblur", "DeblurGAN-v2", "ground truth"] and row[-2].image is None


def test_plot_loss_comparison_shows_scores_and_the_quick_note(rng):
    images = {"LR input": torch.rand(1, 3, 16, 16, generator=rng)}
    images.update({m: torch.rand(1, 3, 64, 64, generator=rng) for m in ("style", "DSD", "ground truth")})
    result = LossComparison(
        "Set5", {"style": {"x": 9.0}, "DSD": {"x": 3.0}}, {"style": {"x": 20.0}, "DSD": {"x": 21.0}},
        {"x": images}, 726_659, "quick mode: CPU-trained for 8 + 4 steps, not the paper's models", zoom=16,
    )  # fmt: skip
    fig = plot_loss_comparison(result)
    assert "style 9.0 dB, DSD 3.0 dB" in fig._suptitle.get_text() and "quick mode" in fig._suptitle.get_text()
    assert [ax.get_title() for ax in fig.subfigs[0].axes[::2]] == [
        "LR input", "style (0.73M)\ngrid 9.0 dB", "DSD (0.73M)\ngrid 3.0 dB", "ground truth"
    ]
    assert "| DSD | 3.00 | 3.00 | 3.00 | 21.00 |" in result.to_markdown()


def test_compare_folders_reads_each_method_and_marks_missing_files(tmp_path, rng):
    for method in ("a", "b"):
        save_image(torch.rand(1, 3, 32, 32, generator=rng), tmp_path / method / "img.png")
    (tmp_path / "c").mkdir()
    fig = compare_folders({"a": tmp_path / "a", "b": tmp_path / "b", "c": tmp_path / "c"}, "img", zoom=16)
    assert [ax.get_title() for ax in fig.axes[::2]] == ["a", "b", "c"]
    assert fig.axes[4].texts[0].get_text() == "not available" and fig._suptitle.get_text() == "img"
    with pytest.raises(ValueError, match="no folder holds"):
        compare_folders({"c": tmp_path / "c"}, "img")


@pytest.mark.parametrize("setup", [LossComparisonSetup, SRComparisonSetup, DeblurComparisonSetup])
def test_quick_setups_use_the_shipped_models_and_shrink_only_when_asked(setup, monkeypatch):
    monkeypatch.delenv(SMOKE_ENV, raising=False)
    quick = setup.quick()
    assert quick.schedule is None  # the shipped CPU-trained models, no training
    monkeypatch.setenv(SMOKE_ENV, "1")
    small = setup.quick()
    assert small.schedule is None and small != quick
    assert setup.full() == setup() and setup().schedule == TrainingSchedule(quick=False)  # full settings never shrink


def test_equal_budget_table_scores_the_arms_with_the_official_results(vgg_weights, shared_data, tmp_path):
    from dsdviz.experiments.equal_budget import EqualBudgetSetup, run_equal_budget, save_equal_budget

    models = {"stage 1 (L1)": XSRResNet(scale=4, num_blocks=0), "(b) + DSD": XSRResNet(scale=4, num_blocks=1)}
    setup = EqualBudgetSetup(test_sets=(("Set5", 1),), crop=48, figure=(("Set5", "bird"),), zoom=32)
    result = run_equal_budget(setup, tmp_path / "work", models=models, progress=False)
    (table,) = result.tables
    assert [r.method for r in table.rows] == ["ground truth", "bicubic", *models, "SRResNet", "SRGAN"]
    assert "grid_artifacts" in table.columns and table.row("SRGAN").scored == 1
    # the official SRResNet is far above bicubic in PSNR on the same crop, the GAN below it
    assert table.row("SRResNet").means["psnr"] > table.row("bicubic").means["psnr"] > table.row("SRGAN").means["psnr"]
    assert [p.title for p in result.rows[("Set5", "bird")]] == ["bicubic", *models, "SRGAN", "ground truth (HR)"]
    paths = save_equal_budget(result, setup, tmp_path / "figures")
    assert [p.name for p in paths] == ["equal_budget.png", "equal_budget.md", "equal_budget.csv",
                                       "equal_budget_per_image.csv"]  # fmt: skip
    assert "same 250 steps" in paths[1].read_text()
    full = paths[1].read_text()
    quick = save_equal_budget(result, setup, tmp_path / "figures", "equal_budget_quick")  # the quick recipe's names
    assert [p.name for p in quick[1:]] == ["equal_budget_quick.md", "equal_budget_quick.csv",
                                           "equal_budget_quick_per_image.csv"]  # fmt: skip
    assert paths[1].read_text() == full  # the full run's tables are left as they are


def test_the_equal_budget_script_runs_the_arms_commands():
    from pathlib import Path

    from dsdviz.experiments.equal_budget import ARMS, GAN_VARIANTS, arm_command

    script = (Path(__file__).resolve().parents[1] / "tools" / "equal_budget.sh").read_text()
    for label in [*ARMS, *GAN_VARIANTS]:
        assert arm_command(label) in script, label


def test_the_shipped_arms_differ_only_in_their_loss():
    from dsdviz.experiments.equal_budget import ARM_STEPS, ARMS
    from dsdviz.models import model_meta
    from dsdviz.training import TrainConfig

    configs = {label: TrainConfig.from_record(model_meta(name)["train_config"]).flat() for label, (name, _) in
               ARMS.items()}  # fmt: skip
    loss = {"feature_weight", "adversarial", "out"}
    first = configs["(a) L1 + perceptual"]
    for label, config in configs.items():
        assert {k: v for k, v in config.items() if k not in loss} == {k: v for k, v in first.items() if k not in loss}
        assert model_meta(ARMS[label][0])["step"] == ARM_STEPS, label
    assert (first["init"], first["crop"], first["batch_size"], first["lr"], first["precision"], first["steps"]) == (
        "xsrresnet_sr_x4_psnr_cpu", 24, 16, 2e-4, "fp32", ARM_STEPS)  # fmt: skip
    assert [(c["feature_weight"], c["adversarial"], c["adversarial_weight"]) for c in configs.values()] == [
        (0.0, "none", 1e-3), (100.0, "none", 1e-3), (0.0, "standard", 1e-3), (100.0, "standard", 1e-3)]  # fmt: skip


def test_the_adversarial_weight_table_at_the_smoke_size(vgg_weights, shared_data, tmp_path, monkeypatch):
    from dsdviz.evaluation import read_csv
    from dsdviz.experiments.equal_budget import GAN_VARIANTS, adversarial_weight_figure

    monkeypatch.setenv(SMOKE_ENV, "1")
    markdown, table, _ = adversarial_weight_figure(True, tmp_path)
    rows = read_csv(table)
    assert [r["method"] for r in rows] == [
        "ground truth", "bicubic", "stage 1 (L1)", "(a) L1 + perceptual", "(b) + DSD", *GAN_VARIANTS, "SRResNet", "SRGAN"]
    assert all(r["images"] == "1" for r in rows) and "with a relativistic critic" in markdown.read_text()


def test_the_adversary_variants_differ_from_arm_c_only_in_the_adversary():
    from dsdviz.experiments.equal_budget import ARM_STEPS, GAN_VARIANTS, adversary_sweep
    from dsdviz.models import model_meta
    from dsdviz.training import TrainConfig

    configs = [TrainConfig.from_record(model_meta(name)["train_config"]).flat() for name, _ in GAN_VARIANTS.values()]
    adversary = ("adversarial", "adversarial_weight", "out")
    same = [{k: v for k, v in config.items() if k not in adversary} for config in configs]
    assert all(rest == same[0] for rest in same) and same[0]["steps"] == ARM_STEPS
    assert [(c["adversarial"], c["adversarial_weight"]) for c in configs] == [
        ("standard", 1e-3), ("standard", 1e-2), ("standard", 1e-1), ("relativistic", 1e-1)]
    assert all(model_meta(name)["step"] == ARM_STEPS for name, _ in GAN_VARIANTS.values())
    assert list(adversary_sweep())[1:3] == ["(a) L1 + perceptual", "(b) + DSD"]
