"""The trainer: losses (and the feature-loss options), learning, the fixed-batch monitor, checkpoints,
bit-identical resumption, kill -9, SIGTERM, DDP on gloo, presets."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from dsdviz.features import VGG19Features
from dsdviz.losses import (
    available_perceptual_layer,
    dsd_loss,
    feature_layers,
    multiscale_style_loss,
    perceptual_loss,
    restoration_loss,
    style_loss,
)
from dsdviz.models import load_model, model_meta
from dsdviz.precision import Capability, probe_capability
from dsdviz.resize import downscale
from dsdviz.training import TrainConfig, Trainer, code_version, history_table


def tiny(task: str, out: Path, data: Path, **overrides) -> TrainConfig:
    """A run of a few CPU seconds: 2 xResBlocks, small crops and batches."""
    own = {"sr": {"num_blocks": 2, "crop": 8}, "deblur": {"num_blocks": 2, "kernel_size": 9, "crop": 32},
           "regressor": {"calibration_batches": 1, "crop": 16}}  # fmt: skip
    settings = dict(
        data=str(data), out=str(out), steps=6, batch_size=4, workers=0,
        checkpoint_every=2, val_every=100, log_every=1, progress=False, decay_every=4, **own[task],
    )  # fmt: skip
    settings.update(overrides)
    return TrainConfig.from_flat(task, **settings)


def stages(stage: str | None) -> dict[str, str]:
    """The stage setting of a restoration run (``None``: the regressor, which has one stage)."""
    return {} if stage is None else {"stage": stage}


def state(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in trainer.network.state_dict().items()}


def test_restoration_loss_equals_the_library_losses(vgg_weights):
    generator = torch.Generator().manual_seed(0)
    output = torch.rand(2, 3, 32, 32, generator=generator).requires_grad_()
    target = torch.rand(2, 3, 32, 32, generator=generator)
    net = VGG19Features(["relu2_1", "relu2_2", "relu3_1", "conv3_1"])
    terms = restoration_loss(output, target, net, perceptual_weight=0.5, dsd_weight=100, perceptual_layer="conv3_1")
    (grad,) = torch.autograd.grad(terms["loss"], output)
    expected = {
        "l1": F.l1_loss(output, target),
        "perceptual": perceptual_loss(output, target, "conv3_1", extractor=net),
        "dsd": dsd_loss(output, target, "training", 2, extractor=net),
    }
    total = expected["l1"] + 0.5 * expected["perceptual"] + 100 * expected["dsd"]
    (expected_grad,) = torch.autograd.grad(total, output)
    for name, value in expected.items():
        torch.testing.assert_close(terms[name], value)
    torch.testing.assert_close(terms["loss"], total)
    torch.testing.assert_close(grad, expected_grad)


@pytest.mark.parametrize("feature_loss", ["style", "multiscale_style", "dsd"])
def test_feature_loss_options_equal_the_library_losses(vgg_weights, feature_loss):
    generator = torch.Generator().manual_seed(1)
    output = torch.rand(2, 3, 32, 32, generator=generator).requires_grad_()
    target = torch.rand(2, 3, 32, 32, generator=generator)
    net = VGG19Features(["relu1_2", "relu2_1", "relu2_2", "relu3_1", "conv3_1"])
    terms = restoration_loss(
        output, target, net, perceptual_weight=0.5, dsd_weight=100, perceptual_layer="conv3_1",
        feature_loss=feature_loss,
    )  # fmt: skip
    assert set(terms) == {"l1", "perceptual", feature_loss, "loss"}
    library = {
        "style": lambda: style_loss(output, target, "style", extractor=net),
        "multiscale_style": lambda: multiscale_style_loss(output, target, (1, 2), "style", extractor=net),
        "dsd": lambda: dsd_loss(output, target, "training", 2, extractor=net),
    }[feature_loss]()
    total = F.l1_loss(output, target) + 0.5 * perceptual_loss(output, target, "conv3_1", extractor=net) + 100 * library
    torch.testing.assert_close(terms[feature_loss], library)
    torch.testing.assert_close(terms["loss"], total)
    (grad,) = torch.autograd.grad(terms["loss"], output)
    (expected,) = torch.autograd.grad(total, output)
    torch.testing.assert_close(grad, expected)
    assert feature_layers(feature_loss) == (("relu2_1", "relu2_2", "relu3_1") if feature_loss == "dsd" else
                                            ("relu1_2", "relu2_1", "relu3_1"))  # fmt: skip
    with pytest.raises(ValueError, match="feature_loss"):
        restoration_loss(output, target, net, dsd_weight=1, feature_loss="gram")


def test_stage_two_trains_with_the_chosen_feature_loss(vgg_weights, folder, tmp_path):
    trainer = Trainer(tiny("sr", tmp_path, folder, stage="dsd", feature_loss="multiscale_style"))
    assert set(trainer.task.extractor.layers) >= {"relu1_2", "relu2_1", "relu3_1"}
    terms = trainer.train_step(next(iter(trainer._loader())))
    assert set(terms) == {"l1", "perceptual", "multiscale_style", "loss"} and float(terms["multiscale_style"]) > 0
    with pytest.raises(ValueError, match="feature_loss"):
        tiny("sr", tmp_path, folder, feature_loss="gram")


def test_monitor_logs_the_loss_of_a_fixed_batch(vgg_weights, folder, tmp_path):
    config = tiny("sr", tmp_path / "whole", folder, stage="dsd", monitor_every=2, monitor_batch=3)
    whole = Trainer(config)
    history = whole.run()
    monitor = history_table(history, "monitor")
    assert monitor["step"].tolist() == [0, 2, 4, 6]
    assert set(monitor) == {"step", "l1", "perceptual", "dsd", "loss"}
    # the batch is fixed: a fresh run measures the same loss at step 0, and the trained network a lower one
    assert Trainer(tiny("sr", tmp_path / "fresh", folder, stage="dsd", monitor_batch=3, monitor_every=2)).monitor()[
        "loss"
    ] == pytest.approx(monitor["loss"][0], rel=1e-6)
    assert monitor["loss"][-1] < monitor["loss"][0]
    # monitoring changes nothing in the training: same weights as without it, and after an interruption
    plain = Trainer(tiny("sr", tmp_path / "plain", folder, stage="dsd"))
    plain.run()
    parts = tiny("sr", tmp_path / "parts", folder, stage="dsd", monitor_every=2, monitor_batch=3)
    Trainer(parts).run(until=3)
    resumed = Trainer(parts, resume=True)
    resumed.run()
    for name, value in state(whole).items():
        assert torch.equal(value, state(plain)[name]) and torch.equal(value, state(resumed)[name]), name
    assert history_table(resumed.history, "monitor")["loss"].tolist() == monitor["loss"].tolist()


def test_resumes_a_checkpoint_written_before_newer_settings_existed(folder, tmp_path):
    config = tiny("sr", tmp_path, folder)
    Trainer(config).run(until=2)
    checkpoint = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    for name in ("feature_loss", "monitor_every", "monitor_batch"):
        del checkpoint["train_config"][name]
    torch.save(checkpoint, tmp_path / "checkpoint.pt")
    resumed = Trainer(config, resume=True)
    assert resumed.step == 2 and resumed.config.task.feature_loss == "dsd"


def test_perceptual_layer_falls_back_to_the_deepest_available(shared_weights, monkeypatch):
    monkeypatch.setenv("DSDVIZ_VGG19_WEIGHTS", str(shared_weights))
    layer, note = available_perceptual_layer("conv5_4")
    assert layer == "conv3_1" and "conv5_4" in note and "full VGG19" in note
    assert available_perceptual_layer("conv2_2") == ("conv2_2", None)


@pytest.mark.parametrize(("task", "stage"), [("sr", "psnr"), ("sr", "dsd"), ("deblur", "psnr"), ("regressor", None)])
def test_training_steps_reduce_the_loss(vgg_weights, folder, tmp_path, task, stage):
    trainer = Trainer(tiny(task, tmp_path, folder, decay_every=1000, **stages(stage)))
    batch = next(iter(trainer._loader()))
    losses = [float(trainer.train_step(batch)["loss"]) for _ in range(12)]
    assert sum(losses[-3:]) / 3 < 0.96 * losses[0], losses


def test_run_logs_validates_checkpoints_and_exports(vgg_weights, folder, tmp_path):
    trainer = Trainer(tiny("sr", tmp_path / "run", folder, val_data=str(folder), val_crop=32, val_every=3, samples=1))
    history = trainer.run()
    validations = [e for e in history if e["split"] == "val"]
    assert [e["step"] for e in validations] == [0, 3, 6]
    assert {"psnr", "ssim", "dsd_distance", "psnr_baseline"} <= set(validations[0])
    assert history_table(history)["step"].tolist() == [1, 2, 3, 4, 5, 6]
    assert [e["lr"] for e in history if e["split"] == "train"][3:] == [1e-4, 1e-4, 1e-4]  # halved at step 4
    logged = [json.loads(line) for line in open(tmp_path / "run" / "log.jsonl")]
    assert logged == history
    assert (tmp_path / "run" / "samples" / "step_0000006" / "im0.png").is_file()
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert checkpoint["step"] == 6 and checkpoint["train_config"]["task"] == "sr"
    assert checkpoint["history"] == history  # the final validation included: a finished run reloads whole
    assert (tmp_path / "run" / "model.pt").is_file()


def test_checkpoint_round_trip(vgg_weights, folder, tmp_path):
    config = tiny("regressor", tmp_path, folder)
    first = Trainer(config)
    first.run(until=3)
    saved_rng = torch.get_rng_state()
    torch.rand(5)  # move the global RNG: resuming must restore it
    second = Trainer(config, resume=True)
    assert second.step == 3 and second.history == first.history
    assert all(torch.equal(a, b) for a, b in zip(state(first).values(), state(second).values()))
    assert (
        torch.equal(second.network.target_scale, first.network.target_scale) and (first.network.target_scale > 0).all()
    )
    ours, theirs = first.optimizer.state_dict(), second.optimizer.state_dict()
    assert all(torch.equal(ours["state"][k]["exp_avg"], theirs["state"][k]["exp_avg"]) for k in ours["state"])
    assert second.scheduler.state_dict() == first.scheduler.state_dict()
    assert torch.equal(torch.get_rng_state(), saved_rng)


@pytest.mark.parametrize(("task", "stage"), [("sr", "dsd"), ("regressor", None)])
def test_interrupted_and_resumed_run_is_bit_identical(vgg_weights, folder, tmp_path, task, stage):
    whole = Trainer(tiny(task, tmp_path / "whole", folder, **stages(stage)))
    whole.run()
    config = tiny(task, tmp_path / "parts", folder, **stages(stage))
    Trainer(config).run(until=3)  # "interrupted" after step 3 (checkpoint at step 2 and on stopping)
    resumed = Trainer(config, resume=True)
    assert resumed.step == 3
    resumed.run()
    for name, value in state(whole).items():
        assert torch.equal(value, state(resumed)[name]), name
    assert history_table(resumed.history)["loss"].tolist() == history_table(whole.history)["loss"].tolist()


def test_a_time_limit_stops_exports_and_resumes_on_schedule(folder, tmp_path):
    whole = Trainer(tiny("sr", tmp_path / "whole", folder, val_data=str(folder), val_crop=32))
    whole.run()
    config = tiny("sr", tmp_path / "leased", folder, val_data=str(folder), val_crop=32)
    first = Trainer(config)
    first.run(seconds=1e-9)  # runs out during the first step
    assert first.step == 1
    meta = model_meta(tmp_path / "leased" / "model.pt")  # a later stage can start from it
    assert meta["step"] == 1 and meta["validation"]["step"] == 1
    resumed = Trainer(config, resume=True)
    resumed.run()
    assert resumed.step == 6 and model_meta(tmp_path / "leased" / "model.pt")["step"] == 6
    for name, value in state(whole).items():
        assert torch.equal(value, state(resumed)[name]), name
    with pytest.raises(ValueError, match="seconds must be positive, got 0"):
        resumed.run(seconds=0)


def test_resume_refuses_other_settings_and_starts_fresh_without_checkpoint(folder, tmp_path):
    config = tiny("sr", tmp_path, folder)
    assert Trainer(config, resume=True).step == 0  # nothing to resume: a fresh run
    Trainer(config).run(until=2)
    with pytest.raises(ValueError, match="lr: 0.0002 -> 0.001"):
        Trainer(tiny("sr", tmp_path, folder, lr=1e-3), resume=True)
    assert Trainer(tiny("sr", tmp_path, folder, steps=9), resume=True).config.loop.steps == 9


def test_resuming_a_run_written_by_other_code_warns_and_notes_it(folder, tmp_path):
    version = code_version()
    assert len(version["dsdviz"]) == 16 and int(version["dsdviz"], 16) >= 0 and version["torch"] == torch.__version__
    config = tiny("sr", tmp_path, folder)
    Trainer(config).run(until=2)
    path = tmp_path / "checkpoint.pt"
    record = torch.load(path, weights_only=True)
    assert record["code"] == version
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert not Trainer(config, resume=True).notes  # the same code: nothing to say
    assert not [w for w in caught if "other code" in str(w.message)]
    torch.save({**record, "code": {**version, "dsdviz": "0" * 16}}, path)
    changed = rf"other code than wrote the checkpoint \(dsdviz 0{{16}} -> {version['dsdviz']}\)"
    with pytest.warns(UserWarning, match=changed):
        resumed = Trainer(config, resume=True)
    assert resumed.notes == [f"resumed at step 2 of 6 with other code than wrote the checkpoint "
                             f"(dsdviz {'0' * 16} -> {version['dsdviz']})"]  # fmt: skip
    resumed.run()
    assert torch.load(path, weights_only=True)["code"] == version  # the continued run records what continued it
    assert Trainer(config, resume=True).notes == resumed.notes  # and its note stays with the run
    torch.save({k: v for k, v in record.items() if k != "code"}, path)
    with pytest.warns(UserWarning, match="records no code version"):
        Trainer(config, resume=True)


def _cli_train(out: Path, folder: Path, steps: int, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "dsdviz.cli", "train", "sr", "--quick", "--data", str(folder), "--out", str(out),
        "--steps", str(steps), "--crop", "8", "--blocks", "2", "--checkpoint-every", "3", "--no-progress", *extra,
    ]  # fmt: skip


def _wait_for_step(log: Path, step: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if log.is_file() and any(e.get("step", 0) >= step for e in _entries(log)):
            return
        time.sleep(0.05)
    raise TimeoutError(f"no step {step} in {log}")


def _entries(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.endswith("}")]


def _last_train_step(log: Path) -> int:
    return max(e["step"] for e in _entries(log) if e["split"] == "train")


@pytest.mark.slow
def test_kill_9_loses_at_most_checkpoint_every_steps(folder, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(_cli_train(out, folder, 1000), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_step(out / "log.jsonl", 8, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    last = _last_train_step(out / "log.jsonl")
    saved = torch.load(out / "checkpoint.pt", weights_only=True)["step"]  # loads: never a torn file
    assert 0 <= last - saved <= 3 and saved >= 6
    finished = subprocess.run(_cli_train(out, folder, last + 2, "--resume"), env=env, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    steps = [e["step"] for e in _entries(out / "log.jsonl") if e["split"] == "train"]
    assert steps == list(range(1, last + 3))  # the lost steps were redone once, nothing is duplicated


@pytest.mark.slow
def test_sigterm_finishes_the_step_and_saves(folder, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        _cli_train(out, folder, 1000), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _wait_for_step(out / "log.jsonl", 4, process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "checkpoint saved" in stderr and "--resume" in stderr
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == _last_train_step(out / "log.jsonl")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_gradients(rank: int, world: int, port: int, config: dict, out: str) -> None:
    """One training step as rank ``rank`` of ``world`` gloo processes; saves the (all-reduced) gradients."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    trainer = Trainer(TrainConfig.from_flat(**config))
    trainer.train_step(next(iter(trainer._loader())))
    torch.save({n: p.grad for n, p in trainer.network.named_parameters()}, Path(out) / f"grads{rank}.pt")
    trainer.close()


@pytest.mark.slow
def test_ddp_on_two_gloo_processes_matches_one_process(vgg_weights, folder, tmp_path, monkeypatch):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    config = tiny("sr", tmp_path / "run", folder, stage="dsd", checkpoint_every=100)
    torch.multiprocessing.spawn(_ddp_gradients, args=(2, _free_port(), config.flat(), str(tmp_path)), nprocs=2)
    single = Trainer(config)
    batch = next(iter(single._loader()))
    assert batch["input"].shape[0] == 4  # the combined batch of the two processes
    single.train_step(batch)
    ranks = [torch.load(tmp_path / f"grads{r}.pt", weights_only=True) for r in range(2)]
    for name, parameter in single.network.named_parameters():
        torch.testing.assert_close(ranks[0][name], ranks[1][name], rtol=0, atol=0)
        torch.testing.assert_close(
            ranks[0][name], parameter.grad, rtol=1e-4, atol=1e-4 * float(parameter.grad.abs().max())
        )


def test_the_precision_is_resolved_once_and_recorded(folder, tmp_path):
    trainer = Trainer(tiny("sr", tmp_path / "run", folder, steps=2))
    plan = trainer.plan
    assert (plan.precision, plan.requested, plan.reason) == ("fp32", "fp32", "float32 as requested")  # CPU default
    assert not trainer.scaler.is_enabled()
    trainer.run()
    expected = {"precision": "fp32", "requested": "fp32", "grad_scaler": False, "reason": "float32 as requested"}
    assert [e for e in trainer.history if e["split"] == "precision"] == [{"step": 0, "split": "precision", **expected}]
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["precision"] == expected
    assert torch.load(tmp_path / "run" / "model.pt", weights_only=True)["meta"]["precision"] == expected
    logged = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert logged[0] == {"step": 0, "split": "precision", **expected}


def test_unsupported_precisions_are_errors(folder, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="'fp16' is for CUDA only"):
        Trainer(tiny("sr", tmp_path / "a", folder, precision="fp16"))
    monkeypatch.setattr("dsdviz.precision.probe_capability", lambda device: Capability("cpu", bf16=False,
                                                                                         detail="CPU: no bf16"))
    with pytest.raises(ValueError, match="'bf16' is not supported natively on CPU: no bf16"):
        Trainer(tiny("sr", tmp_path / "b", folder, precision="bf16"))
    assert Trainer(tiny("sr", tmp_path / "c", folder, precision="auto")).plan.precision == "fp32"


def test_channels_last_trainer_equals_the_contiguous_one(folder, tmp_path, monkeypatch):
    fast = Trainer(tiny("sr", tmp_path / "fast", folder, steps=3))
    assert fast.network.head[0].weight.is_contiguous(memory_format=torch.channels_last)
    fast.run()
    monkeypatch.setattr("dsdviz.training.loop.channels_last", lambda module: module)
    plain = Trainer(tiny("sr", tmp_path / "plain", folder, steps=3))
    assert plain.network.head[0].weight.is_contiguous()
    plain.run()
    for name, value in plain.network.state_dict().items():
        torch.testing.assert_close(fast.network.state_dict()[name], value, atol=1e-5, rtol=1e-4, msg=name)
    exported = load_model(tmp_path / "fast" / "model.pt")  # the file is layout-free: a contiguous network
    x = torch.rand(1, 3, 10, 12)
    with torch.no_grad():
        torch.testing.assert_close(exported(x), fast.network.eval()(x))


@pytest.mark.skipif(not probe_capability("cpu").bf16, reason="this CPU has no native bfloat16 (avx512_bf16 or AMX)")
def test_bf16_training_step_is_close_to_float32(vgg_weights, folder, tmp_path):
    terms = {}
    for precision in ("fp32", "bf16"):
        trainer = Trainer(tiny("sr", tmp_path / precision, folder, stage="dsd", precision=precision))
        assert trainer.plan.precision == precision and "native" in trainer.plan.reason or precision == "fp32"
        batch = next(iter(trainer._loader()))
        terms[precision] = trainer.train_step(batch)
        assert all(value.dtype == torch.float32 for value in terms[precision].values())
    for name, value in terms["fp32"].items():
        assert abs(float(terms["bf16"][name]) - float(value)) <= 0.02 * abs(float(value)), name


def test_the_regressor_learns_from_realistic_coarse_copies(vgg_weights, folder, tmp_path):
    trainer = Trainer(tiny("regressor", tmp_path, folder, realistic=1.0))
    task, model = trainer.task, trainer.network
    items = [trainer.dataset[k] for k in range(3)]
    batch = {key: torch.stack([item[key] for item in items]) for key in ("input", "target")}
    assert batch["input"].shape == (3, 3, 16, 16) and not torch.allclose(batch["input"], downscale(batch["target"], 2))
    truth = task.targets(batch["target"])
    expected = (((model(batch["input"]) - truth) / model.target_scale) ** 2).mean()
    torch.testing.assert_close(task.losses(model, batch)["loss"], expected)  # psi sees the degraded y|a
    with pytest.raises(ValueError, match=r"realistic: expected a fraction in \[0, 1\]"):
        tiny("regressor", tmp_path, folder, realistic=1.5)
    with pytest.raises(ValueError, match="holdout: expected a number of images >= 0"):
        tiny("regressor", tmp_path, folder, holdout=-1)
    with pytest.raises(ValueError, match="blur: expected a standard deviation >= 0 px, with realistic > 0"):
        tiny("regressor", tmp_path, folder, blur=2.0)
    blurred = Trainer(tiny("regressor", tmp_path / "blur", folder, realistic=1.0, blur=2.0)).dataset
    assert blurred.blur == 2.0 and blurred[0]["input"].shape == (3, 16, 16)
