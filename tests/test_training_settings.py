"""Training settings: loop + task settings, flat names routed, presets, old checkpoints, corrupt files, provenance."""

from __future__ import annotations

import argparse
import inspect
import os

import pytest
import torch

from dsdviz.data import save_image
from dsdviz.models import SHIPPED_RESTORATION, model_meta, shipped_models
from dsdviz.training import DeblurSettings, LoopSettings, RegressorSettings, SRSettings, TrainConfig, Trainer, preset
from dsdviz.cli.train import add_commands
from dsdviz.training.checkpoints import RESUMABLE_CHANGES
from dsdviz.training.config import TASKS
from dsdviz.training.presets import PRESETS, SETTINGS, find_preset, follow_steps, preset_fields
from dsdviz.training.provenance import import_closure, source_digest


def test_presets(tmp_path):
    full = preset("sr", stage="dsd", root=tmp_path)  # the default: the paper's, as dsdviz train
    assert isinstance(full.task, SRSettings) and isinstance(full.loop, LoopSettings)
    assert (full.loop.batch_size, full.task.crop, full.loop.lr, full.loop.betas, full.task.feature_weight) == (
        16, 40, 2e-4, (0.9, 0.99), 100.0)  # fmt: skip
    assert (full.task.perceptual_layer, full.task.alpha, full.task.stage, full.loop.decay_every) == (
        "conv5_4", 2.0, "dsd", 25_000)  # fmt: skip
    assert full.task.data == str(tmp_path / "BSDS500_train") and full.task.val_lr.endswith("Set14/LR_bicubic/X4")
    quick = preset("regressor", "quick", root=tmp_path, steps=7)  # validation and monitor follow, the decay stays
    assert (quick.loop.steps, quick.loop.val_every, quick.loop.decay_every, quick.loop.workers) == (7, 7, 30, 0)
    assert (quick.loop.monitor_every, quick.loop.monitor_batch, full.loop.monitor_every) == (1, 16, 1000)
    assert (quick.task.calibration_batches, full.task.feature_loss, quick.loop.out) == (2, "dsd", "runs/regressor")
    assert preset("sr", "quick", root=tmp_path, stage="dsd").loop.monitor_every == 1  # 12 steps: about 10 entries
    deblur = preset("deblur", "quick", root=tmp_path, stage="dsd")
    assert isinstance(deblur.task, DeblurSettings) and (deblur.task.kernel_size, deblur.task.scale) == (15, 1)
    assert preset("regressor", "full", root=tmp_path).task.val_per_image == 4
    own = preset("sr", "quick", data="a", val_data="b")
    assert own.task.val_lr is None  # the default LR folder belongs to the default validation set only
    with pytest.raises(ValueError, match="task"):
        preset("denoise")
    with pytest.raises(ValueError, match="stage"):
        preset("regressor", stage="dsd", root=tmp_path)
    with pytest.raises(ValueError, match="stage"):
        TrainConfig.from_flat("sr", data="x", stage="gan")
    with pytest.raises(ValueError, match="steps"):
        TrainConfig.from_flat("sr", data="x", steps=0)


def test_the_cpu_setting(tmp_path):
    sr2 = preset("sr", "cpu", stage="dsd", root=tmp_path)
    assert (sr2.loop.precision, sr2.loop.init, sr2.loop.steps, sr2.task.crop, sr2.loop.out) == (
        "bf16", "xsrresnet_sr_x4_psnr_cpu", 2500, 24, "runs/sr_dsd_cpu")  # fmt: skip
    assert sr2.task.val_lr.endswith("Set14/LR_bicubic/X4") and sr2.task.val_crop is None  # as full: whole Set14
    assert preset("sr", "cpu", root=tmp_path).loop.init is None
    psi_2, psi_4 = (preset("regressor", "cpu", root=tmp_path, alpha=a) for a in (2, 4))
    sizes = (psi_2.loop.out, psi_2.task.crop, psi_4.task.crop, psi_4.loop.steps)
    assert sizes == ("runs/regressor_a2_cpu", 48, 32, 1500)
    pools = os.pathsep.join(str(tmp_path / pool) for pool in ("BSDS500_train", "BSDS500_test"))
    assert (psi_2.task.data, psi_2.task.holdout, psi_2.task.realistic) == (pools, 50, 0.5)
    assert preset("regressor", "quick", root=tmp_path).task.data == pools  # one data path in every setting
    assert preset("regressor", "cpu", root=tmp_path, data="mine/").task.holdout == 0  # a slice of the pools
    with pytest.raises(ValueError, match="setting"):
        preset("sr", "gpu", root=tmp_path)
    with pytest.raises(ValueError, match="alpha 2 and 4, not 3"):
        preset("regressor", "cpu", root=tmp_path, alpha=3)


def test_every_setting_is_one_written_record():
    keys = [(p.task, p.stage, p.setting, p.alpha) for p in PRESETS]
    assert len(keys) == len(set(keys))
    for task in TASKS:
        for stage in ("psnr",) if task == "regressor" else ("psnr", "dsd"):
            for setting in SETTINGS:
                for alpha in (2.0, 4.0):
                    record = find_preset(task, setting, stage, alpha)
                    assert (record.task, record.stage, record.setting) == (task, stage, setting)
                    assert record.alpha in (None, alpha)
    for record in PRESETS:  # the one rule the quick records follow is the one preset() applies to other counts
        if record.setting in ("smoke", "quick"):
            follows = {name: getattr(record, name) for name in follow_steps(record.steps)}
            assert follows == follow_steps(record.steps), record
        assert record.settings(None).keys() <= preset_fields()
    smoke = preset("sr", "smoke", stage="dsd", data="a")
    assert (smoke.loop.steps, smoke.loop.batch_size, smoke.task.crop, smoke.task.val_crop) == (2, 2, 8, 32)
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    assert parser.parse_args(["train", "sr"]).setting == inspect.signature(preset).parameters["setting"].default


#: Shipped CPU models trained with the cpu setting plus options: ``{name: (task, stage, options)}``.
CPU_VARIANTS = {"xsrresnet_sr_x4_dsd_l1x30_cpu": ("sr", "dsd", {"l1_weight": 30.0})}


@pytest.mark.parametrize(
    "name,task,stage,options",
    [(name, task, stage, {}) for task in sorted(SHIPPED_RESTORATION)
     for stage, name in zip(("psnr", "dsd"), SHIPPED_RESTORATION[task])]
    + [(name, *variant) for name, variant in CPU_VARIANTS.items()],
)  # fmt: skip
def test_the_shipped_cpu_models_were_trained_with_the_cpu_setting(name, task, stage, options, shared_data):
    assert name in shipped_models()
    recorded = TrainConfig.from_record(model_meta(name)["train_config"]).flat()  # settings added since: defaults
    expected = preset(task, "cpu", stage=stage, root=shared_data, **options).flat()
    machine = {"data", "val_data", "val_lr", "out", "progress"}  # paths and the progress bar
    assert {k: v for k, v in recorded.items() if k not in machine} == {
        k: v for k, v in expected.items() if k not in machine}  # fmt: skip


def test_flat_names_go_to_the_loop_or_the_task(tmp_path):
    config = preset("regressor", "quick", root=tmp_path, alpha=4, calibration_batches=3, lr=1e-3, init="m.pt")
    assert isinstance(config.task, RegressorSettings)
    assert (config.task.alpha, config.task.calibration_batches) == (4, 3)
    assert (config.loop.lr, config.loop.init) == (1e-3, "m.pt")
    assert not hasattr(config.task, "lr_data") and not hasattr(config.task, "feature_weight")
    with pytest.raises(ValueError, match=r"not settings of task 'regressor': lr_data \(a setting of sr\)"):
        preset("regressor", root=tmp_path, lr_data="lr/")
    with pytest.raises(ValueError, match=r"kernels \(a setting of deblur\); colour \(unknown\)"):
        preset("sr", root=tmp_path, kernels="k/", colour="red")
    with pytest.raises(ValueError, match=r"not settings of task 'sr': dsd_weight \(unknown\)"):
        preset("sr", root=tmp_path, stage="dsd", dsd_weight=10.0)  # the name before 0.2.0 (CHANGELOG.md)
    renamed = preset("sr", "quick", root=tmp_path, stage="dsd", feature_weight=10.0)
    flat = renamed.flat()
    assert flat["task"] == "sr" and flat["feature_weight"] == 10.0 and flat["steps"] == 12
    assert TrainConfig.from_flat(**flat) == renamed
    assert set(flat) - {"task"} >= RESUMABLE_CHANGES


def test_an_old_flat_checkpoint_resumes_and_a_renamed_setting_is_named(tmp_path):
    images = tmp_path / "images"
    generator = torch.Generator().manual_seed(0)
    for index in range(2):
        save_image(torch.rand(1, 3, 40, 40, generator=generator), images / f"im{index}.png")
    config = TrainConfig.from_flat("sr", data=str(images), out=str(tmp_path / "run"), steps=4, batch_size=2, crop=8,
                                   num_blocks=1, workers=0, checkpoint_every=2, progress=False)  # fmt: skip
    Trainer(config).run(until=2)
    path = tmp_path / "run" / "checkpoint.pt"
    record = torch.load(path, weights_only=True)
    # what the flat 43-field TrainConfig of earlier versions stored: every task's settings
    old = {**record["train_config"], "lr_data": None, "blur_data": None, "kernels": None, "val_blur": None,
           "kernel_size": 31, "noise": 0.01, "calibration_batches": 8, "val_per_image": 1}  # fmt: skip
    torch.save({**record, "train_config": old}, path)
    assert Trainer(config, resume=True).step == 2
    old["dsd_weight"] = old.pop("feature_weight")  # the name before 0.2.0
    torch.save({**record, "train_config": old}, path)
    with pytest.raises(ValueError, match="the recorded settings hold names no task has: dsd_weight"):
        Trainer(config, resume=True)


def test_corrupt_checkpoints_and_init_files_name_the_file(tmp_path):
    images = tmp_path / "images"
    save_image(torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(0)), images / "im.png")
    config = TrainConfig.from_flat("sr", data=str(images), out=str(tmp_path / "run"), steps=2, batch_size=2, crop=8,
                                   num_blocks=1, workers=0, progress=False)  # fmt: skip
    Trainer(config).run()
    checkpoint, model = tmp_path / "run" / "checkpoint.pt", tmp_path / "run" / "model.pt"
    data = checkpoint.read_bytes()
    checkpoint.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=rf"'{checkpoint}' is a truncated PyTorch file.*training checkpoint.*no earlier checkpoint"):
        Trainer(config, resume=True)
    checkpoint.write_bytes(model.read_bytes())  # an exported model is not a checkpoint
    with pytest.raises(ValueError, match=r"is not a dsdviz training checkpoint .*: it lacks history, notes, optimizer"):
        Trainer(config, resume=True)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(model.read_bytes()[:1000])
    other = {"out": str(tmp_path / "other")}
    with pytest.raises(ValueError, match=rf"'{broken}' is a truncated PyTorch file.*dsdviz model file"):
        Trainer(TrainConfig.from_flat(**{**config.flat(), **other, "init": str(broken)}))
    wide = TrainConfig.from_flat(**{**config.flat(), **other, "num_blocks": 2, "init": str(model)})
    with pytest.raises(ValueError, match=r"init '.*model.pt' does not fit the xsrresnet network of this run"):
        Trainer(wide)


def test_source_digest_follows_the_modules_a_run_imports(tmp_path):
    package = tmp_path / "pkg"
    files = {
        "__init__.py": "from .core import thing\n",
        "core.py": "import math\n",
        "training/__init__.py": "from .loop import run\n",
        "training/loop.py": "from ..models import net\n\ndef run():\n    from ..data import stream\n",
        "models/__init__.py": "from .xunit import net\n",
        "models/xunit.py": "net = 1\n",
        "data.py": "import pkg.images\n",
        "images.py": "",
        "viz/training.py": "from ..training import run\n",
        "cli.py": "from .training import run\n",
        "figures.py": "from .viz import training\n",
        "notes.txt": "",
    }
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    closure = [path.relative_to(package).as_posix() for path in import_closure(package, "training")]
    assert closure == ["__init__.py", "core.py", "data.py", "images.py", "models/__init__.py", "models/xunit.py",
                       "training/__init__.py", "training/loop.py"]  # fmt: skip
    before = source_digest(package)
    assert len(before) == 16 and before == source_digest(package)
    for name in ("viz/training.py", "cli.py", "figures.py", "notes.txt"):  # drawing, command line, not Python
        (package / name).write_text("# edited\n")
        assert source_digest(package) == before, name
    for name in ("models/xunit.py", "images.py", "core.py"):  # a model, a lazily imported module's import, the root
        (package / name).write_text(files[name] + "# edited\n")
        assert source_digest(package) != before, name
        before = source_digest(package)


def test_the_real_training_code_leaves_out_drawing_experiments_and_the_command_line():
    import dsdviz

    root = dsdviz.__path__[0]
    names = {path.relative_to(root).as_posix() for path in import_closure(root, "training")}
    assert {"training/loop.py", "models/xsrresnet.py", "features.py", "data/streams.py"} <= names
    assert not [name for name in names if name.startswith(("viz/", "experiments/", "cli", "figures"))]


def test_precision_and_the_former_amp_switch():
    base = {"data": "images/", "steps": 2}
    with pytest.raises(ValueError, match=r"amp \(unknown\)"):
        TrainConfig.from_flat("sr", amp=False, **base)  # removed in 0.2.0: precision="fp32" (CHANGELOG.md)
    record = {**TrainConfig.from_flat("sr", **base).flat(), "amp": False}
    with pytest.raises(ValueError, match="names no task has: amp"):
        TrainConfig.from_record(record)
    with pytest.raises(ValueError, match="precision: expected one of 'fp32', 'bf16', 'fp16', 'auto', got 'half'"):
        LoopSettings(precision="half")
    assert LoopSettings().precision is None and LoopSettings(precision="bf16").precision == "bf16"
