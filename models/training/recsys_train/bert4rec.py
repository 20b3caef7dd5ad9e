"""BERT4Rec (Sun et al., CIKM'19) as in the official TensorFlow code (FeiSun/BERT4Rec
modeling.py; reference/algorithms.md section 3.1): a post-LN BERT encoder.

- vocabulary: 0 = padding, items 1..N, N + 1 = [MASK];
- input right-padded; at inference the last real slot holds [MASK];
- emb = word[ids] + token_type[0] + pos[0..L-1] -> LayerNorm (eps 1e-12) -> dropout;
- each layer: bidirectional attention over non-padded keys (Q/K/V with bias, output dense)
  -> dropout -> LN(. + x) -> Dense(d -> intermediate) + exact erf GELU -> Dense -> dropout
  -> LN(. + x);
- head at the [MASK] position: Dense(d -> d) + GELU -> LN -> logits = h . word^T + bias
  (the tied input table).
"""

import math

import torch
from torch import nn
import torch.nn.functional as F


class BertLayer(nn.Module):
    def __init__(self, d, heads, intermediate, dropout, eps):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.attn_out = nn.Linear(d, d)
        self.attn_ln = nn.LayerNorm(d, eps=eps)
        self.ffn1 = nn.Linear(d, intermediate)
        self.ffn2 = nn.Linear(intermediate, d)
        self.ffn_ln = nn.LayerNorm(d, eps=eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, valid):
        b, l, d = x.shape
        h = self.heads

        def split(t):
            return t.view(b, l, h, d // h).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        logits = q @ k.transpose(-1, -2) / math.sqrt(d / h)
        logits = logits.masked_fill(~valid[:, None, None, :], float("-inf"))
        probs = torch.nan_to_num(torch.softmax(logits, dim=-1), nan=0.0)
        attn = (self.dropout(probs) @ v).transpose(1, 2).reshape(b, l, d)
        x = self.attn_ln(self.dropout(self.attn_out(attn)) + x)
        ffn = self.ffn2(F.gelu(self.ffn1(x)))  # exact (erf) GELU
        return self.ffn_ln(self.dropout(ffn) + x)


class BERT4Rec(nn.Module):
    def __init__(self, num_items, max_len=50, hidden=64, layers=2, heads=2, intermediate=256,
                 dropout=0.1, eps=1e-12):
        super().__init__()
        self.mask_id = num_items + 1
        self.config = dict(architecture="bert4rec", num_items=num_items, max_len=max_len,
                           hidden=hidden, layers=layers, heads=heads, intermediate=intermediate,
                           dropout=dropout, layer_norm_eps=eps, padding_id=0,
                           mask_id=self.mask_id)
        vocab = num_items + 2
        self.word_emb = nn.Embedding(vocab, hidden, padding_idx=0)
        self.type_emb = nn.Embedding(2, hidden)
        self.pos_emb = nn.Embedding(max_len, hidden)
        self.emb_ln = nn.LayerNorm(hidden, eps=eps)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            BertLayer(hidden, heads, intermediate, dropout, eps) for _ in range(layers))
        self.head = nn.Linear(hidden, hidden)
        self.head_ln = nn.LayerNorm(hidden, eps=eps)
        self.out_bias = nn.Parameter(torch.zeros(vocab))
        for module in self.modules():  # BERT's truncated-normal(0.02) initialisation
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.trunc_normal_(module.weight, std=0.02, a=-0.04, b=0.04)
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def forward(self, ids):
        """ids: [B, L] right-padded -> hidden states [B, L, d]."""
        valid = ids != 0
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_emb(ids) + self.type_emb.weight[0] + self.pos_emb(positions)[None]
        x = self.dropout(self.emb_ln(x))
        for layer in self.layers:
            x = layer(x, valid)
        return x

    def head_vectors(self, hidden):
        return self.head_ln(F.gelu(self.head(hidden)))

    def user_vectors(self, ids):
        """The head output at each sequence's last real slot (the [MASK] at inference)."""
        last = (ids != 0).sum(1) - 1
        hidden = self.forward(ids)
        return self.head_vectors(hidden[torch.arange(ids.shape[0]), last])

    def score(self, ids, candidates):
        u = self.user_vectors(ids)
        return (self.word_emb(candidates) * u[:, None]).sum(-1) + self.out_bias[candidates]

    def score_all(self, ids):
        """[B, vocab] logits (padding and [MASK] columns included, as the official head)."""
        return self.user_vectors(ids) @ self.word_emb.weight.T + self.out_bias

    def loss(self, ids, labels, negatives=None, log_expected=None):
        """Cloze loss: labels holds the original item at masked slots, 0 elsewhere.

        Without negatives, the official softmax over the whole vocabulary. With them, a
        sampled softmax: each target's logit against the batch's shared negatives (drawn with
        replacement), each negative's logit less log(expected draws of that item) and draws
        equal to the target dropped, so that the partition sum tends to the full one over the
        real items (the logQ correction; padding and [MASK] are never drawn) and the loss to
        that softmax's as the draws grow. The output
        layer is where a full-softmax step spends its time (a [masked, d] x [d, vocab]
        product and its gradients), so this is the faster way to many steps on a CPU."""
        hidden = self.forward(ids)
        masked = labels != 0
        h = self.head_vectors(hidden[masked])
        target = labels[masked]
        if negatives is None:
            return F.cross_entropy(h @ self.word_emb.weight.T + self.out_bias, target)
        pos = (h * self.word_emb(target)).sum(-1) + self.out_bias[target]
        neg = h @ self.word_emb(negatives).T + (self.out_bias[negatives]
                                                - log_expected[negatives])
        neg = neg.masked_fill(negatives[None] == target[:, None], float("-inf"))
        logits = torch.cat([pos[:, None], neg], 1)
        return F.cross_entropy(logits, torch.zeros_like(target))
