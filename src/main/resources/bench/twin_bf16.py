"""The PyTorch twin (../shared/bench/torch_twin.py) in PyTorch's own CPU mixed precision: its U-Net's
forward runs under torch.autocast("cpu", dtype=torch.bfloat16) (the form PyTorch documents: forward and
loss input under autocast, backward outside it, fp32 master weights and optimizer). The same arguments
as the twin; `diffuse bench twin --bf16` runs it against the product's --bf16.

    python3 twin_bf16.py ../shared/bench/torch_twin.py train 128 20 --threads 2   # (in the jar: bench/twin_bf16.py)
"""
import importlib.util
import sys

import torch

spec = importlib.util.spec_from_file_location("torch_twin", sys.argv[1])
twin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(twin)
plain_forward = twin.UNet.forward


def bf16_forward(self, *args):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        return plain_forward(self, *args).float()


def fp32_group_norm(self, x):
    # PyTorch 1.13's CPU autocast leaves group_norm out of its lists and then fails on a bf16 input with
    # fp32 weights; later releases autocast it to fp32, which this does by hand.
    with torch.autocast("cpu", enabled=False):
        return torch.nn.functional.group_norm(x.float(), self.num_groups, self.weight, self.bias, self.eps)


twin.UNet.forward = bf16_forward
torch.nn.GroupNorm.forward = fp32_group_norm
sys.argv = [sys.argv[1]] + sys.argv[2:]
twin.main()
