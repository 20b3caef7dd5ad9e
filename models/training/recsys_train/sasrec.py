"""SASRec (Kang & McAuley, ICDM'18) as in the official TensorFlow code (kang205/SASRec
model.py / modules.py; reference/algorithms.md section 2.1):

- input left-padded with 0, the most recent item last; E = item_emb[seq] * sqrt(d) + P[0..L-1];
  padding positions zeroed;
- block "original": Q_in = LN(x); attention with Q = W_q Q_in, K = W_k x, V = W_v x (x not
  normalised), causal and key-padding masks, no output projection; x = attn + Q_in; then
  f = LN(x); x = FFN(f) + f (Dense+ReLU, Dense); x *= mask. Options "pre_ln" and "post_ln" are
  the textbook layouts (still without an output projection);
- final LN; LayerNorm eps 1e-8 everywhere;
- score(i) = h_L . item_emb[i] with the same (unscaled) item table.
"""

import math

import torch
from torch import nn
import torch.nn.functional as F

BLOCKS = ("original", "pre_ln", "post_ln")


class SASRecBlock(nn.Module):
    def __init__(self, d, heads, dropout, layout, eps):
        super().__init__()
        self.layout = layout
        self.heads = heads
        self.attn_ln = nn.LayerNorm(d, eps=eps)
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.ffn_ln = nn.LayerNorm(d, eps=eps)
        self.ffn1 = nn.Linear(d, d)
        self.ffn2 = nn.Linear(d, d)
        self.dropout = nn.Dropout(dropout)

    def attention(self, q_in, kv_in, valid):
        b, l, d = q_in.shape
        h = self.heads

        def split(t):
            return t.view(b, l, h, d // h).transpose(1, 2)  # [B, h, L, d/h]

        q, k, v = split(self.q(q_in)), split(self.k(kv_in)), split(self.v(kv_in))
        logits = q @ k.transpose(-1, -2) / math.sqrt(d / h)
        causal = torch.ones(l, l, dtype=torch.bool, device=q_in.device).tril()
        allowed = causal[None, None] & valid[:, None, None, :]
        logits = logits.masked_fill(~allowed, float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        probs = torch.nan_to_num(probs, nan=0.0)  # a query that sees no key attends to nothing
        probs = self.dropout(probs)
        out = (probs @ v).transpose(1, 2).reshape(b, l, d)
        return out * valid[..., None]  # query mask

    def ffn(self, x):
        return self.dropout(self.ffn2(self.dropout(F.relu(self.ffn1(x)))))

    def forward(self, x, valid):
        if self.layout == "original":
            q_in = self.attn_ln(x)
            x = self.attention(q_in, x, valid) + q_in
            f = self.ffn_ln(x)
            x = self.ffn(f) + f
        elif self.layout == "pre_ln":
            h = self.attn_ln(x)
            x = x + self.attention(h, h, valid)
            x = x + self.ffn(self.ffn_ln(x))
        else:  # post_ln
            x = self.attn_ln(x + self.attention(x, x, valid))
            x = self.ffn_ln(x + self.ffn(x))
        return x * valid[..., None]


class SASRec(nn.Module):
    def __init__(self, num_items, max_len=50, hidden=50, blocks=2, heads=1, dropout=0.2,
                 layout="original", eps=1e-8):
        super().__init__()
        if layout not in BLOCKS:
            raise ValueError(f"layout must be one of {BLOCKS}")
        if hidden % heads:
            raise ValueError("hidden must be a multiple of heads")
        self.config = dict(architecture="sasrec", num_items=num_items, max_len=max_len,
                           hidden=hidden, blocks=blocks, heads=heads, dropout=dropout,
                           layout=layout, layer_norm_eps=eps, padding_id=0)
        self.hidden = hidden
        self.item_emb = nn.Embedding(num_items + 1, hidden, padding_idx=0)
        self.pos_emb = nn.Embedding(max_len, hidden)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            SASRecBlock(hidden, heads, dropout, layout, eps) for _ in range(blocks))
        self.final_ln = nn.LayerNorm(hidden, eps=eps)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_normal_(p)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()

    def forward(self, seq):
        """seq: [B, L] left-padded item ids -> hidden states [B, L, d]."""
        valid = seq != 0
        positions = torch.arange(seq.shape[1], device=seq.device)
        x = self.item_emb(seq) * math.sqrt(self.hidden) + self.pos_emb(positions)[None]
        x = self.dropout(x) * valid[..., None]
        for block in self.blocks:
            x = block(x, valid)
        return self.final_ln(x)

    def user_vectors(self, seq):
        """The representation that scores the next item: the last position's hidden state."""
        return self.forward(seq)[:, -1]

    def score(self, seq, candidates):
        """candidates: [B, C] item ids -> [B, C] logits."""
        u = self.user_vectors(seq)
        return (self.item_emb(candidates) * u[:, None]).sum(-1)

    def score_all(self, seq):
        """[B, num_items + 1] logits over the whole catalogue (column 0 is padding)."""
        return self.user_vectors(seq) @ self.item_emb.weight.T

    def loss(self, seq, pos, neg, kind="bce"):
        """Training loss at every non-padded position. bce: the official binary cross-entropy
        with one sampled negative per position; ce: full-softmax cross-entropy."""
        h = self.forward(seq)
        valid = pos != 0
        if kind == "ce":
            # Only non-padded positions: short histories leave most of max_len as padding.
            logits = h[valid] @ self.item_emb.weight.T
            return F.cross_entropy(logits, pos[valid])
        pos_logits = (h * self.item_emb(pos)).sum(-1)
        neg_logits = (h * self.item_emb(neg)).sum(-1)
        loss = F.binary_cross_entropy_with_logits(pos_logits[valid], torch.ones_like(pos_logits[valid]))
        loss = loss + F.binary_cross_entropy_with_logits(neg_logits[valid],
                                                         torch.zeros_like(neg_logits[valid]))
        return loss
