"""Recomputes the TAGI student from an export in PyTorch (see export-python-check.ts). Prints max |diff| per fusion."""
import json
import sys

import torch
from peft import LoraConfig, PeftModel
from safetensors.torch import load_file
from transformers import T5Config, T5ForConditionalGeneration
from transformers.modeling_outputs import BaseModelOutput

spec = json.load(open(sys.argv[1]))
cfg = json.load(open(spec["base"] + "/config.json"))
for k in ("initializer_factor", "layer_norm_epsilon", "dropout_rate"):  # JS writes 1 for 1.0 (issue 13, t5-model's fix)
    if k in cfg:
        cfg[k] = float(cfg[k])
ids = torch.tensor(spec["inputs"])
mask = torch.tensor(spec["mask"])
dec = torch.tensor(spec["decoder"])
worst = 0.0
for case in spec["cases"]:
    base = T5ForConditionalGeneration.from_pretrained(spec["base"], config=T5Config(**cfg)).eval()
    try:
        model = PeftModel.from_pretrained(base, case["dir"]).eval()
    except AttributeError as e:  # peft's Seq2SeqLM wrapper vs this transformers version; the generic wrapper loads the same weights
        print(f"  PeftModelForSeq2SeqLM failed ({e}); loading with task_type=None")
        conf = LoraConfig.from_pretrained(case["dir"])
        conf.task_type = None
        model = PeftModel.from_pretrained(base, case["dir"], config=conf).eval()
    tagi = json.load(open(case["dir"] + "/tagi_adapter.json"))
    hooks = []
    with torch.no_grad():
        if case["fusion"] == "none":
            logits = model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits
        else:
            f = load_file(case["dir"] + "/tagi_fusion.safetensors")
            I, Im = f["instruction.states"], f["instruction.mask"]
            b = ids.shape[0]
            if case["fusion"] == "cross-attention":
                t5 = model.get_base_model()
                h, dkv, eps = t5.config.num_heads, t5.config.d_kv, t5.config.layer_norm_epsilon

                def make_hook(i):
                    w = {k.split(f"fusion_layers.{i}.")[1]: v for k, v in f.items() if k.startswith(f"fusion_layers.{i}.")}

                    def hook(_module, _args, output):
                        hidden = output[0] if isinstance(output, tuple) else output
                        n = hidden * torch.rsqrt(hidden.pow(2).mean(-1, keepdim=True) + eps) * w["layer_norm.weight"]
                        q = (n @ w["q.weight"].T).view(b, -1, h, dkv).transpose(1, 2)
                        k = (I @ w["k.weight"].T).view(1, -1, h, dkv).transpose(1, 2)
                        v = (I @ w["v.weight"].T).view(1, -1, h, dkv).transpose(1, 2)
                        scores = q @ k.transpose(-1, -2) / dkv**0.5 + ((1 - Im) * -1e9)[:, None, None, :]
                        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, -1, h * dkv)
                        new = hidden + ctx @ w["o.weight"].T
                        return (new, *output[1:]) if isinstance(output, tuple) else new

                    return hook

                hooks = [blk.register_forward_hook(make_hook(i)) for i, blk in enumerate(t5.encoder.block)]
                logits = model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits
            else:  # concat: the README recipe
                enc = model.get_encoder()(input_ids=ids, attention_mask=mask).last_hidden_state
                states = torch.cat([I.expand(b, -1, -1), enc], dim=1)
                full_mask = torch.cat([Im.expand(b, -1).to(mask.dtype), mask], dim=1)
                logits = model(encoder_outputs=BaseModelOutput(last_hidden_state=states), attention_mask=full_mask, decoder_input_ids=dec).logits
    for hk in hooks:
        hk.remove()
    diff = (logits - torch.tensor(case["logits"])).abs().max().item()
    worst = max(worst, diff)
    print(f"{case['fusion']}: peft_reproduces_tagi={tagi['peft_reproduces_tagi']}, max |PyTorch - TAGI-TS| = {diff:.2e}")
sys.exit(0 if worst < 1e-4 else 1)
