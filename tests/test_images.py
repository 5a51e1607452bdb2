"""Image loading and saving: grey, RGBA, 16-bit, PIL, tensors, round trips, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from dsdviz.data import center_box, center_crop, find_image, list_images, load_image, quantize, save_image, to_uint8


def test_rgb_uint8_round_trip(tmp_path, rng):
    array = (torch.rand(20, 30, 3, generator=rng) * 255).to(torch.uint8).numpy()
    x = load_image(array)
    assert x.shape == (1, 3, 20, 30) and x.dtype == torch.float32
    assert x.min() >= 0 and x.max() <= 1
    path = save_image(x, tmp_path / "sub" / "a.png")
    assert np.array_equal(np.asarray(Image.open(path)), array)
    assert torch.equal(load_image(path), x)


def test_grey_is_replicated_and_rgba_is_composited():
    grey = np.array([[0, 255], [128, 64]], dtype=np.uint8)
    x = load_image(grey)
    assert x.shape == (1, 3, 2, 2) and torch.equal(x[0, 0], x[0, 2])
    rgba = np.zeros((1, 2, 4), dtype=np.uint8)
    rgba[0, 0] = [255, 0, 0, 255]  # opaque red
    rgba[0, 1] = [0, 0, 0, 0]  # fully transparent
    on_white = load_image(rgba)
    assert on_white[0, :, 0, 0].tolist() == [1, 0, 0] and on_white[0, :, 0, 1].tolist() == [1, 1, 1]
    assert load_image(rgba, background=0.0)[0, :, 0, 1].tolist() == [0, 0, 0]
    assert load_image(Image.fromarray(rgba, "RGBA")).shape == (1, 3, 1, 2)


def test_sixteen_bit_and_float_arrays():
    x = load_image(np.full((3, 3), 65535, dtype=np.uint16))
    assert torch.all(x == 1)
    assert load_image(np.full((3, 3, 3), 0.25), dtype=torch.float64).dtype == torch.float64


def test_tensor_input_and_crop(rng):
    x = torch.rand(3, 10, 12, generator=rng)
    assert load_image(x).shape == (1, 3, 10, 12)
    assert center_crop(load_image(x), 8).shape == (1, 3, 8, 8)
    assert center_crop(load_image(x), (20, 4)).shape == (1, 3, 10, 4)
    assert torch.equal(center_crop(x, 4), x[:, 3:7, 4:8]) and torch.equal(center_crop(x, None), x)
    assert torch.equal(center_crop(x, 7, multiple=2), x[:, 2:8, 2:8])  # 6 px, offsets rounded down to even
    assert to_uint8(x).shape == (10, 12, 3)


def test_center_box_aligns_to_a_grid():
    assert center_box(64, 72, None) == (0, 0, 64, 72)
    assert center_box(64, 72, 30) == (17, 21, 30, 30)
    assert center_box(64, 72, 30, multiple=4) == (16, 20, 28, 28)  # / 4: the LR box (4, 5, 7, 7)
    assert center_box(10, 12, (20, 4)) == (0, 4, 10, 4)


def test_quantize_rounds_to_8_bits():
    x = torch.tensor([-0.1, 0.0, 0.5 / 255, 0.4, 1.0, 1.2])
    assert quantize(x).dtype == torch.uint8
    assert quantize(x).tolist() == [0, 0, 0, 102, 255, 255]  # round half to even: 0.5 -> 0


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_image(tmp_path / "missing.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="cannot read"):
        load_image(tmp_path / "bad.png")
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        load_image(np.full((2, 2, 3), 3.0))
    with pytest.raises(ValueError, match="shape"):
        load_image(np.zeros((2, 2, 5), dtype=np.uint8))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        list_images(tmp_path / "empty")
    with pytest.raises(ValueError, match="does not exist"):
        list_images(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="one image"):
        load_image(torch.rand(2, 3, 4, 4))


def test_find_image_by_name_in_either_suffix_case(tmp_path, rng):
    save_image(torch.rand(1, 3, 8, 8, generator=rng), tmp_path / "a.png")
    (tmp_path / "b.PNG").write_bytes((tmp_path / "a.png").read_bytes())
    assert find_image(tmp_path, "a") == tmp_path / "a.png"
    assert find_image(tmp_path, "b") == tmp_path / "b.PNG"
    assert find_image(tmp_path, "c") is None and find_image(tmp_path / "missing", "a") is None
