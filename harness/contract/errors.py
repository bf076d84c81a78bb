"""Every error ganzoo raises for the user to fix, in one place.

They all derive from :class:`GanzooError`, so ``except ganzoo.GanzooError`` catches any of them and the
command line catches only that (``harness/cli/main.py``: printed as ``error: …``, exit code 2). Each also
derives from the built-in type it always had (``ValueError``, ``LookupError``, …), so older ``except``
clauses keep working. The message is always one line (or a short list) that says what to do.

The classes live here, in the lowest layer, so that any layer can raise them without importing upwards;
the module that raises one imports it from here (``data/base.py`` imports ``DataError``, …), so the old
import paths (``ganzoo.harness.data.base.DataError``) name the same class. ``ganzoo`` exports the ones a
Python user meets (docs/python-api.md). The hierarchy::

    GanzooError
    ├── ConfigError          a value the user chose is invalid
    │   ├── PresetError      registry.toml or a preset in it
    │   ├── TrackerError     an unknown or uninstalled experiment tracker
    │   ├── PrecisionError   a precision this device cannot run
    │   └── TrickConflictError  a harness trick duplicating the plugin's own
    ├── RegistryError        no working plugin of that name
    ├── PluginContractError  a plugin returned something the contract does not allow
    ├── DataError            a dataset cannot be found or read
    │   └── SamplesError     samples to score are unusable
    ├── RunDirError          the run directory is taken, or is not a run directory
    ├── StorageError         a run's file cannot be written (disk full, read-only, no permission)
    ├── CheckpointError      a checkpoint cannot be used
    │   ├── ResumeError      a run cannot be continued as asked
    │   └── ArtifactError    an exported generator cannot be used
    ├── MetricError          a metric cannot be computed as asked
    ├── SampleError          samples cannot be drawn as asked (e.g. a class for an unconditional model)
    ├── DistributedError     the process group is not what was asked for
    │   └── WorkerLost       a training process died; the run stopped
    ├── NonFiniteStop        the run stopped on non-finite values (``ganzoo run`` exits with code 3)
    ├── BenchError           a suite or a bench option is invalid
    │   └── BenchInterrupted a signal stopped a suite entry
    ├── RecordError          a committed bench record is missing or unreadable
    ├── ExecutorError        a bench executor option is invalid, or its package is missing
    └── TranslateError       a run cannot translate, or the input holds nothing to translate
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: the guard's event, never imported at run time (contract is the lowest layer)
    from ..train.guard import NonFiniteEvent


class GanzooError(Exception):
    """An error that is the user's to fix; the message says what happened and what to do."""


class ConfigError(GanzooError, ValueError):
    """A user-supplied value is invalid; the message names the field and the allowed range."""


class PresetError(ConfigError):
    """registry.toml, or a preset in it, is invalid; the message names file, table and field."""


class TrackerError(ConfigError):
    """An unknown tracker, or one whose package is not installed; the message names the extra to install."""


class PrecisionError(ConfigError):
    """The chosen precision cannot run on this device."""


class TrickConflictError(ConfigError):
    """A harness trick duplicates what the plugin computes itself; the message names both and the fixes."""


class RegistryError(GanzooError, LookupError):
    """A model name that cannot be resolved to one working plugin."""


class PluginContractError(GanzooError, TypeError):
    """A plugin returned something the contract does not allow; the message says what and where."""


class DataError(GanzooError, RuntimeError):
    """A dataset could not be found, read or verified; the message says where we looked and what to do."""


class SamplesError(DataError):
    """Samples to score cannot be read, or do not have the dataset's shape or value range."""


class RunDirError(GanzooError, FileExistsError):
    """The run directory is taken by another run, or is not a run directory."""


class StorageError(GanzooError, OSError):
    """A run's file cannot be written (disk full, read-only, no permission); the message says what was kept."""


class CheckpointError(GanzooError, RuntimeError):
    """A checkpoint that cannot be used; the message says which file, why, and what to do."""


class ResumeError(CheckpointError):
    """A run cannot be continued as asked (changed config, nothing left to train, …)."""


class ArtifactError(CheckpointError):
    """An exported generator that cannot be used: not one, changed after export, or its plugin is missing."""


class MetricError(GanzooError, ValueError):
    """A metric could not be computed as asked; the message names the numbers involved and the fix."""


class SampleError(GanzooError, ValueError):
    """The request cannot be drawn from this generator (e.g. a class for an unconditional model)."""


class DistributedError(GanzooError, RuntimeError):
    """The process group is not what was asked for (or an option cannot work on this device)."""


class WorkerLost(DistributedError):
    """A training process died (a signal, the OOM killer) or lost its partners; the run stopped."""


class NonFiniteStop(GanzooError, RuntimeError):
    """The run stopped on non-finite values; the message is the report."""

    def __init__(self, message: str, event: NonFiniteEvent) -> None:
        super().__init__(message)
        self.event = event


class BenchError(GanzooError, ValueError):
    """A suite, an entry or a bench option is invalid; the message names it."""


class BenchInterrupted(BenchError):
    """A signal stopped an entry: the suite stops too, its finished entries saved for --resume."""


class RecordError(GanzooError, ValueError):
    """A committed record is missing or unreadable."""


class ExecutorError(GanzooError, RuntimeError):
    """A bench executor option is invalid (``--jobs 0``, SLURM options without slurm) or submitit is missing."""


class TranslateError(GanzooError, ValueError):
    """The run cannot translate, or the input holds nothing to translate; the message says what to do."""
