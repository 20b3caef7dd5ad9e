"""Sequential-recommendation data: `user item` interaction files (one line per interaction,
grouped by user in time order, as SASRec's and BERT4Rec's data), the leave-one-out split, and a
synthetic dataset with planted structure for tests and the README's demo models."""

import collections

import numpy as np


class Interactions:
    """Per-user item sequences with items re-indexed 1..num_items (0 is padding).

    item_ids[i] is the original id of internal item i (item_ids[0] = 0 for padding)."""

    def __init__(self, sequences, item_ids):
        self.sequences = sequences  # list of lists of internal ids, oldest first
        self.item_ids = item_ids
        self.num_items = len(item_ids) - 1

    def split(self):
        """Leave-one-out: train = all but the last two, valid = second last, test = last.
        Users with fewer than 3 interactions are all train (no valid/test)."""
        return LeaveOneOut(self)

    def popularity(self):
        """Interaction count per internal item id (index 0 = 0)."""
        counts = np.zeros(self.num_items + 1, dtype=np.int64)
        for seq in self.sequences:
            np.add.at(counts, np.asarray(seq, dtype=np.int64), 1)
        return counts


class LeaveOneOut:
    def __init__(self, data):
        self.num_items = data.num_items
        self.train, self.valid, self.test = [], [], []
        for seq in data.sequences:
            if len(seq) < 3:
                self.train.append(list(seq))
                self.valid.append(None)
                self.test.append(None)
            else:
                self.train.append(list(seq[:-2]))
                self.valid.append(seq[-2])
                self.test.append(seq[-1])


def load(path):
    """Reads a `user item` file. Items keep their order of first appearance as internal ids
    when the file's ids are not already 1..N; users keep file order."""
    by_user = collections.OrderedDict()
    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 2:
                raise ValueError(f"{path}:{line_number}: expected 'user item'")
            by_user.setdefault(parts[0], []).append(int(parts[1]))
    raw_items = sorted({i for seq in by_user.values() for i in seq})
    if raw_items == list(range(1, len(raw_items) + 1)):
        mapping = {i: i for i in raw_items}
        item_ids = [0] + raw_items
    else:
        mapping = {raw: idx + 1 for idx, raw in enumerate(raw_items)}
        item_ids = [0] + raw_items
    sequences = [[mapping[i] for i in seq] for seq in by_user.values()]
    return Interactions(sequences, item_ids)


def synthetic(num_users=600, num_items=200, min_len=6, max_len=30, chains=8, noise=0.1, seed=0):
    """Users walk along one of `chains` random item cycles (the next item is the cycle's next
    with probability 1 - noise, else a random item): a model that learns the transitions ranks
    the held-out item near the top, a popularity baseline does not."""
    rng = np.random.default_rng(seed)
    cycles = np.array_split(rng.permutation(np.arange(1, num_items + 1)), chains)
    successor = {}
    for cycle in cycles:
        for a, b in zip(cycle, np.roll(cycle, -1)):
            successor[int(a)] = int(b)
    sequences = []
    for _ in range(num_users):
        length = int(rng.integers(min_len, max_len + 1))
        item = int(rng.integers(1, num_items + 1))
        seq = [item]
        while len(seq) < length:
            item = successor[item] if rng.random() > noise else int(rng.integers(1, num_items + 1))
            seq.append(item)
        sequences.append(seq)
    return Interactions(sequences, list(range(num_items + 1)))


def save(data, path):
    """Writes a `user item` file (users numbered from 1, original item ids)."""
    with open(path, "w", encoding="utf-8") as f:
        for user, seq in enumerate(data.sequences, 1):
            for item in seq:
                f.write(f"{user} {data.item_ids[item]}\n")


def left_padded(seq, length):
    """The last `length` items of seq, left-padded with 0 (SASRec's input)."""
    seq = list(seq)[-length:]
    return [0] * (length - len(seq)) + seq


def right_padded(seq, length):
    """The first `length` items of seq, right-padded with 0 (BERT4Rec's input)."""
    seq = list(seq)[:length]
    return seq + [0] * (length - len(seq))
