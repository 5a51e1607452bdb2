"""Style, multi-scale style, DSD, perceptual and range losses."""

from __future__ import annotations

import pytest
import torch

from dsdviz import (
    DSD,
    DSDLoss,
    MultiScaleStyleLoss,
    PerceptualLoss,
    RangeLoss,
    StyleLoss,
    dsd,
    dsd_loss,
    gram,
    multiscale_style_loss,
    perceptual_loss,
    range_loss,
    style_loss,
    target_dsd,
    target_grams,
)
from dsdviz.features import LAYER_PRESETS, VGG19Features
from dsdviz.data import center_crop
from dsdviz.precision import AutocastFeatures, autocast, probe_capability, resolve_precision
from dsdviz.resize import downscale
from dsdviz.samples import skimage_sample


@pytest.fixture
def pair(rng):
    x = torch.rand(2, 3, 40, 36, generator=rng)
    y = (x + 0.1 * torch.randn(x.shape, generator=rng)).clamp(0, 1)
    return x, y


def test_losses_vanish_on_identical_images(vgg_weights, pair):
    x, _ = pair
    assert dsd_loss(x, x).item() == 0
    assert style_loss(x, x).item() == 0
    assert multiscale_style_loss(x, x).item() == 0
    assert perceptual_loss(x, x, "relu3_1").item() == 0
    assert range_loss(x).item() == 0


def test_dsd_loss_definition(vgg_weights, pair):
    x, y = pair
    a, b = dsd(x, 2, "training"), dsd(y, 2, "training")
    expected = sum((a.matrices[k] - b.matrices[k]).abs().mean(dim=(1, 2)) for k in a.layers)
    torch.testing.assert_close(dsd_loss(x, y, reduction="none"), expected)
    torch.testing.assert_close(dsd_loss(x, y), expected.mean())
    assert LAYER_PRESETS["training"] == a.layers


def test_style_loss_definition(vgg_weights, pair):
    x, y = pair
    net = VGG19Features("style")
    fx, fy = net(x), net(y)
    expected = sum((gram(fx[k]) - gram(fy[k])).abs().mean(dim=(1, 2)) for k in fx)
    torch.testing.assert_close(style_loss(x, y, reduction="none"), expected)


def test_every_scale_contributes_to_multiscale_style(vgg_weights, pair):
    x, y = pair
    both = multiscale_style_loss(x, y, factors=(1, 2))
    full = style_loss(x, y)
    half = style_loss(downscale(x, 2), downscale(y, 2))
    torch.testing.assert_close(both, full + half)
    assert half > 0


def test_precomputed_targets_equal_image_targets(vgg_weights, pair):
    x, y = pair
    torch.testing.assert_close(dsd_loss(x, target_dsd(y)), dsd_loss(x, y))
    torch.testing.assert_close(style_loss(x, target_grams(y)), style_loss(x, y))
    per_scale = [target_grams(y, "style", f) for f in (1, 2)]
    torch.testing.assert_close(multiscale_style_loss(x, per_scale), multiscale_style_loss(x, y))


def test_modules_equal_functions(vgg_weights, pair):
    x, y = pair
    torch.testing.assert_close(DSDLoss()(x, y), dsd_loss(x, y))
    torch.testing.assert_close(DSDLoss(target=y)(x), dsd_loss(x, y))
    torch.testing.assert_close(StyleLoss(target=y)(x), style_loss(x, y))
    torch.testing.assert_close(MultiScaleStyleLoss(target=y)(x), multiscale_style_loss(x, y))
    torch.testing.assert_close(PerceptualLoss("relu2_2")(x, y), perceptual_loss(x, y, "relu2_2"))
    torch.testing.assert_close(RangeLoss()(x * 2 - 0.5), range_loss(x * 2 - 0.5))
    with pytest.raises(ValueError, match="no target"):
        DSDLoss()(x)


@pytest.mark.parametrize("kind", ["style", "multiscale_style", "dsd"])
def test_modules_own_extractor_and_target_and_move_with_to(vgg_weights, pair, kind):
    x, y = pair
    module, function = {
        "style": (StyleLoss(target=y), style_loss),
        "multiscale_style": (MultiScaleStyleLoss(target=y), multiscale_style_loss),
        "dsd": (DSDLoss(target=y), dsd_loss),
    }[kind]
    assert isinstance(module.extractor, VGG19Features) and "extractor" in dict(module.named_children())
    cached = dict(module.named_buffers())
    targets = {name: value for name, value in cached.items() if name.startswith("target_")}
    assert targets and all(value.dtype == torch.float32 for value in targets.values())
    assert not any(name.startswith("target_") for name in module.state_dict())  # derived: not persistent
    module.to(torch.float64)
    assert all(getattr(module, name).dtype == torch.float64 for name in targets)
    assert all(p.dtype == torch.float64 for p in module.extractor.parameters())
    expected = function(x.double(), y.double())  # the functional form computes the target in float64
    torch.testing.assert_close(module(x.double()), expected, rtol=1e-5, atol=1e-9)
    # given the module's cached target, the functional form equals the module exactly
    cached_target = {
        "style": lambda: module._cached()[0],
        "multiscale_style": lambda: module._cached(2),
        "dsd": lambda: DSD(module._cached()[0], alpha=2.0),
    }[kind]()
    assert torch.equal(module(x.double()), function(x.double(), cached_target))


def test_module_extractor_can_be_given(vgg_weights, pair):
    x, y = pair
    net = VGG19Features("training")
    loss = DSDLoss(target=y, extractor=net)
    assert loss.extractor is net
    torch.testing.assert_close(loss(x), dsd_loss(x, y))
    with pytest.raises(ValueError, match="lacks some of"):
        StyleLoss(extractor=VGG19Features(["relu1_2"]))


def test_gradient_reaches_output_only(vgg_weights, pair):
    x, y = pair
    out = x.clone().requires_grad_()
    target = y.clone().requires_grad_()
    (dsd_loss(out, target) + style_loss(out, target) + perceptual_loss(out, target, "relu2_1")).backward()
    assert out.grad is not None and out.grad.abs().sum() > 0
    assert target.grad is None


def test_target_batch_of_one_broadcasts(vgg_weights, pair):
    x, y = pair
    per_item = dsd_loss(x, y[:1], reduction="none")
    torch.testing.assert_close(per_item[1], dsd_loss(x[1:], y[:1]))
    with pytest.raises(ValueError, match="batch size 2 does not match"):
        dsd_loss(x[:1].expand(3, -1, -1, -1), y)


def test_range_loss_values():
    x = torch.tensor([-0.5, 0.2, 1.0, 1.5]).view(1, 1, 2, 2)
    assert range_loss(x).item() == pytest.approx((0.5 + 0.5) / 4)


def test_output_may_leave_range_but_target_may_not(vgg_weights, pair):
    x, y = pair
    assert dsd_loss(x * 1.2 - 0.1, y) > 0
    with pytest.raises(ValueError, match=r"target: expected values in \[0, 1\]"):
        dsd_loss(x, y * 1.5 + 0.2)
    with pytest.raises(ValueError, match="output: contains NaN"):
        style_loss(x * float("nan"), y)


def test_bad_arguments(vgg_weights, pair, shared_weights):
    x, y = pair
    with pytest.raises(ValueError, match=r"conv5_4.*missing"):
        perceptual_loss(x, y)  # the shared weights stop at conv3_1
    with pytest.raises(ValueError, match="same shape"):
        perceptual_loss(x, y[..., :32], "relu2_1")
    with pytest.raises(ValueError, match="too small"):
        dsd_loss(x[..., :12, :12], y[..., :12, :12], alpha=4)
    with pytest.raises(ValueError, match="alpha=4"):
        dsd_loss(x, target_dsd(y, alpha=4))
    with pytest.raises(ValueError, match="reduction"):
        dsd_loss(x, y, reduction="sum")
    with pytest.raises(ValueError, match="one per factor"):
        multiscale_style_loss(x, [target_grams(y)], factors=(1, 2))


@pytest.mark.skipif(not probe_capability("cpu").bf16, reason="this CPU has no native bfloat16 (avx512_bf16 or AMX)")
@pytest.mark.parametrize("wrap", ["autocast", "extractor"])
def test_losses_under_bf16_autocast_are_float32_and_close(vgg_weights, wrap):
    output = center_crop(skimage_sample("chelsea"), 64).requires_grad_(True)
    target = center_crop(skimage_sample("coffee"), 64)
    plan = resolve_precision("bf16", "cpu")
    net = VGG19Features(("relu1_2", "relu2_1", "relu2_2", "relu3_1", "conv3_1"))
    low_net = AutocastFeatures(net, plan)
    losses = {
        "dsd": lambda extractor: dsd_loss(output, target, "dsd", 2, extractor=extractor),
        "style": lambda extractor: style_loss(output, target, "style", extractor=extractor),
        "multiscale_style": lambda extractor: multiscale_style_loss(
            output, target, (1, 2), "style", extractor=extractor
        ),
        "perceptual": lambda extractor: perceptual_loss(output, target, "conv3_1", extractor=extractor),
    }  # fmt: skip
    for name, loss in losses.items():
        exact = loss(net)
        if wrap == "autocast":  # the idiom of the losses' docstring
            with autocast(plan):
                low = loss(net)
        else:
            low = loss(low_net)
        assert low.dtype == torch.float32 and low.ndim == 0, name
        assert abs(float(low) - float(exact)) < 5e-3 * float(exact), name  # measured: 0.02-0.08%
        (grad,) = torch.autograd.grad(low, output)
        assert grad.dtype == torch.float32, name
