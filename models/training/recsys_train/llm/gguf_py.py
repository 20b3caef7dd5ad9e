"""Imports llama.cpp's gguf-py (the GGUF writer and numpy (de)quantisation) from the clone that
scripts/install-llama-cpp.sh makes, or from $RECSYS_GGUF_PY."""

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))
DEFAULT = os.path.join(_ROOT, "build", "llama-cpp", "llama.cpp", "gguf-py")


def path():
    return os.environ.get("RECSYS_GGUF_PY") or DEFAULT


def load():
    """The gguf module; ImportError naming the install script when it is absent."""
    where = path()
    if not os.path.exists(os.path.join(where, "gguf", "__init__.py")):
        raise ImportError(f"gguf-py not found at {where}: run scripts/install-llama-cpp.sh "
                          "or set RECSYS_GGUF_PY")
    if where not in sys.path:
        sys.path.insert(0, where)
    import gguf  # noqa: E402  (from the path above)
    return gguf


def finish(writer):
    """Writes a GGUFWriter's header, metadata and tensors, and closes it."""
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
