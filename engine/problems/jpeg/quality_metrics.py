"""Image quality of a restoration: PSNR and SSIM against the clean image, on the luma (Y of ITU-R BT.601, as
MATLAB's rgb2ycbcr, which DnCNN's evaluation uses) for colour images. Images are (N, C, H, W) in [0, 1]."""
from __future__ import annotations

import torch

PSNR_CAP = 100.0
"""dB for an exact restoration (whose error is zero)."""
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03
BT601 = (65.481 / 255.0, 128.553 / 255.0, 24.966 / 255.0)


def luma(images: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W): grey images as they are, RGB ones as their BT.601 luma in [16/255, 235/255]."""
    _check(images)
    if images.shape[1] == 1:
        return images
    weights = images.new_tensor(BT601).view(1, 3, 1, 1)
    return 16.0 / 255.0 + (images * weights).sum(1, keepdim=True)


def psnr(estimate: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """(N,) peak signal-to-noise ratio in dB of the luma, the estimate clipped to [0, 1] and rounded to 8 bits as
    a saved image would be."""
    error = (luma(_as_saved(estimate)) - luma(clean)).square().flatten(1).mean(1)
    return (10.0 * torch.log10(1.0 / error.clamp_min(1e-12))).clamp_max(PSNR_CAP)


def ssim(estimate: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """(N,) mean structural similarity of the luma (Wang et al. 2004: 11 x 11 Gaussian window of sigma 1.5,
    K1 0.01, K2 0.03, over the valid part of the image)."""
    a, b = luma(_as_saved(estimate)), luma(clean)
    if min(a.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW} x {SSIM_WINDOW} pixels, got "
                         f"{a.shape[-1]}x{a.shape[-2]}")
    coordinates = torch.arange(SSIM_WINDOW, dtype=a.dtype, device=a.device) - (SSIM_WINDOW - 1) / 2
    gauss = torch.exp(-coordinates.square() / (2 * SSIM_SIGMA ** 2))
    gauss = gauss / gauss.sum()
    window = (gauss[:, None] * gauss[None, :]).view(1, 1, SSIM_WINDOW, SSIM_WINDOW)

    def blur(values: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.conv2d(values, window)

    mean_a, mean_b = blur(a), blur(b)
    var_a = blur(a * a) - mean_a.square()
    var_b = blur(b * b) - mean_b.square()
    cov = blur(a * b) - mean_a * mean_b
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2
    numerator = (2 * mean_a * mean_b + c1) * (2 * cov + c2)
    index = numerator / ((mean_a.square() + mean_b.square() + c1) * (var_a + var_b + c2))
    return index.flatten(1).mean(1)


def _as_saved(images: torch.Tensor) -> torch.Tensor:
    return (images.clamp(0.0, 1.0) * 255.0).round() / 255.0


def _check(images: torch.Tensor) -> None:
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must have shape (N, 1 or 3, H, W), got {tuple(images.shape)}")
