"""VGG19 extractor: layer table, weights resolution (env var, files, offline), outputs."""

from __future__ import annotations

import hashlib

import pytest
import torch
from torchvision.models import vgg19

from dsdviz.features import (
    LAYER_PRESETS,
    VGG19_LAYERS,
    WEIGHTS_ENV,
    VGG19Features,
    WeightsUnavailableError,
    min_input_size,
    resolve_layers,
    vgg19_features,
)


def test_layer_table_matches_torchvision_modules():
    body = vgg19(weights=None).features
    assert len([k for k in VGG19_LAYERS if k.startswith(("conv", "relu", "pool"))]) == len(body) == 37
    for name, index in VGG19_LAYERS.items():
        kind = {"conv": torch.nn.Conv2d, "relu": torch.nn.ReLU, "pool": torch.nn.MaxPool2d}[name[:4]]
        assert isinstance(body[index], kind), name
    assert (VGG19_LAYERS["relu1_2"], VGG19_LAYERS["relu2_1"], VGG19_LAYERS["relu2_2"], VGG19_LAYERS["relu3_1"]) == (
        3,
        6,
        8,
        11,
    )
    assert VGG19_LAYERS["conv5_4"] == 34 and VGG19_LAYERS["relu5_4"] == 35


def test_presets_and_min_size():
    assert resolve_layers("dsd") == ("relu1_2", "relu2_1", "relu2_2", "relu3_1")
    assert resolve_layers("training") == ("relu2_1", "relu2_2", "relu3_1")
    assert resolve_layers("full_reference") == ("relu1_2", "relu2_1", "relu3_1")
    assert set(LAYER_PRESETS) >= {"dsd", "training", "full_reference", "no_reference", "style"}
    assert min_input_size(["relu1_2"]) == 1 and min_input_size(["relu2_1"]) == 2
    assert min_input_size("dsd") == 4 and min_input_size(["relu5_4"]) == 16


def test_shared_weights_file_is_the_documented_one(shared_weights):
    digest = hashlib.sha256(shared_weights.read_bytes()).hexdigest()
    assert digest == "53cf489c432ee176dabe7eea51d636b6badad23fb3a022bdaaee2db38adae846"


def test_relu3_1_equals_manual_torchvision_forward(shared_weights, rng, monkeypatch):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    state = torch.load(shared_weights, weights_only=True)
    manual = vgg19(weights=None).features[:12]
    manual.load_state_dict(state)
    x = torch.rand(2, 3, 32, 40, generator=rng)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = manual((x - mean) / std)
        ours = VGG19Features(["relu1_2", "conv2_1", "relu3_1"], weights=shared_weights)(x)
        plain = VGG19Features(["relu3_1"], weights=shared_weights, channels_last=False)(x)["relu3_1"]
    assert list(ours) == ["relu1_2", "conv2_1", "relu3_1"]
    assert ours["relu3_1"].shape == (2, 256, 8, 10)
    torch.testing.assert_close(plain, expected, rtol=0, atol=1e-5)
    # channels-last convolutions round differently, within float32 accuracy
    torch.testing.assert_close(ours["relu3_1"], expected, rtol=0, atol=2e-6 * expected.abs().max().item())
    # conv taps are pre-activation: they keep negative values (ReLUs are not in place)
    assert ours["conv2_1"].min() < 0 and ours["relu1_2"].min() >= 0


def test_full_and_prefixed_state_dicts_are_accepted(shared_weights, tmp_path, monkeypatch):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    state = torch.load(shared_weights, weights_only=True)
    prefixed = {f"features.{k}": v for k, v in state.items()} | {"classifier.0.weight": torch.zeros(2, 2)}
    torch.save(prefixed, tmp_path / "full.pth")
    a = VGG19Features("dsd", weights=shared_weights)
    b = VGG19Features("dsd", weights=tmp_path / "full.pth")
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)


def test_env_var_overrides_argument(shared_weights, tmp_path, monkeypatch):
    monkeypatch.setenv(WEIGHTS_ENV, str(shared_weights))
    net = VGG19Features(["relu1_2"], weights=tmp_path / "does-not-exist.pth")
    reference = torch.load(shared_weights, weights_only=True)["0.weight"]
    assert torch.equal(net.body[0].weight, reference)


def test_missing_layers_are_named(shared_weights, monkeypatch):
    monkeypatch.setenv(WEIGHTS_ENV, str(shared_weights))
    with pytest.raises(ValueError, match=r"do not cover layer\(s\) relu4_1.*missing conv3_2"):
        VGG19Features(["relu1_2", "relu4_1"])


def test_missing_file_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "nope.pth"))
    with pytest.raises(WeightsUnavailableError, match=WEIGHTS_ENV):
        VGG19Features("dsd")


@pytest.mark.parametrize("through", ["environment", "argument"])
def test_corrupt_weights_file_is_a_clear_error(shared_weights, tmp_path, monkeypatch, through):
    data = shared_weights.read_bytes()
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    generator = torch.Generator().manual_seed(0)
    random_bytes = torch.randint(0, 256, (4096,), generator=generator, dtype=torch.uint8).numpy().tobytes()
    torch.save({"0.weight": torch.zeros(1), "note": "text"}, tmp_path / "mixed.pth")
    for name, content in (("truncated.pth", data[: len(data) // 3]), ("random.pth", random_bytes)):
        (tmp_path / name).write_bytes(content)
    for name, message in (("truncated.pth", "is a truncated PyTorch file"), ("random.pth", "is not a PyTorch file"),
                          ("mixed.pth", "holds a dict of other things")):  # fmt: skip
        path = tmp_path / name
        if through == "environment":
            monkeypatch.setenv(WEIGHTS_ENV, str(path))
        with pytest.raises(ValueError, match=rf"'{path}' {message}.*expected a state dict of torchvision's VGG19"):
            VGG19Features("dsd", weights=path if through == "argument" else "imagenet")


def test_offline_imagenet_error_names_the_variable(tmp_path, monkeypatch):
    """No cached file and no network (this machine has none): a clear error, no random fall-back."""
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    try:
        net = VGG19Features(["relu1_2"], weights="imagenet")
    except WeightsUnavailableError as error:
        assert WEIGHTS_ENV in str(error) and "could not be downloaded" in str(error)
    else:  # online machine: the real weights arrived, which is also correct
        assert net.body[0].weight.abs().sum() > 0


def test_random_weights_only_when_asked(monkeypatch, rng):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    net = VGG19Features(["relu2_1"], weights=None)
    assert all(not p.requires_grad for p in net.parameters())
    net.train()
    assert not net.training and not net.body.training
    out = net(torch.rand(1, 3, 16, 16, generator=rng))
    assert out["relu2_1"].shape == (1, 128, 8, 8)


def test_one_forward_truncated_after_deepest_layer(monkeypatch):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    assert len(VGG19Features(["relu1_2"], weights=None).body) == 4
    assert len(VGG19Features(["relu2_2", "relu1_1"], weights=None).body) == 9


def test_bad_input_and_layers(vgg_weights):
    with pytest.raises(ValueError, match="unknown VGG19 layer"):
        VGG19Features(["relu9_9"])
    with pytest.raises(ValueError, match="unknown layer or preset"):
        resolve_layers("everything")
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\).*got \(1, 1, 32, 32\)"):
        vgg19_features(torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError, match="at least 4 px"):
        vgg19_features(torch.rand(1, 3, 3, 32))
    with pytest.raises(ValueError, match=r"values in \[0, 1\].*divided by 255"):
        vgg19_features(torch.rand(1, 3, 16, 16) * 255)
    with pytest.raises(ValueError, match="NaN"):
        vgg19_features(torch.full((1, 3, 16, 16), float("nan")))
