"""Model -> layer graph: capture (PyTorch on the meta device, or ONNX) and the records it yields."""
import hwaware.graph.capture  # noqa: F401  first: importing the submodule later would shadow the function below
from hwaware.graph.layer import Graph, Layer, LayerKind
from hwaware.graph.sources import capture, parse_input_size

__all__ = ["Graph", "Layer", "LayerKind", "capture", "parse_input_size"]
