"""Training data (the step-indexed stream, SR/deblurring pairs) and whole-image validation examples."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from dsdviz.data import (
    Box,
    DeblurPairs,
    NaturalCrops,
    SRPairs,
    StepSampler,
    bicubic_downsample,
    bicubic_upsample,
    data_root,
    deblur_examples,
    degraded_versions,
    gaussian_blur,
    heldout_paths,
    image_names,
    image_paths,
    natural_examples,
    read_uint8,
    save_image,
    split_folders,
    sr_examples,
    sr_folders,
    to_unit,
)
from dsdviz.resize import downscale


@pytest.fixture
def folder(tmp_path, rng):
    """Three small 8-bit RGB images (two 64 x 72, one 80 x 64)."""
    for name, size in (("a", (64, 72)), ("b", (64, 72)), ("c", (80, 64))):
        save_image(torch.rand(1, 3, *size, generator=rng), tmp_path / "hr" / f"{name}.png")
    return tmp_path / "hr"


def test_step_sampler_splits_each_global_batch():
    single = StepSampler(6, start_step=2)
    ranks = [StepSampler(6, start_step=2, rank=r, world_size=2) for r in range(2)]
    first = [next(iter(single)) for _ in range(1)]
    assert first == [12]
    stream = iter(single)
    global_batch = [next(stream) for _ in range(6)]
    parts = [[next(it) for _ in range(3)] for it in map(iter, ranks)]
    assert parts[0] + parts[1] == global_batch == list(range(12, 18))
    with pytest.raises(ValueError, match="not divisible"):
        StepSampler(5, world_size=2)


def test_items_are_deterministic_and_worker_independent(folder):
    data = SRPairs(folder, scale=4, crop=8, seed=3)
    torch.testing.assert_close(data[7]["input"], SRPairs(folder, scale=4, crop=8, seed=3)[7]["input"])
    assert not torch.equal(data[7]["input"], SRPairs(folder, scale=4, crop=8, seed=4)[7]["input"])
    loaders = [DataLoader(data, batch_size=4, sampler=StepSampler(4), num_workers=w) for w in (0, 2)]
    batches = [next(iter(loader)) for loader in loaders]
    torch.testing.assert_close(batches[0]["target"], batches[1]["target"], rtol=0, atol=0)
    # each pass visits every image once
    picks = [data.pick(k)[0] for k in range(6)]
    assert sorted(picks[:3]) == sorted(picks[3:]) == [0, 1, 2]


def test_sr_pairs_on_the_fly_equal_the_whole_image_downscale(folder):
    data = SRPairs(folder, scale=4, crop=8, seed=0, dequantize=False)
    for index in range(6):
        which, _ = data.pick(index)
        hr = read_uint8(str(data.paths[which]))
        full = bicubic_downsample(hr, 4)
        for top, left in ((0, 0), (3, 5), (hr.shape[-2] // 4 - 8, hr.shape[-1] // 4 - 8)):
            assert torch.equal(data.lr_crop(hr, top, left), full[:, top : top + 8, left : left + 8])


def test_sr_pairs_from_lr_folder_are_aligned(shared_data):
    data = SRPairs(
        shared_data / "Set5" / "HR", crop=12, lr=shared_data / "Set5" / "LR_bicubic" / "X4", dequantize=False
    )
    for index in range(5):
        item = data[index]
        assert item["input"].shape == (3, 12, 12) and item["target"].shape == (3, 48, 48)
        # the LR file is a bicubic downscale of the HR image: the pair agrees to a few 8-bit levels
        difference = downscale(item["target"][None].double(), 4)[0] - item["input"].double()
        assert difference[:, 2:-2, 2:-2].abs().mean() < 2 / 255


def test_dequantisation_noise_stays_in_the_8_bit_cell(folder):
    noisy, clean = NaturalCrops(folder, crop=16, seed=1), NaturalCrops(folder, crop=16, seed=1, dequantize=False)
    x, v = noisy[5]["target"], clean[5]["target"] * 255
    assert ((x * 256 >= v.round() - 1e-4) & (x * 256 < v.round() + 1)).all()
    assert 0.3 < float((x * 256 - v.round()).mean()) < 0.7


def test_synthetic_deblur_pairs(folder):
    data = DeblurPairs(folder, crop=24, kernel_size=9, noise=0.0, seed=2, dequantize=False)
    item = data[4]
    assert item["input"].shape == item["target"].shape == (3, 24, 24)
    # the blurred crop is the blur of the sharp crop's neighbourhood (up to 8-bit rounding) and differs from it
    assert 0 < float((item["input"] - item["target"]).abs().mean())
    assert float(item["input"].mean()) == pytest.approx(float(item["target"].mean()), abs=0.05)


def test_real_deblur_pairs_and_kernel_files(shared_data):
    gopro = shared_data / "deblur" / "GoPro_samples"
    data = DeblurPairs(gopro / "sharp", crop=32, blurred=gopro / "blur", dequantize=False)
    item = data[0]
    assert item["input"].shape == (3, 32, 32)
    assert float((item["input"] - item["target"]).abs().mean()) < 0.2  # aligned pairs, not unrelated crops
    levin = DeblurPairs(gopro / "sharp", crop=32, kernels=shared_data / "deblur" / "kernels" / "Levin09_npy")
    assert levin[1]["input"].shape == (3, 32, 32)


def test_examples(folder, tmp_path):
    sr = sr_examples(folder, scale=4, crop=32)
    assert [e.name for e in sr] == ["a", "b", "c"]
    assert sr[0].input.shape == (1, 3, 8, 8) and sr[0].target.shape == (1, 3, 32, 32)
    deblur = deblur_examples(folder, kernel_size=9, limit=2, seed=1)
    assert len(deblur) == 2 and deblur[0].input.shape == deblur[0].target.shape == (1, 3, 64, 72)
    torch.testing.assert_close(deblur[0].input, deblur_examples(folder, kernel_size=9, limit=1, seed=1)[0].input)
    natural = natural_examples(folder, crop=16, per_image=2)
    assert [e.name for e in natural][:2] == ["a_0", "a_1"] and natural[0].input.shape == (1, 3, 16, 16)


def test_bad_data(folder, tmp_path):
    with pytest.raises(ValueError, match="smaller than the"):
        SRPairs(folder, crop=20)[0]
    save_image(torch.zeros(1, 3, 16, 18), tmp_path / "lr" / "other.png")
    with pytest.raises(ValueError, match="no LR image named a"):
        SRPairs(folder, lr=tmp_path / "lr")
    with pytest.raises(ValueError, match="does not exist"):
        NaturalCrops(tmp_path / "missing")
    with pytest.raises(IndexError):
        NaturalCrops(folder, crop=8)[-1]


def test_data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("DSDVIZ_DATA", str(tmp_path))
    assert data_root() == tmp_path
    (tmp_path / "other").mkdir()
    assert data_root(tmp_path / "other") == tmp_path / "other"  # an explicit argument wins over the variable
    with pytest.raises(ValueError, match="does not exist"):
        data_root(tmp_path / "missing")
    monkeypatch.setenv("DSDVIZ_DATA", " ")
    assert data_root(required=False) is None
    with pytest.raises(ValueError, match="set the environment variable DSDVIZ_DATA"):
        data_root()


def test_sr_example_crops_are_aligned_to_the_lr_grid(folder):
    (example,) = sr_examples(folder, scale=4, crop=30, limit=1)  # a is 64 x 72: a 28 px crop, 7 LR px
    hr = read_uint8(str(folder / "a.png"))
    assert example.target.shape == (1, 3, 28, 28) and example.input.shape == (1, 3, 7, 7)
    assert example.box == Box(16, 20, 28, 28)
    torch.testing.assert_close(example.target[0] * 255, hr[:, 16:44, 20:48].float(), rtol=0, atol=1e-4)
    lr = bicubic_downsample(hr, 4)[:, 4:11, 5:12]  # offsets (64 - 28) / 2 / 4 and (72 - 28) / 2 / 4
    torch.testing.assert_close(example.input[0] * 255, lr.float(), rtol=0, atol=1e-4)


def test_sr_examples_of_a_benchmark_set_by_name(shared_data):
    hr_folder, lr_folder = sr_folders("Set5", root=shared_data)
    assert (hr_folder, lr_folder) == (shared_data / "Set5" / "HR", shared_data / "Set5" / "LR_bicubic" / "X4")
    assert image_names("Set5", 2, root=shared_data) == ["baby", "bird"]
    bird, baby = sr_examples(hr_folder, 4, lr_folder, crop=66, names=["bird", "baby"])
    assert [bird.name, baby.name] == ["bird", "baby"]
    assert bird.box == Box(112, 112, 64, 64)  # bird is 288 x 288: a 64 px crop on the 4 px grid
    hr, lr = read_uint8(str(hr_folder / "bird.png")), read_uint8(str(lr_folder / "bird.png"))
    assert torch.equal(bird.target[0], to_unit(hr[:, 112:176, 112:176]))
    assert torch.equal(bird.input[0], to_unit(lr[:, 28:44, 28:44]))  # the LR file's pixels, not a new downscale
    (whole,) = sr_examples(hr_folder, 4, lr_folder, names=["bird"])
    assert whole.box == Box(0, 0, 288, 288) and torch.equal(whole.input[0], to_unit(lr))
    with pytest.raises(ValueError, match="no image named nothing"):
        sr_examples(hr_folder, names=["nothing"])


def _smooth(rng: torch.Generator, size: int = 48) -> torch.Tensor:
    return F.interpolate(torch.rand(1, 3, 12, 12, generator=rng), size=(size, size), mode="bicubic").clamp(0, 1)


def test_degraded_versions(tmp_path, rng):
    for name in ("a", "b"):
        save_image(_smooth(rng), tmp_path / "gt" / f"{name}.png")
    versions = degraded_versions(tmp_path / "gt", gaussian_sigmas=(1, 2.5))
    assert list(versions) == ["natural", "bicubic", "blurred", "gaussian 1 px", "gaussian 2.5 px"]
    for version, images in versions.items():
        assert [name for name, _ in images] == ["a", "b"]
        assert all(image.shape == (1, 3, 48, 48) for _, image in images), version
    (_, truth), (_, bicubic) = versions["natural"][0], versions["bicubic"][0]
    lr = torch.round(F.interpolate(truth, scale_factor=0.25, mode="bicubic", antialias=True).clamp(0, 1) * 255)
    assert (bicubic - bicubic_upsample(lr / 255, 4)).abs().max() < 0.1  # up-sampled from its 8-bit LR image
    assert torch.equal(versions["gaussian 2.5 px"][1][1], gaussian_blur(versions["natural"][1][1], 2.5))
    assert 0 < float((versions["blurred"][0][1] - truth).abs().mean()) < 0.2
    with pytest.raises(ValueError, match="must be positive"):
        degraded_versions(tmp_path / "gt", gaussian_sigmas=(0,))


def test_holdout_and_several_folders(folder, tmp_path, rng):
    save_image(torch.rand(1, 3, 64, 64, generator=rng), tmp_path / "more" / "d.png")
    both = [folder, tmp_path / "more"]
    assert [p.name for p in image_paths(both)] == ["a.png", "b.png", "c.png", "d.png"]
    assert [p.name for p in image_paths(both, holdout=2)] == ["a.png", "b.png"]
    assert [p.name for p in heldout_paths(both, 2)] == ["c.png", "d.png"]
    assert image_paths([folder / "b.png", folder / "a.png"]) == [folder / "b.png", folder / "a.png"]
    assert split_folders(f"{folder}{os.pathsep}{tmp_path / 'more'}") == [str(p) for p in both]
    stream = NaturalCrops(both, crop=32, holdout=2)
    assert len(stream) == 2 and all(p.name in ("a.png", "b.png") for p in stream.paths)
    with pytest.raises(ValueError, match="holdout: expected 0 to 3 of the 4 images"):
        image_paths(both, holdout=4)


def test_natural_crops_with_realistic_coarse_copies(folder):
    clean = NaturalCrops(folder, crop=32, seed=1, coarse=2)
    item = clean[5]
    assert item["input"].shape == (3, 16, 16)
    torch.testing.assert_close(item["input"], downscale(item["target"][None], 2)[0])
    assert torch.equal(NaturalCrops(folder, crop=32, seed=1)[5]["target"], item["target"])  # same crops
    realistic = NaturalCrops(folder, crop=32, seed=1, coarse=2, realistic=1.0)
    degraded = [realistic[k] for k in range(8)]
    assert all(torch.equal(d["input"], realistic[k]["input"]) for k, d in enumerate(degraded))  # seeded per item
    assert all(torch.equal(d["input"] * 255, (d["input"] * 255).round()) for d in degraded)  # 8-bit, as a camera's
    changed = [float((d["input"] - downscale(d["target"][None], 2)[0]).abs().mean()) > 1 / 255 for d in degraded]
    assert sum(changed) >= 6  # noise or JPEG on most (2% draw neither; here item 3 is only rounded to 8 bits)
    with pytest.raises(ValueError, match="realistic: expected a fraction"):
        NaturalCrops(folder, crop=32, realistic=0.5)


def _detail(x: torch.Tensor) -> float:
    """Mean absolute Laplacian of an image ``(3, h, w)``: its fine detail."""
    centre = x[:, 1:-1, 1:-1]
    return float((4 * centre - x[:, :-2, 1:-1] - x[:, 2:, 1:-1] - x[:, 1:-1, :-2] - x[:, 1:-1, 2:]).abs().mean())


def test_natural_crops_with_blurred_coarse_copies(folder):
    sharp = NaturalCrops(folder, crop=32, seed=1, coarse=2, realistic=1.0)
    blurred = NaturalCrops(folder, crop=32, seed=1, coarse=2, realistic=1.0, blur=3.0)
    pairs = [(sharp[k], blurred[k]) for k in range(16)]
    assert all(torch.equal(s["target"], b["target"]) for s, b in pairs)  # the targets stay the clean crops
    assert all(b["input"].shape == (3, 16, 16) and torch.equal(b["input"], blurred[k]["input"])
               for k, (_, b) in enumerate(pairs))  # fmt: skip
    detail = [(_detail(s["input"]), _detail(b["input"])) for s, b in pairs]
    assert np.mean([b for _, b in detail]) < 0.8 * np.mean([s for s, _ in detail])  # blurred before the noise
    with pytest.raises(ValueError, match="blur: expected a standard deviation >= 0 px for realistic"):
        NaturalCrops(folder, crop=32, coarse=2, blur=1.0)
    with pytest.raises(ValueError, match="blur: 6 px needs a 37 px kernel, more than the 32 px crop"):
        NaturalCrops(folder, crop=32, coarse=2, realistic=1.0, blur=6.0)
