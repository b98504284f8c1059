"""The training stage as a package (see ``hf_hybrid.train`` for the ``accelerate launch`` entry point)."""
