"""Tests of the SASRec / BERT4Rec training code: data, split, metrics, model invariants, the
safetensors round trip, export, and that a short training run learns the synthetic data's
planted transitions."""

import os
import tempfile
import unittest

import numpy as np
import torch

from recsys_train import bert4rec, export, safetensors, sasrec, seqdata, seqeval
from recsys_train import train_seqrec


class SafetensorsTest(unittest.TestCase):
    def test_round_trip_keeps_names_shapes_dtypes_and_values(self):
        tensors = {"b": np.arange(6, dtype=np.float32).reshape(2, 3),
                   "a": np.array([1, -2], dtype=np.int64), "s": np.float32(3.5).reshape(())}
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.safetensors")
            safetensors.save(path, tensors, metadata={"k": "v"})
            with open(path, "rb") as f:
                raw = f.read()
            self.assertEqual(int.from_bytes(raw[:8], "little") % 8, 0)  # data 8-byte aligned
            loaded, metadata = safetensors.load(path)
        self.assertEqual(metadata, {"k": "v"})
        self.assertEqual(sorted(loaded), ["a", "b", "s"])
        for name, value in tensors.items():
            np.testing.assert_array_equal(loaded[name], value)
            self.assertEqual(loaded[name].dtype, value.dtype)


class DataTest(unittest.TestCase):
    def test_load_reindexes_sparse_ids_and_split_is_leave_one_out(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.txt")
            with open(path, "w") as f:
                f.write("7 10\n7 30\n7 20\n7 10\n9 30\n9 20\n")
            data = seqdata.load(path)
        self.assertEqual(data.item_ids, [0, 10, 20, 30])
        self.assertEqual(data.sequences, [[1, 3, 2, 1], [3, 2]])
        split = data.split()
        self.assertEqual((split.train[0], split.valid[0], split.test[0]), ([1, 3], 2, 1))
        self.assertEqual((split.train[1], split.valid[1], split.test[1]), ([3, 2], None, None))
        np.testing.assert_array_equal(data.popularity(), [0, 2, 2, 2])

    def test_padding_keeps_the_recent_end(self):
        self.assertEqual(seqdata.left_padded([1, 2, 3], 5), [0, 0, 1, 2, 3])
        self.assertEqual(seqdata.left_padded([1, 2, 3], 2), [2, 3])
        self.assertEqual(seqdata.right_padded([1, 2], 4), [1, 2, 0, 0])
        self.assertEqual(seqeval.model_input("bert4rec", [1, 2, 3, 4], 3, mask_id=9), [3, 4, 9])


class MetricsTest(unittest.TestCase):
    def test_known_ranks(self):
        m = seqeval.metrics_from_ranks([0, 4, 20])
        self.assertAlmostEqual(m["HR@1"], 1 / 3)
        self.assertAlmostEqual(m["HR@5"], 2 / 3)
        self.assertAlmostEqual(m["HR@10"], 2 / 3)
        self.assertAlmostEqual(m["NDCG@10"], (1 + 1 / np.log2(6)) / 3)
        self.assertAlmostEqual(m["MRR"], (1 + 1 / 5 + 1 / 21) / 3)


class ModelTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)

    def test_sasrec_is_causal_and_scores_agree(self):
        for layout in sasrec.BLOCKS:
            model = sasrec.SASRec(30, max_len=8, hidden=16, blocks=2, heads=2, layout=layout).eval()
            seq = torch.tensor([[0, 0, 3, 5, 7, 9, 11, 13]])
            changed = seq.clone()
            changed[0, -1] = 21
            with torch.no_grad():
                h, h2 = model(seq), model(changed)
                torch.testing.assert_close(h[:, :-1], h2[:, :-1])  # the past ignores the future
                self.assertTrue(torch.all(h[0, :2] == 0) or layout != "original")
                cands = torch.tensor([[1, 4, 9, 30]])
                torch.testing.assert_close(model.score(seq, cands),
                                           model.score_all(seq)[:, cands[0]])

    def test_bert4rec_ignores_padding_and_scores_agree(self):
        model = bert4rec.BERT4Rec(30, max_len=8, hidden=16, layers=2, heads=2).eval()
        short = torch.tensor([[3, 5, 7, model.mask_id, 0, 0, 0, 0]])
        with torch.no_grad():
            u = model.user_vectors(short)
            longer = bert4rec.BERT4Rec(30, max_len=12, hidden=16, layers=2, heads=2).eval()
            state = model.state_dict()
            state["pos_emb.weight"] = torch.cat([state["pos_emb.weight"], torch.zeros(4, 16)])
            longer.load_state_dict(state)
            padded = torch.tensor([[3, 5, 7, model.mask_id] + [0] * 8])
            torch.testing.assert_close(longer.user_vectors(padded), u)
            cands = torch.tensor([[1, 4, 9, 30]])
            torch.testing.assert_close(model.score(short, cands),
                                       model.score_all(short)[:, cands[0]])

    def test_bert4rec_sampled_softmax_tends_to_the_full_softmax(self):
        model = bert4rec.BERT4Rec(30, max_len=8, hidden=16, layers=1, heads=2).eval()
        with torch.no_grad():  # logits far from uniform, so a biased estimate would show
            model.word_emb.weight.mul_(40.0)
            model.out_bias.copy_(torch.linspace(-2.0, 2.0, 32))
        ids = torch.tensor([[3, model.mask_id, 7, 0], [model.mask_id, 5, model.mask_id, 9]])
        labels = torch.tensor([[0, 4, 0, 0], [12, 0, 30, 0]])
        split = seqdata.Interactions([[1, 1, 1, 2, 3, 5, 8, 13, 21, 30]], list(range(31))).split()
        # The limit is the softmax over the real items: padding and [MASK] are never drawn
        # (nor targets), while the official full softmax keeps their two columns.
        with torch.no_grad():
            hidden = model(ids)
            masked = labels != 0
            logits = model.head_vectors(hidden[masked]) @ model.word_emb.weight.T + model.out_bias
            full = torch.nn.functional.cross_entropy(logits[:, 1:31], labels[masked] - 1)
        for kind in ("uniform", "popularity"):
            torch.manual_seed(1)
            sampler = train_seqrec.NegativeSampler(split, 400000, kind, vocab=32)
            self.assertEqual(float(sampler.q[0]), 0.0)  # padding and [MASK] never drawn
            self.assertEqual(float(sampler.q[31]), 0.0)
            sampled = model.loss(ids, labels, *sampler.draw())
            self.assertLess(abs(float(sampled - full)), 0.005 * float(full), kind)
            few = model.loss(ids, labels, *train_seqrec.NegativeSampler(
                split, 8, kind, vocab=32).draw())
            self.assertTrue(torch.isfinite(few))


def args(**overrides):
    a = train_seqrec.parser().parse_args(["--model=sasrec", "--data=synthetic"])
    for k, v in overrides.items():
        setattr(a, k, v)
    return a


class TrainingTest(unittest.TestCase):
    def test_sasrec_learns_the_planted_transitions_and_exports(self):
        data = seqdata.synthetic(num_users=300, num_items=100, seed=3)
        model, results, curve = train_seqrec.train(
            args(epochs=8, eval_every=4, hidden=32, max_len=20, batch_size=32, seed=2), data, log=lambda s: None)
        self.assertEqual([c["epoch"] for c in curve], [4, 8])
        # Random ranking gives HR@10 ~ 0.1 among 101 candidates; the transitions give ~0.9.
        self.assertGreater(results["uniform"]["HR@10"], 0.5)
        self.assertGreater(results["full"]["HR@10"], 0.3)
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "repo", "sasrec-synthetic", "1")
            export.export(model, data.item_ids, out, extra={"metrics": results})
            with self.assertRaises(FileExistsError):
                export.export(model, data.item_ids, out)
            loaded, config = export.load(out)
        self.assertEqual(config["architecture"], "sasrec")
        self.assertEqual(config["item_ids"], data.item_ids)
        seq = torch.tensor([seqdata.left_padded([5, 6, 7], 20)])
        with torch.no_grad():
            torch.testing.assert_close(loaded.score_all(seq), model.eval().score_all(seq))

    def test_bert4rec_learns_the_planted_transitions(self):
        data = seqdata.synthetic(num_users=300, num_items=100, seed=3)
        _, results, _ = train_seqrec.train(
            args(model="bert4rec", epochs=6, eval_every=6, hidden=32, heads=2, max_len=20, batch_size=32,
                 dropout=0.1, mask_prob=0.3, dupe=10, seed=2), data, log=lambda s: None)
        self.assertGreater(results["popularity"]["HR@10"], 0.3)


if __name__ == "__main__":
    unittest.main()
