"""Beam-search reference sequences from HF transformers for the two tiny golden models.

Run: python scripts/make_beam_golden.py  (needs torch + transformers + safetensors)
Writes __fixtures__/t5/<model>/beam.json. The numbers are HF's output, used as test expectations.
"""
import json
import os

import torch
import transformers
from transformers import T5ForConditionalGeneration

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "__fixtures__", "t5")

CASES = [
    {"num_beams": 2, "length_penalty": 1.0, "early_stopping": False, "max_new_tokens": 10},
    {"num_beams": 3, "length_penalty": 1.0, "early_stopping": False, "max_new_tokens": 10},
    {"num_beams": 4, "length_penalty": 0.5, "early_stopping": True, "max_new_tokens": 8},
    {"num_beams": 4, "length_penalty": 2.0, "early_stopping": False, "max_new_tokens": 12},
    {"num_beams": 3, "length_penalty": -1.0, "early_stopping": "never", "max_new_tokens": 6},
]

for name in ["tiny-relu-tied", "tiny-gated-untied"]:
    d = os.path.join(FIX, name)
    model = T5ForConditionalGeneration.from_pretrained(d, attn_implementation="eager").eval()
    inputs = json.load(open(os.path.join(d, "inputs.json")))
    ids = torch.tensor(inputs["input_ids"])
    mask = torch.tensor(inputs["attention_mask"])
    out = {"transformers": transformers.__version__, "torch": torch.__version__, "cases": []}
    for c in CASES:
        with torch.no_grad():
            seq = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, **c)
        out["cases"].append({**c, "sequences": seq.tolist()})
    with open(os.path.join(d, "beam.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(name, [case["sequences"] for case in out["cases"]])
