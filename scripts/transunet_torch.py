#!/usr/bin/env python3
"""PyTorch models with glassbox's architectures and state_dict names, shared by the scripts in scripts/
(make_xai_golden.py, bench_xai_torch.py, bench_step_torch.py). Scripts only: nothing in the product
imports Python.

TransUNet (VisionTransformer and its parts): a re-implementation of the official code
(Beckschen/TransUNet, networks/vit_seg_modeling.py and vit_seg_modeling_resnet_skip.py) with the
official module and parameter names, so that its state_dict keys are glassbox's safetensors names
(models/transunet.h); make_xai_golden.py's docstring describes the forward pass step by step and how
it is validated against glassbox (tests/xai/test_parity.cpp loads its weights strictly and compares
the logits). The one generalisation: GroupNorm's group count is a parameter (gn_groups, 32 official).

UNet2D: glassbox's 2-D U-Net baseline (models/unet.h, unet.cpp): level l of the encoder enc<l> =
DoubleConv (Conv3x3 pad 1 no bias, BatchNorm, ReLU, twice) with base * 2^l channels, MaxPool 2x2/2
between levels (one shared `pool` module); decoder level l (depth-1 .. 0): up<l> = (up: bilinear x2
align_corners=True, reduce: Conv1x1 with bias halving the channels), concat [skip, upsampled] (skip
first), dec<l> = DoubleConv; head = Conv1x1 with bias to the classes. BatchNorm eps 1e-5, momentum 0.1.
Module registration order and names as glassbox (enc0.., pool, up<d-1>, dec<d-1>, .., head), so the
state_dict keys are glassbox's names.

    build_model("tiny") / build_model("unet2d-tiny", size=224) -> (model, config dict)
"""

import copy
import math
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F


def config(name):
    """glassbox's named configs (models/configs.cpp) as plain dicts: TransUNet ones (no "arch" key, or
    c.get("arch", "transunet") == "transunet") and the 2-D U-Nets (arch "unet")."""
    if name == "r50-vit-b16":
        return dict(size=224, classes=9, hidden=768, mlp_dim=3072, heads=12, layers=12, units=(3, 4, 9), width=64,
                    gn_groups=32, head_channels=512, decoder_channels=(256, 128, 64, 16),
                    skip_channels=(512, 256, 64, 16), n_skip=3)
    if name == "tiny":
        w = 16
        return dict(size=128, classes=3, hidden=96, mlp_dim=384, heads=3, layers=3, units=(1, 2, 2), width=w,
                    gn_groups=8, head_channels=64, decoder_channels=(64, 32, 16, 8),
                    skip_channels=(8 * w, 4 * w, w, 8), n_skip=3)
    if name == "micro":
        w = 8
        return dict(size=32, classes=3, hidden=16, mlp_dim=32, heads=2, layers=1, units=(1, 1, 1), width=w,
                    gn_groups=4, head_channels=16, decoder_channels=(8, 8, 8, 4),
                    skip_channels=(8 * w, 4 * w, w, 4), n_skip=3)
    if name in ("unet2d", "unet2d-tiny"):
        tiny = name == "unet2d-tiny"
        return dict(arch="unet", size=128 if tiny else 224, classes=3, in_channels=1, base=8 if tiny else 64,
                    depth=3 if tiny else 4)
    raise ValueError(name)


class StdConv2d(nn.Conv2d):
    def forward(self, x):
        w = self.weight
        var, mean = torch.var_mean(w, dim=[1, 2, 3], keepdim=True, unbiased=False)
        w = (w - mean) / torch.sqrt(var + 1e-5)
        return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


class PreActBottleneck(nn.Module):
    def __init__(self, cin, cout, cmid, stride, groups):
        super().__init__()
        self.gn1 = nn.GroupNorm(groups, cmid, eps=1e-6)
        self.conv1 = StdConv2d(cin, cmid, 1, bias=False)
        self.gn2 = nn.GroupNorm(groups, cmid, eps=1e-6)
        self.conv2 = StdConv2d(cmid, cmid, 3, stride=stride, padding=1, bias=False)
        self.gn3 = nn.GroupNorm(groups, cout, eps=1e-6)
        self.conv3 = StdConv2d(cmid, cout, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        if stride != 1 or cin != cout:
            self.downsample = StdConv2d(cin, cout, 1, stride=stride, bias=False)
            self.gn_proj = nn.GroupNorm(cout, cout)

    def forward(self, x):
        residual = x
        if hasattr(self, "downsample"):
            residual = self.gn_proj(self.downsample(x))
        y = self.relu(self.gn1(self.conv1(x)))
        y = self.relu(self.gn2(self.conv2(y)))
        y = self.gn3(self.conv3(y))
        return self.relu(residual + y)


class ResNetV2(nn.Module):
    def __init__(self, units, width, groups):
        super().__init__()
        self.width = width
        self.root = nn.Sequential(OrderedDict([
            ("conv", StdConv2d(3, width, 7, stride=2, padding=3, bias=False)),
            ("gn", nn.GroupNorm(groups, width, eps=1e-6)),
            ("relu", nn.ReLU(inplace=True)),
        ]))
        cin = [width, width * 4, width * 8]
        cout = [width * 4, width * 8, width * 16]
        cmid = [width, width * 2, width * 4]
        stride = [1, 2, 2]
        blocks = []
        for b in range(3):
            us = [(f"unit{u}", PreActBottleneck(cin[b] if u == 1 else cout[b], cout[b], cmid[b],
                                                stride[b] if u == 1 else 1, groups)) for u in range(1, units[b] + 1)]
            blocks.append((f"block{b + 1}", nn.Sequential(OrderedDict(us))))
        self.body = nn.Sequential(OrderedDict(blocks))

    def forward(self, x):
        features = []
        b, _, in_size, _ = x.size()
        x = self.root(x)
        features.append(x)
        x = nn.MaxPool2d(kernel_size=3, stride=2, padding=0)(x)
        for i in range(len(self.body) - 1):
            x = self.body[i](x)
            right = int(in_size / 4 / (i + 1))
            if x.size(2) != right:
                pad = right - x.size(2)
                assert 0 < pad < 3, (x.size(), right)
                feat = torch.zeros((b, x.size(1), right, right), device=x.device, dtype=x.dtype)
                feat[:, :, 0:x.size(2), 0:x.size(3)] = x[:]
            else:
                feat = x
            features.append(feat)
        x = self.body[-1](x)
        return x, features[::-1]


class Attention(nn.Module):
    def __init__(self, c, vis):
        super().__init__()
        self.vis = vis
        self.num_attention_heads = c["heads"]
        self.attention_head_size = c["hidden"] // c["heads"]
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.query = nn.Linear(c["hidden"], self.all_head_size)
        self.key = nn.Linear(c["hidden"], self.all_head_size)
        self.value = nn.Linear(c["hidden"], self.all_head_size)
        self.out = nn.Linear(c["hidden"], c["hidden"])
        self.attn_dropout = nn.Dropout(0.0)
        self.proj_dropout = nn.Dropout(0.0)
        self.softmax = nn.Softmax(dim=-1)

    def split(self, x):
        return x.view(*x.size()[:-1], self.num_attention_heads, self.attention_head_size).permute(0, 2, 1, 3)

    def forward(self, h):
        q, k, v = self.split(self.query(h)), self.split(self.key(h)), self.split(self.value(h))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.attention_head_size)
        probs = self.softmax(scores)
        weights = probs if self.vis else None
        probs = self.attn_dropout(probs)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        ctx = ctx.view(*ctx.size()[:-2], self.all_head_size)
        return self.proj_dropout(self.out(ctx)), weights


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc1 = nn.Linear(c["hidden"], c["mlp_dim"])
        self.fc2 = nn.Linear(c["mlp_dim"], c["hidden"])
        self.act_fn = F.gelu  # exact (erf) GELU
        self.dropout = nn.Dropout(0.1)
        nn.init.xavier_uniform_(self.fc1.weight)
        nn.init.xavier_uniform_(self.fc2.weight)
        nn.init.normal_(self.fc1.bias, std=1e-6)
        nn.init.normal_(self.fc2.bias, std=1e-6)

    def forward(self, x):
        return self.dropout(self.fc2(self.dropout(self.act_fn(self.fc1(x)))))


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        grid = c["size"] // 16
        self.hybrid_model = ResNetV2(c["units"], c["width"], c["gn_groups"])
        self.patch_embeddings = nn.Conv2d(self.hybrid_model.width * 16, c["hidden"], kernel_size=1, stride=1)
        self.position_embeddings = nn.Parameter(torch.zeros(1, grid * grid, c["hidden"]))
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        x, features = self.hybrid_model(x)
        x = self.patch_embeddings(x).flatten(2).transpose(-1, -2)
        return self.dropout(x + self.position_embeddings), features


class Block(nn.Module):
    def __init__(self, c, vis):
        super().__init__()
        self.attention_norm = nn.LayerNorm(c["hidden"], eps=1e-6)
        self.ffn_norm = nn.LayerNorm(c["hidden"], eps=1e-6)
        self.ffn = Mlp(c)
        self.attn = Attention(c, vis)

    def forward(self, x):
        h = x
        x, weights = self.attn(self.attention_norm(x))
        x = x + h
        h = x
        x = self.ffn(self.ffn_norm(x)) + h
        return x, weights


class Encoder(nn.Module):
    def __init__(self, c, vis):
        super().__init__()
        self.vis = vis
        self.layer = nn.ModuleList()
        self.encoder_norm = nn.LayerNorm(c["hidden"], eps=1e-6)
        for _ in range(c["layers"]):
            self.layer.append(copy.deepcopy(Block(c, vis)))

    def forward(self, h):
        attn = []
        for blk in self.layer:
            h, w = blk(h)
            if self.vis:
                attn.append(w)
        return self.encoder_norm(h), attn


class Transformer(nn.Module):
    def __init__(self, c, vis):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c, vis)

    def forward(self, x):
        emb, features = self.embeddings(x)
        enc, attn = self.encoder(emb)
        return enc, attn, features


class Conv2dReLU(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DecoderBlock(nn.Module):
    def __init__(self, cin, cout, skip):
        super().__init__()
        self.conv1 = Conv2dReLU(cin + skip, cout)
        self.conv2 = Conv2dReLU(cout, cout)
        self.up = nn.UpsamplingBilinear2d(scale_factor=2)

    def forward(self, x, skip=None):
        x = self.up(x)
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.conv2(self.conv1(x))


class DecoderCup(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_skip = c["n_skip"]
        self.conv_more = Conv2dReLU(c["hidden"], c["head_channels"])
        dec = list(c["decoder_channels"])
        ins = [c["head_channels"]] + dec[:-1]
        skips = list(c["skip_channels"])
        for i in range(4 - self.n_skip):  # the official re-selection by n_skip
            skips[3 - i] = 0
        self.blocks = nn.ModuleList([DecoderBlock(i, o, s) for i, o, s in zip(ins, dec, skips)])

    def forward(self, h, features=None):
        B, n, hidden = h.size()
        g = int(math.sqrt(n))
        x = self.conv_more(h.permute(0, 2, 1).contiguous().view(B, hidden, g, g))
        for i, blk in enumerate(self.blocks):
            skip = features[i] if (features is not None and i < self.n_skip) else None
            x = blk(x, skip=skip)
        return x


class SegmentationHead(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout, 3, padding=1), nn.Identity())


class VisionTransformer(nn.Module):
    def __init__(self, c, vis=False):
        super().__init__()
        self.transformer = Transformer(c, vis)
        self.decoder = DecoderCup(c)
        self.segmentation_head = SegmentationHead(c["decoder_channels"][-1], c["classes"])

    def forward(self, x):
        if x.size(1) == 1:
            x = x.repeat(1, 3, 1, 1)
        h, _, features = self.transformer(x)
        return self.segmentation_head(self.decoder(h, features))


# ---------------------------------------------------------------- 2-D U-Net (models/unet.cpp)
def double_conv(cin, cmid, cout):
    return nn.Sequential(nn.Conv2d(cin, cmid, 3, padding=1, bias=False), nn.BatchNorm2d(cmid), nn.ReLU(inplace=True),
                         nn.Conv2d(cmid, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet2D(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.depth = c["depth"]
        ch, cin = [], c.get("in_channels", 1)
        for level in range(self.depth + 1):
            ch.append(c["base"] << level)
            self.add_module(f"enc{level}", double_conv(cin, ch[level], ch[level]))
            cin = ch[level]
        self.pool = nn.MaxPool2d(2, 2)
        for level in range(self.depth - 1, -1, -1):
            up_out = cin // 2  # Ronneberger's up-conv halves the channels
            self.add_module(f"up{level}", nn.Sequential(OrderedDict([
                ("up", nn.UpsamplingBilinear2d(scale_factor=2)),
                ("reduce", nn.Conv2d(cin, up_out, 1, bias=True)),
            ])))
            self.add_module(f"dec{level}", double_conv(up_out + ch[level], ch[level], ch[level]))
            cin = ch[level]
        self.head = nn.Conv2d(cin, c["classes"], 1, bias=True)

    def forward(self, x):
        skips, h = [], x
        for level in range(self.depth + 1):
            h = getattr(self, f"enc{level}")(h)
            if level < self.depth:
                skips.append(h)
                h = self.pool(h)
        for level in range(self.depth - 1, -1, -1):
            h = getattr(self, f"up{level}")(h)
            h = getattr(self, f"dec{level}")(torch.cat([skips[level], h], dim=1))
        return self.head(h)


def build_model(name, size=None, classes=None):
    """A model with glassbox's named config `name` (size / classes None: the config's). Returns
    (model, config dict). The weights are torch's default initialisation from the current RNG."""
    c = config(name)
    if size:
        c["size"] = size
    if classes:
        c["classes"] = classes
    if c.get("arch", "transunet") == "unet":
        step = 1 << c["depth"]
        if c["size"] % step:
            raise ValueError(f"{name}: size {c['size']} is not divisible by 2^depth = {step}")
        return UNet2D(c), c
    if c["size"] % 16:
        raise ValueError(f"{name}: size {c['size']} is not divisible by 16")
    return VisionTransformer(c), c


def auto_layer(name, c=None):
    """glassbox's automatic Grad-CAM layer (xai/layers.cpp auto_layer): the decoder output at 1/4 of
    the input resolution: TransUNet "decoder.blocks.1", U-Net "dec<min(2, depth - 1)>"."""
    c = c or config(name)
    if c.get("arch", "transunet") == "unet":
        return f"dec{min(2, c['depth'] - 1)}"
    return "decoder.blocks.1"
