"""The precision plan (fake capabilities for CUDA), autocast dtypes, float32 Gram matrices, channels-last networks."""

from __future__ import annotations

import copy

import pytest
import torch

from dsdviz.features import VGG19Features
from dsdviz.fingerprint import gram
from dsdviz.models import DSDRegressor, XSRResNet
from dsdviz.precision import (
    AutocastFeatures,
    Capability,
    PrecisionFallbackWarning,
    autocast,
    channels_last,
    grad_scaler,
    probe_capability,
    resolve_precision,
)

CPU_BF16 = Capability("cpu", bf16=True, detail="CPU: avx512_bf16")
CPU_PLAIN = Capability("cpu", bf16=False, detail="CPU: no native bfloat16")
AMPERE = Capability("cuda", bf16=True, fp16=True, detail="A100, sm_80")
TURING = Capability("cuda", bf16=False, fp16=True, detail="T4, sm_75")

needs_cpu_bf16 = pytest.mark.skipif(
    not probe_capability("cpu").bf16, reason="this CPU has no native bfloat16 (avx512_bf16 or AMX)"
)


@pytest.mark.parametrize(
    ("requested", "device", "capability", "expected", "dtype", "scaler"),
    [
        ("fp32", "cpu", CPU_BF16, "fp32", None, False),
        ("fp32", "cuda", AMPERE, "fp32", None, False),
        ("bf16", "cpu", CPU_BF16, "bf16", torch.bfloat16, False),
        ("bf16", "cuda", AMPERE, "bf16", torch.bfloat16, False),
        ("fp16", "cuda", AMPERE, "fp16", torch.float16, True),
        ("fp16", "cuda", TURING, "fp16", torch.float16, True),
        ("auto", "cpu", CPU_BF16, "bf16", torch.bfloat16, False),
        ("auto", "cpu", CPU_PLAIN, "fp32", None, False),
        ("auto", "cuda:1", AMPERE, "bf16", torch.bfloat16, False),
        ("auto", "cuda", TURING, "fp16", torch.float16, True),
    ],
)
def test_resolve_rules(requested, device, capability, expected, dtype, scaler):
    plan = resolve_precision(requested, device, capability=capability)
    assert (plan.precision, plan.dtype, plan.grad_scaler) == (expected, dtype, scaler)
    assert plan.requested == requested and plan.device_type == torch.device(device).type
    assert plan.enabled == (dtype is not None)
    assert plan.metadata() == {"precision": expected, "requested": requested, "grad_scaler": scaler,
                               "reason": plan.reason}  # fmt: skip
    if expected != "fp32":
        assert capability.detail in plan.reason


@pytest.mark.parametrize(
    ("requested", "device", "capability", "message"),
    [
        ("bf16", "cpu", CPU_PLAIN, "'bf16' is not supported natively on CPU: no native bfloat16"),
        ("bf16", "cuda", TURING, "'bf16' is not supported natively on T4, sm_75"),
        ("fp16", "cpu", CPU_BF16, "'fp16' is for CUDA only"),
        ("float16", "cpu", CPU_BF16, "precision"),
        ("bf16", "cuda", CPU_BF16, "capability describes a cpu device, not cuda"),
    ],
)
def test_unsupported_requests_raise(requested, device, capability, message):
    with pytest.raises(ValueError, match=message):
        resolve_precision(requested, device, capability=capability)


def test_fallback_warns_and_says_so():
    with pytest.warns(PrecisionFallbackWarning, match="T4, sm_75: falling back to float32"):
        plan = resolve_precision("bf16", "cuda", capability=TURING, fallback=True)
    assert (plan.precision, plan.dtype, plan.requested) == ("fp32", None, "bf16")
    assert "not supported" in plan.reason
    with pytest.raises(ValueError, match="CUDA only"):  # a configuration error, not a capability: no fall-back
        resolve_precision("fp16", "cpu", capability=CPU_BF16, fallback=True)


def test_grad_scaler_off_for_bf16():
    assert not grad_scaler(resolve_precision("bf16", "cpu", capability=CPU_BF16)).is_enabled()
    assert not grad_scaler(resolve_precision("fp32", "cpu")).is_enabled()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (the scaler disables itself without it)")
def test_grad_scaler_on_for_cuda_fp16():
    assert grad_scaler(resolve_precision("fp16", "cuda", capability=TURING)).is_enabled()


def test_probe_capability_cpu_matches_torch():
    cap = probe_capability("cpu")
    assert cap.device_type == "cpu" and not cap.fp16
    native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    assert cap.bf16 == (native and torch.backends.mkldnn.is_available())


def test_fp32_autocast_is_a_no_op():
    plan = resolve_precision("fp32", "cpu")
    conv = torch.nn.Conv2d(3, 4, 3)
    with autocast(plan):
        assert conv(torch.rand(1, 3, 8, 8)).dtype == torch.float32


@needs_cpu_bf16
def test_cpu_bf16_autocast_dtypes_and_float32_features():
    plan = resolve_precision("bf16", "cpu")
    conv = torch.nn.Conv2d(3, 4, 3)
    with autocast(plan):
        assert conv(torch.rand(1, 3, 8, 8)).dtype == torch.bfloat16
    torch.manual_seed(0)
    net = VGG19Features(("relu1_2", "relu2_1"), weights=None)
    wrapped = AutocastFeatures(net, plan)
    assert wrapped.layers == net.layers
    x = torch.rand(2, 3, 32, 32)
    low, exact = wrapped(x), net(x)
    for name in net.layers:
        assert low[name].dtype == torch.bfloat16  # the maps stay bf16; the Gram matrix is a float32 product
        assert gram(low[name]).dtype == torch.float32
        error = (gram(low[name]) - gram(exact[name])).abs().max() / gram(exact[name]).abs().max()
        assert 0 < error < 2e-2  # bf16 convolutions: close, but not float32


@pytest.mark.parametrize("train", [False, True])
def test_channels_last_xsrresnet_same_outputs_and_gradients(train):
    torch.manual_seed(0)
    net = XSRResNet(scale=4, num_blocks=2).train(train)
    fast = channels_last(copy.deepcopy(net))
    assert fast.head[0].weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.rand(2, 3, 12, 10)
    out, out_fast = net(x), fast(x)
    assert out_fast.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out_fast, out, atol=1e-5, rtol=1e-5)
    out.square().mean().backward()
    out_fast.square().mean().backward()
    for p, q in zip(net.parameters(), fast.parameters()):  # float32 sums over B H W in another order
        assert (q.grad - p.grad).abs().max() <= 1e-3 * p.grad.abs().max()


def test_channels_last_regressor_same_outputs():
    torch.manual_seed(0)
    net = DSDRegressor(alpha=2)
    with torch.no_grad():  # non-trivial batch-norm statistics and branches
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 2)
                module.weight.uniform_(0.5, 1.5)
    net.eval()
    fast = channels_last(copy.deepcopy(net))
    x = torch.rand(3, 3, 40, 40)
    torch.testing.assert_close(fast(x), net(x), atol=1e-5, rtol=1e-5)
    x_train = torch.rand(4, 3, 40, 40)
    torch.testing.assert_close(fast.train()(x_train), net.train()(x_train), atol=1e-5, rtol=1e-5)
