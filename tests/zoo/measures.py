"""What the InfoGAN and BEGAN MNIST runs are measured by (tests/zoo/test_infogan_began.py, docs/zoo.md).

InfoGAN: samples drawn with each value of the categorical code are classified by the harness's MNIST
classifier; the code→digit assignment that maximises agreement (exact, over all 10! assignments by
dynamic programming on subsets) gives the fraction of samples whose code and digit agree.
BEGAN: the classes the classifier finds among its samples, and M_global over the run.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import torch

from ganzoo.harness.contract.context import NoiseSource
from ganzoo.harness.evaluation.sampling import eval_mode, generate
from ganzoo.harness.metrics.protocol import default_cache_dir
from ganzoo.harness.metrics.classifier import prepare_digits, train_mnist_classifier
from ganzoo.harness.train.checkpoint import load_networks


def best_assignment(counts: torch.Tensor) -> tuple[int, list[int]]:
    """Maximum of sum counts[i, perm[i]] over one-to-one assignments (rows ≤ columns), and the assignment."""
    rows, cols = counts.shape
    best: dict[int, tuple[int, list[int]]] = {0: (0, [])}  # used-columns mask → (total, columns of rows so far)
    for i in range(rows):
        nxt: dict[int, tuple[int, list[int]]] = {}
        for mask, (total, chosen) in best.items():
            for j in range(cols):
                if mask & (1 << j):
                    continue
                key, value = mask | (1 << j), total + int(counts[i, j])
                if key not in nxt or nxt[key][0] < value:
                    nxt[key] = (value, chosen + [j])
        best = nxt
    return max(best.values(), key=lambda item: item[0])


@cache
def _classifier(data_dir: str):
    model, _ = train_mnist_classifier(Path(data_dir), default_cache_dir())
    return model


@torch.no_grad()
def classify(images: torch.Tensor, data_dir: Path) -> torch.Tensor:
    model = _classifier(str(data_dir))
    return torch.cat([model.logits(prepare_digits(chunk)).argmax(1) for chunk in images.split(500)])


@torch.no_grad()
def infogan_code_agreement(run_dir: Path, data_dir: Path, per_code: int = 200, seed: int = 0) -> dict:
    """Fraction of samples whose categorical code, under the best code→digit assignment, is the digit
    the harness's classifier sees; also the matrix and assignment."""
    plugin, nets, ema = load_networks(run_dir)
    nets = ema or nets
    k = plugin.config.categories
    codes = torch.arange(k).repeat_interleave(per_code)
    with eval_mode(nets):
        images = plugin.sample_codes(nets, NoiseSource(torch.device("cpu"), seed), codes).float()
    digits = classify(images, data_dir)
    counts = torch.zeros(k, 10, dtype=torch.long)
    counts.index_put_((codes, digits), torch.ones_like(codes), accumulate=True)
    total, assignment = best_assignment(counts)
    return {"agreement": total / len(codes), "assignment": assignment, "counts": counts.tolist(),
            "samples": len(codes)}


@torch.no_grad()
def began_measures(run_dir: Path, data_dir: Path, n: int = 2000, seed: int = 0) -> dict:
    """Digit classes among n samples (a class counts when it has ≥ 1 % of them) and M_global over the run."""
    plugin, nets, ema = load_networks(run_dir)
    images = generate(plugin, ema or nets, n, seed, torch.device("cpu"))
    histogram = torch.bincount(classify(images, data_dir), minlength=10)
    records = [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines() if line]
    series = [(r["step"], r["diagnostics"]["discriminator/M_global"]) for r in records
              if "discriminator/M_global" in r.get("diagnostics", {})]
    summary = json.loads((Path(run_dir) / "summary.json").read_text())
    return {"classes": int((histogram >= 0.01 * n).sum()), "histogram": histogram.tolist(),
            "M_global_first": series[0][1], "M_global_last": series[-1][1], "M_global_series": series,
            "summary_M_global": summary["diagnostics"].get("discriminator/M_global")}
