"""Networks: exact parameter counts (supplementary Tables 4, 5), shapes, skip paths, gradients, saving, bad input."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dsdviz.data import bicubic_upsample, load_image
from dsdviz.inference import restore
from dsdviz.metrics import dsd_distance, psnr
from dsdviz.models import (
    DSDRegressor,
    XResBlock,
    XSRResNet,
    XUnit,
    count_parameters,
    dsd_regressor,
    load_model,
    model_meta,
    save_model,
    shipped_log,
    shipped_models,
    training_budget,
    xsrresnet_deblur,
    xsrresnet_sr,
    xunit,
)
from dsdviz.training.presets import find_preset


@pytest.mark.parametrize(
    ("build", "count"),
    [
        (xsrresnet_sr, 1_111_299),  # 4864 + 10 x 76928 + 2 x 147712 + 36928 + 4803
        (xsrresnet_deblur, 815_875),  # the same without the two up-sampling stages
        (lambda: xsrresnet_sr(num_blocks=5), 726_659),  # the 5-block model of Fig. 13
        (dsd_regressor, 745_508),
    ],
)
def test_parameter_counts(build, count):
    assert count_parameters(build()) == count


def test_block_parameter_counts():
    assert count_parameters(XUnit(64)) == 64 * 49 + 64
    assert count_parameters(XResBlock(64)) == 2 * 9 * 64 * 64 + 64 * 50


def test_xunit_module_equals_functional_and_formula(rng):
    unit = XUnit(8)
    x = torch.randn(2, 8, 9, 7, generator=rng)
    gate = torch.sigmoid(F.conv2d(x, unit.gate.weight, unit.gate.bias, padding=3, groups=8))
    torch.testing.assert_close(unit(x), x * gate)
    torch.testing.assert_close(unit(x), xunit(x, unit.gate.weight, unit.gate.bias))


def test_xunit_gradcheck(rng):
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64, generator=rng, requires_grad=True)
    weight = torch.randn(2, 1, 3, 3, dtype=torch.float64, generator=rng, requires_grad=True)
    bias = torch.randn(2, dtype=torch.float64, generator=rng, requires_grad=True)
    assert torch.autograd.gradcheck(xunit, (x, weight, bias))


@pytest.mark.parametrize(("scale", "size"), [(1, (10, 12)), (2, (20, 24)), (4, (40, 48)), (8, (80, 96))])
def test_xsrresnet_shapes(scale, size, rng):
    net = XSRResNet(scale=scale, num_blocks=2)
    assert net(torch.rand(3, 3, 10, 12, generator=rng)).shape == (3, 3, *size)


@pytest.mark.parametrize(("scale", "skip"), [(4, "bilinear"), (4, "bicubic"), (1, "bilinear")])
def test_skip_is_the_upsampled_input(scale, skip, rng):
    """With the last convolution zeroed, the network outputs its up-sampled input (the global skip)."""
    net = XSRResNet(scale=scale, num_blocks=1, skip=skip)
    torch.nn.init.zeros_(net.tail[-1].weight)
    torch.nn.init.zeros_(net.tail[-1].bias)
    x = torch.rand(1, 3, 6, 5, generator=rng)
    expected = x if scale == 1 else F.interpolate(x, scale_factor=scale, mode=skip, align_corners=False)
    torch.testing.assert_close(net(x), expected)


def test_untrained_sr_output_is_close_to_its_skip(rng):
    """The scaled initialisation starts near the up-sampled input instead of outputs of +-100."""
    torch.manual_seed(0)
    x = torch.rand(1, 3, 16, 16, generator=rng)
    difference = xsrresnet_sr()(x) - F.interpolate(x, scale_factor=4, mode="bilinear", align_corners=False)
    assert difference.abs().mean() < 0.2


def test_forward_backward_tiny(rng):
    net = xsrresnet_sr(num_blocks=2)
    x = torch.rand(2, 3, 8, 8, generator=rng)
    loss = (net(x) - torch.rand(2, 3, 32, 32, generator=rng)).abs().mean()
    loss.backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert all(g.abs().sum() > 0 for g in grads)


def test_regressor_outputs_and_gradients(rng):
    psi = DSDRegressor(alpha=4)
    psi.target_scale.copy_(torch.tensor([1e-3, 2e-3, 4e-3, 8e-3]))
    y_a = torch.rand(3, 3, 20, 24, generator=rng)
    out = psi(y_a)
    assert out.shape == (3, 4) and (out >= 0).all()
    torch.testing.assert_close(psi.eval()(y_a[:1]), psi.target_scale[None], rtol=0.05, atol=0)  # starts at the mean
    psi.train()
    psi(y_a).sum().backward()
    assert psi.stem[0].weight.grad.abs().sum() > 0 and psi.head[2].weight.grad.abs().sum() > 0
    assert all(torch.isfinite(p.grad).all() for p in psi.parameters() if p.grad is not None)
    assert psi.alpha == 4.0 and psi.layers == ("relu1_2", "relu2_1", "relu2_2", "relu3_1")


def test_regressor_strides_and_projections():
    psi = dsd_regressor()
    strides = [block.branch[0].stride[0] for block in psi.blocks]
    widths = [block.branch[0].out_channels for block in psi.blocks]
    projections = [not isinstance(block.shortcut, torch.nn.Identity) for block in psi.blocks]
    assert strides == [1, 1, 2, 1, 2, 1, 2, 1]
    assert widths == [32, 32, 32, 32, 64, 64, 128, 128]
    assert projections == [False, False, True, False, True, False, True, False]


@pytest.mark.parametrize("half", [False, True])
def test_save_load_round_trip(tmp_path, rng, half):
    torch.manual_seed(1)
    for net, x in ((xsrresnet_sr(num_blocks=2), torch.rand(1, 3, 8, 8, generator=rng)),
                   (DSDRegressor(alpha=2, crop=16), torch.rand(2, 3, 16, 16, generator=rng))):  # fmt: skip
        net.eval()
        path = save_model(net, tmp_path / f"{net.kind}.pt", half=half, meta={"note": "test"})
        loaded = load_model(path)
        assert type(loaded) is type(net) and loaded.config == net.config and not loaded.training
        tolerance = {"rtol": 2e-2, "atol": 2e-3} if half else {"rtol": 0, "atol": 0}
        torch.testing.assert_close(loaded(x), net(x), **tolerance)
    assert (tmp_path / "xsrresnet.pt").stat().st_size < (2.3e6 if half else 4.6e6)


def test_bad_input_and_arguments(tmp_path):
    net = xsrresnet_sr(num_blocks=1)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\).*got \(3, 8, 8\) float32"):
        net(torch.rand(3, 8, 8))
    with pytest.raises(ValueError, match="got \\(1, 1, 8, 8\\)"):
        net(torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match="uint8"):
        net(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError, match="power of two"):
        XSRResNet(scale=3)
    with pytest.raises(ValueError, match="odd"):
        XUnit(4, kernel_size=6)
    with pytest.raises(ValueError, match="does not exist"):
        load_model(tmp_path / "missing.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a dsdviz model"):
        load_model(tmp_path / "other.pt")
    with pytest.raises(ValueError, match="cannot save"):
        save_model(torch.nn.Linear(2, 2), tmp_path / "linear.pt")


#: Every model the package ships (dsdviz/models/weights/README.md), sorted by name.
SHIPPED = [
    "dsd_regressor_a2_blur_cpu", "dsd_regressor_a2_cpu", "dsd_regressor_a2_gpu", "dsd_regressor_a2_realistic_cpu",
    "dsd_regressor_a4_blur_cpu", "dsd_regressor_a4_cpu", "dsd_regressor_a4_gpu", "dsd_regressor_a4_realistic_cpu",
    "xsrresnet5_sr_x4_dsd_gpu", "xsrresnet5_sr_x4_multiscale_style_gpu", "xsrresnet5_sr_x4_psnr_gpu",
    "xsrresnet5_sr_x4_style_gpu", "xsrresnet_deblur_dsd_cpu",
    "xsrresnet_deblur_dsd_gpu", "xsrresnet_deblur_psnr_cpu", "xsrresnet_deblur_psnr_gpu", "xsrresnet_sr_x4_dsd_cpu",
    "xsrresnet_sr_x4_dsd_gpu", "xsrresnet_sr_x4_dsd_l1x30_cpu", "xsrresnet_sr_x4_eq_dsd_cpu",
    "xsrresnet_sr_x4_eq_dsd_gan_cpu", "xsrresnet_sr_x4_eq_gan_cpu", "xsrresnet_sr_x4_eq_gan_rel_w1e-1_cpu",
    "xsrresnet_sr_x4_eq_gan_w1e-1_cpu", "xsrresnet_sr_x4_eq_gan_w1e-2_cpu", "xsrresnet_sr_x4_eq_l1_perceptual_cpu",
    "xsrresnet_sr_x4_psnr_cpu", "xsrresnet_sr_x4_psnr_gpu",
]  # fmt: skip
#: The equal-budget arms and the realistic regressors, trained in float32 on a CPU without native bfloat16
#: (the others: bf16).
FLOAT32 = {"xsrresnet_sr_x4_eq_dsd_cpu", "xsrresnet_sr_x4_eq_dsd_gan_cpu", "xsrresnet_sr_x4_eq_gan_cpu",
           "xsrresnet_sr_x4_eq_gan_w1e-1_cpu", "xsrresnet_sr_x4_eq_gan_w1e-2_cpu",
           "xsrresnet_sr_x4_eq_gan_rel_w1e-1_cpu", "xsrresnet_sr_x4_eq_l1_perceptual_cpu",
           "dsd_regressor_a2_realistic_cpu", "dsd_regressor_a4_realistic_cpu"}  # fmt: skip


def test_shipped_models_load_by_name_or_path():
    shipped = shipped_models()
    assert list(shipped) == SHIPPED
    assert all(path.is_file() and path.parent.name == "weights" for path in shipped.values())
    assert (next(iter(shipped.values())).parent / "README.md").is_file()  # the model card beside them
    by_name, by_path = load_model("dsd_regressor_a4_cpu"), load_model(shipped["dsd_regressor_a4_cpu"])
    assert isinstance(by_name, DSDRegressor) and (by_name.alpha, by_name.crop) == (4.0, 24)
    assert all(torch.equal(a, b) for a, b in zip(by_name.state_dict().values(), by_path.state_dict().values()))
    assert load_model("dsd_regressor_a2_cpu.pt").alpha == 2.0
    with pytest.raises(ValueError, match="nor is it a shipped model .dsd_regressor_a2_blur_cpu, dsd_regressor_a2_cpu, dsd"):
        load_model("dsd_regressor_a3_cpu")


def test_shipped_files_are_small_float16_and_record_how_they_were_trained():
    for name, path in shipped_models().items():
        record = torch.load(path, weights_only=True)
        assert path.stat().st_size <= 5_000_000, name
        assert {v.dtype for v in record["state_dict"].values() if v.is_floating_point()} == {torch.float16}, name
        meta = model_meta(name)
        if name.endswith("_cpu"):
            assert meta["train_config"]["steps"] == meta["step"], name  # each CPU run finished
        else:  # a GPU lease of the full setting, stopped on time part-way through its schedule
            full = find_preset(meta["task"], "full", "dsd" if meta["stage"] == "dsd" else "psnr")
            assert 0 < meta["step"] < full.steps == meta["train_config"]["steps"], name
        if name.startswith("xsrresnet") or name.endswith("_gpu") or name in FLOAT32:  # wall time, precision, curves
            precision = "fp32" if name in FLOAT32 else "bf16"
            assert meta["train_seconds"] > 60 and meta["precision"]["precision"] == precision, name
            assert training_budget(meta).startswith(f"{meta['step']:,} ") and shipped_log(name), name
            assert (" of " in training_budget(meta).split(", ")[0]) == name.endswith("_gpu"), name  # partial runs
    card = (next(iter(shipped_models().values())).parent / "README.md").read_text()
    assert all(f"`{name}`" in card for name in shipped_models())  # the model card covers every file
    with pytest.raises(ValueError, match="no training log is shipped for 'dsd_regressor_a2_cpu'"):
        shipped_log("dsd_regressor_a2_cpu")


def _baboon_scores(shared_data, names):
    """``(PSNR, DSD distance)`` of each shipped SR model's output on Set14 baboon (whole image)."""
    low = load_image(shared_data / "Set14" / "LR_bicubic" / "X4" / "baboon.png")
    truth = load_image(shared_data / "Set14" / "HR" / "baboon.png")
    outputs = [restore(load_model(name), low) for name in names]
    return [(float(psnr(out, truth, shave=4)), float(torch.stack(list(dsd_distance(out, truth).values())).mean()))
            for out in outputs]  # fmt: skip


@pytest.mark.parametrize("trained_on", ["cpu", "gpu"])
def test_shipped_sr_stage_2_is_closer_to_the_truth_in_dsd_and_stage_1_in_psnr(shared_data, trained_on):
    """Stage 2 (L1 + perceptual + DSD) trades PSNR for a lower DSD distance."""
    (psnr_1, distance_1), (psnr_2, distance_2) = _baboon_scores(
        shared_data, (f"xsrresnet_sr_x4_psnr_{trained_on}", f"xsrresnet_sr_x4_dsd_{trained_on}"))  # fmt: skip
    assert distance_2 < 0.9 * distance_1 and psnr_2 < psnr_1, (psnr_1, distance_1, psnr_2, distance_2)


@pytest.mark.slow  # seconds; make test runs it, make test-fast leaves it out
def test_a_heavier_l1_term_in_stage_2_keeps_more_psnr_for_a_similar_dsd_gain(shared_data):
    """The L1 x 30 stage 2 (model card) against the paper's weights, both from the same stage 1."""
    names = ("xsrresnet_sr_x4_psnr_cpu", "xsrresnet_sr_x4_dsd_cpu", "xsrresnet_sr_x4_dsd_l1x30_cpu")
    (psnr_1, distance_1), (psnr_paper, distance_paper), (psnr_l1, distance_l1) = _baboon_scores(shared_data, names)
    assert psnr_paper < psnr_l1 < psnr_1, (psnr_1, psnr_paper, psnr_l1)
    distances = (distance_1, distance_paper, distance_l1)
    assert distance_l1 < 0.9 * distance_1 and distance_l1 < 1.2 * distance_paper, distances


@pytest.mark.parametrize("trained_on", ["cpu", "gpu"])
def test_shipped_sr_model_beats_bicubic(shared_data, trained_on):
    """The x4 stage-1 xSRResNets (model card: dsdviz/models/weights/README.md) on Set5 baby."""
    net = load_model(f"xsrresnet_sr_x4_psnr_{trained_on}")
    assert isinstance(net, XSRResNet) and count_parameters(net) == 1_111_299
    assert next(net.parameters()).dtype == torch.float32  # stored in float16, loaded as float32
    low = load_image(shared_data / "Set5" / "LR_bicubic" / "X4" / "baby.png")
    truth = load_image(shared_data / "Set5" / "HR" / "baby.png")
    ours, bicubic = psnr(restore(net, low), truth, shave=4), psnr(bicubic_upsample(low, 4), truth, shave=4)
    assert float(ours) > float(bicubic) + 0.5, (float(ours), float(bicubic))


def corrupt_copies(source, folder):
    """A truncated copy of ``source``, random bytes and an empty file, in ``folder``."""
    data = source.read_bytes()
    generator = torch.Generator().manual_seed(0)
    random_bytes = torch.randint(0, 256, (4096,), generator=generator, dtype=torch.uint8).numpy().tobytes()
    files = {"truncated": data[: len(data) // 2], "random": random_bytes, "empty": b""}
    for name, content in files.items():
        (folder / f"{name}.pt").write_bytes(content)
    return [folder / f"{name}.pt" for name in files]


def test_corrupt_or_foreign_model_files_name_the_file(tmp_path):
    for path in corrupt_copies(shipped_models()["dsd_regressor_a2_cpu"], tmp_path):
        with pytest.raises(ValueError, match=rf"'{path}' is (?:a truncated PyTorch file|not a PyTorch file|empty).*expected a dsdviz model"):
            load_model(path)
    torch.save({"kind": "dsd_regressor", "config": {"alpha": 2}, "state_dict": {"stem.weight": torch.zeros(1)}},
               tmp_path / "mismatch.pt")  # fmt: skip
    with pytest.raises(ValueError, match="mismatch.pt' does not rebuild a 'dsd_regressor' network"):
        load_model(tmp_path / "mismatch.pt")
    with pytest.raises(ValueError, match="is a folder; expected a model file or a shipped model"):
        load_model(tmp_path)
