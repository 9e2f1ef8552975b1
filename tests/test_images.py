"""Loading, conversion and every kind of awkward input the course promises to handle."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from dip_teach import images
from dip_teach.images import ImageError


def test_catalogue_lists_every_data_file_with_licence():
    entries = images.catalogue()
    assert 10 <= len(entries) <= 16
    assert {e.split for e in entries} == {"train", "test"}
    readme = (images.DATA_DIR / "README.md").read_text()
    for e in entries:
        assert e.path.exists(), e.file
        assert e.licence and e.file in readme
    assert len(images.catalogue("train")) >= 6 and len(images.catalogue("test")) >= 4
    total = sum(p.stat().st_size for p in images.DATA_DIR.iterdir())
    assert total < 5_000_000


def test_load_by_name_and_size():
    x = images.load("astronaut", size=96)
    assert x.shape == (96, 96, 3) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1
    grey = images.load("camera", size=64, grey=True)
    assert grey.shape == (64, 64, 1)


def test_tensor_round_trip(small_image):
    t = images.to_tensor(small_image)
    assert t.shape == (1, 3, 64, 64) and t.dtype == torch.float32
    assert np.array_equal(images.to_array(t), small_image)
    assert images.to_array(t[0]).shape == (64, 64, 3)
    with pytest.raises(ImageError, match="batch of 2"):
        images.to_array(torch.zeros(2, 3, 8, 8))


def test_missing_path_names_the_catalogue(tmp_path):
    with pytest.raises(FileNotFoundError, match="no image at .*coffee"):
        images.load_image(tmp_path / "nope.png")
    with pytest.raises(FileNotFoundError, match="astronaut"):
        images.load("astronot")


def test_not_an_image(tmp_path):
    p = tmp_path / "notes.png"
    p.write_text("this is text")
    with pytest.raises(ImageError, match="not an image.*PNG, JPEG"):
        images.load_image(p)
    with pytest.raises(ImageError, match="folder"):
        images.load_image(tmp_path)


def test_grey_is_expanded_to_rgb(tmp_path):
    p = tmp_path / "grey.png"
    Image.fromarray(np.full((40, 40), 128, np.uint8)).save(p)
    x = images.load_image(p)
    assert x.shape == (40, 40, 3) and np.allclose(x, 128 / 255)


def test_rgba_is_composited_on_white(tmp_path):
    p = tmp_path / "rgba.png"
    a = np.zeros((40, 40, 4), np.uint8)
    a[..., 0] = 255           # red ...
    a[:20, :, 3] = 255        # ... opaque in the top half, transparent below
    Image.fromarray(a, "RGBA").save(p)
    x = images.load_image(p)
    assert x.shape == (40, 40, 3)
    assert np.allclose(x[0, 0], [1, 0, 0]) and np.allclose(x[-1, -1], [1, 1, 1])


def test_16_bit_is_scaled(tmp_path):
    p = tmp_path / "deep.png"
    Image.fromarray(np.full((40, 40), 65535 // 2, np.uint16)).save(p)
    x = images.load_image(p)
    assert x.shape == (40, 40, 3) and np.allclose(x, 0.5, atol=1e-3)


def test_palette_image(tmp_path):
    p = tmp_path / "pal.png"
    Image.fromarray(np.full((40, 40, 3), (10, 200, 30), np.uint8)).convert("P", palette=Image.Palette.ADAPTIVE).save(p)
    x = images.load_image(p)
    assert x.shape == (40, 40, 3) and np.allclose(x[0, 0], np.array([10, 200, 30]) / 255, atol=0.02)


def test_tiny_image_is_refused():
    with pytest.raises(ImageError, match="at least 32x32"):
        images.prepare(np.zeros((20, 50, 3)))


def test_odd_sizes_are_cropped_to_multiples_of_32():
    x = images.prepare(np.random.rand(100, 75, 3))
    assert x.shape == (96, 64, 3)


def test_huge_images_are_downscaled_with_a_warning():
    big = np.random.rand(600, 300, 3).astype(np.float32)
    with pytest.warns(UserWarning, match="larger than 128"):
        x = images.prepare(big)  # test mode allows 128
    assert max(x.shape[:2]) <= 128 and x.shape[0] % 32 == 0


def test_size_requests():
    big = np.random.rand(400, 500, 3)
    assert images.prepare(big, size=64).shape == (64, 64, 3)   # downscaled first, then cropped
    with pytest.raises(ImageError, match="multiple of 32"):
        images.prepare(big, size=100)
    with pytest.raises(ImageError, match="smaller than size=256"):
        images.prepare(np.random.rand(128, 128, 3), size=256)


def test_in_memory_arrays():
    assert images.as_image(np.full((8, 8), 255, np.uint8)).max() == 1.0
    with pytest.raises(ImageError, match="divide by 255"):
        images.as_image(np.full((8, 8, 3), 200.0))
    with pytest.raises(ImageError, match=r"\(H, W\)"):
        images.as_image(np.zeros((3, 8, 8, 2)))


def test_save_never_overwrites(tmp_path, small_image):
    p = images.save_image(tmp_path / "sub" / "out.png", small_image)
    assert p.exists()
    before = p.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        images.save_image(p, np.zeros_like(small_image))
    assert p.read_bytes() == before
    images.save_image(p, np.zeros_like(small_image), overwrite=True)
    assert images.load_image(p).max() == 0
    with pytest.raises(ImageError, match="format"):
        images.save_image(tmp_path / "noext", small_image)


def test_saved_image_reloads_within_quantisation(tmp_path, small_image):
    p = images.save_image(tmp_path / "a.png", images.to_tensor(small_image))
    assert np.abs(images.load_image(p) - small_image).max() <= 0.5 / 255 + 1e-6


def test_as_array_changes_the_layout_only():
    t = torch.linspace(-0.5, 1.5, 2 * 3 * 4).reshape(1, 2, 3, 4)
    a = images.as_array(t)
    assert a.shape == (3, 4, 2) and a.dtype == np.float32
    assert a.min() == pytest.approx(-0.5) and a.max() == pytest.approx(1.5)       # not clipped
    assert images.as_array(t, clip=True).min() == 0 and images.as_array(t, clip=True).max() == 1
    assert np.array_equal(images.as_array(t[0]), a)
    mask = np.array([[0, 1], [1, 0]], dtype=np.uint8)
    assert images.as_array(mask).shape == (2, 2, 1) and images.as_array(mask).max() == 1   # values kept
    assert images.as_array(np.zeros((2, 2, 3))).dtype == np.float64                     # float dtype kept
    with pytest.raises(ImageError, match="batch of 2"):
        images.as_array(torch.zeros(2, 3, 8, 8))
    with pytest.raises(ImageError, match="shape"):
        images.as_array(np.zeros(5))


def test_as_tensor_refuses_what_is_not_an_image():
    assert images.as_tensor(np.zeros((8, 8))).shape == (1, 1, 8, 8)
    with pytest.raises(TypeError, match="tensor"):
        images.as_tensor([[0.5]])
    with pytest.raises(ImageError, match="one image"):
        images.as_tensor(torch.zeros(2, 3, 8, 8))
