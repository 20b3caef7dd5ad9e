"""CTR samples for DARE / TWIN: a target item and the user's behaviour history before it.

- MovieLens-100K (`u.data` + `u.item`), as DARE's preprocessing treats Taobao: every rating is
  a click, ordered by time; the category of a movie is its first genre; each click at position
  t >= min_history is a positive sample with the history of the t clicks before it, and
  `negatives` samples share that history with a target drawn in proportion to item popularity
  from items the user never rated. Split per user by time: the last `test_clicks` clicks'
  samples are test, the `valid_clicks` before them validation, the rest train.
- A synthetic generator of long histories with planted relevant behaviours: items belong to
  hidden topics (independent of their categories); a positive sample's history holds `planted`
  items of the target's topic among background items of other topics, a negative's holds
  none. A model that predicts clicks must find the planted behaviours, so search quality is
  the recall of planted positions among the top K.

Ids: items 1..num_items, categories 1..num_categories; 0 is padding for both."""

import collections
import os

import numpy as np


class Samples:
    """Parallel arrays of one split. History of sample i = histories[i] (item ids, oldest
    first); its categories are category[histories[i]]."""

    def __init__(self, items, labels, histories, planted=None):
        self.items = np.asarray(items, dtype=np.int64)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.histories = histories
        self.planted = planted  # synthetic only: planted positions per sample

    def __len__(self):
        return len(self.items)


class CtrData:
    def __init__(self, num_items, category, train, valid, test, item_ids=None):
        self.num_items = num_items
        self.category = np.asarray(category, dtype=np.int64)  # [num_items + 1]
        self.num_categories = int(self.category.max())
        self.train, self.valid, self.test = train, valid, test
        self.item_ids = item_ids if item_ids is not None else list(range(num_items + 1))


def batch(data, split, index, max_len):
    """Tensors-to-be for samples `index`: items, cats, left-padded histories [B, L] with
    L = the longest history in the batch (at most max_len, most recent kept), labels."""
    histories = [split.histories[i][-max_len:] for i in index]
    length = max(1, max(len(h) for h in histories))
    hist = np.zeros((len(index), length), dtype=np.int64)
    for row, h in enumerate(histories):
        if len(h):
            hist[row, length - len(h):] = h
    items = split.items[index]
    return items, data.category[items], hist, data.category[hist], split.labels[index]


def movielens(directory, negatives=2, min_history=5, test_clicks=2, valid_clicks=1, seed=0):
    rng = np.random.default_rng(seed)
    category = [0]
    with open(os.path.join(directory, "u.item"), encoding="latin-1") as f:
        for line in f:
            fields = line.rstrip("\n").split("|")
            flags = [int(x) for x in fields[5:24]]
            first = flags.index(1) if 1 in flags else 0
            category.append(first + 1)  # genre 0 ("unknown") becomes category 1
    num_items = len(category) - 1
    by_user = collections.defaultdict(list)
    with open(os.path.join(directory, "u.data"), encoding="latin-1") as f:
        for line in f:
            user, item, _, ts = (int(x) for x in line.split())
            by_user[user].append((ts, item))
    counts = np.zeros(num_items + 1)
    for events in by_user.values():
        for _, item in events:
            counts[item] += 1
    # Negatives come from a pre-drawn popularity sample (one draw per call is slow).
    pool = rng.choice(num_items + 1, size=1 << 20, p=counts / counts.sum())
    drawn_so_far = 0
    splits = {"train": ([], [], []), "valid": ([], [], []), "test": ([], [], [])}
    for user in sorted(by_user):
        seq = [item for _, item in sorted(by_user[user])]
        rated = set(seq)
        for t in range(min_history, len(seq)):
            from_end = len(seq) - t
            name = ("test" if from_end <= test_clicks else
                    "valid" if from_end <= test_clicks + valid_clicks else "train")
            items, labels, histories = splits[name]
            history = np.asarray(seq[:t], dtype=np.int64)
            items.append(seq[t])
            labels.append(1)
            histories.append(history)
            drawn = 0
            while drawn < negatives:
                negative = int(pool[drawn_so_far % len(pool)])
                drawn_so_far += 1
                if negative not in rated:
                    items.append(negative)
                    labels.append(0)
                    histories.append(history)
                    drawn += 1
    return CtrData(num_items, category, *(Samples(*splits[n]) for n in ("train", "valid", "test")))


def synthetic(samples=20000, lengths=(20, 200), num_items=500, num_categories=20, topics=20,
              planted=8, seed=0, sample_seed=None, splits=(0.8, 0.1, 0.1)):
    """lengths: (shortest, longest) history, drawn log-uniformly per sample. The catalogue
    (topics, categories) comes from `seed`, the samples from `sample_seed` (default seed + 1):
    longer histories over the same catalogue for a trained model are synthetic(seed=s,
    sample_seed=other, lengths=(10**4, 10**4))."""
    catalogue = np.random.default_rng(seed)
    topic = catalogue.integers(0, topics, size=num_items + 1)
    category = np.concatenate([[0], catalogue.integers(1, num_categories + 1, size=num_items)])
    rng = np.random.default_rng(seed + 1 if sample_seed is None else sample_seed)
    by_topic = [np.flatnonzero(topic[1:] == k) + 1 for k in range(topics)]
    items, labels, histories, planted_at = [], [], [], []
    lo, hi = np.log(lengths[0]), np.log(lengths[1])
    for _ in range(samples):
        length = int(round(np.exp(rng.uniform(lo, hi))))
        target = int(rng.integers(1, num_items + 1))
        background = np.flatnonzero(topic[1:] != topic[target]) + 1
        history = rng.choice(background, size=length)
        clicked = int(rng.random() < 0.5)
        where = np.array([], dtype=np.int64)
        if clicked:
            where = np.sort(rng.choice(length, size=min(planted, length), replace=False))
            history[where] = rng.choice(by_topic[topic[target]], size=len(where))
        items.append(target)
        labels.append(clicked)
        histories.append(history)
        planted_at.append(where)
    cut1 = int(splits[0] * samples)
    cut2 = int((splits[0] + splits[1]) * samples)
    parts = [slice(0, cut1), slice(cut1, cut2), slice(cut2, samples)]
    return CtrData(num_items, category, *(Samples(items[p], labels[p], histories[p],
                                                  planted_at[p]) for p in parts))


def auc(labels, scores):
    """Area under the ROC curve (ties count one half)."""
    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    positives = labels == 1
    n_pos, n_neg = positives.sum(), (~positives).sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs both classes")
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
