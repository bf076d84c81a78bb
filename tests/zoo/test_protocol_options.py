"""The network options the papers' 2-D protocols need (issue 25): the PacGAN authors' batch-norm G and maxout D,
the VEEGAN authors' one-layer ReLU joint D, the Unrolled GAN and GDPP authors' tanh MLPs; and the protocol
suites that use them, each beside its paper's published rows."""

import pytest
import torch
from torch import nn

from ganzoo.harness.suites.runner import load_suites
from ganzoo.harness.contract.model_spec import DataInfo, DataKind
from ganzoo.zoo.gan import GAN
from ganzoo.zoo.gdpp import GDPP
from ganzoo.zoo.mlp import Maxout, mlp
from ganzoo.zoo.unrolled import Unrolled
from ganzoo.zoo.veegan import VEEGAN

RING = DataInfo(name="ring", kind=DataKind.points2d, shape=(2,))


def test_maxout_takes_the_max_of_its_pieces():
    torch.manual_seed(0)
    layer = Maxout(3, 4, pieces=5)
    x = torch.randn(6, 3)
    pieces = layer.linear(x).reshape(6, 4, 5)
    torch.testing.assert_close(layer(x), pieces.max(dim=-1).values)


def test_mlp_batch_norm_and_bad_options():
    net = mlp(2, 8, 2, 1, norm="batch")
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [m.bias is None for m in linears] == [True, True, False]  # the output layer keeps its bias
    assert sum(isinstance(m, nn.BatchNorm1d) for m in net) == 2
    with pytest.raises(ValueError, match="activation 'swish'"):
        mlp(2, 8, 2, 1, activation="swish")
    with pytest.raises(ValueError, match="normalisation 'layer'"):
        mlp(2, 8, 2, 1, norm="layer")


def test_gan_takes_the_pacgan_authors_networks():
    """G 4 × 400 batch norm + ReLU, D 3 × 200 maxout (5 pieces) on packed input, weights N(0, 0.02²), biases 0."""
    torch.manual_seed(0)
    config = GAN.Config(g_hidden=400, g_depth=4, g_norm="batch", d_hidden=200, d_depth=3, d_activation="maxout",
                        maxout_pieces=5, init_std=0.02)
    nets = GAN(config, RING.model_copy(update={"pack": 2})).build()
    G, D = nets["G"], nets["D"]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in G.modules()) == 4
    assert [m.out_features for m in G.modules() if isinstance(m, nn.Linear)] == [400, 400, 400, 400, 2]
    maxouts = [m for m in D.modules() if isinstance(m, Maxout)]
    assert [(m.linear.in_features, m.width, m.pieces) for m in maxouts] == [(4, 200, 5), (200, 200, 5), (200, 200, 5)]
    weights = torch.cat([m.weight.flatten() for m in D.modules() if isinstance(m, nn.Linear)])
    assert abs(weights.std().item() - 0.02) < 0.001
    assert all((m.bias == 0).all() for m in D.modules() if isinstance(m, nn.Linear))
    assert D(torch.randn(5, 4)).shape == (5,)
    # and the defaults are unchanged: 3 × 128, LeakyReLU D, no batch norm
    default = GAN(GAN.Config(), RING).build()
    assert not any(isinstance(m, (nn.BatchNorm1d, Maxout)) for net in default.values() for m in net.modules())


def test_veegan_takes_its_authors_one_layer_relu_discriminator():
    plugin = VEEGAN(VEEGAN.Config(latent_dim=254, hidden=128, depth=2, d_depth=1, d_activation="relu"), RING)
    nets = plugin.build()
    D_linears = [m for m in nets["D"].modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in D_linears] == [(256, 128), (128, 1)]
    assert any(isinstance(m, nn.ReLU) for m in nets["D"].modules())
    assert [m.out_features for m in nets["F"].modules() if isinstance(m, nn.Linear)] == [128, 128, 254]


@pytest.mark.parametrize("cls", [Unrolled, GDPP])
def test_tanh_mlps_for_the_unrolled_and_gdpp_authors_code(cls):
    nets = cls(cls.Config(latent_dim=256, hidden=128, depth=2, mlp_activation="tanh"), RING).build()
    for net in nets.values():
        activations = {type(m) for m in net.modules() if isinstance(m, (nn.Tanh, nn.ReLU, nn.LeakyReLU))}
        assert activations == {nn.Tanh}


def test_protocol_suites_list_five_seeds_and_each_papers_rows():
    suites = load_suites()
    expected = {"mixtures-pacgan": ("PacGAN (Lin et al. 2018) Table 1", {"GAN", "PacGAN2", "PacGAN3", "PacGAN4"}),
                "mixtures-veegan": ("VEEGAN (Srivastava et al. 2017) Table 1", {"GAN", "ALI", "Unrolled GAN", "VEEGAN"}),
                "mixtures-gdpp": ("GDPP (Elfeki et al. 2019) Table 1", {"GDPP-GAN", "WGAN-GP"})}
    for name, (source, rows) in expected.items():
        suite = suites[name]
        assert list(suite.seeds) == [0, 1, 2, 3, 4]
        refs = suite.references
        assert all(r.source.startswith(source) for r in refs)
        assert rows <= {r.row for r in refs}
        for r in refs:  # every referenced preset runs in the suite
            assert set(r.presets or []) <= set(suite.presets), (name, r.row)
    # ganzoo's own suite is untouched: seeds 0–2, its own presets
    assert list(suites["mixtures"].seeds) == [0, 1, 2] and "gan/ring" in suites["mixtures"].presets


@pytest.mark.parametrize("model", [Unrolled, GDPP, VEEGAN])
def test_orthogonal_gain_initialises_every_linear_layer_as_the_authors_do(model):
    """orthogonal_gain: TF-slim's orthogonal_initializer(gain=1.4), biases 0, on every linear layer of every
    network (the Unrolled GAN, VEEGAN and GDPP authors' 2-D code); unset, the networks are PyTorch's, untouched."""
    torch.manual_seed(0)
    default = model(model.Config(), RING).build()
    torch.manual_seed(0)
    same = model(model.Config(), RING).build()
    torch.manual_seed(0)
    authors = model(model.Config(orthogonal_gain=1.4), RING).build()
    for name, net in authors.items():
        linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
        assert linears, name
        for layer in linears:
            w = layer.weight.detach().double()
            small = min(w.shape)
            gram = w @ w.T if w.shape[0] == small else w.T @ w  # orthonormal rows or columns, times the gain
            torch.testing.assert_close(gram, 1.4 ** 2 * torch.eye(small, dtype=torch.float64), atol=1e-5, rtol=0)
            assert layer.bias is None or not layer.bias.any()
        assert all(torch.equal(a, b) for a, b in zip(default[name].state_dict().values(), same[name].state_dict().values()))
        assert not all(torch.equal(a, b) for a, b in zip(default[name].state_dict().values(), net.state_dict().values()))


def test_inference_models_take_a_small_joint_discriminator_on_images():
    """d_base_channels and d_joint_hidden shrink VEEGAN's and ALI's joint D alone (the small-D Stacked MNIST
    suite); G and the inverse network keep base_channels."""
    from ganzoo.zoo.ali import ALI

    data = DataInfo(name="stacked-mnist", kind=DataKind.images, shape=(3, 32, 32))
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    for model, inverse in ((VEEGAN, "F"), (ALI, "E")):
        small = model(model.Config(base_channels=16, d_base_channels=2, d_joint_hidden=16, latent_dim=256), data).build()
        wide = model(model.Config(base_channels=16, latent_dim=256), data).build()
        assert count(small["G"]) == count(wide["G"]) and count(small[inverse]) == count(wide[inverse])
        assert count(small["D"]) < count(wide["D"]) / 50
        assert [m.out_channels for m in small["D"].modules() if isinstance(m, nn.Conv2d)][:3] == [2, 4, 8]
        assert small["D"](torch.zeros(4, 3, 32, 32), torch.zeros(4, 256)).shape == (4,)
