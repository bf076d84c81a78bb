"""The defining mechanics of the mode-collapse models: ALI, Unrolled GAN, VEEGAN, DRAGAN and GDPP."""

import copy as copy_module

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from ganzoo.harness.contract import penalties
from ganzoo.harness.contract.context import TrainingContext
from ganzoo.harness.contract.gan_plugin import Batch, Networks
from ganzoo.harness.contract.model_spec import DataInfo, DataKind
from ganzoo.harness.plugin import losses
from ganzoo.zoo.ali import ALI
from ganzoo.zoo.dragan import DRAGAN
from ganzoo.zoo.gdpp import GDPP, gdpp_loss
from ganzoo.zoo.unrolled import Unrolled
from ganzoo.zoo.veegan import VEEGAN

RING = DataInfo(name="ring", kind=DataKind.points2d, shape=(2,))
MNIST = DataInfo(name="mnist", kind=DataKind.images, shape=(1, 28, 28))


def setup(cls, data=RING, seed=0, **params):
    torch.manual_seed(seed)
    plugin = cls(cls.Config(hidden=16, depth=2, **params), data)
    nets = Networks(plugin.build())
    return plugin, nets


def context(seed=0):
    return TrainingContext(torch.device("cpu"), seed, None)


def real_batch(n=32, seed=1):
    angles = torch.randint(8, (n,), generator=torch.Generator().manual_seed(seed)) * (torch.pi / 4)
    return Batch(torch.stack([angles.cos(), angles.sin()], dim=1) + 0.01 * torch.randn(n, 2))


def run_phase(plugin, nets, name, batch, seed=0):
    """One phase as the harness runs it: only the networks it updates take gradients."""
    phase = next(p for p in plugin.phases() if p.name == name)
    for net_name, net in nets.items():
        net.zero_grad(set_to_none=True)
        net.requires_grad_(net_name in phase.updates)
    result = phase.step(nets, batch, context(seed))
    result.loss.backward()
    return result


def grads(net):
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).flatten() for p in net.parameters()])


# -- Unrolled GAN -------------------------------------------------------------------------------------

@pytest.fixture
def float64():
    """Build networks and draw noise in float64 (the gradient comparisons need its precision)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_unrolled_g_gradient_differs_from_k0_and_real_d_is_untouched(optimizer):
    batch, g_grads = real_batch(), {}
    for k in (0, 3):
        plugin, nets = setup(Unrolled, unroll_steps=k, unroll_optimizer=optimizer, unroll_lr=0.05)
        d_before = {n: p.detach().clone() for n, p in nets.D.named_parameters()}
        run_phase(plugin, nets, "generator", batch)
        g_grads[k] = grads(nets.G)
        assert all(torch.equal(p, d_before[n]) for n, p in nets.D.named_parameters())  # not stepped, not edited
        assert all(p.grad is None for p in nets.D.parameters())  # and no gradient reached the real D
    assert g_grads[0].norm() > 0 and not torch.allclose(g_grads[0], g_grads[3], atol=1e-7)


@pytest.mark.parametrize("generator_loss", ["minimax", "non_saturating"])
def test_unrolled_with_k0_is_the_gan_generator_gradient(generator_loss):
    """K = 0: f_0's real term does not depend on G, so the default is the minimax GAN's G gradient, and the
    option is the non-saturating GAN's."""
    batch = real_batch()
    plugin, nets = setup(Unrolled, unroll_steps=0, generator_loss=generator_loss)
    run_phase(plugin, nets, "generator", batch)
    ours = grads(nets.G)
    plugin, nets = setup(Unrolled, unroll_steps=0)
    nets.D.requires_grad_(False)
    logits = nets.D(plugin.sample(nets, context(0), len(batch)))
    gan = losses.bce_generator_minimax if generator_loss == "minimax" else losses.bce_generator_nonsaturating
    gan(logits).backward()
    torch.testing.assert_close(ours, grads(nets.G))


def explicit_unroll(D, real, fake, k, lr):
    """θ_D^K by K explicit gradient-ascent steps on f = E log σ(D(x)) + E log(1 − σ(D(G(z)))), differentiable
    w.r.t. the fakes (create_graph=True): written here without the plugin's helpers."""
    def f(params):
        return (F.logsigmoid(functional_call(D, params, (real,))).mean()
                + F.logsigmoid(-functional_call(D, params, (fake,))).mean())

    params = {n: p.detach().requires_grad_(True) for n, p in D.named_parameters()}
    for _ in range(k):
        steps = torch.autograd.grad(f(params), list(params.values()), create_graph=True)
        params = {n: p + lr * g for (n, p), g in zip(params.items(), steps)}
    return params, f


def test_unrolled_default_loss_is_the_papers_f_k(float64):
    """In float64, G's gradient equals that of f_K(θ_G, θ_D) = E log D_K(x) + E log(1 − D_K(G(z))), unrolled
    explicitly through K SGD steps, real term included: the paper's eq. 5–7 and the authors' code (G minimises
    −unrolled_loss). The real term matters: without it (or with −log D_K(G(z))) the gradient differs."""
    batch, k, lr = real_batch(), 3, 0.1
    plugin, nets = setup(Unrolled, unroll_steps=k, unroll_optimizer="sgd", unroll_lr=lr)
    run_phase(plugin, nets, "generator", batch)
    ours = grads(nets.G)

    def explicit(term):
        plugin, nets = setup(Unrolled, unroll_steps=k, unroll_optimizer="sgd", unroll_lr=lr)
        nets.D.requires_grad_(False)
        fake = plugin.sample(nets, context(0), len(batch))
        params, f = explicit_unroll(nets.D, batch.real, fake, k, lr)
        fake_logits = functional_call(nets.D, params, (fake,))
        {"f_K": lambda: f(params), "fake term of f_K": lambda: F.logsigmoid(-fake_logits).mean(),
         "non-saturating": lambda: -F.logsigmoid(fake_logits).mean()}[term]().backward()
        return grads(nets.G)

    f_k = explicit("f_K")
    assert ours.dtype == torch.float64 and ours.norm() > 0
    torch.testing.assert_close(ours, f_k, rtol=1e-9, atol=1e-12)
    for other in ("fake term of f_K", "non-saturating"):  # the old loss, or f_K without its real term
        assert (explicit(other) - f_k).norm() > 1e-3 * f_k.norm(), other


def test_unrolled_non_saturating_option_is_minus_log_d_k(float64):
    """The option: −E log D_K(G(z)) through K explicit SGD steps (second-order term included)."""
    batch, k, lr = real_batch(), 2, 0.1
    plugin, nets = setup(Unrolled, unroll_steps=k, unroll_optimizer="sgd", unroll_lr=lr,
                         generator_loss="non_saturating")
    run_phase(plugin, nets, "generator", batch)
    ours = grads(nets.G)

    plugin, nets = setup(Unrolled, unroll_steps=k, unroll_optimizer="sgd", unroll_lr=lr)
    nets.D.requires_grad_(False)
    fake = plugin.sample(nets, context(0), len(batch))
    params, _ = explicit_unroll(nets.D, batch.real, fake, k, lr)
    (-F.logsigmoid(functional_call(nets.D, params, (fake,))).mean()).backward()
    torch.testing.assert_close(ours, grads(nets.G), rtol=1e-9, atol=1e-12)


def test_unrolled_d_optimizer_continues_ds_real_adam(float64):
    """unroll_optimizer="d_optimizer" (the authors' code): the K lookahead steps are exactly what D's own Adam
    would do next from its current moments and step count, with its lr, β and ε, not Adam from zero moments;
    and G's gradient flows through them."""
    from ganzoo.zoo.unrolled import unrolled_parameters

    batch, k = real_batch(), 2
    plugin, nets = setup(Unrolled, unroll_steps=k, unroll_optimizer="d_optimizer")
    adam = torch.optim.Adam(nets.D.parameters(), lr=3e-3, betas=(0.5, 0.999), eps=1e-8)
    for seed in range(3):  # moments and a step count of the real D's own
        adam.zero_grad()
        fake = plugin.sample(nets, context(seed), len(batch)).detach()
        losses.bce_discriminator(nets.D(batch.real), nets.D(fake)).backward()
        adam.step()
    ctx = context(7)
    ctx.optimizers = [adam]
    fake = plugin.sample(nets, context(9), len(batch)).detach()
    params = {n: p.detach() for n, p in nets.D.named_parameters()}
    ours = unrolled_parameters(nets.D, params, {}, batch.real, fake, k, lr=123.0, optimizer="d_optimizer",
                               continued=ctx.optimizer_state(nets.D))
    zero_moments = unrolled_parameters(nets.D, params, {}, batch.real, fake, k, lr=3e-3, optimizer="adam",
                                       betas=(0.5, 0.999), eps=1e-8)

    copy = copy_module.deepcopy(nets.D)  # the real optimizer, K more steps on a copy
    follow = torch.optim.Adam(copy.parameters(), lr=3e-3, betas=(0.5, 0.999), eps=1e-8)
    follow.load_state_dict(adam.state_dict())
    for _ in range(k):
        follow.zero_grad()
        losses.bce_discriminator(copy(batch.real), copy(fake)).backward()
        follow.step()
    for name, p in copy.named_parameters():  # the updates agree up to the ε form: √(v̂ + ε²) for √v̂ + ε
        torch.testing.assert_close(ours[name] - params[name], p.detach() - params[name], rtol=1e-3, atol=1e-9)
    assert sum((ours[n] - zero_moments[n]).norm() for n in ours) > 1e-4  # the moments matter

    for net_name, net in nets.items():  # G's step through it, as the harness runs the phase
        net.zero_grad(set_to_none=True)
        net.requires_grad_(net_name == "G")
    plugin.generator_step(nets, batch, ctx).loss.backward()
    assert torch.isfinite(grads(nets.G)).all() and grads(nets.G).norm() > 0


def test_unrolled_d_optimizer_without_an_adam_d_says_what_to_do():
    plugin, nets = setup(Unrolled, unroll_steps=1, unroll_optimizer="d_optimizer")
    with pytest.raises(ValueError, match="continues D's Adam, but D's parameter .* is not stepped by any optimizer"):
        run_phase(plugin, nets, "generator", real_batch())


@pytest.mark.parametrize("data,unroll_lr", [(MNIST, 0.5), (MNIST, 0.01), (RING, 0.05)],
                         ids=["conv-bn-0.5", "conv-bn-0.01", "mlp-0.05"])
def test_unrolled_generator_gradient_matches_finite_differences(data, unroll_lr):
    """In float64, the gradient of the plugin's own G loss (f_K, both terms) w.r.t. the fakes agrees with
    central differences of that same loss, through K = 3 steps of a batch-norm conv D: the second-order
    path is not broken (the Stacked MNIST collapse is not a gradient bug)."""
    torch.manual_seed(0)
    config = dict(base_channels=4, latent_dim=8) if data is MNIST else dict(hidden=16, depth=2)
    plugin = Unrolled(Unrolled.Config(unroll_steps=3, unroll_lr=unroll_lr, **config), data)
    nets = Networks(plugin.build())
    nets.D.double().requires_grad_(False)
    real, fake = (torch.rand(8, *data.shape, dtype=torch.float64) * 2 - 1 for _ in range(2))

    def g_loss(x):
        plugin.sample = lambda nets, ctx, n, labels=None: x  # the phase's fakes are x
        return plugin.generator_step(nets, Batch(real), context()).loss

    x = fake.clone().requires_grad_(True)
    (analytic,) = torch.autograd.grad(g_loss(x), x)
    h = 1e-5
    for seed in range(3):
        u = torch.randn(fake.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        u /= u.norm()
        with torch.no_grad():
            numeric = (g_loss(fake + h * u) - g_loss(fake - h * u)) / (2 * h)
        assert (analytic * u).sum().item() == pytest.approx(numeric.item(), rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_unrolled_runs_under_autocast(dtype):
    plugin, nets = setup(Unrolled, unroll_steps=2, unroll_lr=0.05)
    try:
        with torch.autocast("cpu", dtype=dtype):
            result = run_phase(plugin, nets, "generator", real_batch())
    except RuntimeError as error:  # pragma: no cover - an old CPU autocast without fp16
        pytest.skip(f"CPU autocast with {dtype}: {error}")
    assert torch.isfinite(result.loss) and torch.isfinite(grads(nets.G)).all() and grads(nets.G).norm() > 0


def test_unrolled_builds_for_images():
    plugin = Unrolled(Unrolled.Config(base_channels=4, latent_dim=8, unroll_steps=1), MNIST)
    nets = Networks(plugin.build())
    batch = Batch(torch.rand(4, 1, 28, 28) * 2 - 1)
    buffers_before = {n: b.clone() for n, b in nets.D.named_buffers()}
    result = run_phase(plugin, nets, "generator", batch)
    assert torch.isfinite(result.loss)
    assert all(torch.equal(b, buffers_before[n]) for n, b in nets.D.named_buffers())  # BN stats untouched
    # d_base_channels narrows D alone (the paper's Stacked MNIST experiment: D at ½ or ¼ of G's size)
    narrow = Networks(Unrolled(Unrolled.Config(base_channels=8, d_base_channels=2, latent_dim=8), MNIST).build())
    wide = Networks(Unrolled(Unrolled.Config(base_channels=8, latent_dim=8), MNIST).build())
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    assert count(narrow.G) == count(wide.G) and count(narrow.D) < count(wide.D) / 4
    assert nets.D(batch.real).shape == (4,) and narrow.D(batch.real).shape == (4,)


# -- VEEGAN --------------------------------------------------------------------------------------------

def test_veegan_reconstruction_reaches_g_and_f():
    batch, g_grads = real_batch(), {}
    for weight in (1.0, 0.0):
        plugin, nets = setup(VEEGAN, reconstruction_weight=weight)
        result = run_phase(plugin, nets, "generator", batch)
        g_grads[weight] = grads(nets.G)
        assert grads(nets.D).abs().sum() == 0  # D does not move in the generator phase
        if weight:
            assert grads(nets.F).norm() > 0 and result.logs["reconstruction"] > 0
        else:
            assert grads(nets.F).abs().sum() == 0  # F learns from the reconstruction alone
    assert not torch.allclose(g_grads[1.0], g_grads[0.0])


def test_veegan_discriminator_judges_z_x_pairs():
    plugin, nets = setup(VEEGAN)
    assert set(nets) == {"G", "F", "D"}
    assert [p.updates for p in plugin.phases()] == [("D",), ("G", "F")]
    run_phase(plugin, nets, "discriminator", real_batch())
    assert grads(nets.D).norm() > 0 and grads(nets.F).abs().sum() == 0


class PairRecorder(torch.nn.Module):
    """Wraps a joint D(x, z) and keeps the pairs it is shown."""

    def __init__(self, D):
        super().__init__()
        self.D, self.pairs = D, []

    def forward(self, x, z):
        self.pairs.append((x.detach(), z.detach()))
        return self.D(x, z)


def test_veegan_data_pair_draws_z_from_n_of_f_x_with_unit_variance():
    """Algorithm 1, line 6 (and the authors' code): D's data pair is (z_g, x) with z_g ~ N(F(x), I), not F(x)."""
    batch = real_batch(4096)
    draws = []
    for seed in (0, 1):
        plugin, nets = setup(VEEGAN)
        nets["D"] = PairRecorder(nets.D)
        run_phase(plugin, nets, "discriminator", batch, seed=seed)
        (_, z_fake), (x_data, z_data) = nets.D.pairs
        assert torch.equal(x_data, batch.real)
        with torch.no_grad():
            offset = z_data - nets.F(batch.real)
        assert offset.mean().abs() < 0.05 and (offset.std() - 1).abs() < 0.05  # N(0, I) around F(x)
        assert offset.shape == (4096, 2) and (offset[:, 0] * offset[:, 1]).mean().abs() < 0.05  # independent dims
        draws.append(z_data)
    assert not torch.allclose(draws[0], draws[1])  # stochastic, not F(x)

    plugin, nets = setup(VEEGAN, reconstructor_noise=0.0)  # the option: F(x) itself
    nets["D"] = PairRecorder(nets.D)
    run_phase(plugin, nets, "discriminator", batch)
    with torch.no_grad():
        torch.testing.assert_close(nets.D.pairs[1][1], nets.F(batch.real))


def test_veegan_reconstruction_is_half_the_squared_norm():
    """G's loss is E[D(z, G(z))] + ½E[‖z − F(G(z))‖²]: −log N(z; F(G(z)), I) up to a constant, as in the
    authors' code (recon_likelihood = log p_θ(z|G(z)) summed over z's dimensions)."""
    batch = real_batch()
    plugin, nets = setup(VEEGAN, latent_dim=3)
    result = run_phase(plugin, nets, "generator", batch)
    with torch.no_grad():
        z = context(0).latent(len(batch), 3)
        x = nets.G(z)
        nll = -torch.distributions.Normal(nets.F(x), 1.0).log_prob(z).sum(dim=1).mean()
        constant = 1.5 * torch.log(torch.tensor(2 * torch.pi))  # ½ log 2π per dimension
        kl = nets.D(x, z).mean()
    torch.testing.assert_close(result.logs["reconstruction"], nll - constant)
    torch.testing.assert_close(result.loss.detach(), kl + nll - constant)


# -- ALI -----------------------------------------------------------------------------------------------

def test_ali_encoder_receives_gradients():
    plugin, nets = setup(ALI)
    assert [p.updates for p in plugin.phases()] == [("D",), ("G", "E")]
    run_phase(plugin, nets, "generator", real_batch())
    assert grads(nets.E).norm() > 0 and grads(nets.G).norm() > 0
    # and D's loss depends on the encoder's codes: D's gradient changes when E changes
    run_phase(plugin, nets, "discriminator", real_batch())
    before = grads(nets.D)
    with torch.no_grad():
        for p in nets.E.parameters():
            p.add_(0.5)
    run_phase(plugin, nets, "discriminator", real_batch())
    assert not torch.allclose(before, grads(nets.D))


def test_joint_discriminator_packs_codes_like_samples():
    plugin = ALI(ALI.Config(hidden=16, depth=2), RING.model_copy(update={"pack": 2}))
    D = plugin.build()["D"]
    x = torch.randn(8, 2)
    assert D(x.reshape(4, 4), torch.randn(8, 2)).shape == (4,)


@pytest.mark.parametrize("cls, encoder", [(ALI, "E"), (VEEGAN, "F")])
def test_encoder_models_on_images_train_the_encoder_and_pack_codes(cls, encoder):
    """On images: a convolutional encoder that maps x to z and learns in the generator phase, and a joint
    D(x, z) that takes PacGAN-packed images with their codes."""
    plugin = cls(cls.Config(base_channels=4, latent_dim=8), MNIST)
    nets = Networks(plugin.build())
    batch = Batch(torch.rand(4, 1, 28, 28) * 2 - 1)
    assert nets[encoder](batch.real).shape == (4, 8)
    run_phase(plugin, nets, "generator", batch)
    assert grads(nets[encoder]).norm() > 0 and grads(nets.G).norm() > 0 and grads(nets.D).abs().sum() == 0
    run_phase(plugin, nets, "discriminator", batch)
    assert grads(nets.D).norm() > 0
    packed = cls(cls.Config(base_channels=4, latent_dim=8), MNIST.model_copy(update={"pack": 2})).build()["D"]
    assert packed(torch.rand(2, 2, 28, 28), torch.randn(4, 8)).shape == (2,)


# -- DRAGAN --------------------------------------------------------------------------------------------

def test_dragan_penalty_is_taken_at_perturbed_real_points(monkeypatch):
    plugin, nets = setup(DRAGAN)
    batch = real_batch(64)
    seen = {}
    original = TrainingContext.gradient_penalty_at

    def spy(self, critic, points, *args, **kwargs):
        seen["points"] = points
        return original(self, critic, points, *args, **kwargs)

    monkeypatch.setattr(TrainingContext, "gradient_penalty_at", spy)
    result = run_phase(plugin, nets, "discriminator", batch)
    delta = seen["points"] - batch.real
    bound = 0.5 * batch.real.std()
    assert (delta >= 0).all() and (delta <= bound + 1e-6).all()  # x + α·0.5·std(x)·U[0,1]
    assert delta.abs().max() > 0.2 * bound and delta.std() > 0  # really perturbed, not all alike
    assert result.logs["gradient_penalty"] > 0


def test_dragan_trains_on_images(monkeypatch):
    plugin = DRAGAN(DRAGAN.Config(base_channels=4, latent_dim=8), MNIST)
    nets = Networks(plugin.build())
    batch = Batch(torch.rand(4, 1, 28, 28) * 2 - 1)
    seen = {}
    original = TrainingContext.gradient_penalty_at

    def spy(self, critic, points, *args, **kwargs):
        seen["points"] = points
        return original(self, critic, points, *args, **kwargs)

    monkeypatch.setattr(TrainingContext, "gradient_penalty_at", spy)
    result = run_phase(plugin, nets, "discriminator", batch)
    assert seen["points"].shape == batch.real.shape and torch.isfinite(result.loss)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in nets.D.modules())


def test_gradient_penalty_at_given_points_and_under_loss_scaling():
    w = torch.tensor([3.0, 4.0])

    def critic(x):
        return x @ w

    points = torch.randn(5, 2)
    assert penalties.gradient_penalty_at(critic, points).item() == pytest.approx(16.0)  # (‖w‖ − 1)²
    assert penalties.gradient_penalty_at(critic, points, target=5.0).item() == pytest.approx(0.0)
    scaled = penalties.gradient_penalty_at(critic, points, scale=2.0**12)
    assert scaled.item() == pytest.approx(16.0)


# -- GDPP ----------------------------------------------------------------------------------------------

def test_gdpp_loss_is_zero_for_identical_features_and_positive_otherwise():
    torch.manual_seed(0)
    phi = torch.randn(16, 32)
    assert gdpp_loss(phi, phi.clone()).abs().item() < 1e-6
    collapsed = phi[:1].expand(16, -1) + 0.01 * torch.randn(16, 32)
    assert gdpp_loss(collapsed, phi).item() > 0.1


def test_gdpp_loss_reaches_g_on_either_base():
    for base in ("non_saturating", "wgan-gp"):
        plugin, nets = setup(GDPP, base=base)
        assert plugin.phases()[0].repeats == (5 if base == "wgan-gp" else 1)
        result = run_phase(plugin, nets, "generator", real_batch())
        assert torch.isfinite(grads(nets.G)).all() and grads(nets.G).norm() > 0
        assert result.logs["gdpp"] > 0
        run_phase(plugin, nets, "discriminator", real_batch())
        assert torch.isfinite(grads(nets.D)).all()


def test_gdpp_gradient_survives_a_collapsed_fake_batch():
    phi_real = torch.randn(32, 8)
    phi_fake = (torch.ones(32, 8) + 1e-9 * torch.randn(32, 8)).requires_grad_(True)
    gdpp_loss(phi_fake, phi_real).backward()
    assert torch.isfinite(phi_fake.grad).all()


def test_gdpp_image_discriminator_returns_score_and_features():
    plugin = GDPP(GDPP.Config(base_channels=4, latent_dim=8), MNIST)
    nets = Networks(plugin.build())
    score, features = nets.D(torch.rand(3, 1, 28, 28))
    assert score.shape == (3,) and features.shape[0] == 3 and features.dim() == 2


@pytest.mark.parametrize("base", ["non_saturating", "wgan-gp"])
def test_gdpp_trains_on_images(base):
    plugin = GDPP(GDPP.Config(base_channels=4, latent_dim=8, base=base), MNIST)
    nets = Networks(plugin.build())
    batch = Batch(torch.rand(8, 1, 28, 28) * 2 - 1)
    for phase in ("discriminator", "generator"):
        result = run_phase(plugin, nets, phase, batch)
        assert torch.isfinite(result.loss)
    assert grads(nets.G).norm() > 0 and torch.isfinite(grads(nets.G)).all()
