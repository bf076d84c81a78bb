"""Pictures of a run: generated vs real points, image grids. Written as PNG, headless.

Matplotlib loads when the first figure is drawn (:func:`figure`). Figures are drawn only at the end of
a run, so nothing imports matplotlib before (0.2–0.4 s here). Loading it earlier in a background
thread was measured and rejected: while that thread ran Python, the training loop waited for the GIL
after each torch kernel, and 300 DCGAN iterations took 2.5–3 s longer (docs/performance.md).

torch too loads only when a picture needs it, so the leaderboards and reports import this module
without it. Figures use the object API (``matplotlib.figure.Figure``, saved through the Agg canvas), never pyplot:
there is no global registry of open figures, so a figure can be drawn from any thread and nothing needs
closing, and a user's interactive pyplot backend is left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure
    from torch import Tensor


def figure(**kwargs: Any) -> Figure:
    """A new ``Figure(**kwargs)``; ``fig.subplots(...)`` adds axes, ``fig.savefig(path)`` writes it."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def scatter_points(real: Tensor, fake: Tensor, path: Path, title: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = figure(figsize=(5, 5), dpi=100)
    ax = fig.subplots()
    ax.scatter(real[:, 0], real[:, 1], s=4, c="tab:blue", alpha=0.4, label="real", linewidths=0)
    ax.scatter(fake[:, 0], fake[:, 1], s=4, c="tab:orange", alpha=0.6, label="generated", linewidths=0)
    lim = float(real.abs().max()) * 1.35
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", markerscale=3)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)


def image_grid(images: Tensor, path: Path, nrow: int = 8, padding: int = 2) -> None:
    """Images in [-1, 1], (N, C, H, W) → one PNG grid, ``nrow`` images per row, black gaps.

    The picture torchvision's ``save_image`` writes (1-channel images as grey RGB), drawn here with torch
    and PIL: importing torchvision costs 0.1–1.8 s, more than the rest of the end of a short run.
    """
    import torch
    from PIL import Image

    images = (images.detach().float().clamp(-1, 1) * 0.5 + 0.5).cpu()
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    n, channels, height, width = images.shape
    if n == 1:  # a single image is saved as it is, without a frame
        padding = 0
    columns = min(nrow, n)
    rows = -(-n // columns)
    cell_h, cell_w = height + padding, width + padding
    grid = images.new_zeros(channels, rows * cell_h + padding, columns * cell_w + padding)
    for index in range(n):
        top, left = (index // columns) * cell_h + padding, (index % columns) * cell_w + padding
        grid[:, top:top + height, left:left + width] = images[index]
    pixels = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
