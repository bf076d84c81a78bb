"""One sentence that says what a run's numbers mean, printed under the end-of-run table and written
into report.md: "5/8 modes but 0.3 % of samples within 3σ: samples fall between modes" tells a
newcomer more than the two numbers do.

The thresholds are reading aids, not verdicts: they name the usual failure each pattern shows
(mode collapse, blur between modes, mode dropping) and stay silent about what they cannot judge.
"""

from __future__ import annotations

from typing import Any

HIGH_QUALITY = 0.5  # a mixture run with at least this share of samples within 3σ draws sharp points
MOST_MODES = 0.9  # … and covers "(almost) every mode" from this share of the modes on
FEW_MODES = 0.5  # sharp samples on fewer than this share of the modes: mode collapse (in between: some dropped)


def _pct(value: float) -> str:
    return f"{100 * value:.3g} %"


def _pack(config: dict[str, Any] | None) -> int:
    """The run's PacGAN packing (config.json → train.tricks.pack; 1 when absent)."""
    tricks = ((config or {}).get("train") or {}).get("tricks") or {}
    return int(tricks.get("pack") or 1)


def _packing_advice(pack: int) -> str:
    """What to try against missing modes, never what the run already does."""
    if pack == 1:
        return "try train.tricks.pack=2 or a PacGAN preset"
    if pack < 4:
        return f"the run already packs {pack} samples (PacGAN{pack}); try train.tricks.pack={pack + 1} or train longer"
    return f"the run already packs {pack} samples (PacGAN{pack}); train longer or lower the learning rates"


def _mixture(m: dict[str, Any], pack: int = 1) -> str:
    captured, total, hq = int(m["modes_captured"]), int(m.get("modes_total") or 0), float(m["hq_fraction"])
    modes = f"{captured}/{total} modes" if total else f"{captured} modes"
    sharp = hq >= HIGH_QUALITY
    if not total:
        quality = "sharp samples" if sharp else "few samples near a centre"
        return f"{modes}, {_pct(hq)} of samples within 3σ: {quality} (the mixture's number of modes is not recorded)"
    if captured >= MOST_MODES * total and sharp:
        return f"{modes} with {_pct(hq)} of samples within 3σ of a centre: the mixture is covered and sharp"
    if captured >= FEW_MODES * total and not sharp:
        return f"{modes} but only {_pct(hq)} of samples within 3σ: samples fall between modes (blurred)"
    if captured >= FEW_MODES * total:
        missing = total - captured
        return (f"{modes}, {_pct(hq)} of samples within 3σ: sharp samples on most modes, {missing} "
                f"mode{'s' if missing > 1 else ''} dropped ({_packing_advice(pack)})")
    if sharp:
        return (f"{modes}, {_pct(hq)} of samples within 3σ: sharp samples on few modes, i.e. mode collapse "
                f"({_packing_advice(pack)})")
    return f"{modes} and {_pct(hq)} of samples within 3σ: neither covered nor sharp yet (train longer?)"


def _images(m: dict[str, Any]) -> str | None:
    parts = []
    if "stacked_mnist_modes" in m:
        parts.append(f"{int(m['stacked_mnist_modes'])}/1000 Stacked-MNIST modes (KL {float(m['stacked_mnist_kl']):.3g}; "
                     "0 is uniform)")
    if "classes_covered" in m:
        parts.append(f"{int(m['classes_covered'])}/10 digit classes drawn")
    if "conditional_accuracy" in m:
        parts.append(f"{_pct(float(m['conditional_accuracy']))} of samples show the class asked for")
    if "precision" in m and "recall" in m:
        precision, recall = float(m["precision"]), float(m["recall"])
        if precision >= 0.5 and recall < 0.25:
            parts.append(f"precision {precision:.2f} but recall {recall:.2f}: samples look real but cover little "
                         "of the data (mode dropping)")
        elif precision < 0.25:
            parts.append(f"precision {precision:.2f}: most samples are unlike any real image")
        else:
            parts.append(f"precision {precision:.2f}, recall {recall:.2f} (1 is ideal for both)")
    if "fid" in m and not parts:
        parts.append(f"FID {float(m['fid']):.4g} (lower is better; comparable only within one feature network)")
    return "; ".join(parts) or None


def _translation(m: dict[str, Any]) -> str | None:
    if "label_acc_a2b" not in m:
        return None
    a2b, b2a = float(m["label_acc_a2b"]), float(m.get("label_acc_b2a", float("nan")))
    return f"translations keep the digit's class {_pct(a2b)} (A→B) and {_pct(b2a)} (B→A) of the time"


def reading(metrics: dict[str, Any] | None, config: dict[str, Any] | None = None, evaluated: bool = True) -> str:
    """One line on what ``metrics`` (summary.json → metrics) mean; ``config`` (the run's config.json) keeps
    its advice from suggesting what the run already does; ``evaluated`` False (summary.json → evaluated, a
    run with ``train.evaluate=false``) when the run computed no metric on purpose."""
    m = metrics or {}
    if not m and not evaluated:
        return ("not evaluated (train.evaluate=false): look at the samples, or score the run with "
                "`ganzoo eval RUN_DIR`")
    if "modes_captured" in m and "hq_fraction" in m:
        return _mixture(m, _pack(config))
    line = _translation(m) or _images(m)
    if line:
        return line
    return ("no quality metric for this data (no feature network fits it): look at the samples, or score with "
            "`ganzoo eval RUN_DIR --extractor inception|timm:NAME`")
