"""Measurement harness: micro-benchmarks, three-phase timing, resumable collection (never imports an estimator)."""
