"""Tooling shared by the tests and the benchmarks (not part of the hf_hybrid package)."""
