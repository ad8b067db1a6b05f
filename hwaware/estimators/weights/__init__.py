"""Shipped estimator weights (safetensors + JSON metadata), one folder per estimator and platform."""
