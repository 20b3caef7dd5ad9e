"""DARE (Feng et al., ICLR 2025) and TWIN from one class, as in the official code
(thuml/DARE model/din_pytorch.py; reference/algorithms.md section 1):

- every token is [item ; category ; time] embeddings; the time id of history position j of an
  L-long left-padded history is L - j (the most recent behaviour gets 1), the target's is 0;
- DARE keeps two table sets, attention (search) and representation (aggregation), and the
  attention dims may differ from the representation dims; TWIN uses one set for both;
- search score s_j = <q_sem, k_sem_j> / sqrt(d_item + d_cat) + <q_time, k_time_j> / sqrt(d_time)
  over the attention embeddings; top-K; softmax over the K selected; h = sum_j w_j V_R[j];
- features [v_t, h, v_t * h] -> BatchNorm -> 200 -> PReLU -> 80 -> PReLU -> 2; class 0 = click,
  P(click) = softmax(logits)[:, 0];
- training adds the auxiliary head on the full-softmax aggregate (all valid behaviours).

One deliberate difference: the official code selects padding rows when a user has fewer than K
behaviours; here padding is never selected (its weight is 0), and a history with no behaviour
gives h = 0. Parameters are initialised N(0, 0.01) except biases, as the official code does.
"""

import math

import torch
from torch import nn
import torch.nn.functional as F

VARIANTS = ("dare", "twin")
MASKED = -2.0 ** 32 + 1  # the official padding score


class Tables(nn.Module):
    """Item, category and time tables of one role (attention or representation)."""

    def __init__(self, num_items, num_categories, max_len, d_item, d_cat, d_time):
        super().__init__()
        self.item = nn.Embedding(num_items + 1, d_item)
        self.cat = nn.Embedding(num_categories + 1, d_cat)
        self.time = nn.Embedding(max_len + 1, d_time)
        self.d_sem = d_item + d_cat
        self.d_time = d_time

    def tokens(self, items, cats, times):
        return torch.cat([self.item(items), self.cat(cats), self.time(times)], dim=-1)


class DARE(nn.Module):
    def __init__(self, num_items, num_categories, max_len=200, variant="dare", d_item=16,
                 d_cat=16, d_time=16, att_item=0, att_cat=0, att_time=0, top_k=20):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}")
        att_item, att_cat, att_time = att_item or d_item, att_cat or d_cat, att_time or d_time
        if variant == "twin" and (att_item, att_cat, att_time) != (d_item, d_cat, d_time):
            raise ValueError("twin shares one table set: attention dims must equal the others")
        self.repr = Tables(num_items, num_categories, max_len, d_item, d_cat, d_time)
        self.att = (Tables(num_items, num_categories, max_len, att_item, att_cat, att_time)
                    if variant == "dare" else None)
        d_r = d_item + d_cat + d_time
        self.mlp = nn.Sequential(nn.BatchNorm1d(3 * d_r), nn.Linear(3 * d_r, 200),
                                 nn.PReLU(init=0.1), nn.Linear(200, 80), nn.PReLU(init=0.1),
                                 nn.Linear(80, 2))
        self.aux = nn.Sequential(nn.BatchNorm1d(3 * d_r), nn.Linear(3 * d_r, 200),
                                 nn.PReLU(init=0.1), nn.Linear(200, 2))
        self.top_k = top_k
        self.max_len = max_len
        self.config = dict(architecture="dare", variant=variant, num_items=num_items,
                           num_categories=num_categories, max_len=max_len, d_item=d_item,
                           d_cat=d_cat, d_time=d_time, att_item=att_item, att_cat=att_cat,
                           att_time=att_time, top_k=top_k, batch_norm_eps=1e-5, padding_id=0)
        for p in self.parameters():
            if p.dim() > 1:  # tables and Linear weights; not biases, BatchNorm or PReLU
                nn.init.normal_(p, 0.0, 0.01)

    def attention_tables(self):
        return self.att if self.att is not None else self.repr

    def search(self, items, cats, hist_items, hist_cats):
        """Search scores [B, L] (padding = MASKED), the valid mask, and the time ids."""
        length = hist_items.shape[1]
        if length > self.max_len:
            raise ValueError(f"history length {length} exceeds max_len {self.max_len}")
        valid = hist_items > 0
        times = (length - torch.arange(length, device=hist_items.device)).expand_as(hist_items)
        att = self.attention_tables()
        q = att.tokens(items, cats, torch.zeros_like(items))
        k = att.tokens(hist_items, hist_cats, times)
        ds = att.d_sem
        sem = (k[..., :ds] * q[:, None, :ds]).sum(-1) / math.sqrt(ds)
        tim = (k[..., ds:] * q[:, None, ds:]).sum(-1) / math.sqrt(att.d_time)
        return (sem + tim).masked_fill(~valid, MASKED), valid, times

    def retrieve(self, items, cats, hist_items, hist_cats):
        """Top-K positions [B, K'] (K' = min(K, L)) and their weights (0 for padding)."""
        scores, valid, _ = self.search(items, cats, hist_items, hist_cats)
        k = min(self.top_k, scores.shape[1])
        top, idx = scores.topk(k, dim=1)
        picked = valid.gather(1, idx)
        logits = top.masked_fill(~picked, float("-inf"))
        weights = torch.softmax(logits, dim=1).nan_to_num(0.0)  # no valid behaviour: all 0
        return idx, weights

    def features(self, items, cats, hist_items, hist_cats):
        idx, weights = self.retrieve(items, cats, hist_items, hist_cats)
        length = hist_items.shape[1]
        times = (length - torch.arange(length, device=hist_items.device)).expand_as(hist_items)
        v_t = self.repr.tokens(items, cats, torch.zeros_like(items))
        sel = lambda t: t.gather(1, idx)
        v = self.repr.tokens(sel(hist_items), sel(hist_cats), sel(times))
        h = (weights[..., None] * v).sum(1)
        return torch.cat([v_t, h, v_t * h], dim=-1)

    def score_one_user(self, items, cats, hist_items, hist_cats):
        """P(click) [C] of C candidates against one unpadded history [L] (items, cats: [C];
        hist_*: [L]), computing the history's tokens once and the scores as one [C, L] matrix
        product: the serving path, equal to click_probability on the history repeated C
        times. L = 0 is allowed."""
        length = hist_items.shape[0]
        if length > self.max_len:
            raise ValueError(f"history length {length} exceeds max_len {self.max_len}")
        times = length - torch.arange(length)
        att = self.attention_tables()
        q = att.tokens(items, cats, torch.zeros_like(items))
        k = att.tokens(hist_items, hist_cats, times)
        ds = att.d_sem
        scores = (q[:, :ds] @ k[:, :ds].T) / math.sqrt(ds) + (q[:, ds:] @ k[:, ds:].T) / math.sqrt(att.d_time)
        v_t = self.repr.tokens(items, cats, torch.zeros_like(items))
        if length == 0:
            h = torch.zeros_like(v_t)
        else:
            top, idx = scores.topk(min(self.top_k, length), dim=1)
            w = torch.softmax(top, dim=1)
            v = self.repr.tokens(hist_items, hist_cats, times)
            h = (w[..., None] * v[idx]).sum(1)
        logits = self.mlp(torch.cat([v_t, h, v_t * h], dim=-1))
        return torch.softmax(logits, dim=1)[:, 0]

    def forward(self, items, cats, hist_items, hist_cats):
        """Logits [B, 2]; class 0 = click."""
        return self.mlp(self.features(items, cats, hist_items, hist_cats))

    def click_probability(self, items, cats, hist_items, hist_cats):
        return torch.softmax(self.forward(items, cats, hist_items, hist_cats), dim=1)[:, 0]

    def loss(self, items, cats, hist_items, hist_cats, clicked):
        """Cross-entropy of the main head plus the auxiliary head on the full-softmax aggregate
        (official -use_aux_loss). clicked: [B] 1 for a click, 0 otherwise."""
        target = (1 - clicked).long()  # class 0 = click
        main = F.cross_entropy(self.forward(items, cats, hist_items, hist_cats), target)
        scores, valid, times = self.search(items, cats, hist_items, hist_cats)
        w = torch.softmax(scores, dim=1) * valid
        v_t = self.repr.tokens(items, cats, torch.zeros_like(items))
        h = (w[..., None] * self.repr.tokens(hist_items, hist_cats, times)).sum(1)
        aux = F.cross_entropy(self.aux(torch.cat([v_t, h, v_t * h], dim=-1)), target)
        return main + aux
