"""Tests of the DARE / TWIN training code: the search score, top-K retrieval that never picks
padding, the feature layout, AUC, both datasets, export, and that a short run on synthetic data
learns to find the planted behaviours."""

import math
import os
import tempfile
import unittest

import numpy as np
import torch

from recsys_train import ctrdata, dare, export, train_ctr

MOVIELENS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data",
                         "movielens-100k")


class SearchTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.model = dare.DARE(30, 4, max_len=10, d_item=4, d_cat=2, d_time=2, att_item=3,
                               att_cat=1, att_time=2, top_k=3).eval()

    def test_score_is_two_separately_scaled_dot_products(self):
        items, cats = torch.tensor([5]), torch.tensor([2])
        hist, hist_cats = torch.tensor([[0, 7, 8, 9]]), torch.tensor([[0, 1, 2, 3]])
        scores, valid, times = self.model.search(items, cats, hist, hist_cats)
        self.assertEqual(times.tolist(), [[4, 3, 2, 1]])
        att = self.model.att
        q = torch.cat([att.item.weight[5], att.cat.weight[2], att.time.weight[0]])
        for j in (1, 2, 3):
            k = torch.cat([att.item.weight[hist[0, j]], att.cat.weight[hist_cats[0, j]],
                           att.time.weight[times[0, j]]])
            want = (q[:4] @ k[:4]) / math.sqrt(4) + (q[4:] @ k[4:]) / math.sqrt(2)
            self.assertAlmostEqual(float(scores[0, j]), float(want), places=5)
        self.assertEqual(float(scores[0, 0]), float(torch.tensor(dare.MASKED)))
        self.assertEqual(valid.tolist(), [[False, True, True, True]])

    def test_padding_is_never_selected_and_weights_sum_to_one(self):
        items, cats = torch.tensor([5, 6, 7]), torch.tensor([1, 2, 3])
        hist = torch.tensor([[0, 0, 0, 0, 9], [0, 0, 3, 4, 5], [0, 0, 0, 0, 0]])
        idx, w = self.model.retrieve(items, cats, hist, hist % 4)
        self.assertEqual(idx.shape, (3, 3))
        for row in range(3):
            picked = [int(i) for i, x in zip(idx[row], w[row]) if x > 0]
            self.assertTrue(all(hist[row, i] > 0 for i in picked))
        self.assertAlmostEqual(float(w[0].sum()), 1.0, places=6)  # one behaviour, all weight
        self.assertAlmostEqual(float(w[1].sum()), 1.0, places=6)
        self.assertEqual(float(w[2].sum()), 0.0)  # no behaviour: h = 0, not NaN
        feats = self.model.features(items, cats, hist, hist % 4).detach()
        self.assertEqual(feats.shape, (3, 3 * 8))
        self.assertTrue(torch.isfinite(feats).all())
        np.testing.assert_allclose(feats[2, 8:].numpy(), 0.0)

    def test_one_user_path_equals_the_batched_forward(self):
        with torch.no_grad():
            items, cats = torch.tensor([5, 6, 7, 8]), torch.tensor([1, 2, 3, 0])
            for hist in ([9], [3, 4, 5, 6, 7, 8, 9], []):
                h = torch.tensor(hist, dtype=torch.long)
                one = self.model.score_one_user(items, cats, h, h % 4)
                padded = h[None].repeat(4, 1) if hist else torch.zeros((4, 1), dtype=torch.long)
                want = self.model.click_probability(items, cats, padded, padded % 4)
                np.testing.assert_allclose(one.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)

    def test_twin_shares_one_table_set(self):
        twin = dare.DARE(30, 4, max_len=10, variant="twin", d_item=4, d_cat=2, d_time=2)
        self.assertIsNone(twin.att)
        self.assertIs(twin.attention_tables(), twin.repr)
        with self.assertRaises(ValueError):
            dare.DARE(30, 4, variant="twin", d_item=4, att_item=2)
        names = {n for n, _ in self.model.named_parameters()}
        self.assertIn("att.item.weight", names)
        self.assertIn("repr.item.weight", names)


class AucTest(unittest.TestCase):
    def test_known_values(self):
        self.assertEqual(ctrdata.auc([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1]), 1.0)
        self.assertEqual(ctrdata.auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]), 0.0)
        self.assertEqual(ctrdata.auc([1, 0], [0.5, 0.5]), 0.5)
        self.assertAlmostEqual(ctrdata.auc([1, 0, 1, 0], [0.9, 0.7, 0.6, 0.1]), 0.75)


class DataTest(unittest.TestCase):
    def test_synthetic_plants_target_topic_items_in_positives_only(self):
        data = ctrdata.synthetic(samples=200, lengths=(10, 40), seed=3)
        again = ctrdata.synthetic(samples=50, lengths=(300, 300), seed=3, sample_seed=9)
        np.testing.assert_array_equal(data.category, again.category)  # same catalogue
        self.assertEqual(len(again.train.histories[0]), 300)
        split = data.train
        for i in range(len(split)):
            self.assertEqual(len(split.planted[i]) > 0, split.labels[i] == 1)
            self.assertTrue(all(0 <= p < len(split.histories[i]) for p in split.planted[i]))
        items, cats, hist, hist_cats, labels = ctrdata.batch(data, split, np.arange(5), 20)
        self.assertEqual(hist.shape[1], 20)  # the longest history, cut to max_len
        np.testing.assert_array_equal(hist_cats, data.category[hist])
        self.assertTrue((hist_cats[hist == 0] == 0).all())

    @unittest.skipUnless(os.path.exists(os.path.join(MOVIELENS, "u.data")),
                         "shared/data/movielens-100k not present")
    def test_movielens_split_and_negatives(self):
        data = ctrdata.movielens(MOVIELENS, seed=1)
        self.assertEqual(data.num_items, 1682)
        self.assertEqual(data.num_categories, 19)
        self.assertEqual(len(data.test), 943 * 2 * 3)  # 2 clicks per user, each + 2 negatives
        self.assertEqual(len(data.valid), 943 * 3)
        self.assertEqual(int(data.test.labels.sum()), 943 * 2)
        # A negative shares its positive's history and is not an item the history holds.
        for i in range(0, 300, 3):
            for j in (i + 1, i + 2):
                self.assertIs(data.train.histories[j], data.train.histories[i])
                self.assertNotIn(data.train.items[j], set(data.train.histories[i].tolist()))


class TrainTest(unittest.TestCase):
    def test_a_short_run_finds_the_planted_behaviours_and_exports(self):
        torch.set_num_threads(2)
        data = ctrdata.synthetic(samples=20000, lengths=(20, 100), seed=0)
        args = train_ctr.parser().parse_args(["--model=dare", "--data=synthetic", "--epochs=3",
                                              "--lr=3e-3", "--att_dim=8"])
        model, test, curve = train_ctr.train(args, data, log=lambda s: None)
        self.assertEqual(len(curve), 3)
        self.assertGreater(test["auc"], 0.9)
        self.assertGreater(test["planted_recall"], 0.8)
        with tempfile.TemporaryDirectory() as d:
            export.export(model, data.item_ids, os.path.join(d, "dare", "1"))
            config = export.json.load(open(os.path.join(d, "dare", "1", "config.json")))
        self.assertEqual(config["architecture"], "dare")
        self.assertEqual(config["att_item"], 8)
        self.assertEqual(config["d_item"], 16)


if __name__ == "__main__":
    unittest.main()
