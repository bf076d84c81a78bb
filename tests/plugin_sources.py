"""Source code of third-party test plugins: one good, several broken in distinct ways."""

GOOD = '''
from ganzoo.harness.contract.model_spec import DataKind, Family, ModelSpec
from ganzoo.zoo.gan import GAN

class TinyGAN(GAN):
    spec = ModelSpec(name="tiny-gan", title="Third-party tiny GAN", paper="Test 2026", family=Family.minimax,
                     data_kinds=[DataKind.points2d], default_dataset="ring")
'''

IMPORT_ERROR = '''
import not_a_real_module_xyz
'''

BAD_SPEC = '''
from ganzoo.harness.contract.model_spec import DataKind, Family, ModelSpec
from ganzoo.zoo.gan import GAN

class BadSpec(GAN):
    spec = ModelSpec.model_construct(name="bad-spec", title="", paper="x", family=Family.minimax,
                                     data_kinds=frozenset([DataKind.points2d]), default_dataset="ring")
'''

NOT_A_PLUGIN = '''
class NotAPlugin:
    pass
'''

DUPLICATE_GAN = '''
from ganzoo.zoo.gan import GAN as DuplicateGAN
'''
