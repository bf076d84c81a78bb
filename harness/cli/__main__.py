"""``python -m ganzoo.harness.cli`` (what ``--gpus N`` launches in every process)."""

from .main import main

main()
