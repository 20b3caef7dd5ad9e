"""ICR's scoring (Chen et al., ICLR 2025), written from the paper's code
(OSU-NLP-Group/In-Context-Reranking, src/in_context_reranker.py: score_documents and the
'masked_NA_calibration' / 'query_last' strategies) on the PyTorch reference decoder, as the
independent check of the C++ path (models/icr): full forward passes with materialised
attention maps, no KV-cache reuse.

    a(t)   = attention from the query span (late instruction to the end) to prompt token t,
             averaged over the span's tokens, summed over the chosen layers and all heads
    c(t)   = a_Q(t) - a_NA(t)            (pass 1: the query "N/A"; pass 2: the real query)
    keep   = c(t) > mean(c) - 2 std(c)   (per document, torch's unbiased std)
    score  = sum over kept tokens of c(t)       (query-only: the sum of a_Q(t))
"""

import torch

from . import reference


def masses(cfg, weights, prefix, tail, layers):
    """a(t) for the prefix's tokens, from one full pass over prefix + tail."""
    ids = list(prefix) + list(tail)
    out = reference.forward(cfg, weights, ids)
    p = len(prefix)
    return reference.attention_mass(out["probs"], layers, p, len(ids))[:p]


def calibrated(a_q, a_na, spans):
    scores = []
    for begin, end in spans:
        c = a_q[begin:end] - a_na[begin:end]
        threshold = c.mean() - 2 * c.std()
        keep = c > threshold
        scores.append(float((a_q[begin:end] * keep - a_na[begin:end] * keep).sum()))
    return scores


def query_only(a_q, spans):
    return [float(a_q[begin:end].sum()) for begin, end in spans]


def score(cfg, weights, prefix, query_tail, na_tail, spans, layers):
    """dict: calibrated and query-only scores, and the per-document sums of a_Q and a_NA."""
    a_q = masses(cfg, weights, prefix, query_tail, layers)
    a_na = masses(cfg, weights, prefix, na_tail, layers)
    return {
        "calibrated": calibrated(a_q, a_na, spans),
        "query_only": query_only(a_q, spans),
        "query_mass": [float(a_q[b:e].sum()) for b, e in spans],
        "na_mass": [float(a_na[b:e].sum()) for b, e in spans],
    }


def example_prompt(vocab_size, seed=5, documents=5):
    """A token-level prompt in ICR's shape with documents of different lengths: a head, then
    documents separated by a separator token, then the separator before the tails."""
    g = torch.Generator().manual_seed(seed)
    rand = lambda n: torch.randint(3, vocab_size, (n,), generator=g).tolist()  # noqa: E731
    prefix, spans = [1] + rand(6), []
    for d in range(documents):
        prefix += [13]
        begin = len(prefix)
        prefix += rand(4 + 3 * d)
        spans.append((begin, len(prefix)))
    prefix += [13]
    late = rand(7)
    return prefix, late + rand(5) + [2], late + rand(2) + [2], spans
