"""torchvision's published figures for the classic networks in ``configs/`` (3x224x224).

``params`` is exact and ``gmacs`` is the published figure (torchvision's "GFLOPS" column
counts multiply-accumulates) to the decimals given: two for the classic networks, three
for ConvNeXt-Tiny (torchvision's ``_ops`` of 4.456). ``macs`` is the exact count measured with
PyTorch on the builders in ``reference_nets.py``: conv and linear multiply-accumulates,
no bias, batch 1. Kept free of torch so the tests that use it run without it.
"""

from __future__ import annotations

PUBLISHED: dict[str, dict[str, int | str]] = {
    "alexnet.yaml": {"params": 61_100_840, "gmacs": "0.71", "macs": 714_188_480},
    "vgg16.yaml": {"params": 138_357_544, "gmacs": "15.47", "macs": 15_470_264_320},
    "resnet18.yaml": {"params": 11_689_512, "gmacs": "1.81", "macs": 1_814_073_344},
    "resnet50.yaml": {"params": 25_557_032, "gmacs": "4.09", "macs": 4_089_184_256},
    "mobilenetv2.yaml": {"params": 3_504_872, "gmacs": "0.30", "macs": 300_774_272},
    "convnext_tiny.yaml": {"params": 28_589_128, "gmacs": "4.456", "macs": 4_455_531_264},
}


def gigas(count: int, like: str) -> str:
    """``count`` in units of 10⁹, rounded to as many decimals as the published ``like``."""
    decimals = len(like.partition(".")[2])
    return f"{round(count / 1e9, decimals):.{decimals}f}"
