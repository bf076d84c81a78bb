"""The relativistic average losses against the paper's formulas (Jolicoeur-Martineau 2018, §4)."""

import pytest
import torch

from ganzoo_ragan import losses


def _outputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(64, generator=g), torch.randn(48, generator=g) - 1.0


def test_rasgan_matches_the_paper_written_with_sigmoids():
    real, fake = _outputs()
    d_ra_real = torch.sigmoid(real - fake.mean())  # D_ra(x_r, x_f)
    d_ra_fake = torch.sigmoid(fake - real.mean())  # D_ra(x_f, x_r)
    expected_d = -0.5 * (torch.log(d_ra_real).mean() + torch.log(1 - d_ra_fake).mean())
    expected_g = -0.5 * (torch.log(d_ra_fake).mean() + torch.log(1 - d_ra_real).mean())
    torch.testing.assert_close(losses.rasgan_discriminator(real, fake), expected_d)
    torch.testing.assert_close(losses.rasgan_generator(real, fake), expected_g)


@pytest.mark.parametrize("loss", ["rasgan", "ralsgan", "rahinge"])
def test_generator_loss_is_the_discriminator_loss_with_roles_swapped(loss):
    real, fake = _outputs(1)
    torch.testing.assert_close(losses.GENERATOR[loss](real, fake), losses.DISCRIMINATOR[loss](fake, real))


@pytest.mark.parametrize("loss", ["rasgan", "ralsgan", "rahinge"])
def test_only_relative_realism_counts(loss):
    """Adding a constant to every critic output changes nothing: the discriminator is relativistic."""
    real, fake = _outputs(2)
    for fn in (losses.DISCRIMINATOR[loss], losses.GENERATOR[loss]):
        torch.testing.assert_close(fn(real + 7.0, fake + 7.0), fn(real, fake))


def test_generator_loss_depends_on_real_data():
    """Unlike the standard GAN, G's loss has a gradient through the critic's outputs on real samples."""
    real, fake = _outputs(3)
    real.requires_grad_(True)
    losses.rasgan_generator(real, fake).backward()
    assert real.grad.abs().sum() > 0


def test_ralsgan_and_rahinge_reach_zero_for_a_perfect_margin():
    real, fake = torch.full((8,), 1.0), torch.full((8,), -1.0)  # C̃(x_r) = 2, C̃(x_f) = −2
    assert losses.rahinge_discriminator(real, fake) == 0
    real, fake = torch.full((8,), 0.5), torch.full((8,), -0.5)  # C̃(x_r) = 1, C̃(x_f) = −1
    assert losses.ralsgan_discriminator(real, fake) == 0
