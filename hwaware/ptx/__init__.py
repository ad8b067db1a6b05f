"""PTX analysis: parse PTX, build its CFG and data dependences, slice what decides the branches,
execute only that slice, and count executed instructions per launch (paper 000/001)."""
from hwaware.ptx.analysis import KernelCounts, Prepared, analyze, buffer_from_array, category, prepare
from hwaware.ptx.cfg import build_cfg
from hwaware.ptx.engine import Buffer, Launch
from hwaware.ptx.parser import Module, format_module, parse, parse_file
from hwaware.ptx.slicer import compute_slice

__all__ = ["Buffer", "KernelCounts", "Launch", "Module", "Prepared", "analyze", "prepare", "buffer_from_array", "build_cfg", "category",
           "compute_slice", "format_module", "parse", "parse_file"]
