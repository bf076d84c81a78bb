"""projgan (Miyato & Koyama 2018): the projection discriminator's form, conditional batch norm in G, spectral
norm everywhere in D, the hinge loss and paper settings, the MNIST preset; `ganzoo check` in tests/check/test_conformance.py."""

import pytest
import torch
from torch.nn.utils import parametrize

from ganzoo.harness.plugin import DataInfo, DataKind, Family
from ganzoo.harness.train.resolve import resolve_run
from ganzoo.harness.contract.errors import ConfigError
from ganzoo.zoo.projgan import ConditionalBatchNorm2d, ProjGAN

MNIST32 = DataInfo(name="mnist", kind=DataKind.images, shape=(1, 32, 32), num_classes=10)


def built(**params):
    torch.manual_seed(0)
    plugin = ProjGAN(ProjGAN.Config(base_channels=4, latent_dim=8, **params), MNIST32)
    return plugin, plugin.build()


def test_the_discriminator_is_psi_of_phi_plus_the_class_projection():
    _, nets = built()
    D = nets["D"].eval()
    x = torch.randn(3, 1, 32, 32)
    y1, y2 = torch.tensor([0, 1, 2]), torch.tensor([5, 5, 9])
    with torch.no_grad():
        phi = D.body(x).sum(dim=(2, 3))  # φ(x), pooled over space
        embed = D.projection.weight  # spectrally normalised, like every other weight of D
        expected = ((embed[y1] - embed[y2]) * phi).sum(1)
        assert torch.allclose(D(x, y1) - D(x, y2), expected, atol=1e-5)
    normalised = [name for name, m in D.named_modules() if parametrize.is_parametrized(m, "weight")]
    assert "projection" in normalised and "score" in normalised and len(normalised) == 5  # 3 convs, ψ, embedding
    with pytest.raises(ValueError, match="call D\\(x, labels\\)"):
        D(x)


def test_the_generator_is_conditioned_through_its_batch_norms_only():
    _, nets = built()
    G = nets["G"].eval()
    norms = [m for m in G.modules() if isinstance(m, ConditionalBatchNorm2d)]
    assert len(norms) == 3 and all(not m.norm.affine for m in norms)
    assert not any(isinstance(m, torch.nn.Embedding) for m in G.modules() if m not in
                   {e for n in norms for e in (n.gain, n.bias)})  # no label embedding concatenated to z
    z = torch.randn(2, 8)
    with torch.no_grad():
        same = G(z, torch.tensor([3, 3]))
        for norm in norms:
            norm.gain.weight[7].mul_(2.0)
        assert torch.equal(G(z, torch.tensor([3, 3])), same)  # another class's gain changes nothing here
        assert not torch.equal(G(z, torch.tensor([7, 7])), same)
    assert same.shape == (2, 1, 32, 32) and same.abs().max() <= 1


def test_paper_settings_hinge_loss_and_the_mnist_preset():
    config = ProjGAN.Config()
    assert (config.n_dis, config.beta1, config.beta2, config.lr_g, config.lr_d, config.latent_dim) == \
        (5, 0.0, 0.9, 2e-4, 2e-4, 128)
    assert ProjGAN.spec.family == Family.hinge and ProjGAN.spec.conditional
    run, _ = resolve_run("projgan", dataset="mnist")
    assert run.preset == "projgan/mnist" and run.params["n_dis"] == 1 and run.train.resolution == 32
    with pytest.raises(ConfigError, match="pack \\(PacGAN\\) mixes samples of different classes"):
        resolve_run("projgan", dataset="mnist", assignments=["train.tricks.pack=2"])
