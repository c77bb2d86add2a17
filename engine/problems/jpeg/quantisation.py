"""The quantisation constraint set of a grey JPEG (Zakhor 1992; Alter et al. 2005): every image whose 8 x 8 block
DCT coefficients round to those the file stores. The decoded JPEG y gives the stored coefficients back (its DCT
divided by the quantisation table, rounded), so the set is known from y and the table alone, and projecting onto
it clamps each coefficient of an image to its quantisation interval.

Blocks are those of libjpeg: from the top left corner, the right and bottom edges padded by repeating the last
pixel (the projection of a partial block is exact on its pixels inside the image only up to that padding).
"""
from __future__ import annotations

import math

import torch

from .codec import BLOCK, quality_table


def dct_matrix(dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu") -> torch.Tensor:
    """(8, 8) orthonormal DCT-II: coefficients = D @ block @ D^T."""
    k = torch.arange(BLOCK, dtype=dtype, device=device)
    matrix = torch.cos(math.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * BLOCK)) * math.sqrt(2.0 / BLOCK)
    matrix[0] /= math.sqrt(2.0)
    return matrix


def to_blocks(image: torch.Tensor) -> torch.Tensor:
    """(H, W) -> (Hb, Wb, 8, 8) blocks of the image padded by edge repetition to whole blocks."""
    height, width = image.shape
    padded = torch.nn.functional.pad(image[None, None], (0, -width % BLOCK, 0, -height % BLOCK), mode="replicate")[0, 0]
    rows, cols = padded.shape[0] // BLOCK, padded.shape[1] // BLOCK
    return padded.reshape(rows, BLOCK, cols, BLOCK).permute(0, 2, 1, 3)


def from_blocks(blocks: torch.Tensor, height: int, width: int) -> torch.Tensor:
    rows, cols = blocks.shape[:2]
    return blocks.permute(0, 2, 1, 3).reshape(rows * BLOCK, cols * BLOCK)[:height, :width]


class QuantisationSet:
    """The images a grey JPEG (decoded y (H, W) in [0, 1], luminance table (8, 8) or a quality) may have come
    from, as per-coefficient intervals in the 8 x 8 block DCT of the image's 0-255 levels minus 128."""

    def __init__(self, observed: torch.Tensor, table: torch.Tensor | int):
        if observed.ndim != 2:
            raise ValueError(f"the quantisation set is of one grey image (H, W), got {tuple(observed.shape)}")
        if isinstance(table, int):
            table = torch.from_numpy(quality_table(table).reshape(BLOCK, BLOCK))
        self.shape = tuple(observed.shape)
        self.dtype = observed.dtype
        self.dct = dct_matrix(device=observed.device)
        self.table = table.to(torch.float64).to(observed.device)
        coefficients = self._coefficients(observed)
        stored = torch.round(coefficients / self.table) * self.table
        self.low, self.high = stored - self.table / 2, stored + self.table / 2

    def _coefficients(self, image: torch.Tensor) -> torch.Tensor:
        return self.dct @ (to_blocks(image.to(torch.float64)) * 255.0 - 128.0) @ self.dct.T

    def project(self, image: torch.Tensor) -> torch.Tensor:
        """The nearest image of the set (in the L2 sense: the DCT is orthonormal), (H, W)."""
        clamped = torch.maximum(torch.minimum(self._coefficients(image), self.high), self.low)
        blocks = (self.dct.T @ clamped @ self.dct + 128.0) / 255.0
        return from_blocks(blocks, *self.shape).to(self.dtype)

    def distance(self, image: torch.Tensor) -> float:
        """How far the image's coefficients lie outside their intervals, 0-255 levels (RMS over coefficients)."""
        coefficients = self._coefficients(image)
        outside = (coefficients - self.high).clamp_min(0) + (self.low - coefficients).clamp_min(0)
        return float(outside.square().mean().sqrt())
