"""hf-hybrid: hybrid batch training for multilingual dense retrievers (arXiv 2408.10536).

One module per stage of the pipeline:
``data`` (sources → parallel schema) → ``sampling`` (batch plans) → ``train`` → ``evaluation``
→ ``cards`` / ``hub`` → ``space/`` demo; ``experiments`` runs the strategy grid.
"""

__version__ = "0.1.0"
