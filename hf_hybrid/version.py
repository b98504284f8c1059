"""The package's version, in a module of its own so that any layer can record it without importing the public API
(``hf_hybrid/__init__.py`` sits above every stage)."""

__version__ = "0.1.0"
