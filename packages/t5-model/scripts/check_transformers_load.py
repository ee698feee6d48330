"""Loads every model directory under argv[1] (written by scripts/check-python-load.ts) with transformers'
T5ForConditionalGeneration.from_pretrained and compares its logits and greedy output with ours.json.
Exits 1 when a directory does not load, logits differ by more than 1e-4 or greedy output differs."""
import json
import pathlib
import sys

import torch
import transformers
from transformers import T5ForConditionalGeneration

root = pathlib.Path(sys.argv[1])
worst = 0.0
ok = True
print(f"transformers {transformers.__version__}, torch {torch.__version__}")
for d in sorted(p for p in root.iterdir() if (p / "ours.json").exists()):
    ours = json.loads((d / "ours.json").read_text())
    try:
        model = T5ForConditionalGeneration.from_pretrained(d).eval()
    except Exception as e:  # noqa: BLE001 - report any loading failure by case
        print(f"{d.name:24s} LOAD FAILED: {type(e).__name__}: {e}")
        ok = False
        continue
    x = ours["inputs"]
    ids = torch.tensor(x["input_ids"])
    mask = torch.tensor(x["attention_mask"])
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, decoder_input_ids=torch.tensor(x["decoder_input_ids"])).logits
        greedy = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=12, num_beams=1, do_sample=False).tolist()
    diff = (logits - torch.tensor(ours["logits"])).abs().max().item()
    worst = max(worst, diff)
    separate = model.lm_head.weight.data_ptr() != model.shared.weight.data_ptr()
    same = diff <= 1e-4 and greedy == ours["greedy_sequences"] and separate == ours["has_lm_head"]
    ok = ok and same
    print(f"{d.name:24s} max |logits diff| {diff:.3e}  greedy {'equal' if greedy == ours['greedy_sequences'] else 'DIFFERENT'}  "
          f"separate head {separate} (ours {ours['has_lm_head']})  scale {model.config.scale_decoder_outputs} (ours {ours['scale']})")
print(f"worst max |logits diff| {worst:.3e}: {'OK' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
