"""``ganzoo bench``: suites from registry.toml, their entries, leaderboards and plots."""
