"""The commands layer: every ``hf-hybrid`` subcommand's argument parsing, ``main()``, ``--dry_run`` and
``--push_to_hub`` handling, one module per command, above every stage.

Why apart from the stages: a stage (``hf_hybrid.training``, ``hf_hybrid.evaluation``, ``hf_hybrid.hub``, …) is
what a user's own script imports; it must not pull in the command line of another stage, nor the Hub client
because one command may push. So a stage imports only stages below it, and a command composes stages (train then
push; build then push; evaluate with a dry-run check). ``tests/test_layers.py`` enforces the order.

- :mod:`.arguments`: the one argument parser (YAML ``--config`` plus flags, both spellings of every flag,
  one-line errors);
- one module per subcommand: ``build``, ``models``, ``check``, ``train``, ``evaluate``, ``push``, ``push_space``,
  ``card``, ``demo``, ``experiment``, ``export``, ``mine``, ``quickstart`` (and ``pretrain``, run as
  ``python -m hf_hybrid.commands.pretrain``).

``hf_hybrid/cli.py`` dispatches ``hf-hybrid <name>``; ``python -m hf_hybrid.train`` (``accelerate launch -m``),
``hf_hybrid.evaluate``, ``hf_hybrid.push``, ``hf_hybrid.mine``, ``hf_hybrid.experiments`` and ``hf_hybrid.demo``
keep working as entry points onto the same ``main``.
"""
