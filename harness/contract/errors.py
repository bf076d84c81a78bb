"""The root of every error ganzoo raises for the user to fix, and the configuration error under it.

Each layer keeps its own error class (``DataError`` in data/, ``MetricError`` in metrics/, …); they all
derive from :class:`GanzooError`, so ``except ganzoo.GanzooError`` catches any of them, and each still
derives from the built-in type it always had (``ValueError``, ``LookupError``, …), so older ``except``
clauses keep working. The message is always one line (or a short list) that says what to do; the
command line prints it as ``error: …`` and exits with code 2. The hierarchy, as ``ganzoo`` exports it::

    GanzooError
    ├── ConfigError        a value the user chose is invalid (PresetError, TrackerError, PrecisionError)
    ├── RegistryError      no working plugin of that name
    ├── DataError          a dataset cannot be found or read (SamplesError: samples to score are unusable)
    ├── RunDirError        the run directory is taken, or is not a run directory
    ├── CheckpointError    a checkpoint cannot be used (ResumeError, ArtifactError: an exported generator)
    ├── MetricError        a metric cannot be computed as asked
    ├── SampleError        samples cannot be drawn as asked (e.g. a class for an unconditional model)
    └── …                  PluginContractError, DistributedError, NonFiniteStop, BenchError, TranslateError
"""

from __future__ import annotations


class GanzooError(Exception):
    """An error that is the user's to fix; the message says what happened and what to do."""


class ConfigError(GanzooError, ValueError):
    """A user-supplied value is invalid; the message names the field and the allowed range."""
