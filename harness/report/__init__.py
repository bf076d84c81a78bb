"""What a run leaves behind and shows while it runs: the run directory, diagnostics,
throughput, progress, plots, the summary and report.md. Imports only contract-level types.
"""
