"""PyTorch peer of the hypernet benchmark (bench/hypernet.bench.ts); benchmark only, never a test dependency.

The same work as `generateAdapter` at the same shapes: a random T5 encoder (transformers' T5EncoderModel) reads
the instruction, masked mean pooling, then the TAGI generator (input projection + per-module embedding
projection, ReLU, A and B heads) emits A [r, in] and B [out, r] for every target module.

Protocol (so the Node side can interleave repetitions with its own): the shape arrives as one JSON line on
stdin; the script answers {"ready": ...} once built, then for every line "run" it runs one adapter generation
and answers {"ms": total, "encode_ms": encoder part}; "quit" (or end of input) exits.
"""
import json
import sys
import time

import torch
from transformers import T5Config, T5EncoderModel


def main() -> None:
    spec = json.loads(sys.stdin.readline())
    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    torch.manual_seed(0)
    cfg = T5Config(
        vocab_size=spec["vocab_size"],
        d_model=spec["d_model"],
        d_kv=spec["d_kv"],
        d_ff=spec["d_ff"],
        num_layers=spec["num_layers"],
        num_heads=spec["num_heads"],
        relative_attention_num_buckets=spec["relative_attention_num_buckets"],
        relative_attention_max_distance=spec["relative_attention_max_distance"],
        feed_forward_proj=spec["feed_forward_proj"],
        dropout_rate=0.0,
        tie_word_embeddings=False,
    )
    encoder = T5EncoderModel(cfg).eval()
    d, hidden, emb_dim, rank = spec["d_model"], spec["hidden_dim"], spec["module_embedding_dim"], spec["rank"]
    modules = spec["modules"]  # [[in, out], ...] per target module, in generator order
    groups = sorted({(i, o) for i, o in modules}, key=[(i, o) for i, o in modules].index)
    input_proj = torch.nn.Linear(d, hidden)
    embed_proj = torch.nn.Linear(emb_dim, hidden, bias=False)
    module_embeddings = torch.randn(len(modules), emb_dim)
    heads = {g: (torch.nn.Linear(hidden, rank * g[0]), torch.nn.Linear(hidden, g[1] * rank)) for g in groups}
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(3, 31000, (1, spec["instruction_length"]), generator=gen)
    ids[0, -1] = 1
    mask = torch.ones_like(ids)

    def generate() -> float:
        t0 = time.perf_counter()
        states = encoder(input_ids=ids, attention_mask=mask).last_hidden_state  # [1, len, d]
        t_enc = time.perf_counter()
        m = mask.unsqueeze(-1).to(states.dtype)
        pooled = (states * m).sum(1) / m.sum(1).clamp(min=1)  # [1, d]
        h = torch.relu(input_proj(pooled) + embed_proj(module_embeddings))  # [modules, H]
        adapters = []
        start = 0
        for g in groups:
            n = sum(1 for x in modules if tuple(x) == g)
            a_head, b_head = heads[g]
            hg = h[start : start + n]
            a = a_head(hg).view(n, rank, g[0])  # [n, r, in]
            b = b_head(hg).view(n, g[1], rank)  # [n, out, r]
            adapters.extend((a[j], b[j]) for j in range(n))
            start += n
        _ = float(adapters[-1][1].sum())  # the result is materialised (as the Node side reads a value back)
        return t_enc - t0

    with torch.inference_mode():
        generate()  # warm-up
        print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "quit":
                break
            t0 = time.perf_counter()
            enc = generate()
            print(json.dumps({"ms": (time.perf_counter() - t0) * 1000, "encode_ms": enc * 1000}), flush=True)


if __name__ == "__main__":
    main()
