"""PyTorch peer of bench/t5.ts. The same T5 shape with random weights: forward, a training step with a frozen
base and LoRA on q and v (peft, AdamW), and greedy generation with or without the KV cache. bench/t5.ts starts
one of these per phase (our side's process has exited by then) and ends it before our next phase starts.

Protocol: the first stdout line is a JSON hello {"ready": true, "threads", "versions"}; then one JSON request
per stdin line, e.g. {"row": "gen", "new_tokens": 64, "cache": true}, answered by one JSON line
{"seconds": ...} (wall time of exactly one run of that row); {"row": "rss"} is answered by
{"peak_rss_mb": ...} (this process's getrusage maxrss). EOF ends the process.

--only-train: the process serves training steps only, so peft wraps the model in place (no second copy of the
frozen weights, as a training script holds it); otherwise the LoRA model is a copy and forward/generation keep
running the plain model."""
import argparse
import copy
import json
import resource
import sys
import time

import peft
import torch
import transformers
from transformers import T5Config, T5ForConditionalGeneration

ap = argparse.ArgumentParser()
ap.add_argument("--batch", type=int, default=8)
ap.add_argument("--src", type=int, default=256)
ap.add_argument("--tgt", type=int, default=64)
ap.add_argument("--rank", type=int, default=8)
ap.add_argument("--d-model", type=int, default=512)
ap.add_argument("--d-kv", type=int, default=64)
ap.add_argument("--d-ff", type=int, default=1024)
ap.add_argument("--heads", type=int, default=6)
ap.add_argument("--layers", type=int, default=8)
ap.add_argument("--vocab", type=int, default=32128)
ap.add_argument("--only-train", action="store_true")
ap.add_argument("--recompute", action="store_true", help="transformers' gradient checkpointing (per block) in training")
a = ap.parse_args()

torch.manual_seed(0)
cfg = T5Config(vocab_size=a.vocab, d_model=a.d_model, d_kv=a.d_kv, num_heads=a.heads, d_ff=a.d_ff, num_layers=a.layers,
               num_decoder_layers=a.layers, feed_forward_proj="gated-gelu", tie_word_embeddings=False, dropout_rate=0.0,
               decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
model = T5ForConditionalGeneration(cfg).eval()
ids = torch.randint(3, min(32000, a.vocab), (a.batch, a.src))
labels = torch.randint(3, min(32000, a.vocab), (a.batch, a.tgt))
mask = torch.ones_like(ids)

lora = None
opt = None


def forward():
    with torch.no_grad():
        model(input_ids=ids, attention_mask=mask, labels=labels).loss.item()


def train():
    global lora, opt
    if lora is None:
        # a copy: peft wraps in place, and forward/generation must keep running the plain model
        if a.recompute:
            # per-block recomputation in the backward pass (non-reentrant: the frozen embeddings' outputs need no grad)
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        lora = peft.get_peft_model(model if a.only_train else copy.deepcopy(model), peft.LoraConfig(r=a.rank, lora_alpha=16, target_modules=["q", "v"], lora_dropout=0.0))
        opt = torch.optim.AdamW([p for p in lora.parameters() if p.requires_grad], lr=1e-4)
    lora.train()
    opt.zero_grad()
    loss = lora(input_ids=ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    opt.step()
    lora.eval()


def gen(new_tokens: int, cache: bool):
    with torch.no_grad():
        # min = max new tokens: every row makes exactly that many (as bench/t5.ts with eos disabled)
        model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                       num_beams=1, do_sample=False, use_cache=cache)


print(json.dumps({"ready": True, "threads": torch.get_num_threads(),
                  "versions": f"torch {torch.__version__} / transformers {transformers.__version__} / peft {peft.__version__}"}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    if req["row"] == "rss":
        # ru_maxrss is in KiB on Linux
        print(json.dumps({"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}), flush=True)
        continue
    if a.only_train and req["row"] != "train":
        print(json.dumps({"error": "--only-train: this process serves training steps only"}), flush=True)
        continue
    t0 = time.perf_counter()
    if req["row"] == "forward":
        forward()
    elif req["row"] == "train":
        train()
    elif req["row"] == "gen":
        gen(int(req["new_tokens"]), bool(req["cache"]))
    else:
        print(json.dumps({"error": f"unknown row {req['row']}"}), flush=True)
        continue
    print(json.dumps({"seconds": time.perf_counter() - t0}), flush=True)
