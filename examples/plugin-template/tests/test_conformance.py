"""ganzoo's conformance suite, from the plugin's own CI.

`pytest --ganzoo-plugin ragan` adds every check of `ganzoo check ragan` as a test item (on the
plugin's default dataset, with the tiny `ragan/check` preset). The test below uses the
`ganzoo_conformance` fixture for what the command line does not cover: the image path.
"""

import os

import pytest


@pytest.mark.skipif(not os.environ.get("GANZOO_DATA"), reason="needs MNIST: set GANZOO_DATA to a data folder")
def test_the_image_networks_conform_on_mnist(ganzoo_conformance):
    report = ganzoo_conformance("ragan", dataset="mnist", only=["build", "samples", "seed", "fp32", "resume"])
    assert report.ok, report.describe()
