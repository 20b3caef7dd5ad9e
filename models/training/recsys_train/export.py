"""Export of a trained model into the model repository layout the C++ runtime serves:

    <repo>/<model_name>/<version>/config.json        architecture, dims, ids (see below)
    <repo>/<model_name>/<version>/model.safetensors  every parameter, fp32, state_dict names

config.json holds the model's config (architecture, num_items, max_len, hidden, ...,
padding_id, mask_id for BERT4Rec), "item_ids" (the original id of each internal item index,
index 0 = padding) and "format": 1. The version directory is written aside and renamed into
place, so a watcher never sees half a model."""

import json
import os
import shutil

import torch

from . import bert4rec, safetensors, sasrec

FORMAT = 1


def export(model, item_ids, directory, extra=None):
    """Writes the model to `directory` (which must not exist), atomically."""
    if os.path.exists(directory):
        raise FileExistsError(f"{directory} already exists; versions are immutable")
    parent = os.path.dirname(os.path.abspath(directory))
    os.makedirs(parent, exist_ok=True)
    staging = directory.rstrip("/") + ".tmp"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    config = dict(model.config, format=FORMAT, item_ids=list(map(int, item_ids)))
    if extra:
        config.update(extra)
    with open(os.path.join(staging, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=1)
    tensors = {name: t.float() for name, t in model.state_dict().items()}
    safetensors.save(os.path.join(staging, "model.safetensors"), tensors,
                     metadata={"architecture": model.config["architecture"]})
    os.rename(staging, directory)


def load(directory):
    """Rebuilds the PyTorch module from an exported directory (eval mode)."""
    with open(os.path.join(directory, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    tensors, _ = safetensors.load(os.path.join(directory, "model.safetensors"))
    if config["architecture"] == "sasrec":
        model = sasrec.SASRec(config["num_items"], config["max_len"], config["hidden"],
                              config["blocks"], config["heads"], config["dropout"],
                              config["layout"], config["layer_norm_eps"])
    elif config["architecture"] == "bert4rec":
        model = bert4rec.BERT4Rec(config["num_items"], config["max_len"], config["hidden"],
                                  config["layers"], config["heads"], config["intermediate"],
                                  config["dropout"], config["layer_norm_eps"])
    else:
        raise ValueError(f"unknown architecture {config['architecture']}")
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()})
    model.eval()
    return model, config
