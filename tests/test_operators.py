import numpy as np
import pytest
import torch

from dip_teach import metrics, operators as ops
from dip_teach.images import ImageError


def test_noise_has_the_requested_level(small_tensor):
    y = ops.Denoising(25, clip=False).corrupt(small_tensor, seed=0)
    assert abs((y - small_tensor).std().item() * 255 - 25) < 1.0
    assert 20 < metrics.psnr(y, small_tensor) < 21.5  # 20.17 dB is sigma 25's PSNR


def test_noise_is_seeded(small_tensor):
    op = ops.Denoising(25)
    assert torch.equal(op.corrupt(small_tensor, seed=1), op.corrupt(small_tensor, seed=1))
    assert not torch.equal(op.corrupt(small_tensor, seed=1), op.corrupt(small_tensor, seed=2))


@pytest.mark.parametrize("sigma,match", [(0.1, "sigma=25.5"), (1.0, "0-255 scale"), (-3, "non-negative"), (300, "larger")])
def test_sigma_on_the_wrong_scale(sigma, match):
    with pytest.raises(ValueError, match=match):
        ops.Denoising(sigma)


def test_inpainting_masks_and_loss(small_tensor):
    mask = ops.pixel_mask((64, 64), missing=0.5, seed=0)
    assert abs(mask.mean() - 0.5) < 0.05
    op = ops.Inpainting(mask)
    y = op.corrupt(small_tensor)
    assert torch.all(y[:, :, mask == 0] == 0)
    assert op.loss(small_tensor, y).item() == 0      # the truth fits the known pixels exactly
    assert op.loss(torch.zeros_like(y), y).item() > 0.05


def test_operators_are_modules_whose_buffers_move_once(small_tensor):
    inpaint = ops.Inpainting(ops.pixel_mask((64, 64), seed=0))
    sr = ops.Downsampling(4)
    assert isinstance(inpaint, torch.nn.Module) and set(dict(inpaint.named_buffers())) == {"mask"}
    assert set(dict(sr.named_buffers())) == {"kernel"}
    assert torch.equal(inpaint(small_tensor), inpaint.forward(small_tensor))      # op(x) applies A
    mask = inpaint.mask
    for _ in range(3):                          # on the mask's device: the very same tensor, no copy
        assert inpaint._mask_for(small_tensor) is mask
    moved = inpaint.to(torch.float64)           # .to() converts the buffers (deepinv style)
    assert moved is inpaint and inpaint.mask.dtype == torch.float64
    elsewhere = torch.zeros(1, 3, 64, 64, device="meta")
    for op in (inpaint, sr):                    # first use on another device: the buffers follow, once
        op(elsewhere)
        buffer = next(op.buffers())
        assert buffer.device.type == "meta"
        op(elsewhere)
        assert next(op.buffers()) is buffer


def test_mismatched_mask_is_explained(small_tensor):
    op = ops.Inpainting(ops.pixel_mask((32, 32)))
    with pytest.raises(ImageError, match=r"mask is \(32, 32\) but the image is \(64, 64\)"):
        op.corrupt(small_tensor)
    with pytest.raises(ImageError, match="only 0"):
        ops.Inpainting(np.full((8, 8), 0.5))
    with pytest.raises(ImageError, match="every pixel"):
        ops.Inpainting(np.zeros((8, 8)))


def test_text_and_hole_masks():
    t = ops.text_mask((128, 128))
    h = ops.hole_mask((128, 128), holes=2, radius=0.15)
    assert 0.03 < 1 - t.mean() < 0.6 and set(np.unique(t)) == {0.0, 1.0}
    assert 0.05 < 1 - h.mean() < 0.3


def test_downsampling_matches_pillow_lanczos(small_image):
    from PIL import Image

    op = ops.Downsampling(4)
    lr = op.corrupt(small_image)
    assert lr.shape == (1, 3, 16, 16)
    # Pillow's Lanczos downsampling of the same image: close (borders aside)
    ref = np.stack([np.asarray(Image.fromarray(small_image[..., c], "F").resize((16, 16), Image.Resampling.LANCZOS))
                    for c in range(3)], -1)
    inner = (slice(2, -2), slice(2, -2))
    assert np.abs(lr[0].permute(1, 2, 0).numpy()[inner] - ref[inner]).max() < 0.02


def test_downsampling_is_differentiable_and_checks_sizes(small_tensor):
    op = ops.Downsampling(4)
    x = small_tensor.clone().requires_grad_()
    op.loss(x, op.corrupt(small_tensor) * 0).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    with pytest.raises(ImageError, match="divide by the factor 4"):
        op.forward(torch.zeros(1, 3, 30, 30))
    with pytest.raises(ValueError, match="integer >= 2"):
        ops.Downsampling(1)


def test_bicubic_baseline_beats_nothing(small_tensor):
    lr = ops.Downsampling(2).corrupt(small_tensor)
    up = ops.upsample_bicubic(lr, 2)
    assert up.shape == small_tensor.shape
    assert metrics.psnr(up, small_tensor) > 22


def test_bicubic_downsampling_matches_pillow_bicubic(small_image):
    from PIL import Image

    lr = ops.BicubicDownsampling(4).corrupt(small_image)
    assert lr.shape == (1, 3, 16, 16)
    ref = np.stack([np.asarray(Image.fromarray(small_image[..., c], "F").resize((16, 16), Image.Resampling.BICUBIC))
                    for c in range(3)], -1)
    inner = (slice(2, -2), slice(2, -2))
    assert np.abs(lr[0].permute(1, 2, 0).numpy()[inner] - ref[inner]).max() < 1e-4
    # a different model from the kit's Lanczos-3 operator: close, not equal
    lanczos = ops.Downsampling(4).corrupt(small_image)
    assert 1e-3 < (lr - lanczos).abs().max() < 0.2
    assert ops.cubic_kernel(4).sum().item() == pytest.approx(1.0)
