"""Bringing images to the run's resolution, done once at load time (then cached).

Tensors (MNIST, CIFAR batches): bilinear with antialiasing, like torchvision's ``Resize``.
Image files of any size: shorter side resized to the target, then the centre cropped to a square,
the usual recipe for CelebA/LSUN-style folders. Changing either changes the pixels, so bump
``cache.TRANSFORM_VERSION`` with it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..contract.errors import DataError


def resize_square(images: Tensor, size: int, chunk: int = 4096) -> Tensor:
    """uint8 (N, C, H, W) -> uint8 (N, C, size, size); a no-op at the native size."""
    if images.shape[-2:] == (size, size):
        return images
    out = torch.empty((*images.shape[:2], size, size), dtype=torch.uint8)
    for start in range(0, len(images), chunk):  # bounded memory for large sets
        # torch's native uint8 bilinear+antialias kernel: ~5x faster than going through float,
        # within 1 grey level of it (rounding)
        out[start : start + chunk] = F.interpolate(images[start : start + chunk], size=(size, size),
                                                   mode="bilinear", antialias=True, align_corners=False)
    return out


def load_rgb(path: Path, size: int | None) -> np.ndarray:
    """One image file as uint8 (H, W, 3); with ``size``: shorter side to ``size``, centre crop."""
    from PIL import Image

    with Image.open(path) as image:
        if size is not None:
            image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, still >= size
        image = image.convert("RGB")
    if size is None:
        return np.asarray(image)
    width, height = image.size
    if (width, height) != (size, size):
        scale = size / min(width, height)
        new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
        image = image.resize((new_w, new_h), Image.Resampling.BILINEAR)
        left, top = (new_w - size) // 2, (new_h - size) // 2
        image = image.crop((left, top, left + size, top + size))
    return np.asarray(image)


def check_resolution(dataset: str, value: int | None, default: int) -> int:
    """The run's resolution (``default`` when unset), or a DataError saying what is accepted."""
    if value is None:
        return default
    if not isinstance(value, int) or not 4 <= value <= 2048:
        raise DataError(f"dataset {dataset!r}: resolution must be an integer from 4 to 2048, got {value!r}; "
                        "pass e.g. --resolution 32 or 64")
    return value
