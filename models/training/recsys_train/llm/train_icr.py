"""A small Llama the project trains to copy, so that its attention re-ranks (ICR needs heads
that attend from the query to the document tokens matching it: induction / copying heads).
No pretrained weights and no relevance labels: the model learns next-character prediction on
synthetic ICR-shaped prompts (the paper's plain prompt around pseudo-word documents) whose
query is, most of the time, a run of words copied from one of the documents, mixed with
texts followed by their own repeat; predicting the copies is what makes the heads look back
at the source.

The demo re-ranking model of scripts/run.sh (scripts/demo-models.sh) is this, written as an
ICR model version: <out>/config.json and <out>/model.gguf (f32, a character vocabulary with
byte fall-back, through to_gguf / gguf-py). It prints the copy accuracy on held-out prompts
and, through icr_reference (the paper's scoring on the PyTorch reference), how often the
source document ranks first.

    /usr/bin/python3 -m recsys_train.llm.train_icr --out=DIR [--steps=800] [--seed=0]
"""

import argparse
import json
import math
import os
import random
import time

import torch
import torch.nn.functional as F

from . import icr_reference, reference, to_gguf

SPM_SPACE = "\u2581"
LATE = "Please answer the following question based on the information in the paragraphs above."
PRINTABLE = [chr(c) for c in range(0x21, 0x7F)]


def char_vocab():
    """SentencePiece-style: <unk> <s> </s>, 256 byte tokens, then the space mark and every
    printable ASCII character as one-character pieces (no merges: one token per character)."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    for piece in [SPM_SPACE] + PRINTABLE:
        tokens.append(piece)
        types.append(1)
    scores = [0.0] * len(tokens)
    return tokens, scores, types


class CharTokenizer:
    """What the C++ tokenizer does with char_vocab(): BOS, a space prefix, one token per
    character, UTF-8 bytes for anything else."""

    def __init__(self):
        tokens, _, _ = char_vocab()
        self.ids = {t: i for i, t in enumerate(tokens)}
        self.size = len(tokens)

    def encode(self, text, bos=True):
        out = [1] if bos else []
        for ch in (" " + text).replace(" ", SPM_SPACE):
            if ch in self.ids:
                out.append(self.ids[ch])
            else:
                out.extend(3 + b for b in ch.encode("utf-8"))
        return out


def pseudo_words(rng, count):
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"]
    words = set()
    while len(words) < count:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(1, 3))))
    return sorted(words)


def synthetic_prompt(rng, words, documents=(3, 5)):
    """(text, index of the source document or -1, document texts)."""
    docs = []
    for _ in range(rng.randint(*documents)):
        title = rng.choice(words).capitalize()
        text = " ".join(rng.choice(words) for _ in range(rng.randint(6, 12))) + "."
        docs.append(title + "\n" + text)
    source = rng.randrange(len(docs)) if rng.random() < 0.8 else -1
    if source >= 0:
        body = docs[source].split("\n")[1].rstrip(".").split(" ")
        n = rng.randint(2, 4)
        start = rng.randrange(len(body) - n + 1)
        query = " ".join(body[start:start + n])
    else:
        query = " ".join(rng.choice(words) for _ in range(rng.randint(2, 4)))
    text = " Here are some paragraphs:" + "".join(
        f"\n\n[{i + 1}] {d}" for i, d in enumerate(docs)) + f"\n\n{LATE}\n\nQuery: {query}"
    return text, source, docs


def train_forward(cfg, w, ids):
    """ids [B, T] -> logits [B, T, V]: reference.forward's computation, batched, with grads."""
    B, T = ids.shape
    d, H, Hkv = cfg.head_dim, cfg.heads, cfg.kv_heads
    positions = torch.arange(T)
    causal = torch.full((T, T), float("-inf")).triu(1)
    x = w["embed"][ids]
    for i in range(cfg.layers):
        p = lambda name: w[f"layers.{i}.{name}"]  # noqa: E731
        h = reference.rms_norm(x, p("input_norm"), cfg.rms_eps)
        q = reference.apply_rope((h @ p("q").T).view(B, T, H, d), positions, cfg)
        k = reference.apply_rope((h @ p("k").T).view(B, T, Hkv, d), positions, cfg)
        v = (h @ p("v").T).view(B, T, Hkv, d)
        k, v = k.repeat_interleave(H // Hkv, dim=2), v.repeat_interleave(H // Hkv, dim=2)
        scores = torch.einsum("bthd,bshd->bhts", q, k) / math.sqrt(d) + causal
        a = torch.einsum("bhts,bshd->bthd", scores.softmax(-1), v)
        x = x + a.reshape(B, T, H * d) @ p("o").T
        h = reference.rms_norm(x, p("post_norm"), cfg.rms_eps)
        x = x + (F.silu(h @ p("gate").T) * (h @ p("up").T)) @ p("down").T
    x = reference.rms_norm(x, w["norm"], cfg.rms_eps)
    return x @ (w["embed"] if cfg.tied else w["output"]).T


def repeated_text(rng, words):
    """Pseudo-word text, then the same text again: all of its second half is predictable by
    copying alone, which is what makes induction heads form quickly."""
    text = " ".join(rng.choice(words) for _ in range(rng.randint(10, 30)))
    return f"{text}\n\n{text}"


def batch(rng, words, tok, size, repeat_fraction=0.5):
    seqs = [tok.encode(repeated_text(rng, words) if rng.random() < repeat_fraction
                       else synthetic_prompt(rng, words)[0]) for _ in range(size)]
    T = max(len(s) for s in seqs)
    ids = torch.full((size, T), 2, dtype=torch.long)  # </s> pads; masked out of the loss
    mask = torch.zeros((size, T), dtype=torch.bool)
    for b, s in enumerate(seqs):
        ids[b, :len(s)] = torch.tensor(s)
        mask[b, :len(s)] = True
    return ids, mask


def evaluate(cfg, w, tok, words, prompts=40, seed=10_000):
    """Copy accuracy on the query's characters after its first word, and how often ICR
    (calibrated, on the reference) ranks the source document first."""
    rng = random.Random(seed)
    copied = total = top1 = sourced = 0
    with torch.no_grad():
        for _ in range(prompts):
            text, source, docs = synthetic_prompt(rng, words)
            if source < 0:
                continue
            ids = tok.encode(text)
            query_at = len(tok.encode(text[:text.rindex("Query: ") + len("Query: ")])) - 1
            first_space = text.index(" ", text.rindex("Query: ") + len("Query: "))
            copy_from = len(tok.encode(text[:first_space]))
            logits = train_forward(cfg, w, torch.tensor([ids]))[0]
            pred = logits[copy_from - 1:-1].argmax(-1)
            copied += int((pred == torch.tensor(ids[copy_from:])).sum())
            total += len(ids) - copy_from
            # ICR over the same prompt, built token by token as the C++ prompt builder does.
            # The prefix ends with the separator before the late instruction.
            prefix = ids[:query_at - len(tok.encode(f"{LATE}\n\nQuery: ", bos=False)) + 2]
            spans, at = [], len(tok.encode(" Here are some paragraphs:"))
            for i, d in enumerate(docs):
                at += len(tok.encode("\n\n", bos=False)) - 1
                n = len(tok.encode(f"[{i + 1}] {d}", bos=False)) - 1
                spans.append((at, at + n))
                at += n
            tail = ids[len(prefix):]
            na_tail = tail[:len(tail) - (len(ids) - query_at - 1)] + tok.encode(
                "N/A", bos=False)[1:]
            s = icr_reference.score(cfg, w, prefix, tail, na_tail, spans,
                                    tuple(range(cfg.layers)))
            top1 += int(max(range(len(docs)), key=lambda i: s["calibrated"][i]) == source)
            sourced += 1
    return copied / max(total, 1), top1 / max(sourced, 1), sourced


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--data", default="synthetic", choices=["synthetic"])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval_prompts", type=int, default=40)
    parser.add_argument("--repeat_fraction", type=float, default=0.5,
                        help="share of training sequences that are a text and its repeat")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    rng = random.Random(args.seed)
    tok = CharTokenizer()
    words = pseudo_words(random.Random(1), 400)
    cfg = reference.Config(arch="llama", vocab_size=tok.size, hidden=args.hidden,
                           intermediate=args.hidden * 3, layers=args.layers, heads=args.heads,
                           kv_heads=args.heads, rope_theta=10000.0, context_length=8192,
                           tied=True)
    w = reference.random_weights(cfg, seed=args.seed)
    for key in w:
        if key == "embed":
            w[key] = w[key] * 0.1
        w[key].requires_grad_(True)
    opt = torch.optim.AdamW(list(w.values()), lr=args.lr, weight_decay=0.01)
    start = time.time()
    for step in range(1, args.steps + 1):
        lr = args.lr * min(1.0, step / 100) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        ids, mask = batch(rng, words, tok, args.batch, args.repeat_fraction)
        logits = train_forward(cfg, w, ids)
        loss = F.cross_entropy(logits[:, :-1][mask[:, 1:]], ids[:, 1:][mask[:, 1:]])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(w.values()), 1.0)
        opt.step()
        if step % 100 == 0 or step == args.steps:
            print(f"step {step} loss {loss.item():.3f} ({time.time() - start:.0f} s)", flush=True)
    weights = {k: v.detach() for k, v in w.items()}
    copy, top1, n = evaluate(cfg, weights, tok, words, prompts=args.eval_prompts)
    print(f"held-out prompts: copy accuracy {copy:.3f}, ICR ranks the source first in "
          f"{top1:.2f} of {n} (chance about 0.22)")
    os.makedirs(args.out, exist_ok=True)
    to_gguf.write(os.path.join(args.out, "model.gguf"), cfg, weights, "f32", vocab=char_vocab())
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump({"architecture": "icr", "checkpoint": "model.gguf", "prompt": "plain",
                   "instruction": "qa", "document_order": "reversed",
                   "trained": {"steps": args.steps, "copy_accuracy": round(copy, 4),
                               "synthetic_top1": round(top1, 4)}}, f, indent=1)


if __name__ == "__main__":
    main()
