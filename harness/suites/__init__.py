"""The code of ``ganzoo bench`` (the command is ``cli/bench.py``): suites from registry.toml, their entries, leaderboards and plots."""
