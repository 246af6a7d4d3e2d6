#!/usr/bin/env python3
"""Golden values for glassbox's evaluation metrics (tests/golden/eval/metrics_golden.json).

The masks are integer ellipsoids (with optional hash "bumps" on the surface), rebuilt identically in
C++ by tests/eval/golden_masks.h from the parameters stored in the JSON, so only the JSON is
committed. Expected values come from established implementations:
  - medpy.metric.binary (dc, jc, sensitivity, specificity, precision, ravd, hd, hd95, assd) and its
    __surface_distances (for the pooled ASSD glassbox reports);
  - scipy.ndimage.label (26-/8-connected component counts);
  - scipy.stats.wilcoxon (zero_method="wilcox", correction=False; method "exact" or "approx").

    python3 -m venv VENV && VENV/bin/pip install medpy scipy numpy     # VENV: any folder outside the repo
    VENV/bin/python scripts/make_eval_golden.py tests/golden/eval/metrics_golden.json
"""
import json
import sys

import numpy as np
import scipy
import scipy.ndimage as ndi
from scipy import stats
import medpy
from medpy.metric import binary as mb


def blob(dims, c, r, bumps):
    """Integer ellipsoid: (z-cz)²/rz² + ... <= 1, evaluated as integers; plus, when bumps > 0, the voxels
    of the ellipsoid with radii + 1 whose hash is divisible by bumps (same formula in golden_masks.h)."""
    D, H, W = dims
    z, y, x = np.meshgrid(np.arange(D, dtype=np.int64), np.arange(H, dtype=np.int64), np.arange(W, dtype=np.int64),
                          indexing="ij")
    def inside(rz, ry, rx):
        return (((z - c[0]) * ry * rx) ** 2 + ((y - c[1]) * rz * rx) ** 2 + ((x - c[2]) * rz * ry) ** 2
                <= (rz * ry * rx) ** 2)
    m = inside(*r)
    if bumps > 0:
        h = (x * 73856093) ^ (y * 19349663) ^ (z * 83492791)
        m |= inside(r[0] + 1, r[1] + 1, r[2] + 1) & (h % bumps == 0)
    return m


def mask(dims, blobs):
    m = np.zeros(dims, dtype=bool)
    for b in blobs:
        m |= blob(dims, b["c"], b["r"], b.get("bumps", 0))
    return m


CASES = [
    {"name": "ellipsoids_anisotropic", "dims": [24, 40, 40], "ndim": 3, "spacing_xyz": [0.75, 0.8, 2.5],
     "a": [{"c": [12, 20, 19], "r": [7, 12, 10], "bumps": 3}],
     "b": [{"c": [13, 21, 22], "r": [6, 11, 12]}]},
    {"name": "bumpy_vs_two_blobs", "dims": [32, 32, 32], "ndim": 3, "spacing_xyz": [1.0, 1.0, 1.0],
     "a": [{"c": [16, 15, 16], "r": [9, 10, 8], "bumps": 4}],
     "b": [{"c": [12, 14, 13], "r": [5, 6, 5]}, {"c": [21, 18, 20], "r": [5, 4, 6], "bumps": 5}]},
    {"name": "clipped_at_volume_edge", "dims": [20, 36, 30], "ndim": 3, "spacing_xyz": [0.6, 0.6, 1.5],
     "a": [{"c": [3, 30, 4], "r": [6, 9, 8]}],
     "b": [{"c": [2, 28, 6], "r": [5, 10, 9], "bumps": 3}]},
    {"name": "slice_2d", "dims": [1, 48, 40], "ndim": 2, "spacing_xyz": [0.7, 0.9, 1.0],
     "a": [{"c": [0, 24, 20], "r": [1, 15, 12], "bumps": 3}],
     "b": [{"c": [0, 20, 23], "r": [1, 13, 14]}, {"c": [0, 40, 8], "r": [1, 4, 4]}]},
]


def surface_case(c):
    dims = c["dims"]
    a, b = mask(dims, c["a"]), mask(dims, c["b"])
    if c["ndim"] == 2:
        a, b = a[0], b[0]
        sp = (c["spacing_xyz"][1], c["spacing_xyz"][0])
    else:
        sp = (c["spacing_xyz"][2], c["spacing_xyz"][1], c["spacing_xyz"][0])
    sd_ab = mb.__surface_distances(a, b, sp, 1)
    sd_ba = mb.__surface_distances(b, a, sp, 1)
    full = ndi.generate_binary_structure(a.ndim, a.ndim)
    e = {
        "voxels_a": int(a.sum()), "voxels_b": int(b.sum()),
        "dice": mb.dc(a, b), "iou": mb.jc(a, b),
        "sensitivity": mb.sensitivity(a, b), "specificity": mb.specificity(a, b), "precision": mb.precision(a, b),
        "rvd": mb.ravd(a, b),
        "msd": mb.hd(a, b, sp), "hd95": mb.hd95(a, b, sp),
        "assd": float(np.concatenate([sd_ab, sd_ba]).mean()),
        "assd_medpy": mb.assd(a, b, sp),  # equal to assd for medpy >= 0.5 (pooled)
        "border_a": int(len(sd_ab)), "border_b": int(len(sd_ba)),
        "components_a": int(ndi.label(a, full)[1]), "components_b": int(ndi.label(b, full)[1]),
    }
    return dict(c, expect={k: float(v) if not isinstance(v, int) else v for k, v in e.items()})


def wilcoxon_cases():
    rng = np.random.default_rng(20261201)
    out = []
    def add(name, x, y, method):
        r = stats.wilcoxon(x, y, zero_method="wilcox", correction=False, method=method)
        out.append({"name": name, "x": [float(v) for v in x], "y": [float(v) for v in y], "method": method,
                    "statistic": float(r.statistic), "p": float(r.pvalue)})
    x = rng.normal(0.8, 0.05, 10); add("n10_exact", x, x - rng.normal(0.02, 0.03, 10), "exact")
    x = rng.normal(0.7, 0.1, 20); add("n20_exact", x, x + rng.normal(0.0, 0.05, 20), "exact")
    x = rng.normal(0.7, 0.1, 25); add("n25_exact_strong", x, x - np.abs(rng.normal(0.05, 0.02, 25)), "exact")
    x = rng.normal(5.0, 2.0, 40); add("n40_normal", x, x + rng.normal(0.4, 1.0, 40), "approx")
    # Ties and zeros: values on a 0.25 grid (exact in binary, so scipy's exact-equality ranking and
    # glassbox's 1e-12 tolerance agree), so |d| repeat and some pairs are equal.
    x = np.round(rng.normal(3.0, 1.0, 16) * 4) / 4; y = x + np.round(rng.normal(0.2, 0.3, 16) * 4) / 4
    y[[2, 7]] = x[[2, 7]]
    add("n16_ties_zeros_normal", x, y, "approx")
    x = np.arange(12, dtype=float); y = x.copy(); y[:3] += [1.0, 2.0, 3.0]; y[3:9] -= [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]
    add("n12_zeros_exact", x, y, "exact")
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tests/golden/eval/metrics_golden.json"
    g = {"made_by": "scripts/make_eval_golden.py",
         "tools": {"medpy": medpy.__version__ if hasattr(medpy, "__version__") else "unknown",
                   "scipy": scipy.__version__, "numpy": np.__version__},
         "surface_convention": "medpy: border = mask ^ binary_erosion(connectivity 1); assd = mean of both "
                               "directed sets pooled (medpy 0.5 assd; recomputed from __surface_distances); hd95 = 95th percentile of "
                               "the union of both directed sets (medpy 0.5 hd95)",
         "surface": [surface_case(c) for c in CASES],
         "wilcoxon": wilcoxon_cases()}
    with open(path, "w") as f:
        json.dump(g, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
