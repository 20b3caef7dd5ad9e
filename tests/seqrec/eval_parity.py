"""The C++ evaluator (seqrec-eval) against the PyTorch one (recsys_train.seqeval) on models
trained here by the project's code on the synthetic dataset: the full-ranking protocol samples
nothing, so both must agree on every metric; the sampled protocols draw different negatives,
so they must agree within sampling noise.

usage: eval_parity.py <seqrec-eval binary>   (PYTHONPATH=models/training)"""

import json
import subprocess
import sys
import tempfile
import unittest

import torch

from recsys_train import export, seqdata, train_seqrec

SEQREC_EVAL = None


class EvalParity(unittest.TestCase):
    def check(self, model_args, epochs):
        torch.set_num_threads(2)
        with tempfile.TemporaryDirectory() as tmp:
            data = seqdata.synthetic()
            path = f"{tmp}/log.txt"
            seqdata.save(data, path)
            args = train_seqrec.parser().parse_args(
                model_args + [f"--data={path}", f"--epochs={epochs}", f"--eval_every={epochs}"])
            model, results, _ = train_seqrec.train(args, seqdata.load(path), log=lambda s: None)
            export.export(model, data.item_ids, f"{tmp}/repo/m/1")
            out = subprocess.run([SEQREC_EVAL, f"--model={tmp}/repo/m/1", f"--data={path}"],
                                 check=True, capture_output=True, text=True).stdout
            cpp = json.loads(out.strip().splitlines()[-1])["test"]
        users = results["full"]["users"]
        self.assertEqual(cpp["full"]["users"], users)
        # Full ranking: identical up to a near-tie flipping one user's rank by one.
        for key in ("HR@1", "HR@5", "HR@10", "NDCG@5", "NDCG@10", "MRR"):
            self.assertAlmostEqual(cpp["full"][key], results["full"][key], delta=2.0 / users,
                                   msg=f"full {key}")
        for protocol in ("uniform", "popularity"):
            self.assertEqual(cpp[protocol]["users"], users)
            self.assertAlmostEqual(cpp[protocol]["HR@10"], results[protocol]["HR@10"],
                                   delta=0.08, msg=f"{protocol} HR@10")
        # A trained model on planted chains ranks well above chance (HR@10 = 0.1 at random).
        self.assertGreater(cpp["uniform"]["HR@10"], 0.3)

    def test_sasrec(self):
        self.check(["--model=sasrec", "--hidden=32", "--max_len=20", "--dropout=0.1"], epochs=3)

    def test_bert4rec(self):
        self.check(["--model=bert4rec", "--hidden=32", "--max_len=20", "--heads=2",
                    "--dropout=0.1", "--lr=3e-3", "--dupe=6"], epochs=4)


if __name__ == "__main__":
    SEQREC_EVAL = sys.argv.pop(1)
    unittest.main()
