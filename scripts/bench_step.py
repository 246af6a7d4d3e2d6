#!/usr/bin/env python3
"""glassbox vs PyTorch, case by case in one run (issue 11): the whole-step benchmark side by side.

For every case MODEL:MODE:BATCH it runs, one after the other and each in its own process (so the
peak RSS is that case's):
  glassbox   BUILD/bench/bench_step --benchmark_filter='^BM_step/MODEL/MODE/BATCH/' (Google Benchmark,
             bench/bench_step.cpp), JSON output
  PyTorch    scripts/bench_step_torch.py --case MODEL:MODE:BATCH (with --python, a venv that has torch)
and prints a markdown table: seconds per call (glassbox: mean over the timed iterations; PyTorch:
median), images/s, peak RSS, and speed-up = PyTorch seconds / glassbox seconds (> 1: glassbox faster).
The two sides alternate case by case, so slow drift of the machine's load hits both; with --rounds N
each pair runs N times and each side keeps its fastest run (bursts of load from other tenants of a
shared machine only ever slow a run down). The load average is recorded before and after. Only numbers from a quiet machine are worth quoting.

    python3 scripts/bench_step.py --build build --python VENV/bin/python [--models tiny] [--modes train]
        [--batches 1,4] [--out bench-step.json] [--glassbox-only]
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [
    ("tiny", "forward", [1, 4, 24]), ("tiny", "train", [1, 4, 24]), ("tiny", "gradcam", [1]), ("tiny", "ig", [1]),
    ("tiny", "forward_f64", [1, 4]), ("tiny", "train_f64", [1, 4]),
    ("unet2d-tiny", "forward", [1, 4, 24]), ("unet2d-tiny", "train", [1, 4, 24]), ("unet2d-tiny", "gradcam", [1]),
    ("unet2d-tiny", "ig", [1]), ("unet2d-tiny", "forward_f64", [1, 4]), ("unet2d-tiny", "train_f64", [1, 4]),
    ("r50-vit-b16", "forward", [1, 4, 24]), ("r50-vit-b16", "train", [1, 4]), ("r50-vit-b16", "gradcam", [1]),
    ("r50-vit-b16", "ig", [1]),
]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def run_glassbox(build, model, mode, batch, timeout):
    exe = os.path.join(build, "bench", "bench_step")
    flt = "^BM_step/%s/%s/%d/" % (model, mode, batch)
    out = subprocess.run([exe, "--benchmark_filter=" + flt, "--benchmark_format=json"], capture_output=True,
                         text=True, timeout=timeout)
    if out.returncode != 0:
        return {"error": (out.stderr or out.stdout).strip().splitlines()[-1:]}
    js = json.loads(out.stdout)
    if not js.get("benchmarks"):
        return {"error": "no benchmark matched " + flt}
    b = js["benchmarks"][0]
    scale = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b.get("time_unit", "ms")]
    rec = {"seconds": b["real_time"] * scale, "iterations": b["iterations"]}
    for k in ("images_per_s", "peak_rss_MiB", "allocs_per_iter", "alloc_MiB_per_iter", "minflt_per_iter", "params",
              "ig_batch"):
        if k in b:
            rec[k] = b[k]
    return rec


def run_torch(python, model, mode, batch, timeout, threads):
    cmd = [python, os.path.join(HERE, "bench_step_torch.py"), "--case", "%s:%s:%d" % (model, mode, batch),
           "--threads", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            r = json.loads(line[len("RESULT "):])
            return {"seconds": r["median_s"], "images_per_s": r["images_per_s"], "peak_rss_MiB": r["peak_rss_mib"],
                    "params": r.get("params")}
    return {"error": (out.stderr or out.stdout).strip().splitlines()[-1:]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="glassbox build folder (has bench/bench_step)")
    ap.add_argument("--python", default=None, help="a Python with torch, captum, grad-cam (omit: glassbox only)")
    ap.add_argument("--models", default=None)
    ap.add_argument("--modes", default=None)
    ap.add_argument("--batches", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--rounds", type=int, default=1,
                    help="run each case pair this many times, alternating, and keep each side's fastest (noisy machines)")
    ap.add_argument("--out", default="bench-step.json")
    a = ap.parse_args()
    pick = lambda s: set(s.split(",")) if s else None
    models, modes, batches = pick(a.models), pick(a.modes), pick(a.batches)
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "cpu": cpu_model(), "cores": os.cpu_count(), "threads": a.threads, "load_start": os.getloadavg(),
            "cases": []}
    rows = []
    for model, mode, bs in CASES:
        if (models and model not in models) or (modes and mode not in modes):
            continue
        for b in bs:
            if batches and str(b) not in batches:
                continue
            load = os.getloadavg()[0]
            g = run_glassbox(a.build, model, mode, b, a.timeout)
            t = run_torch(a.python, model, mode, b, a.timeout, a.threads) if a.python and "f64" not in mode else {}
            rec = {"model": model, "mode": mode, "batch": b, "load1": load, "glassbox": g, "torch": t}
            meta["cases"].append(rec)
            ratio = (t["seconds"] / g["seconds"]) if ("seconds" in g and "seconds" in t) else None
            rows.append((model, mode, b, g, t, ratio))
            print("%s %s %d: glassbox %s, torch %s%s" % (
                model, mode, b, "%.4f s" % g["seconds"] if "seconds" in g else g.get("error"),
                "%.4f s" % t["seconds"] if "seconds" in t else t.get("error", "-"),
                ", speed-up %.2fx" % ratio if ratio else ""), flush=True)
    meta["load_end"] = os.getloadavg()
    with open(a.out, "w") as f:
        json.dump(meta, f, indent=1)
    print("\n%s, %s cores, %d threads, load %.2f -> %.2f, %s\n" % (
        meta["cpu"], meta["cores"], a.threads, meta["load_start"][0], meta["load_end"][0], meta["date"]))
    print("| model | mode | batch | glassbox s | PyTorch s | speed-up | glassbox img/s | PyTorch img/s | "
          "glassbox peak MiB | PyTorch peak MiB | allocs/iter |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    f = lambda d, k, fmt: (fmt % d[k]) if k in d and d[k] is not None else "-"
    for model, mode, b, g, t, ratio in rows:
        print("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            model, mode, b, f(g, "seconds", "%.4f"), f(t, "seconds", "%.4f"), "%.2f" % ratio if ratio else "-",
            f(g, "images_per_s", "%.1f"), f(t, "images_per_s", "%.1f"), f(g, "peak_rss_MiB", "%.0f"),
            f(t, "peak_rss_MiB", "%.0f"), f(g, "allocs_per_iter", "%.0f")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
