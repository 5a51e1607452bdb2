"""The image-optimisation engine, fingerprint matching and DSD minimisation."""

from __future__ import annotations

import pytest
import torch

from dsdviz import dsd, dsd_loss, multiscale_style_loss
from dsdviz.features import default_extractor
from dsdviz.data import center_crop
from dsdviz.fingerprint import dsd_distances
from dsdviz.optimize import (
    learning_rate,
    match_fingerprint,
    minimize_dsd,
    optimize_image,
)
from dsdviz.precision import probe_capability
from dsdviz.samples import skimage_sample
from dsdviz.trajectory import Trajectory

LAYERS = ("relu1_2", "relu2_1")  # shallow layers keep the VGG tests fast


@pytest.fixture(scope="module")
def content() -> torch.Tensor:
    return center_crop(skimage_sample("chelsea"), 48)


@pytest.fixture(scope="module")
def reference() -> torch.Tensor:
    return center_crop(skimage_sample("coffee"), 40)


def quadratic(target: torch.Tensor):
    """A cheap objective for engine tests: mean squared distance to ``target``."""

    def objective(x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"objective": ((x - target) ** 2).mean(), "mean": x.mean()}

    return objective


class InterruptAt:
    """An objective that raises a real KeyboardInterrupt on its ``call``-th evaluation (1-based)."""

    def __init__(self, objective, call: int) -> None:
        self.objective, self.call, self.calls = objective, call, 0

    def __call__(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        self.calls += 1
        if self.calls == self.call:
            raise KeyboardInterrupt
        return self.objective(x)


@pytest.fixture
def start(rng) -> torch.Tensor:
    return torch.rand(1, 3, 12, 10, generator=rng)


@pytest.fixture
def goal(rng) -> torch.Tensor:
    return torch.rand(1, 3, 12, 10, generator=rng)


def assert_same_trajectory(a: Trajectory, b: Trajectory) -> None:
    assert a.steps == b.steps
    for step in a.steps:
        assert torch.equal(a.snapshots[step], b.snapshots[step]), step
    assert list(a.history) == list(b.history)
    for name in a.history:
        assert torch.equal(a.history[name], b.history[name]), name


def test_engine_records_every_step_and_snapshots(start, goal):
    result = optimize_image(start, quadratic(goal), steps=30, lr=0.05, snapshots=[3, 7], progress=False)
    assert result.steps == [0, 3, 7, 30] and result.final_step == 30 and not result.interrupted
    assert list(result.history) == ["objective", "mean", "lr"]
    assert all(len(v) == 31 for v in result.history.values())
    assert torch.equal(result.start, start)
    # the value recorded at step k is the objective of the snapshot of step k
    for step in result.steps:
        expected = ((result.snapshots[step] - goal) ** 2).mean().double()
        torch.testing.assert_close(result.history["objective"][step], expected)
    assert result.history["objective"][-1] < 0.2 * result.history["objective"][0]
    assert result.final.min() >= 0 and result.final.max() <= 1
    assert result.settings["steps"] == 30 and result.settings["size"] == [12, 10]
    assert result.wall_time > 0 and result.resume_state is not None


def test_learning_rate_schedules():
    assert [learning_rate(s, 9, 1.0, "step") for s in (0, 2, 3, 5, 6, 8)] == [1, 1, 0.5, 0.5, 0.25, 0.25]
    assert learning_rate(7, 9, 0.1, "constant") == 0.1
    assert learning_rate(0, 10, 1.0, "cosine") == 1.0
    assert learning_rate(5, 10, 1.0, "cosine") == pytest.approx(0.5)
    assert learning_rate(10, 10, 1.0, "cosine") == pytest.approx(0.0)


def test_schedule_is_applied(start, goal):
    result = optimize_image(start, quadratic(goal), steps=6, lr=0.1, schedule="step", progress=False)
    assert result.history["lr"][:6].tolist() == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]


def test_clamp_keeps_range_and_penalty_is_recorded(start):
    upward = lambda x: {"objective": -x.mean()}  # noqa: E731 - pushes every pixel above 1
    clamped = optimize_image(start, upward, steps=20, lr=0.1, progress=False)
    assert clamped.final.max() <= 1 and "range_penalty" not in clamped.history
    free = optimize_image(start, upward, steps=20, lr=0.1, keep_in_range="penalty", range_weight=0.0, progress=False)
    assert free.final.max() > 1.5 and free.history["range_penalty"][-1] > 0.4
    held = optimize_image(start, upward, steps=20, lr=0.1, keep_in_range="penalty", range_weight=10.0, progress=False)
    assert held.final.max() < 1.2


def test_interrupt_returns_partial_trajectory(start, goal, tmp_path):
    objective = InterruptAt(quadratic(goal), call=5)  # steps 0..3 are evaluated and updated
    path = tmp_path / "run.pt"
    result = optimize_image(start, objective, steps=10, lr=0.05, checkpoint=path, progress=False)
    assert result.interrupted and result.final_step == 4
    assert all(len(v) == 4 for v in result.history.values())
    assert result.steps == [0, 1, 2, 4]  # planned 0, 1, 2, 5, 10; plus the current image
    # the checkpoint written on interrupt is the same partial trajectory
    saved = Trajectory.load(path)
    assert saved.interrupted
    assert_same_trajectory(saved, result)


def test_resume_equals_uninterrupted_run(start, goal, tmp_path):
    whole = optimize_image(start, quadratic(goal), steps=10, lr=0.05, schedule="step", progress=False)
    path = tmp_path / "run.pt"
    part = optimize_image(
        start, InterruptAt(quadratic(goal), call=7), steps=10, lr=0.05, schedule="step", checkpoint=path, progress=False
    )
    assert part.interrupted and part.final_step == 6
    resumed = optimize_image(start, quadratic(goal), steps=10, lr=0.05, schedule="step", resume=path, progress=False)
    assert not resumed.interrupted
    assert_same_trajectory(resumed, whole)
    assert resumed.wall_time >= part.wall_time


def test_checkpoints_during_the_run(start, goal, tmp_path):
    path = tmp_path / "run.pt"
    optimize_image(start, InterruptAt(quadratic(goal), call=9), steps=20, lr=0.05, checkpoint=path, checkpoint_every=4,
                   progress=False)
    assert Trajectory.load(path).final_step == 8


def test_constant_schedule_run_can_be_extended(start, goal):
    short = optimize_image(start, quadratic(goal), steps=5, lr=0.05, progress=False)
    longer = optimize_image(start, quadratic(goal), steps=12, lr=0.05, resume=short, progress=False)
    direct = optimize_image(start, quadratic(goal), steps=12, lr=0.05, progress=False)
    assert longer.steps == [0, 1, 2, 5, 10, 12]
    assert_same_trajectory(longer, direct)
    with pytest.raises(ValueError, match="only a constant schedule"):
        stepped = optimize_image(start, quadratic(goal), steps=5, lr=0.05, schedule="step", progress=False)
        optimize_image(start, quadratic(goal), steps=12, lr=0.05, schedule="step", resume=stepped, progress=False)


def test_resume_rejects_a_different_run(start, goal):
    first = optimize_image(start, quadratic(goal), steps=3, lr=0.05, progress=False)
    with pytest.raises(ValueError, match="settings differ.*lr: 0.05 vs 0.1"):
        optimize_image(start, quadratic(goal), steps=3, lr=0.1, resume=first, progress=False)
    with pytest.raises(ValueError, match="start image differs"):
        optimize_image(goal, quadratic(goal), steps=3, lr=0.05, resume=first, progress=False)


def test_objective_contract_is_checked(start):
    with pytest.raises(ValueError, match="'objective' entry"):
        optimize_image(start, lambda x: {"loss": x.mean()}, steps=2, progress=False)
    with pytest.raises(ValueError, match="one-element tensors.*per_pixel"):
        optimize_image(start, lambda x: {"objective": x.mean(), "per_pixel": x}, steps=2, progress=False)


def test_minimize_dsd_reduces_dsd(vgg_weights, content):
    result = minimize_dsd(content, 4, LAYERS, steps=8, lr=1e-2, progress=False)
    assert list(result.history) == ["objective", "dsd/relu1_2", "dsd/relu2_1", "lr"]
    norms = dsd(content, 4, LAYERS).norms()
    torch.testing.assert_close(result.history["objective"][0], norms["mean"][0].double())
    for layer in LAYERS:
        torch.testing.assert_close(result.history[f"dsd/{layer}"][0], norms[layer][0].double())
    final = dsd(result.final, 4, LAYERS).norms()["mean"][0]
    assert final < 0.7 * norms["mean"][0]
    torch.testing.assert_close(result.history["objective"][-1], final.double())
    assert result.settings["objective"] == "minimise ||DSD_4(x)||_1" and result.settings["alpha"] == 4


@pytest.mark.parametrize("scales", [(1, 2), (2, 4)])
def test_match_fingerprint_moves_toward_reference(vgg_weights, content, reference, scales):
    alpha, base = scales[1] / scales[0], scales[0]
    result = match_fingerprint(content, reference, "dsd", scales, LAYERS, steps=10, lr=1e-2, progress=False)
    expected = dsd_loss(content, reference, LAYERS, alpha, base=base)
    torch.testing.assert_close(result.history["objective"][0], expected.double())
    target = dsd(reference, alpha, LAYERS, base=base)
    before = dsd(content, alpha, LAYERS, base=base).distance(target)["mean"]
    after = dsd(result.final, alpha, LAYERS, base=base).distance(target)["mean"]
    assert after < 0.9 * before
    assert result.history["objective"][-1] < result.history["objective"][0]


def test_style_matching_objective_is_the_multiscale_style_loss(vgg_weights, content, reference):
    result = match_fingerprint(content, reference, "style", (1, 2), LAYERS, steps=3, lr=1e-2, progress=False)
    expected = multiscale_style_loss(content, reference, (1, 2), LAYERS)
    torch.testing.assert_close(result.history["objective"][0], expected.double())
    assert "style@2/relu2_1" in result.history
    assert result.history["objective"][-1] < result.history["objective"][0]


def test_reference_fingerprint_is_computed_once(vgg_weights, content, reference):
    # the reference (40 px) and its half (20 px) must go through VGG19 once, the content (48 px) every step
    net = default_extractor(LAYERS)
    widths: list[int] = []
    handle = net.register_forward_pre_hook(lambda module, inputs: widths.append(inputs[0].shape[-1]))
    try:
        match_fingerprint(content, reference, "dsd", (1, 2), LAYERS, steps=4, lr=1e-2, device="cpu", progress=False)
    finally:
        handle.remove()
    assert widths.count(40) == 1 and widths.count(20) == 1
    assert widths.count(48) == 5  # steps 0..3 and the final image


needs_cpu_bf16 = pytest.mark.skipif(
    not probe_capability("cpu").bf16, reason="this CPU has no native bfloat16 (avx512_bf16 or AMX)"
)


@needs_cpu_bf16
@pytest.mark.parametrize("kind", ["minimize", "match"])
def test_bf16_trajectory_stays_close_to_float32(vgg_weights, content, reference, kind):
    def run(precision: str) -> Trajectory:
        if kind == "minimize":
            return minimize_dsd(content, 4, LAYERS, steps=10, lr=1e-2, device="cpu", precision=precision,
                                progress=False)  # fmt: skip
        return match_fingerprint(content, reference, "dsd", (1, 2), LAYERS, steps=10, lr=1e-2, device="cpu",
                                 precision=precision, progress=False)  # fmt: skip

    exact, low = run("fp32"), run("bf16")
    assert (exact.settings["precision"], low.settings["precision"]) == ("fp32", "bf16")
    assert low.final.dtype == torch.float32 and low.history["objective"].dtype == torch.float64
    relative = (low.history["objective"] - exact.history["objective"]).abs() / exact.history["objective"]
    assert relative.max() < 0.01  # measured: at most 0.11% (match) / 0.44% (minimise) over the 10 steps
    moved = (exact.final - content).abs().mean()  # measured: the images differ by 7-10% of how far they moved
    assert 0 < (low.final - exact.final).abs().mean() < 0.2 * moved
    assert low.history["objective"][-1] < 0.9 * low.history["objective"][0]


@needs_cpu_bf16
def test_resuming_with_another_precision_is_refused(vgg_weights, content, tmp_path):
    path = tmp_path / "run.pt"
    minimize_dsd(content, 4, LAYERS, steps=2, lr=1e-2, device="cpu", precision="bf16", checkpoint=path, progress=False)
    with pytest.raises(ValueError, match="precision: 'bf16' vs 'fp32'"):
        minimize_dsd(content, 4, LAYERS, steps=4, lr=1e-2, device="cpu", resume=path, progress=False)
    resumed = minimize_dsd(content, 4, LAYERS, steps=4, lr=1e-2, device="cpu", precision="auto", resume=path,
                           progress=False)  # fmt: skip
    assert resumed.final_step == 4 and resumed.settings["precision"] == "bf16"


def test_trajectories_from_before_the_precision_setting_resume_in_float32(vgg_weights, content):
    first = minimize_dsd(content, 4, LAYERS, steps=2, lr=1e-2, device="cpu", progress=False)
    del first.settings["precision"]
    resumed = minimize_dsd(content, 4, LAYERS, steps=3, lr=1e-2, device="cpu", resume=first, progress=False)
    assert resumed.final_step == 3 and resumed.settings["precision"] == "fp32"
    with pytest.raises(ValueError, match="'fp16' is for CUDA only"):
        minimize_dsd(content, 4, LAYERS, steps=1, device="cpu", precision="fp16", progress=False)


def test_dsd_distances(vgg_weights, content, reference):
    out = dsd_distances({"self": reference, "other": content}, reference, layers=LAYERS)
    assert list(out["other"]) == ["DSD_2(x)", "DSD_2(x|2)"]
    assert out["self"] == {"DSD_2(x)": 0.0, "DSD_2(x|2)": 0.0}
    assert all(value > 0 for value in out["other"].values())


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x, r: minimize_dsd(x, 4, ["relu9_9"], steps=2), "unknown VGG19 layer"),
        (lambda x, r: minimize_dsd(x, 0.5, steps=2), "alpha: expected a downscaling factor >= 1"),
        (lambda x, r: minimize_dsd(x, steps=0), "steps: expected a positive integer, got 0"),
        (lambda x, r: minimize_dsd(x, steps=-3), "steps: expected a positive integer"),
        (lambda x, r: minimize_dsd(x[..., :12, :12], 4, steps=2), "too small for layer relu3_1"),
        (lambda x, r: minimize_dsd(x.expand(2, -1, -1, -1), steps=2), "expected one image"),
        (lambda x, r: minimize_dsd(x * 255, steps=2), "divided by 255"),
        (lambda x, r: minimize_dsd(x, steps=2, lr=0), "lr: expected a finite number > 0"),
        (lambda x, r: minimize_dsd(x, steps=2, schedule="linear"), "schedule: expected one of"),
        (lambda x, r: minimize_dsd(x, steps=2, keep_in_range="wrap"), "keep_in_range"),
        (lambda x, r: minimize_dsd(x, steps=5, snapshots=[9]), r"snapshots: expected integer steps in \[0, 5\]"),
        (lambda x, r: match_fingerprint(x, r, "gram", steps=2), "kind: expected one of 'dsd', 'style'"),
        (lambda x, r: match_fingerprint(x, r, "dsd", (2, 1), steps=2), "coarse > fine"),
        (lambda x, r: match_fingerprint(x, r, "dsd", (1, 2, 4), steps=2), "compares two scales"),
        (lambda x, r: match_fingerprint(x, r, "style", (0.5,), steps=2), "scales: expected a downscaling factor"),
        (lambda x, r: match_fingerprint(x, r[..., :20, :20], "style", (8,), steps=2), "reference: a 20 x 20 image is"),
        (lambda x, r: match_fingerprint(x, r[..., :12, :12], "dsd", (2, 4), steps=2), "reference: a 12 x 12 image is"),
    ],
)
def test_bad_arguments_raise_clear_errors(vgg_weights, content, reference, call, message):
    with pytest.raises(ValueError, match=message):
        call(content, reference)
