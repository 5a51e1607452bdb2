"""Gram matrices and DSD fingerprints: definitions, properties, gradients, batches, errors."""

from __future__ import annotations

import pytest
import torch

from dsdviz import VGG19Features, dsd, gram
from dsdviz.fingerprint import DSD
from dsdviz.resize import downscale


def test_gram_definition_symmetry_and_psd(rng):
    f = torch.randn(2, 5, 4, 3, generator=rng, dtype=torch.float64)
    g = gram(f)
    flat = f[0].reshape(5, 12)
    torch.testing.assert_close(g[0], flat @ flat.T / (5 * 12))
    torch.testing.assert_close(g, g.transpose(1, 2))
    assert torch.linalg.eigvalsh(g).min() > -1e-12


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_gram_gradcheck(rng, layout):
    f = torch.randn(2, 3, 4, 5, generator=rng, dtype=torch.float64).contiguous(memory_format=layout)
    f.requires_grad_()
    assert torch.autograd.gradcheck(gram, (f,))
    assert torch.autograd.gradgradcheck(gram, (f,))
    torch.testing.assert_close(gram(f), gram(f.contiguous()))


def test_dsd_is_gram_difference(vgg_weights, rng):
    x = torch.rand(1, 3, 48, 40, generator=rng)
    net = VGG19Features("dsd")
    result = dsd(x, 2, extractor=net)
    fine, coarse = net(x), net(downscale(x, 2))
    for layer in result.layers:
        torch.testing.assert_close(result.matrices[layer], gram(fine[layer]) - gram(coarse[layer]))
    assert result.matrices["relu3_1"].shape == (1, 256, 256)
    assert result.matrices["relu1_2"].shape == (1, 64, 64)


def test_norms_are_mean_absolute_entries(vgg_weights, rng):
    x = torch.rand(2, 3, 32, 32, generator=rng)
    result = dsd(x, 4)
    norms = result.norms()
    assert list(norms) == ["relu1_2", "relu2_1", "relu2_2", "relu3_1", "mean"]
    for layer in result.layers:
        torch.testing.assert_close(norms[layer], result.matrices[layer].abs().mean(dim=(1, 2)))
        assert norms[layer].shape == (2,)
    torch.testing.assert_close(norms["mean"], torch.stack([norms[k] for k in result.layers]).mean(0))


def test_alpha_one_gives_zero_and_base_compares_downscaled_copies(vgg_weights, rng):
    x = torch.rand(1, 3, 40, 40, generator=rng)
    with pytest.raises(ValueError, match="a factor of 1 compares an image with itself"):
        dsd(x, 1)  # its DSD would be all zeros
    net = VGG19Features("dsd")
    result = dsd(x, 2, base=2, extractor=net)
    expected = {k: gram(v) for k, v in net(downscale(x, 2)).items()}
    coarse = {k: gram(v) for k, v in net(downscale(x, 4)).items()}
    for layer in result.layers:
        torch.testing.assert_close(result.matrices[layer], expected[layer] - coarse[layer])


def test_batch_equals_items(vgg_weights, rng):
    x = torch.rand(3, 3, 36, 28, generator=rng)
    batched = dsd(x, 2)
    for i in range(3):
        single = dsd(x[i : i + 1], 2)
        for layer in batched.layers:
            torch.testing.assert_close(batched.matrices[layer][i : i + 1], single.matrices[layer], rtol=1e-4, atol=1e-6)
        item = batched[i]
        assert item.batch_size == 1


def test_float64_and_distance(vgg_weights, rng):
    x = torch.rand(2, 3, 32, 32, generator=rng, dtype=torch.float64)
    a, b = dsd(x, 2), dsd(x.flip(-1), 2)
    assert a.matrices["relu1_2"].dtype == torch.float64
    d = a.distance(b)
    assert d["relu2_1"].shape == (2,) and (d["mean"] >= 0).all()
    assert torch.all(a.distance(a)["mean"] == 0)
    with pytest.raises(ValueError, match="differ in layers or scales"):
        a.distance(dsd(x, 4))


def test_dsd_gradcheck_float64(rng, monkeypatch):
    monkeypatch.delenv("DSDVIZ_VGG19_WEIGHTS", raising=False)
    net = VGG19Features(["relu1_2", "relu2_1"], weights=None).double()
    x = torch.rand(1, 3, 8, 8, generator=rng, dtype=torch.float64, requires_grad=True)

    def norms(t: torch.Tensor) -> torch.Tensor:
        matrices = dsd(t.clamp(0, 1), 2, ["relu1_2", "relu2_1"], extractor=net).matrices
        return torch.stack([m.sum() for m in matrices.values()])

    assert torch.autograd.gradcheck(norms, (x,), atol=1e-6)


def test_result_is_a_small_value_object(vgg_weights, rng):
    result = dsd(torch.rand(1, 3, 16, 16, generator=rng), 2, ["relu1_2"])
    assert isinstance(result, DSD) and result.layers == ("relu1_2",)
    assert result.alpha == 2.0 and result.base == 1.0
    assert not result.detach().matrices["relu1_2"].requires_grad


def test_bad_input_raises_clear_errors(vgg_weights):
    good = torch.rand(1, 3, 32, 32)
    with pytest.raises(ValueError, match=r"too small for layer relu3_1 at scale 1/4.*4 x 4 px"):
        dsd(torch.rand(1, 3, 12, 12), 4)
    with pytest.raises(ValueError, match="downscaling factor >= 1"):
        dsd(good, 0.5)
    with pytest.raises(ValueError, match="unknown VGG19 layer"):
        dsd(good, 2, ["relu3_2x"])
    with pytest.raises(ValueError, match=r"got \(3, 32, 32\) float32 \(add a batch dimension"):
        dsd(good[0], 2)
    with pytest.raises(ValueError, match="RGBA"):
        dsd(torch.rand(1, 4, 32, 32), 2)
    with pytest.raises(ValueError, match="uint8"):
        dsd((good * 255).to(torch.uint8), 2)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        dsd(good * 3, 2)
    with pytest.raises(ValueError, match="NaN or inf"):
        dsd(good.clone().index_fill_(3, torch.tensor([0]), float("inf")), 2)
    with pytest.raises(ValueError, match="lacks"):
        dsd(good, 2, "dsd", extractor=VGG19Features(["relu1_2"]))
