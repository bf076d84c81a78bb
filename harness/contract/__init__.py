"""The plugin contract: what a GAN plugin is (spec, config, phases), how plugins are found
(entry points), presets, and what a plugin is handed at each step (context, penalties, losses).

The lowest layer: it imports nothing else of the harness. Plugin authors import it through
``ganzoo.harness.plugin``, the one public module.
"""
