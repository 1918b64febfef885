"""``cnncalc memory --device cuda`` against a real CUDA device. Run on demand where a GPU is:

    python3 tests/benchmarks/cuda_memory_check.py            # every config, small inputs
    python3 tests/benchmarks/cuda_memory_check.py --batch 8 --only resnet18 unet

Two checks per config, printed as a table:
- saved: cnncalc's saved bytes (``--device cuda``, fp32 and amp-fp16) against what
  ``torch.autograd.graph.saved_tensors_hooks`` sees on CUDA in the forward pass of a
  training step (unique storages, parameters and buffers left out), rows that differ named;
- peak: ``memory --precision amp-fp16 --optimizer adam`` against
  ``torch.cuda.max_memory_allocated`` over two training steps under ``torch.autocast("cuda",
  torch.float16)`` (the second step has the optimizer state the first one creates).

Exits 0 with a message where CUDA is absent; 1 where a saved figure differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

CONFIGS = {
    "alexnet": (3, 64, 64), "lenet5": None, "mobilenetv2": (3, 32, 32), "resnet18": (3, 32, 32),
    "resnet50": (3, 32, 32), "seed-keras": None, "seed-lenet": None, "unet": (1, 32, 32),
    "vgg16": (3, 32, 32),
}  # fmt: skip


def peak_of_two_steps(report, precision: str) -> int:  # type: ignore[no-untyped-def]
    import saved_tensors
    import torch

    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    model, _ = saved_tensors.build(report, precision, device="cuda")
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=1e-3)
    x = saved_tensors.example_input(report, precision, "cuda")
    for _ in range(2):
        optimizer.zero_grad(set_to_none=True)
        with saved_tensors.autocast(precision, "cuda"):
            out = model(x)
        out.float().square().sum().backward()
        optimizer.step()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated()
    del model, optimizer, x, out, trainable
    return peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--only", nargs="+", choices=sorted(CONFIGS), default=sorted(CONFIGS))
    args = parser.parse_args(argv)
    try:
        import torch
    except ModuleNotFoundError:
        print("PyTorch is not installed; nothing to check.")
        return 0
    if not torch.cuda.is_available():
        print("CUDA is not available on this machine (torch.cuda.is_available() is False); nothing to check.")
        return 0
    import saved_tensors
    from tabulate import tabulate

    from cnncalc import analyse, load_model
    from cnncalc.training_memory import Setup, simulate

    rows, differ = [], 0
    for name in args.only:
        for precision in ("fp32", "amp-fp16"):
            report = analyse(load_model(str(ROOT / "configs" / f"{name}.yaml"), CONFIGS[name]), batch=args.batch)
            ours = simulate(report, Setup(precision=precision, device="cuda"))
            truth = saved_tensors.measure_saved(report, precision, device="cuda")
            want = truth.per_row()
            got = {i: n for i, n in ours.saved.items() if n}
            wrong = sorted(i for i in set(want) | set(got) if want.get(i) != got.get(i))
            differ += bool(wrong)
            peak = measured = ratio = ""
            if precision == "amp-fp16":
                measured_bytes = peak_of_two_steps(report, precision)
                peak, measured = f"{ours.peak_bytes:,}", f"{measured_bytes:,}"
                ratio = f"{ours.peak_bytes / measured_bytes:.3f}"
            listed = ", ".join(
                f"{report.rows[i - 1].name} {got.get(i, 0):,} vs {want.get(i, 0):,}" for i in wrong[:3]
            )
            rows.append([
                name, precision, f"{ours.saved_activation_bytes:,}", f"{truth.total:,}",
                "yes" if not wrong else f"no: {listed}", peak, measured, ratio,
            ])  # fmt: skip
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, batch {args.batch}")
    print(tabulate(rows, headers=["config", "precision", "saved (cnncalc)", "saved (torch)", "per row equal",
                                  "peak (cnncalc)", "max_memory_allocated", "ratio"], disable_numparse=True))  # fmt: skip
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
