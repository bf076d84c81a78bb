"""A run's pictures: the sample grid is torchvision's picture without importing torchvision, and the
figures are drawn through matplotlib's object API, from any thread (harness.report.plots)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from ganzoo.harness.report.plots import image_grid, scatter_points


@pytest.mark.parametrize("shape,nrow", [((64, 1, 32, 32), 8), ((10, 3, 28, 28), 4), ((3, 3, 8, 8), 8),
                                        ((1, 1, 5, 5), 8)])
def test_image_grid_is_the_picture_torchvision_saves(tmp_path, shape, nrow):
    from torchvision.utils import save_image

    images = torch.rand(*shape, generator=torch.Generator().manual_seed(0)) * 2.4 - 1.2  # also outside [-1, 1]
    image_grid(images, tmp_path / "ours.png", nrow=nrow)
    save_image(images.clamp(-1, 1) * 0.5 + 0.5, tmp_path / "torchvision.png", nrow=nrow, padding=2)
    ours, theirs = (np.asarray(Image.open(tmp_path / f"{name}.png")) for name in ("ours", "torchvision"))
    assert ours.shape == theirs.shape and (ours == theirs).all()


def test_figures_are_drawn_from_any_thread(tmp_path):
    drawn = threading.Thread(target=scatter_points, args=(torch.randn(50, 2), torch.randn(50, 2),
                                                         tmp_path / "points.png", "t"))
    drawn.start()
    drawn.join()
    assert Image.open(tmp_path / "points.png").size == (500, 500)


def test_a_report_loads_neither_pyplot_nor_torchvision(tmp_path):
    """pyplot keeps a global registry of figures (not thread-safe, and it takes over a user's backend);
    torchvision costs up to 1.8 s to import for one PNG grid."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"model": "gan", "dataset": "ring", "train": {}}))
    records = [{"step": s, "losses": {"D/loss": 1.0 / s, "G/loss": s / 10}, "throughput": {"images_per_s": 100.0}}
               for s in (1, 2, 3, 4, 5)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    code = ("import json, sys, torch; from pathlib import Path\n"
            "from ganzoo.harness.report.markdown import write_report\n"
            "from ganzoo.harness.report.plots import image_grid\n"
            f"run = Path({str(run)!r}); write_report(run); image_grid(torch.zeros(4, 3, 8, 8), run / 'grid.png')\n"
            "print(json.dumps([m for m in ('matplotlib.pyplot', 'torchvision') if m in sys.modules]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
    assert (run / "plots" / "losses.png").exists() and "plots/losses.png" in (run / "report.md").read_text()
