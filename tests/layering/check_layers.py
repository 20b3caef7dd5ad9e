#!/usr/bin/env python3
"""Fails when a layer includes or links a layer above it. The layers (docs/architecture.md):
base <- kernels, store <- models <- services (and protos, tests). Usage: check_layers.py
[ROOT]; prints each violation and exits 1.

A file's layer is its top-level folder. Includes are classified by path ("base/",
"kernels/" or "recsys/kernels/", "store/" or "recsys/store/", "models/", "services/",
"tests/", the generated protos "recsys/<api>/v1/*.pb.h"); a relative include is resolved
against the including file first. gRPC and Prometheus headers and libraries count as the
serving runtime, which only services/ may use. In CMake files, every recsys target is
placed in the layer of the folder that defines it, so a lower layer linking a higher one's
library fails too.
"""
import pathlib
import re
import sys

SOURCES = {".h", ".hh", ".hpp", ".c", ".cc", ".cpp", ".cxx", ".cu", ".cuh", ".inc", ".ipp",
           ".tcc"}
TOP_LAYERS = ("base", "kernels", "store", "models", "protos", "services", "tests")
# What each lower layer may use from the project; services/ and tests/ are unrestricted.
ALLOWED = {
    "base": {"base"},
    "kernels": {"base", "kernels"},
    "store": {"base", "store"},
    "models": {"base", "kernels", "models"},
}
RUNTIME_HEADERS = ("grpc/", "grpcpp/", "grpc++/", "prometheus/")
RUNTIME_TARGETS = re.compile(r"(?<![\w:-])(gRPC::\S+|grpc\+\+\S*|grpc|gpr|prometheus-cpp::\S+)"
                             r"(?![\w:+-])")
INCLUDE = re.compile(r'^\s*#\s*include(?:_next)?\s*([<"])([^>"]+)[>"]')
PROTO = re.compile(r"^recsys/[a-z_]+/v\d+/.*\.pb\.h$")
TARGET_DEF = re.compile(r"(?:recsys_cc_library\s*\(\s*NAME\s+|add_library\s*\(\s*recsys(?:::|_)"
                        r"|recsys_proto_library\s*\(\s*recsys_)(\w+)")
TARGET_USE = re.compile(r"\brecsys(?:::|_)(\w+)")


def layer_of_path(path):
    if PROTO.match(path):
        return "protos"
    for prefix, layer in (("recsys/kernels/", "kernels"), ("recsys/store/", "store")):
        if path.startswith(prefix):
            return layer
    top = path.split("/", 1)[0]
    if top in TOP_LAYERS and "/" in path:
        return top
    if path.startswith(RUNTIME_HEADERS):
        return "runtime"
    return None  # the standard library or a third-party library


def layer_of_include(root, source, path):
    if path.startswith("."):  # relative to the including file
        resolved = (source.parent / path).resolve()
        try:
            path = resolved.relative_to(root.resolve()).as_posix()
        except ValueError:
            return None
    return layer_of_path(path)


def cmake_files(folder):
    return [f for f in folder.rglob("*")
            if f.is_file() and (f.name == "CMakeLists.txt" or f.suffix == ".cmake")]


def target_layers(root):
    """recsys target name -> the layer of the folder that defines it."""
    layers = {}
    for folder in TOP_LAYERS:
        if (root / folder).is_dir():
            for f in cmake_files(root / folder):
                for m in TARGET_DEF.finditer(f.read_text()):
                    layers[m.group(1)] = folder
    return layers


def code(line):
    return line.split("#", 1)[0]


def check(root):
    root = pathlib.Path(root)
    targets = target_layers(root)
    problems = []
    for layer, allowed in ALLOWED.items():
        base = root / layer
        if not base.is_dir():
            continue
        for f in sorted(base.rglob("*")):
            if not f.is_file():
                continue
            rel = f.relative_to(root).as_posix()
            if f.suffix in SOURCES:
                for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = layer_of_include(root, f, m.group(2))
                    if target is not None and target not in allowed:
                        problems.append(
                            f"{rel}:{n}: includes {m.group(2)} ({target}); {layer}/ may include "
                            f"only {', '.join(sorted(allowed))}")
            elif f.name == "CMakeLists.txt" or f.suffix == ".cmake":
                for n, line in enumerate(f.read_text().splitlines(), 1):
                    for m in RUNTIME_TARGETS.finditer(code(line)):
                        problems.append(f"{rel}:{n}: links {m.group(1)}, a serving-runtime "
                                        f"library; {layer}/ must not depend on it")
                    for m in TARGET_USE.finditer(code(line)):
                        owner = targets.get(m.group(1))
                        if owner is not None and owner not in allowed:
                            problems.append(
                                f"{rel}:{n}: links recsys::{m.group(1)} ({owner}); {layer}/ may "
                                f"use only {', '.join(sorted(allowed))}")
    return problems


def main(argv):
    root = argv[1] if len(argv) > 1 else pathlib.Path(__file__).resolve().parents[2]
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} layering violation(s) under {root}")
        return 1
    print(f"check_layers: no layering violation under {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
