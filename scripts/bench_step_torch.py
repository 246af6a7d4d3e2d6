#!/usr/bin/env python3
"""PyTorch's CPU build on the architectures and shapes glassbox benchmarks (issue 11), so that the
glassbox / PyTorch ratio can be measured side by side on the same machine.

WHAT IS COMPARED
  Models (scripts/transunet_torch.py; each has glassbox's parameter count, checked below):
    tiny           TransUNet, glassbox's "tiny" (R50-style ResNetV2 width 16, units 1/2/2, GroupNorm 8
                   groups; ViT hidden 96, 3 layers, 3 heads, MLP 384; decoder 64/32/16/8, head 64,
                   skips 128/64/16, n_skip 3), 128 x 128, 3 classes: 842,315 parameters
    unet2d-tiny    glassbox's 2-D U-Net baseline (base 8, depth 3, BatchNorm, bilinear up + 1x1 reduce),
                   128 x 128, 3 classes: 112,987 parameters
    r50-vit-b16    TransUNet R50-ViT-B_16, 224 x 224, 9 classes: 105,277,081 parameters
  Input [B, 1, H, W] float32 uniform [0, 1) (seed 7); TransUNet repeats the grey channel to 3 inside
  forward (x.repeat(1, 3, 1, 1)) as glassbox's TransUNet::forward does; the U-Net takes 1 channel.
  Weights: torch's default initialisation after torch.manual_seed(1234) (speed does not depend on them).
  Modes (float32, torch.set_num_threads(T) and set_num_interop_threads(T), T = --threads, default 2):
    forward   eval mode, under torch.no_grad() (reported); also timed under torch.inference_mode()
              (field inference_mode_median_s). Batches 1, 4, 24.
    train     one training step as `glassbox train` does it (train/run.cpp, train/loop.cpp): train mode
              (dropout 0.1 in the ViT, BatchNorm batch statistics), optimizer.zero_grad(), forward,
              loss = 0.5 * cross-entropy + 0.5 * soft Dice (TransUNet's DiceLoss(softmax=True): per class
              1 - (2 sum p t + 1e-5) / (sum p^2 + sum t^2 + 1e-5), averaged over all classes incl.
              background, sums over the whole batch), loss.item(), backward, torch.optim.SGD(lr 0.01,
              momentum 0.9, weight_decay 1e-4) step. Labels: a fixed synthetic slice (background 0, an
              ellipse of class 1, a disc of class 2 inside it), the same for every image of the batch.
              Batches 1, 4, 24 (r50-vit-b16: 1 and 4; 24 only with --force).
    gradcam   pytorch-grad-cam GradCAM, batch 1, eval mode, at glassbox's automatic layer
              (xai/layers.cpp auto_layer: TransUNet decoder.blocks.1, U-Net dec2), target
              SemanticSegmentationTarget(1, box mask). Parameters keep requires_grad=True, as a user
              leaves them (the tool's loss.backward() then also computes weight gradients).
    ig        one Captum IntegratedGradients call on a batch-1 input: zero baseline, n_steps 32,
              method "gausslegendre", internal_batch_size 32 (all 32 scaled inputs in ONE
              forward/backward batch), return_convergence_delta=True (T(x) and T(x') as glassbox
              computes them). Target T = sum of the class-1 logits over the box, as bench/bench_xai.cpp
              and scripts/bench_xai_torch.py. r50-vit-b16: about 12 GB RSS (bench_xai_torch.py measured
              12.1 GB for this same one-batch call) and about a minute or more per call on 2 cores.
  Box: rows and cols [S * 64 // 224, S * 160 // 224) of an S x S input: exactly bench_xai.cpp's
  [64, 160) at 224; [36, 91) at 128. Use --size 224 for tiny to reproduce bench_xai's tiny cases.

HOW
  The driver runs every case in its own subprocess (--case MODEL:MODE:BATCH) so that the peak RSS
  (resource.getrusage(RUSAGE_SELF).ru_maxrss: Python + torch + model + the case's high-water mark) is
  per case (the driver imports neither torch nor numpy: a child's ru_maxrss starts from the RSS of
  the process it was forked from; VmHWM from /proc/self/status is recorded too as vm_hwm_mib). In the
  child: build, untimed warm-up calls (at least --warmup, default 2, and until they took --warmup-time,
  default 1 s: the first two or three calls are several times slower, oneDNN primitives and the
  allocator warming up; the first train step also creates SGD's momentum buffers), then timed calls
  until both >= --min-time seconds (default 2) and >= --min-reps calls (default 3), but stopping after
  the first call that ends past --max-time (default 120 s; for R50 cases that take a minute each).
  Reported: median wall seconds per call, images/s = batch / median (gradcam, ig: explained slices/s),
  median CPU seconds per call (CPU / wall near T means the threads were busy, far below means waiting
  for the cores), peak RSS in MiB (rss_built_mib: the high-water mark once torch is imported and the
  model and input are built), parameters.
  Writes --out (JSON: torch, captum, grad-cam, numpy and Python versions, threads, CPU model from
  /proc/cpuinfo, load average at start and end, date, the command line, one record per case) and
  prints a markdown table. The load average is the noise marker: compare only runs on a quiet machine.

NOT IDENTICAL TO GLASSBOX'S STEP (each is small next to the step, or is what a PyTorch user gets)
  - `glassbox train` times next_batch (loading, augmentation) inside its step seconds; here the batch
    is fixed in memory and not part of the time.
  - The learning rate is a constant 0.01 (glassbox's poly schedule changes only that scalar).
  - Labels are int64 (torch's cross_entropy wants them) where glassbox uses i32; the Dice loss is the
    official TransUNet formulation (one-hot by class loop, softmax, per-class sums) in plain torch ops
    and autograd, where glassbox has a fused soft_dice_loss with an analytic backward.
  - ReLUs are in place (the official TransUNet code and PyTorch habit), which saves memory;
    zero_grad() sets gradients to None (torch's default), as glassbox drops them.
  - Grad-CAM: pytorch-grad-cam also computes the weight gradients, and resizes / min-max scales the map
    with OpenCV; glassbox computes input-side gradients only.
  - IG: Captum accumulates in float32; glassbox in float64. glassbox chooses its step batch from a
    memory budget unless told (IgOptions::batch = 32 matches this case).
  - Weight values differ (each engine's own seeded initialisation); the work does not depend on them.

    VENV/bin/python scripts/bench_step_torch.py                       # every case (long; quiet machine)
    VENV/bin/python scripts/bench_step_torch.py --quick --models tiny,unet2d-tiny
    VENV/bin/python scripts/bench_step_torch.py --models r50-vit-b16 --modes forward --batches 1
    VENV/bin/python scripts/bench_step_torch.py --case tiny:train:4   # one case, this process
    VENV/bin/python scripts/bench_step_torch.py --check-params --glassbox build/glassbox
VENV: a virtual environment with torch, captum, grad-cam, numpy (outside the repository).
"""
import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # importing transunet_torch leaves no scripts/__pycache__ in the tree
MODELS = ["tiny", "unet2d-tiny", "r50-vit-b16"]
MODES = ["forward", "train", "gradcam", "ig"]
BATCHES = [1, 4, 24]
# glassbox's counts (`glassbox audit --model NAME`: "parameters: N") at each config's own size and classes
GLASSBOX_PARAMS = {"tiny": 842315, "unet2d-tiny": 112987, "r50-vit-b16": 105277081}
IG_STEPS = 32


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def vm_hwm_mib():
    """This process's own peak RSS since its exec (/proc/self/status VmHWM), a cross-check of ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def loadavg():
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def box(size):
    return size * 64 // 224, size * 160 // 224


def skipped(model, mode, batch):
    """Why a case is left out by default (None: it runs)."""
    if mode in ("gradcam", "ig") and batch != 1:
        return "explanations are timed at batch 1"
    if model == "r50-vit-b16" and mode == "train" and batch > 4:
        return "R50 train steps are timed at batch 1 and 4 (batch 24 holds many GB of activations); --force runs it"
    return None


# ---------------------------------------------------------------- one case (child process)
def setup_threads(threads):
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:
        pass


def timed(fn, a, warmup=None):
    """Untimed calls (at least `warmup`, and until they took --warmup-time seconds), then timed calls
    until >= --min-time s and >= --min-reps calls, or past --max-time. Returns (wall, cpu, warm-up calls)."""
    warmup = a.warmup if warmup is None else warmup
    min_time, min_reps, max_time = a.min_time, a.min_reps, a.max_time
    n_warm, t_warm = 0, time.perf_counter()
    while n_warm < warmup or (warmup > 0 and time.perf_counter() - t_warm < a.warmup_time):
        fn()
        n_warm += 1
    wall, cpu = [], []
    t_start = time.perf_counter()
    while True:
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        elapsed = time.perf_counter() - t_start
        if elapsed >= max_time or (elapsed >= min_time and len(wall) >= min_reps):
            return wall, cpu, n_warm


def synthetic_labels(size, batch):
    import torch

    yy, xx = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
                            indexing="ij")
    s = size / 128.0
    lab = torch.zeros((size, size), dtype=torch.long)
    lab[((yy - 56 * s) / (30 * s)) ** 2 + ((xx - 70 * s) / (40 * s)) ** 2 <= 1] = 1
    lab[(yy - 54 * s) ** 2 + (xx - 74 * s) ** 2 <= (9 * s) ** 2] = 2
    return lab.expand(batch, size, size).contiguous()


def dice_loss(logits, target, n_classes, smooth=1e-5):
    """TransUNet's DiceLoss(n_classes)(logits, target, softmax=True) (official utils.py)."""
    import torch

    p = torch.softmax(logits, dim=1)
    onehot = torch.cat([(target == i).unsqueeze(1) for i in range(n_classes)], dim=1).float()
    loss = 0.0
    for i in range(n_classes):
        score, t = p[:, i], onehot[:, i]
        intersect = torch.sum(score * t)
        y_sum = torch.sum(t * t)
        z_sum = torch.sum(score * score)
        loss = loss + (1 - (2 * intersect + smooth) / (z_sum + y_sum + smooth))
    return loss / n_classes


def run_case(spec, a):
    model_name, mode, batch = spec.split(":")
    batch = int(batch)
    setup_threads(a.threads)
    import numpy as np
    import torch
    import torch.nn as nn

    sys.path.insert(0, HERE)
    from transunet_torch import auto_layer, build_model

    load_start = loadavg()
    torch.manual_seed(1234)
    model, c = build_model(model_name, size=a.size or None)
    S, classes = c["size"], c["classes"]
    params = sum(p.numel() for p in model.parameters())
    g = torch.Generator().manual_seed(7)
    x = torch.rand((batch, 1, S, S), generator=g)
    rss_built = peak_rss_mib()
    lo, hi = box(S)
    mask = np.zeros((S, S), np.float32)
    mask[lo:hi, lo:hi] = 1
    extra = {}

    if mode == "forward":
        model.eval()

        def fn():
            with torch.no_grad():
                return model(x)

        out = fn()
        assert out.shape == (batch, classes, S, S), out.shape
        wall, cpu, warmup = timed(fn, a)
        if not a.skip_inference_mode:
            def fn_im():
                with torch.inference_mode():
                    return model(x)

            w_im, _, _ = timed(fn_im, a)
            extra["inference_mode_median_s"] = statistics.median(w_im)
            extra["inference_mode_reps"] = len(w_im)
    elif mode == "train":
        model.train()
        y = synthetic_labels(S, batch)
        ce = nn.CrossEntropyLoss()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
        losses = []

        def fn():
            opt.zero_grad()
            logits = model(x)
            loss = 0.5 * ce(logits, y) + 0.5 * dice_loss(logits, y, classes)
            losses.append(loss.item())
            loss.backward()
            opt.step()

        wall, cpu, warmup = timed(fn, a, max(a.warmup, 1))  # the first step allocates the momentum buffers
        extra["first_loss"] = losses[0]
        extra["last_loss"] = losses[-1]
    elif mode == "gradcam":
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.model_targets import SemanticSegmentationTarget

        model.eval()  # parameters keep requires_grad=True, as a new user leaves them
        layer = auto_layer(model_name, c)
        extra["layer"] = layer
        targets = [SemanticSegmentationTarget(1, mask)]
        with GradCAM(model=model, target_layers=[model.get_submodule(layer)]) as cam:
            def fn():
                return cam(input_tensor=x, targets=targets)

            wall, cpu, warmup = timed(fn, a)
            assert fn().shape == (batch, S, S)
    elif mode == "ig":
        from captum.attr import IntegratedGradients

        model.eval()
        M = torch.from_numpy(mask)
        ig = IntegratedGradients(lambda inp: (model(inp)[:, 1] * M).sum(dim=(1, 2)))
        base = torch.zeros_like(x)
        res = {}

        def fn():
            res["attr"], res["delta"] = ig.attribute(x, baselines=base, n_steps=IG_STEPS, method="gausslegendre",
                                                     internal_batch_size=IG_STEPS, return_convergence_delta=True)

        wall, cpu, warmup = timed(fn, a)
        assert res["attr"].shape == x.shape
        extra.update(steps=IG_STEPS, internal_batch_size=IG_STEPS, baseline="zero", method="gausslegendre")
    else:
        raise SystemExit(f"unknown mode '{mode}' (one of {', '.join(MODES)})")

    med = statistics.median(wall)
    rec = {"model": model_name, "mode": mode, "batch": batch, "size": S, "classes": classes,
           "median_s": med, "images_per_s": batch / med, "peak_rss_mib": peak_rss_mib(),
           "vm_hwm_mib": vm_hwm_mib(), "params": params,
           "reps": len(wall), "warmup": warmup, "min_s": min(wall), "mean_s": statistics.fmean(wall),
           "cpu_median_s": statistics.median(cpu), "times_s": wall, "threads": torch.get_num_threads(),
           "box": [lo, hi], "rss_built_mib": rss_built, "loadavg_start": load_start, "loadavg_end": loadavg(),
           "torch_version": torch.__version__, "torch_parallel_info": torch.__config__.parallel_info()}
    rec.update(extra)
    return rec


# ---------------------------------------------------------------- driver
def versions():
    """Package versions from their metadata, without importing them: the driver must stay small, because
    a child's ru_maxrss starts from the RSS of the process it was forked from (Linux carries the old
    memory's high-water mark across fork + exec), so a driver that had imported torch would raise every
    case's figure to its own."""
    from importlib.metadata import PackageNotFoundError, version

    v = {"python": platform.python_version()}
    for dist, key in (("torch", "torch"), ("numpy", "numpy"), ("captum", "captum"), ("grad-cam", "grad_cam")):
        try:
            v[key] = version(dist)
        except PackageNotFoundError:
            v[key] = "not installed"
    return v


def glassbox_params(binary, model, size):
    cmd = [binary, "audit", "--model", model] + (["--size", str(size)] if size else [])
    p = subprocess.run(cmd, capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if line.startswith("parameters:"):
            return int(line.split("(")[-1].rstrip(")").strip())
    raise RuntimeError(f"{' '.join(cmd)}: no 'parameters:' line (exit {p.returncode})\n{p.stderr[-1000:]}")


def check_params(a, models):
    setup_threads(a.threads)
    import torch

    sys.path.insert(0, HERE)
    from transunet_torch import build_model

    ok = True
    for m in models:
        torch.manual_seed(1234)
        model, c = build_model(m, size=a.size or None)
        n = sum(p.numel() for p in model.parameters())
        if a.glassbox:
            ref, src = glassbox_params(a.glassbox, m, a.size), f"{a.glassbox} audit"
        elif not a.size:
            ref, src = GLASSBOX_PARAMS[m], "recorded glassbox audit"
        else:
            ref, src = None, "no reference at this size (give --glassbox)"
        same = ref is None or ref == n
        ok &= same
        print(f"{m:12s} size {c['size']:3d}  torch {n:>12,}  glassbox {ref if ref is None else format(ref, ','):>12} "
              f"({src})  {'OK' if ref is not None and same else ('MISMATCH' if not same else '-')}", flush=True)
    return ok


def table(rows):
    out = ["| model | mode | batch | size | median s | images/s | peak RSS MiB | params | reps | CPU/wall |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "error" in r:
            out.append(f"| {r['model']} | {r['mode']} | {r['batch']} | - | failed: {r['error']} | | | | | |")
            continue
        out.append(f"| {r['model']} | {r['mode']} | {r['batch']} | {r['size']} | {r['median_s']:.4f} | "
                   f"{r['images_per_s']:.2f} | {r['peak_rss_mib']:.0f} | {r['params']:,} | {r['reps']} | "
                   f"{r['cpu_median_s'] / r['median_s']:.2f} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(MODELS), help="comma list (default: %(default)s)")
    ap.add_argument("--modes", default=",".join(MODES), help="comma list (default: %(default)s)")
    ap.add_argument("--batches", default=",".join(map(str, BATCHES)), help="comma list (default: %(default)s)")
    ap.add_argument("--size", type=int, default=0, help="input size for every model (0: each config's own)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--min-time", type=float, default=2.0, help="timed seconds per case at least")
    ap.add_argument("--min-reps", type=int, default=3, help="timed calls per case at least")
    ap.add_argument("--max-time", type=float, default=120.0, help="stop after the call that ends past this")
    ap.add_argument("--warmup", type=int, default=2, help="untimed calls first, at least")
    ap.add_argument("--warmup-time", type=float, default=1.0, help="and untimed calls until they took this long")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: --min-time 0.3 --min-reps 2 --max-time 10 --warmup-time 0.3")
    ap.add_argument("--skip-inference-mode", action="store_true", help="forward: time torch.no_grad() only")
    ap.add_argument("--force", action="store_true", help="also run the cases skipped by default")
    ap.add_argument("--case-timeout", type=float, default=3600.0, help="seconds before a case's process is killed")
    ap.add_argument("--out", default="bench-step-torch.json")
    ap.add_argument("--case", default=None, help="MODEL:MODE:BATCH: run one case in this process, print its JSON")
    ap.add_argument("--check-params", action="store_true", help="compare parameter counts with glassbox and exit")
    ap.add_argument("--glassbox", default=None, help="glassbox binary for --check-params (runs `audit`)")
    a = ap.parse_args()
    if a.quick:
        a.min_time, a.min_reps, a.max_time, a.warmup_time = 0.3, 2, 10.0, 0.3

    if a.case:
        rec = run_case(a.case, a)
        print("RESULT " + json.dumps(rec), flush=True)
        return 0

    models = [m for m in a.models.split(",") if m]
    modes = [m for m in a.modes.split(",") if m]
    batches = [int(b) for b in a.batches.split(",") if b]
    for m in models:
        if m not in GLASSBOX_PARAMS:
            ap.error(f"unknown model '{m}' (one of {', '.join(MODELS)})")
    for m in modes:
        if m not in MODES:
            ap.error(f"unknown mode '{m}' (one of {', '.join(MODES)})")
    if a.check_params:
        return 0 if check_params(a, models) else 1

    meta = {"what": "PyTorch CPU side of glassbox's step / XAI benchmarks (scripts/bench_step_torch.py)",
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "host": platform.node(), "cpu_model": cpu_model(), "logical_cpus": os.cpu_count(),
            "threads": a.threads, "min_time_s": a.min_time, "min_reps": a.min_reps, "max_time_s": a.max_time,
            "warmup": a.warmup, "warmup_time_s": a.warmup_time, "quick": a.quick, "command": sys.argv,
            "loadavg_start": loadavg()}
    meta.update(versions())
    print(f"torch {meta['torch']}, {a.threads} threads, {meta['cpu_model']}, load average {meta['loadavg_start']}",
          flush=True)
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(a.threads)
    child_args = ["--threads", str(a.threads), "--min-time", str(a.min_time), "--min-reps", str(a.min_reps),
                  "--max-time", str(a.max_time), "--warmup", str(a.warmup), "--warmup-time", str(a.warmup_time),
                  "--size", str(a.size)]
    if a.skip_inference_mode:
        child_args.append("--skip-inference-mode")
    rows = []
    for m in models:
        for mode in modes:
            for b in batches:
                why = skipped(m, mode, b)
                if why and not (a.force and mode in ("forward", "train")):
                    if mode in ("forward", "train"):
                        print(f"{m:12s} {mode:8s} batch {b:2d}: skipped ({why})", flush=True)
                    continue
                cmd = [sys.executable, os.path.abspath(__file__), "--case", f"{m}:{mode}:{b}"] + child_args
                t0 = time.perf_counter()
                try:
                    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=a.case_timeout)
                    lines = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
                    if p.returncode != 0 or not lines:
                        err = f"exit {p.returncode}"
                        print(f"{m:12s} {mode:8s} batch {b:2d}: failed ({err})\n{p.stderr[-3000:]}", flush=True)
                        rows.append({"model": m, "mode": mode, "batch": b, "error": err})
                        continue
                except subprocess.TimeoutExpired:
                    print(f"{m:12s} {mode:8s} batch {b:2d}: killed after {a.case_timeout:.0f} s", flush=True)
                    rows.append({"model": m, "mode": mode, "batch": b, "error": "timeout"})
                    continue
                r = json.loads(lines[-1][len("RESULT "):])
                meta["torch"] = r.pop("torch_version", meta["torch"])  # with its local part (+cpu, +cu...)
                meta["torch_parallel_info"] = r.pop("torch_parallel_info", None)
                r["case_wall_s"] = time.perf_counter() - t0
                if not a.size and r["params"] != GLASSBOX_PARAMS[m]:
                    r["params_mismatch"] = GLASSBOX_PARAMS[m]
                    print(f"WARNING: {m} has {r['params']:,} parameters, glassbox {GLASSBOX_PARAMS[m]:,}", flush=True)
                rows.append(r)
                im = (f", inference_mode {r['inference_mode_median_s']:.4f} s"
                      if "inference_mode_median_s" in r else "")
                print(f"{m:12s} {mode:8s} batch {b:2d} size {r['size']}: median {r['median_s']:.4f} s "
                      f"({r['reps']} reps{im}), {r['images_per_s']:.2f} images/s, peak RSS "
                      f"{r['peak_rss_mib']:.0f} MiB", flush=True)
    meta["loadavg_end"] = loadavg()
    meta["cases"] = rows
    with open(a.out, "w") as f:
        json.dump(meta, f, indent=1)
    print()
    print(table(rows))
    print(f"\nload average start {meta['loadavg_start']}, end {meta['loadavg_end']}; wrote {a.out}")
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
