"""PyTorch peer of bench/t5.ts: the same t5-small-lm-adapt-shaped model (random weights), forward and a
training step with a frozen base and rank-8 LoRA on q and v (peft). Prints one JSON line of tokens/s."""
import argparse
import json
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
ap.add_argument("--iters", type=int, default=2)
a = ap.parse_args()

torch.manual_seed(0)
cfg = T5Config(vocab_size=32128, d_model=512, d_kv=64, num_heads=6, d_ff=1024, num_layers=8, num_decoder_layers=8,
               feed_forward_proj="gated-gelu", tie_word_embeddings=False, dropout_rate=0.0,
               decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
model = T5ForConditionalGeneration(cfg).eval()
ids = torch.randint(3, 32000, (a.batch, a.src))
labels = torch.randint(3, 32000, (a.batch, a.tgt))
mask = torch.ones_like(ids)
tokens = a.batch * (a.src + a.tgt)


def timed(fn):
    fn()
    t0 = time.perf_counter()
    for _ in range(a.iters):
        fn()
    return (time.perf_counter() - t0) / a.iters


def forward():
    with torch.no_grad():
        model(input_ids=ids, attention_mask=mask, labels=labels).loss.item()


fwd = timed(forward)

lora = peft.get_peft_model(model, peft.LoraConfig(r=a.rank, lora_alpha=16, target_modules=["q", "v"], lora_dropout=0.0))
opt = torch.optim.AdamW([p for p in lora.parameters() if p.requires_grad], lr=1e-4)


def step():
    opt.zero_grad()
    loss = lora(input_ids=ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    opt.step()


train = timed(step)
print(json.dumps({"forward": tokens / fwd, "train": tokens / train, "threads": torch.get_num_threads(),
                  "versions": f"{torch.__version__} / transformers {transformers.__version__} / peft {peft.__version__}"}))
