"""Scoring a plugin's generator under a protocol: drawing samples, then the pure metrics
of ``harness.metrics`` on them (mixtures, image features, translations).
"""
