"""Pictures of a run: generated vs real points, image grids. Written as PNG, headless."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display anywhere we run
import matplotlib.pyplot as plt  # noqa: E402
from torch import Tensor  # noqa: E402


def scatter_points(real: Tensor, fake: Tensor, path: Path, title: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
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
    plt.close(fig)


def image_grid(images: Tensor, path: Path, nrow: int = 8) -> None:
    """Images in [-1, 1], (N, C, H, W) → one PNG grid."""
    from torchvision.utils import save_image

    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(images.float().clamp(-1, 1) * 0.5 + 0.5, path, nrow=nrow, padding=2)
