"""The one module a plugin author imports: everything the plugin contract offers.

```python
from ganzoo.harness.plugin import (GANPlugin, Phase, PhaseResult, OptimizerSpec, PlateauSpec, Batch,
                                   Networks, StepContext, SampleContext, ModelSpec, ModelConfig, DataKind,
                                   Family, losses)
```

The zoo uses only this module, exactly like a third party. The definitions live in
``harness.contract`` (docs/architecture.md); the names here are the stable public surface.
"""

from .contract import gan_losses as losses
from .contract.gan_plugin import (AfterStepFn, Batch, GANPlugin, Networks, OptimizerSpec, OptimizerState, Phase,
                              PhaseResult, PlateauSpec, SampleContext, SampleView, StepContext, StepFn)
from .contract.model_spec import DataInfo, DataKind, Family, ModelConfig, ModelSpec
from .contract.tricks_config import TricksConfig

__all__ = ["AfterStepFn", "Batch", "DataInfo", "DataKind", "Family", "GANPlugin", "ModelConfig", "ModelSpec", "Networks",
           "OptimizerSpec", "OptimizerState", "Phase", "PhaseResult", "PlateauSpec", "SampleContext", "SampleView", "StepContext", "StepFn", "TricksConfig",
           "losses"]
