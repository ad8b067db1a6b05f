"""Runtime graph rewrites: what a deployment runtime (TensorRT) actually executes."""
