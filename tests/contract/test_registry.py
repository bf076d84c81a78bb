"""Plugin discovery through real installed distributions: good, broken, duplicate."""

import pytest

from ganzoo.harness.contract import registry
from ganzoo.harness.contract.registry import BrokenPlugin
from ganzoo.harness.contract.errors import RegistryError

from .. import plugin_sources as src


def test_builtin_models_are_discovered_through_entry_points():
    working, problems = registry.discover()
    names = {p.spec.name for p in working}
    assert {"gan", "wgan-gp"} <= names
    assert all(p.source.distribution == "ganzoo" for p in working if p.spec.name in {"gan", "wgan-gp"})
    assert not problems


def test_third_party_plugin_is_found_like_ours(plugin_site):
    plugin_site("tiny-dist", {"tiny-gan": "tiny_plugin:TinyGAN"}, {"tiny_plugin": src.GOOD})
    plugin = registry.get("tiny-gan")
    assert plugin.source.distribution == "tiny-dist"
    assert plugin.spec.title == "Third-party tiny GAN"


@pytest.mark.parametrize(("module", "target", "reason"), [
    (src.IMPORT_ERROR, "broken_import:Anything", "import failed: ModuleNotFoundError"),
    (src.BAD_SPEC, "broken_spec:BadSpec", "title"),
    (src.NOT_A_PLUGIN, "not_plugin:NotAPlugin", "subclass of ganzoo.harness.contract.gan_plugin.GANPlugin"),
])
def test_broken_plugin_is_reported_and_others_keep_working(plugin_site, module, target, reason):
    name = "bad-spec" if "BadSpec" in target else "broken"
    module_name = target.split(":")[0]
    plugin_site("broken-dist", {name: target}, {module_name: module})
    working, problems = registry.discover()
    assert {"gan", "wgan-gp"} <= {p.spec.name for p in working}
    (broken,) = [p for p in problems if isinstance(p, BrokenPlugin)]
    assert broken.source.distribution == "broken-dist"
    assert reason in broken.reason
    with pytest.raises(RegistryError, match="broken-dist"):
        registry.get(name)
    registry.get("gan")  # unaffected


def test_entry_point_name_must_match_spec_name(plugin_site):
    plugin_site("misnamed-dist", {"other-name": "tiny_plugin:TinyGAN"}, {"tiny_plugin": src.GOOD})
    with pytest.raises(RegistryError, match="spec's name is 'tiny-gan'"):
        registry.get("other-name")


def test_duplicate_name_names_both_distributions(plugin_site):
    plugin_site("impostor-dist", {"gan": "dup_mod:DuplicateGAN"}, {"dup_mod": src.DUPLICATE_GAN})
    with pytest.raises(RegistryError) as info:
        registry.get("gan")
    message = str(info.value)
    assert "impostor-dist" in message and "distribution ganzoo" in message
    _, problems = registry.discover()
    assert any(isinstance(p, str) and "impostor-dist" in p for p in problems)
    registry.get("wgan-gp")  # other names still resolve


def test_unknown_model_suggests_close_matches():
    with pytest.raises(RegistryError, match="Did you mean: wgan-gp"):
        registry.get("wgan-pg")
