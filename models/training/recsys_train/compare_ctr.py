"""Test AUC of DARE and TWIN over several seeds on the same data and split (the data's seed
is fixed; the seed changes the initialisation and the batch order), mean and spread:

    /usr/bin/python3 -m recsys_train.compare_ctr \\
        --data=movielens:../../../shared/data/movielens-100k --models=dare,twin --seeds=1,2,3

Extra flags go to train_ctr (e.g. --epochs=2 --att_dim=8). Prints one JSON line per run and a
summary line per model."""

import argparse
import json
import sys

import numpy as np
import torch

from . import train_ctr


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--models", default="dare,twin")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--data_seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    a, rest = p.parse_known_args(argv)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    data = train_ctr.load_data(a.data, a.data_seed)
    for model in a.models.split(","):
        aucs = []
        for seed in (int(s) for s in a.seeds.split(",")):
            args = train_ctr.parser().parse_args(
                [f"--model={model}", f"--data={a.data}", f"--seed={seed}"] + rest)
            _, test, _ = train_ctr.train(args, data, log=lambda s: None)
            aucs.append(test["auc"])
            print(json.dumps({"model": model, "seed": seed, "test": test}), flush=True)
        print(f"{model}: test AUC mean {np.mean(aucs):.4f} std {np.std(aucs):.4f} "
              f"over seeds {a.seeds} ({' '.join(sys.argv[1:])})", flush=True)


if __name__ == "__main__":
    main()
