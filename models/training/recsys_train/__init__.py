"""Training, evaluation and export code of the recsys models (PyTorch)."""
