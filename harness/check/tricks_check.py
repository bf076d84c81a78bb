"""The tricks check: a few training steps with every input-side harness trick the plugin accepts
switched on together (instance noise, DiffAugment, PacGAN packing, R1), so a discriminator is
called through the harness's view of it, as a user's run with tricks would. It catches plugins that
only work when ``nets.D`` is their own module, refusals (``GANPlugin.unsupported_tricks``) that
name no trick the harness has, and tricks that would double what the plugin computes itself
(harness.train.conflicts). When the run fails, each trick is tried alone: the failure names the
trick and the one-line ``unsupported_tricks`` entry that would refuse it with the plugin's own reason
(the upgrade path of a plugin written before that declaration existed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .monitor import ContractViolation
from .session import CheckSession, Fail, error_text

if TYPE_CHECKING:  # pragma: no cover
    from ..train.trainer import Trainer

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
    session.need_intervals()
    for declaration in ("unsupported_tricks", "composes_with"):
        unknown = sorted(set(getattr(session.plugin.cls, declaration, {})) - set(TricksConfig.model_fields))
        if unknown:
            raise Fail(f"{declaration} names {unknown}, which are not harness tricks; the tricks are: "
                       f"{', '.join(TricksConfig.model_fields)}")
    accepted = accepted_tricks(session)
    if not accepted:
        own = session.plugin.cls.unsupported_tricks
        reasons = "; ".join(f"{name}: {own[name]}" for name in TRIED if name in own)
        why = reasons or "the harness rules them out for this data"
        return f"refuses every input-side trick at configuration time, with its reasons ({why}); nothing to train"
    try:
        trainer = _train_with(session, accepted, "tricks")
    except ContractViolation as caught:
        raise Fail(str(caught)) from None
    except Exception as caught:  # noqa: BLE001
        raise Fail(_diagnose(session, accepted, caught)) from None
    refused = sorted(set(TRIED) - set(accepted))
    return (f"{trainer.state.step} steps with {', '.join(f'{k}={v}' for k, v in accepted.items())}"
            + (f"; not applicable: {', '.join(refused)}" if refused else ""))


def _train_with(session: CheckSession, tricks_on: dict[str, Any], label: str) -> Trainer:
    """Train the check's steps in fp32 with these tricks switched on; raises what the run raised."""
    train = session.run.train
    tricks = train.tricks.model_copy(update=tricks_on)
    run = session.run.model_copy(update={"train": train.model_copy(update={"tricks": tricks})})
    original, session.run = session.run, run
    try:
        trainer = session.trainer("fp32", train.steps, session.fresh_dir(label))
        session.fit(trainer)
        return trainer
    finally:
        session.run = original


def _diagnose(session: CheckSession, accepted: dict[str, Any], caught: BaseException) -> str:
    """The upgrade path: try each trick alone, name the one(s) that fail, and the declaration that refuses it.

    A plugin written before ``unsupported_tricks`` existed raises its own error for a trick it cannot take;
    one line in the class, ``unsupported_tricks = {"pack": "<its reason>"}``, turns that into a refusal at
    configuration time, with the plugin's own reason."""
    from ..contract.errors import TrickConflictError

    if isinstance(caught, TrickConflictError):  # already names the trick, the plugin's phase and the fixes
        return str(caught).splitlines()[0]
    failing: dict[str, BaseException] = {}
    if len(accepted) == 1:
        failing[next(iter(accepted))] = caught
    else:
        for name, value in accepted.items():
            try:
                _train_with(session, {name: value}, f"tricks-{name}")
            except ContractViolation as alone:
                raise Fail(str(alone)) from None
            except Exception as alone:  # noqa: BLE001
                failing[name] = alone
    if not failing:
        return (f"training with {accepted} failed: {error_text(caught)}; each trick alone trains, so it is "
                "their combination"
                + (_VIEW_HINT if _concerns_view(caught) else ""))
    model = session.plugin.cls.__name__
    parts = []
    for name, error in failing.items():
        if isinstance(error, TrickConflictError):
            parts.append(str(error).splitlines()[0])
            continue
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0].replace('"', "'")
        parts.append(f"with {name}={accepted[name]} alone: {error_text(error)}. If {model} cannot take {name}, "
                     f"declare it in the class: unsupported_tricks = {{\"{name}\": \"{reason}\"}}, and runs "
                     f"that ask for it are refused with that reason"
                     + (_VIEW_HINT if _concerns_view(error) else ""))
    alone = [name for name in accepted if name not in failing]
    return "; ".join(parts) + (f" (alone, {', '.join(alone)} train{'s' if len(alone) == 1 else ''})" if alone else "")


_VIEW_HINT = (" — inside a phase step nets.D is the harness's view of the plugin's D (keyword arguments and "
              "attributes reach the module; isinstance checks need nets.D.inner)")


def _concerns_view(error: BaseException) -> bool:
    """Does the error involve the harness's discriminator view (rather than, say, the plugin's own refusal)?"""
    import traceback

    if "DiscriminatorView" in str(error) or "nets.D.inner" in str(error):
        return True
    if not isinstance(error, (AttributeError, TypeError)):  # what calling a view like the module itself raises
        return False
    frames = traceback.extract_tb(error.__traceback__)
    return any(frame.filename.endswith("train/tricks.py") for frame in frames)
