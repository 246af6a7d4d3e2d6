#!/usr/bin/env python3
"""The PyTorch side of bench/bench_xai.cpp: Captum IntegratedGradients (method="gausslegendre", 32 and 64
steps, zero baseline, internal_batch_size left at its default None = every step in one batch, as a new
user calls it) and pytorch-grad-cam GradCAM (decoder.blocks.1, SemanticSegmentationTarget) per 224 x 224
slice, on the same TransUNet architecture (the re-implementation of the official code in
scripts/transunet_torch.py: R50-ViT-B_16 with 9 classes, the small config "tiny" with 3), float32, eval
mode, torch.set_num_threads(2) (and set_num_interop_threads(2)), seeded weights. Parameters keep
requires_grad=True as a new user leaves them: pytorch-grad-cam's loss.backward() then also computes
the weight gradients (glassbox never does); Captum's torch.autograd.grad asks for the input only.
T = sum of the class-1 logits over rows [64, 160) x cols [64, 160), as in bench_xai.cpp.

Each case runs in its own process (peak RSS = resource.getrusage(RUSAGE_SELF).ru_maxrss of that process:
Python, torch, the model, and the explanation's high-water mark); one untimed warm-up call of the
same kind first (Grad-CAM) or a 1-step IG (IG), then `--reps` timed calls.

    VENV/bin/python scripts/bench_xai_torch.py                    # all cases, table at the end
    VENV/bin/python scripts/bench_xai_torch.py --case ig32 --model r50-vit-b16 --reps 1
    VENV/bin/python scripts/bench_xai_torch.py --internal-batch-size 8   # Captum with batching
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

SIZE = 224


def run_case(model_name, case, reps, ibs):
    import numpy as np
    import torch

    torch.set_num_threads(2)
    try:
        torch.set_num_interop_threads(2)
    except RuntimeError:
        pass
    sys.dont_write_bytecode = True  # no scripts/__pycache__ in the tree
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from transunet_torch import VisionTransformer, config

    torch.manual_seed(1234)
    c = config(model_name)
    c["size"] = SIZE
    model = VisionTransformer(c).eval()  # parameters keep requires_grad=True, as a new user leaves them
    g = torch.Generator().manual_seed(7)
    x = torch.rand((1, 1, SIZE, SIZE), generator=g)
    mask = np.zeros((SIZE, SIZE), np.float32)
    mask[64:160, 64:160] = 1
    M = torch.from_numpy(mask)
    times, cpu = [], []
    if case == "gradcam":
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.model_targets import SemanticSegmentationTarget

        targets = [SemanticSegmentationTarget(1, mask)]
        with GradCAM(model=model, target_layers=[model.decoder.blocks[1]]) as cam:
            cam(input_tensor=x, targets=targets)
            for _ in range(reps):
                t0, c0 = time.perf_counter(), time.process_time()
                out = cam(input_tensor=x, targets=targets)
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
        assert out.shape == (1, SIZE, SIZE)
    else:
        from captum.attr import IntegratedGradients

        steps = int(case[2:])
        ig = IntegratedGradients(lambda inp: (model(inp)[:, 1] * M).sum(dim=(1, 2)))
        base = torch.zeros_like(x)
        ig.attribute(x, baselines=base, n_steps=1, method="gausslegendre")  # warm-up
        for _ in range(reps):
            t0, c0 = time.perf_counter(), time.process_time()
            attr, delta = ig.attribute(x, baselines=base, n_steps=steps, method="gausslegendre",
                                       internal_batch_size=ibs, return_convergence_delta=True)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        assert attr.shape == x.shape
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"model": model_name, "case": case, "times_s": times, "cpu_s": cpu, "peak_rss_MiB": rss,
                      "threads": torch.get_num_threads(), "torch": torch.__version__,
                      "internal_batch_size": ibs}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None, help="r50-vit-b16 or tiny (default: both)")
    ap.add_argument("--case", default=None, help="gradcam, ig32 or ig64 (default: all)")
    ap.add_argument("--reps", type=int, default=None, help="timed calls (default: gradcam 3, IG 1 on R50, 2 on tiny)")
    ap.add_argument("--internal-batch-size", type=int, default=None)
    ap.add_argument("--force", action="store_true", help="also run R50 ig64 with every step in one batch")
    ap.add_argument("--child", action="store_true")
    a = ap.parse_args()
    if a.child:
        run_case(a.model, a.case, a.reps, a.internal_batch_size)
        return
    rows = []
    for m in [a.model] if a.model else ["r50-vit-b16", "tiny"]:
        for case in [a.case] if a.case else ["gradcam", "ig32", "ig64"]:
            if m == "r50-vit-b16" and case == "ig64" and not a.internal_batch_size and not a.force:
                # 2026-12-01: killed at 18.8 GB RSS (of 23 GB) still growing; 32 steps in one batch took 12.1 GB
                print(f"{m:12s} {case:8s} skipped: Captum's default puts all 64 steps in one batch (> 18 GB); "
                      "give --internal-batch-size, or --force", flush=True)
                continue
            reps = a.reps or (3 if case == "gradcam" else (1 if m == "r50-vit-b16" else 2))
            cmd = [sys.executable, os.path.abspath(__file__), "--child", "--model", m, "--case", case,
                   "--reps", str(reps)]
            if a.internal_batch_size:
                cmd += ["--internal-batch-size", str(a.internal_batch_size)]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                print(f"{m} {case}: failed (exit {p.returncode})\n{p.stderr[-2000:]}", flush=True)
                continue
            r = json.loads(p.stdout.strip().splitlines()[-1])
            rows.append(r)
            ts = ", ".join(f"{t:.3f}" for t in r["times_s"])
            cs = ", ".join(f"{t:.3f}" for t in r["cpu_s"])
            print(f"{m:12s} {case:8s} ibs {a.internal_batch_size} wall [{ts}] s  cpu [{cs}] s  "
                  f"peak RSS {r['peak_rss_MiB']:.0f} MiB", flush=True)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
