"""Training: the loop that runs a plugin's phases, and what the harness does around each
step (precision, gradient exchange, tricks, EMA, non-finite guard, checkpoints, launch).
"""
