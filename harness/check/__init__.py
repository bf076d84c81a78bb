"""``ganzoo check``: the conformance checks a plugin must pass, one module per family,
and the pytest plugin that runs them in a plugin author's CI.
"""
