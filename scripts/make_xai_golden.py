#!/usr/bin/env python3
"""Golden files for glassbox's parity test with the tools people use (tests/xai/test_parity.cpp).

Builds TransUNet in PyTorch at a small size (glassbox's "micro" config at 64x64 with 3 encoder
blocks: R50-style root, 4x4 tokens) with fixed seeded weights, exports the weights as safetensors with
the official state_dict names, and writes, from PyTorch float32:
  x, logits, dT/dx                          T = sum over the box M of the class-2 logits
  Grad-CAM (pytorch-grad-cam GradCAM, SemanticSegmentationTarget(2, M)) at a decoder layer
  (decoder.blocks.1), inside a transformer block (transformer.encoder.layer.1.ffn_norm) and at the
  encoder output (transformer.encoder.encoder_norm), each alone, plus decoder.blocks.1 +
  encoder_norm together (its mean aggregation); the raw signed maps from the tool's own
  get_cam_image on the activations and gradients it captured
  IG (Captum IntegratedGradients, method="gausslegendre", n_steps 32, zero and blurred baselines)
  with Captum's own convergence delta
  attention rollout (Abnar & Zuidema: mean over heads, A + I row-normalised, product over blocks,
  rows of the tokens overlapping M averaged), computed here in numpy f64 from the model's attention
  probabilities (vis=True).

THE MODEL IS A RE-IMPLEMENTATION OF THE OFFICIAL CODE, NOT THE OFFICIAL FILE. The official code
(Beckschen/TransUNet, networks/vit_seg_modeling.py and networks/vit_seg_modeling_resnet_skip.py) could
not be fetched where these goldens were made (no GitHub access), so the classes in
scripts/transunet_torch.py (moved there from this file, unchanged) rebuild it from
the official code's structure (DESIGN.md section 4), with the official module and parameter names, so
that its state_dict keys are glassbox's safetensors names (models/transunet.h). The forward pass step
by step:
  - StdConv2d: weight standardised per output channel over (Cin, kh, kw), biased variance, eps 1e-5;
  - ResNetV2 root: StdConv2d 7x7/2 pad 3 (no bias), GroupNorm(eps 1e-6), ReLU (the 1/2 skip); MaxPool
    3x3/2 pad 0 created in forward (not a child); stage outputs zero-padded bottom/right to
    in_size / 4 / (i + 1) as official;
  - PreActBottleneck: relu(gn1(conv1)), relu(gn2(conv2, stride s)), gn3(conv3), relu(residual + y),
    projection downsample StdConv 1x1 + gn_proj = GroupNorm(cout, cout) (torch default eps 1e-5);
  - Embeddings: Conv2d patch embedding (1x1 on the /16 map for the hybrid), flatten, transpose,
    + position_embeddings, dropout; Block: pre-LN (eps 1e-6) Attention, Mlp (exact GELU);
  - Encoder: blocks, encoder_norm; DecoderCup: conv_more (Conv3x3 no bias + BatchNorm + ReLU), 4
    DecoderBlocks (UpsamplingBilinear2d x2 = align_corners=True, concat skip, 2 x Conv2dReLU), skip
    channels re-selected by n_skip; SegmentationHead: Conv3x3 with bias, Identity.
The one generalisation: the official ResNet hard-codes GroupNorm(32, ...); here the group count is a
parameter (gn_groups, 32 for R50-ViT-B_16) so that the narrow configs (width 8 / 16) can be built, as
glassbox's TransUNetConfig::gn_groups does. With the official sizes it has the official 105,277,081
parameters (9 classes). The test loads these weights into glassbox strictly (every name and shape must
match) and compares the logits, which validates the re-implementation against glassbox.

Pytorch-grad-cam cannot hook the official Block itself (its forward returns (x, weights), a tuple, so
the tool's gradient hook never fires); its ffn_norm and the encoder_norm return tensors [B, N, C] and
are what a user would pick; the reshape_transform is tokens [B, N, C] -> [B, C, gh, gw].

    python3 -m venv VENV && VENV/bin/pip install torch captum grad-cam safetensors numpy  # VENV outside the repo
    VENV/bin/python scripts/make_xai_golden.py tests/golden/xai
Writes transunet_micro64_weights.safetensors and transunet_micro64_golden.safetensors (float32; the
scalars in the metadata as decimal strings). Versions used are recorded in the metadata.
scripts/bench_xai_torch.py and scripts/bench_step_torch.py import the same classes from transunet_torch.py.
"""

import copy
import json
import math
import os
import sys

import torch
import torch.nn as nn
import numpy as np

sys.dont_write_bytecode = True  # no scripts/__pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from transunet_torch import VisionTransformer, config  # noqa: E402  (the model classes, shared)


# ---------------------------------------------------------------- the golden case
SIZE = 64
CLS = 2
BOX = (20, 28, 36, 44)  # M: rows [20, 36), cols [28, 44) (half-open), 256 pixels
IG_STEPS = 32
BLUR_SIGMA = 4.0        # glassbox's default blur: max(H, W) / 16 pixels
CAM_LAYERS = ["decoder.blocks.1", "transformer.encoder.layer.1.ffn_norm", "transformer.encoder.encoder_norm"]
CAM_COMBINED = ["decoder.blocks.1", "transformer.encoder.encoder_norm"]


def golden_config():
    c = config("micro")
    c["size"] = SIZE
    c["layers"] = 3
    return c


def seeded_model(seed=20261201):
    """Official initialisation, then every norm affine, bias, BatchNorm statistic and the position
    embedding drawn away from its identity default so that none of them can be ignored unnoticed."""
    torch.manual_seed(seed)
    m = VisionTransformer(golden_config(), vis=True)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, mod in m.named_modules():
            if isinstance(mod, (nn.GroupNorm, nn.LayerNorm, nn.BatchNorm2d)):
                mod.weight.copy_(0.6 + 0.8 * torch.rand(mod.weight.shape, generator=g))
                mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=g))
            if isinstance(mod, nn.Linear):
                mod.bias.copy_(0.05 * torch.randn(mod.bias.shape, generator=g))
        pe = m.transformer.embeddings.position_embeddings
        pe.copy_(0.1 * torch.randn(pe.shape, generator=g))
        # BatchNorm statistics from data (the golden input and noisy copies), then moved by up to
        # +-20 %: with the default statistics (mean 0, var 1) the decoder's activations shrink layer by
        # layer and the logits are little more than the head's bias, which would make the parity weak.
        bns = [mod for mod in m.modules() if isinstance(mod, nn.BatchNorm2d)]
        for bn in bns:
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average
            bn.train()
        x = torch.from_numpy(golden_input())
        for k in range(4):
            m(x + 0.05 * k * torch.randn(x.shape, generator=g))
        m.eval()
        for bn in bns:
            bn.running_mean.add_(0.1 * bn.running_var.sqrt() * torch.randn(bn.running_mean.shape, generator=g))
            bn.running_var.mul_(0.8 + 0.4 * torch.rand(bn.running_var.shape, generator=g))
            bn.momentum = 0.1
            bn.num_batches_tracked.fill_(7)
    return m.eval()


def golden_input():
    """A CT-like slice in [0, 1]: body disc, a liver-like ellipse, a bright lesion, seeded noise."""
    r = np.random.default_rng(7)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    body = ((yy - 32) ** 2 / 27 ** 2 + (xx - 32) ** 2 / 29 ** 2) <= 1
    liver = ((yy - 28) ** 2 / 12 ** 2 + (xx - 36) ** 2 / 16 ** 2) <= 1
    lesion = ((yy - 27) ** 2 + (xx - 37) ** 2) <= 16
    img = 0.05 + 0.35 * body + 0.2 * liver + 0.25 * lesion + 0.03 * r.standard_normal((SIZE, SIZE))
    return np.clip(img, 0, 1).astype(np.float32)[None, None]


def region():
    m = np.zeros((SIZE, SIZE), np.float32)
    m[BOX[0]:BOX[2], BOX[1]:BOX[3]] = 1
    return m


def gaussian_blur(x, sigma):
    """Separable Gaussian over the last two dims, radius ceil(3 sigma), edges replicated (f64)."""
    rad = int(math.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-rad, rad + 1) / sigma) ** 2)
    k /= k.sum()
    y = x.astype(np.float64)
    for axis in (-2, -1):
        n = y.shape[axis]
        pad = [(0, 0)] * y.ndim
        pad[axis] = (rad, rad)
        p = np.pad(y, pad, mode="edge")
        y = sum(k[j] * np.take(p, np.arange(j, j + n), axis=axis) for j in range(2 * rad + 1))
    return y


def tokens(t, grid):
    """[B, N, C] -> [B, C, gh, gw] (no class token)."""
    return t.reshape(t.size(0), grid, grid, t.size(2)).permute(0, 3, 1, 2)


def main(out_dir):
    import captum
    import pytorch_grad_cam
    from captum.attr import IntegratedGradients
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import SemanticSegmentationTarget
    from safetensors.torch import save_file

    torch.set_num_threads(1)
    os.makedirs(out_dir, exist_ok=True)
    model = seeded_model()
    c = golden_config()
    grid = SIZE // 16
    x = torch.from_numpy(golden_input())
    M = torch.from_numpy(region())
    meta = {"torch": torch.__version__, "captum": captum.__version__,
            "grad_cam": getattr(pytorch_grad_cam, "__version__", "1.5.7"), "numpy": np.__version__,
            "model": "re-implementation of the official TransUNet code (scripts/make_xai_golden.py), float32",
            "config": json.dumps(c), "class": str(CLS), "box": json.dumps(BOX), "ig_steps": str(IG_STEPS),
            "blur_sigma": repr(BLUR_SIGMA), "cam_layers": json.dumps(CAM_LAYERS),
            "cam_combined": json.dumps(CAM_COMBINED)}
    out = {"x": x.clone(), "mask": M.clone()}

    def T_of(logits):
        return (logits[:, CLS] * M).sum(dim=(1, 2))

    # logits and dT/dx
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    T = T_of(logits).sum()
    T.backward()
    out["logits"] = logits.detach().clone()
    out["grad"] = xg.grad.detach().clone()
    meta["T"] = repr(T.item())
    # float64 copy of the same weights: the float32 noise floor of PyTorch itself
    m64 = copy.deepcopy(model).double()
    xg64 = x.double().requires_grad_(True)
    l64 = m64(xg64)
    T_of(l64).sum().backward()
    rel = lambda a, b: float((a.double() - b.double()).abs().max() / b.double().abs().max())
    print(f"T = {T.item():.6f}; torch f32 vs f64: logits {rel(logits.detach(), l64.detach()):.2e}, "
          f"grad {rel(xg.grad, xg64.grad):.2e}")

    # Grad-CAM (pytorch-grad-cam), one layer at a time, then two layers aggregated
    target = [SemanticSegmentationTarget(CLS, region())]
    reshape = lambda t: tokens(t, grid) if t.dim() == 3 else t
    for names, key in [([n], n) for n in CAM_LAYERS] + [(CAM_COMBINED, "combined")]:
        mods = [model.get_submodule(n) for n in names]
        with GradCAM(model=model, target_layers=mods, reshape_transform=reshape) as cam:
            gray = cam(input_tensor=x.clone(), targets=target)  # [1, H, W] float32
            if key != "combined":
                acts = cam.activations_and_grads.activations[0].numpy()
                grads = cam.activations_and_grads.gradients[0].numpy()
                raw = cam.get_cam_image(x, mods[0], target, acts, grads)  # signed sum_k w_k A_k [1, h, w]
                out[f"gradcam.{key}.raw"] = torch.from_numpy(np.ascontiguousarray(raw, dtype=np.float32))
        out[f"gradcam.{key}.normalised"] = torch.from_numpy(np.ascontiguousarray(gray))
    model.zero_grad()

    # Integrated Gradients (Captum), Gauss-Legendre
    x_blur = torch.from_numpy(gaussian_blur(x.numpy(), BLUR_SIGMA).astype(np.float32))
    out["baseline.blur"] = x_blur
    ig = IntegratedGradients(lambda inp: T_of(model(inp)))
    for name, b in [("zero", torch.zeros_like(x)), ("blur", x_blur)]:
        attr, delta = ig.attribute(x.clone(), baselines=b, n_steps=IG_STEPS, method="gausslegendre",
                                   return_convergence_delta=True)
        with torch.no_grad():
            Tx, Tb = T_of(model(x)).item(), T_of(model(b)).item()
        out[f"ig.{name}"] = attr.detach().clone()
        meta[f"ig.{name}.captum_delta"] = repr(delta.item())
        meta[f"ig.{name}.T_input"] = repr(Tx)
        meta[f"ig.{name}.T_baseline"] = repr(Tb)
        print(f"IG {name}: sum {attr.sum().item():.6f}, T(x) - T(x') = {Tx - Tb:.6f}, Captum delta "
              f"{delta.item():.4g} ({abs(delta.item()) / abs(Tx - Tb) * 100:.3g} %)")

    # attention rollout, numpy f64 from the model's own probabilities
    with torch.no_grad():
        _, probs, _ = model.transformer(x.repeat(1, 3, 1, 1))
    N = grid * grid
    joint = np.eye(N)
    for A in probs:
        Ah = A[0].double().numpy().mean(axis=0) + np.eye(N)
        joint = (Ah / Ah.sum(axis=1, keepdims=True)) @ joint
    ph = SIZE // grid
    q = [r * grid + cc for r in range(grid) for cc in range(grid)
         if region()[r * ph:(r + 1) * ph, cc * ph:(cc + 1) * ph].any()]
    out["rollout.joint"] = torch.from_numpy(joint.astype(np.float32))
    out["rollout.tokens"] = torch.from_numpy(joint[q].mean(axis=0).reshape(grid, grid).astype(np.float32))
    meta["rollout.query"] = json.dumps(q)

    weights = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(weights, os.path.join(out_dir, "transunet_micro64_weights.safetensors"),
              metadata={"model": meta["model"], "config": meta["config"], "torch": meta["torch"]})
    save_file({k: v.contiguous().float() for k, v in out.items()},
              os.path.join(out_dir, "transunet_micro64_golden.safetensors"), metadata=meta)
    print("parameters:", sum(p.numel() for p in model.parameters()), "; wrote", out_dir)


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "tests/golden/xai")
