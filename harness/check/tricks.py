"""The tricks check: a few training steps with every input-side harness trick the plugin accepts
switched on together (instance noise, DiffAugment, PacGAN packing, R1), so a discriminator is
called through the harness's view of it, as a user's run with tricks would. It catches plugins that
only work when ``nets.D`` is their own module, and refusals (``GANPlugin.unsupported_tricks``) that
name no trick the harness has.
"""

from __future__ import annotations

from typing import Any

from .monitor import ContractViolation
from .outcomes import Fail, error_text
from .session import CheckSession

#: the input-side tricks the check tries, each with a small setting
TRIED: dict[str, Any] = {"instance_noise": 0.1, "diffaugment": "translation", "pack": 2, "r1_gamma": 1.0}


def accepted_tricks(session: CheckSession) -> dict[str, Any]:
    """The tricks of :data:`TRIED` that the run's configuration accepts for this plugin (and data)."""
    from ..contract.tricks_config import TricksConfig, incompatibilities
    from ..data.catalog import dataset_kind

    cls = session.plugin.cls
    kind = dataset_kind(session.run.dataset)
    accepted = {}
    for name, value in TRIED.items():
        tricks = TricksConfig(**{name: value})
        if name == "pack" and session.run.train.batch_size % value:
            continue
        if not incompatibilities(tricks, cls.spec, kind, cls.architecture_tricks, cls.unsupported_tricks):
            accepted[name] = value
    return accepted


def check_tricks(session: CheckSession) -> str:
    from ..contract.tricks_config import TricksConfig

    session.need_run()
    session.need_contract()
    unknown = sorted(set(session.plugin.cls.unsupported_tricks) - set(TricksConfig.model_fields))
    if unknown:
        raise Fail(f"unsupported_tricks names {unknown}, which are not harness tricks; the tricks are: "
                   f"{', '.join(TricksConfig.model_fields)}")
    accepted = accepted_tricks(session)
    if not accepted:
        own = session.plugin.cls.unsupported_tricks
        reasons = "; ".join(f"{name}: {own[name]}" for name in TRIED if name in own)
        why = reasons or "the harness rules them out for this data"
        return f"refuses every input-side trick at configuration time, with its reasons ({why}); nothing to train"
    train = session.run.train
    tricks = train.tricks.model_copy(update=accepted)
    run = session.run.model_copy(update={"train": train.model_copy(update={"tricks": tricks})})
    original, session.run = session.run, run
    try:
        trainer = session.trainer("fp32", train.steps, session.fresh_dir("tricks"))
        session.fit(trainer)
    except ContractViolation as caught:
        raise Fail(str(caught)) from None
    except Exception as caught:  # noqa: BLE001
        raise Fail(f"training with {accepted} failed: {error_text(caught)} — inside a phase step nets.D is the "
                   "harness's view of the plugin's D (keyword arguments and attributes reach the module; "
                   "isinstance checks need nets.D.inner)") from None
    finally:
        session.run = original
    refused = sorted(set(TRIED) - set(accepted))
    return (f"{trainer.step} steps with {', '.join(f'{k}={v}' for k, v in accepted.items())}"
            + (f"; not applicable: {', '.join(refused)}" if refused else ""))
