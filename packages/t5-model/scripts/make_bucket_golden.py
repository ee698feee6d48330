"""HF T5Attention._relative_position_bucket over a range of relative positions (key - query).

Run: python scripts/make_bucket_golden.py  → __fixtures__/t5/buckets.json
"""
import json
import os

import torch
from transformers.models.t5.modeling_t5 import T5Attention

rel = torch.arange(-600, 601)
out = {"relative_positions": rel.tolist(), "cases": []}
for nb, md in [(32, 128), (8, 16), (16, 32), (32, 64), (10, 50)]:
    for bi in [True, False]:
        b = T5Attention._relative_position_bucket(rel, bidirectional=bi, num_buckets=nb, max_distance=md)
        out["cases"].append({"num_buckets": nb, "max_distance": md, "bidirectional": bi, "buckets": b.tolist()})
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "__fixtures__", "t5", "buckets.json")
with open(path, "w") as f:
    json.dump(out, f)
