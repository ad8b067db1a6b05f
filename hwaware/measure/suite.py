"""The host suite: the networks ``hwaware calibrate --here`` measures on this machine's CPU to calibrate the CPU model.

The CPU model (``gpu="cpu"``) was trained on one machine (an AMD EPYC, 1 torch thread); another CPU runs the same
networks at other speeds, differently per network (an Intel Xeon: x0.83 to x1.29 of the EPYC's times for 38 timm
networks, under another torch version, ``python benchmarks/cpu_host_profile.py``). The CPU is the one platform a
user can always measure, so hwaware measures it: a fixed list of networks timed here, then :func:`hwaware.calibrate`
on them.

The list (declared 2026-12-06 before any of it was measured, with ``benchmarks/cpu_host_profile.py``'s protocol):
four random architectures of each NAS space a search explores (NB201 at 32 x 32, FBNet and OFA-MBv3 at 224 x 224;
``ModelSpace.random_specs`` with :data:`SUITE_SEED`, a seed no shipped measurement drew from), so the profile sees
the per-kernel dispatch of small cells and the arithmetic of mobile blocks; and three timm networks of the CPU
model's training families from 0.2 to 4.1 GMACs (a mobile network, a ResNet-18 and a ResNet-50), so it sees large
dense convolutions too and a timm network is not an extrapolation of the profile's per-GMAC term. 15 networks: more
than the 10 the calibration's held-out figures were measured with; 20 s at one thread on an Intel Xeon (``time hwaware
calibrate --here --name x``; half a minute was the estimate declared), timed once; 44-46 s in :data:`SUITE_ROUNDS`
rounds, the default since. Nothing was chosen from figures of it.
"""
from __future__ import annotations

from hwaware.zoo.spaces import get_space

SUITE_SEED = 4
SUITE_SPACES: dict[str, int] = {"nb201": 4, "fbnet": 4, "ofa_mbv3": 4}
SUITE_TIMM: tuple[str, ...] = ("mobilenetv3_large_100", "resnet18", "resnet50")
# timed in three rounds (each network's median round), chosen over one pass by the rule benchmarks/cpu_here_rounds.py
# declared before its measurements: the worst NAS-space MAPE, median over four profiles each, 12.5 % against 13.6 %
# (11.6 % against 13.2 % with the CPU calibration of 2026-12-07; a margin smaller than either's spread over its
# profiles, 6-17 %); 39-42 s of measuring against 13-15 s
SUITE_ROUNDS = 3


def host_suite() -> list[str]:
    """The suite's networks: model-space specs, then timm names (what ``hwaware collect networks`` takes).

    >>> suite = host_suite()
    >>> len(suite), suite[-3:]
    (15, ['mobilenetv3_large_100', 'resnet18', 'resnet50'])
    """
    return [s for space, n in SUITE_SPACES.items() for s in get_space(space).random_specs(n, SUITE_SEED)] + list(
        SUITE_TIMM)
