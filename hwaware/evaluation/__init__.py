"""Evaluation: grouped splits and the metrics every benchmark reports."""
