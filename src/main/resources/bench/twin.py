"""The PyTorch twin (../shared/bench/torch_twin.py) in the variant that `diffuse bench` measures.

The twin is an exact copy of the product's U-Net with the embedding added as a bias (Ho et al. 2020) and
its ε-prediction training step with t uniform. `train` now defaults to the shipped models' recipe, so this
wrapper changes the twin to match, flag by flag, each as the product computes it:

  --ada-gn            every residual block's embedding scales and shifts its second GroupNorm,
                      a = GN2(a)·(1 + s) + b with s = Dense(SiLU(e)), b = Dense(SiLU(e)) (AdaGN, Dhariwal & Nichol
                      2021 §3; UNet.java resBlock with scaleShiftNorm), instead of a bias before it
  --v-lognormal PM PS training: ln σ ~ N(PM, PS²), t the timestep nearest in log σ (TrainSettings.sampleTimestep;
                      EDM's P_mean, P_std, Karras et al. 2022) and the target v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans & Ho
                      2022; Trainer.batch), instead of t uniform and ε
  --bf16              the forward under torch.autocast("cpu", bfloat16) (PyTorch's documented form: forward and loss
                      input under autocast, backward outside, fp32 master weights and optimizer)

Without --ada-gn and --v-lognormal it runs the twin's own main() unchanged. Otherwise its timing loop is the
twin's, on the twin's classes, with the one change named. Prints the twin's JSON line.

    python3 twin.py ../shared/bench/torch_twin.py train|fwd BATCH STEPS [--threads N] [--warmup K] [flags]
"""
import importlib.util
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

spec = importlib.util.spec_from_file_location("torch_twin", sys.argv[1])
twin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(twin)
args = sys.argv[2:]


def flag(name, values=0):
    """Removes --name and its values from args; returns the values (or True), or None when absent."""
    if name not in args:
        return None
    i = args.index(name)
    got = args[i + 1:i + 1 + values]
    del args[i:i + 1 + values]
    return got if values else True


ada_gn = flag("--ada-gn")
v_lognormal = flag("--v-lognormal", 2)
bf16 = flag("--bf16")

if bf16:
    plain_forward = twin.UNet.forward

    def bf16_forward(self, *a):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return plain_forward(self, *a).float()

    def fp32_group_norm(self, x):
        # PyTorch 1.13's CPU autocast leaves group_norm out of its lists and then fails on a bf16 input with
        # fp32 weights; later releases autocast it to fp32, which this does by hand.
        with torch.autocast("cpu", enabled=False):
            return F.group_norm(x.float(), self.num_groups, self.weight, self.bias, self.eps)

    twin.UNet.forward = bf16_forward
    torch.nn.GroupNorm.forward = fp32_group_norm


class AdaRes(twin.Res):
    """twin.Res with AdaGN: the embedding's dense layer is replaced by a scale and a shift of GN2's output."""

    def __init__(s, cin, cout):
        super().__init__(cin, cout)
        del s.emb
        s.ada_scale, s.ada_shift = twin.dense(twin.EMB, cout), twin.dense(twin.EMB, cout)

    def forward(s, h, se):
        a = s.conv1(F.silu(s.norm1(h)))
        a = s.norm2(a) * (1 + s.ada_scale(se)[:, :, None, None]) + s.ada_shift(se)[:, :, None, None]
        a = s.conv2(F.silu(a))
        return (h if s.skip is None else s.skip(h)) + a


def ada_flops():
    """Multiply-add FLOPs per image that AdaGN adds to the twin's analytic count: a second Dense(EMB, cout) per block."""
    c0, c1, c2 = twin.WIDTHS
    return sum(2 * twin.EMB * c for c in (c0, c1, c2, c2, c2, c2, c1, c0))


def main():
    mode, b, steps = args[0], int(args[1]), int(args[2])
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 2
    warm = int(args[args.index("--warmup") + 1]) if "--warmup" in args else 5
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    if ada_gn:
        twin.Res = AdaRes  # UNet.__init__ looks Res up in the twin's module when it builds its blocks
    m = twin.UNet()
    params = sum(p.numel() for p in m.parameters())
    fl = twin.forward_flops_per_image()["total"] + (ada_flops() if ada_gn else 0)
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    abar64 = torch.cumprod(1 - betas, 0)
    abar = abar64.to(torch.float32)
    log_sigma = 0.5 * torch.log((1 - abar64) / abar64)  # ln σ_t, σ_t = √((1−ᾱ_t)/ᾱ_t)
    x0 = torch.rand(b * 8, twin.C, twin.H, twin.W) * 2 - 1  # random "data set" of 8 batches, like bench train
    labels = torch.arange(b * 8) % twin.CLASSES
    times, cpu = [], {}
    if mode == "train":
        m.train()
        opt = twin.TFAdamEMA(m.parameters(), clip=1.0)
        for i in range(1, warm + steps + 1):
            t0 = time.perf_counter()
            k = (i - 1) % 8
            xb, yb = x0[k * b:(k + 1) * b], labels[k * b:(k + 1) * b]
            if v_lognormal:
                ls = float(v_lognormal[0]) + float(v_lognormal[1]) * torch.randn(b, dtype=torch.float64)
                t = (log_sigma[None, :] - ls[:, None]).abs().argmin(1)
            else:
                t = torch.randint(0, 1000, (b,))
            eps = torch.randn(b, twin.C, twin.H, twin.W)
            ab = abar[t][:, None, None, None]
            xt = ab.sqrt() * xb + (1 - ab).sqrt() * eps
            target = ab.sqrt() * eps - (1 - ab).sqrt() * xb if v_lognormal else eps
            y = torch.where(torch.rand(b) < 0.1, torch.full_like(yb, twin.CLASSES), yb)
            loss = F.mse_loss(m(xt, t.to(torch.float32), y), target)
            for p in m.parameters():
                p.grad = None
            loss.backward()
            opt.step(1e-4, i, min(0.999, (1.0 + i) / (10.0 + i)))
            if i == warm:
                cpu["c0"], cpu["w0"] = sum(os.times()[:2]), time.perf_counter()
            if i > warm:
                times.append(time.perf_counter() - t0)
        gflop = 3 * fl * b / 1e9
    elif mode == "fwd":
        m.eval()
        x = torch.randn(b, twin.C, twin.H, twin.W)
        y = torch.cat([torch.full((b - b // 2,), 7), torch.full((b // 2,), twin.CLASSES)])
        with torch.no_grad():
            for i in range(warm + steps):
                if i == warm:
                    cpu["c0"], cpu["w0"] = sum(os.times()[:2]), time.perf_counter()
                t = torch.full((b,), float(999 - 40 * (i % 25)))
                t0 = time.perf_counter()
                m(x, t, y)
                if i >= warm:
                    times.append(time.perf_counter() - t0)
        gflop = fl * b / 1e9
    else:
        raise SystemExit("mode must be train or fwd")
    util = (sum(os.times()[:2]) - cpu["c0"]) / ((time.perf_counter() - cpu["w0"]) * threads)
    med = statistics.median(times)
    variant = " ".join(n for n, on in (("ada-gn", ada_gn), ("v-lognormal", v_lognormal), ("bf16", bf16)) if on)
    print(json.dumps({"impl": "pytorch " + torch.__version__ + " " + variant, "mode": mode, "batch": b, "threads": threads,
                      "steps": steps, "warmup": warm,
                      "median_ms": round(med * 1000, 2), "mean_ms": round(statistics.mean(times) * 1000, 2),
                      "min_ms": round(min(times) * 1000, 2), "max_ms": round(max(times) * 1000, 2),
                      "img_s": round(b / med, 1), "params": params, "fwd_gflop_per_image": round(fl / 1e9, 4),
                      "gflop_s": round(gflop / med, 1), "cpu_util_pct": round(100 * util)}))


if ada_gn or v_lognormal:
    main()
else:
    sys.argv = [sys.argv[1]] + args
    twin.main()
