#!/usr/bin/env python3
"""Fails when a layer includes or links a layer above it (DESIGN: base <- kernels, store <-
models <- services). Usage: check_layers.py [ROOT]; prints each violation and exits 1.

A file's layer is its top-level folder. Project includes are classified by their path
("base/", "kernels/" or "recsys/kernels/", "store/" or "recsys/store/", "models/",
"services/", "tests/", and the generated protos "recsys/<api>/v1/..."); gRPC and Prometheus
headers count as the serving runtime, which only services/ may use.
"""
import pathlib
import re
import sys

SOURCES = {".h", ".cc", ".cu", ".cuh", ".inc"}
# What each lower layer may include from the project; services/ and tests/ are unrestricted.
ALLOWED = {
    "base": {"base"},
    "kernels": {"base", "kernels"},
    "store": {"base", "store"},
    "models": {"base", "kernels", "models"},
}
# Libraries of the serving runtime, by header prefix and by CMake target, kept out of the
# lower layers (they would pull gRPC into every model or kernel library).
RUNTIME_HEADERS = ("grpc/", "grpcpp/", "grpc++/", "prometheus/")
RUNTIME_TARGETS = re.compile(
    r"\b(gRPC::\S+|prometheus-cpp::\S+|recsys::(status|logging|common|protos|[a-z_]*service\S*))")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
PROTO = re.compile(r"^recsys/[a-z_]+/v\d+/")


def layer_of_include(path):
    if PROTO.match(path) and path.endswith((".pb.h", ".grpc.pb.h")):
        return "protos"
    for prefix, layer in (("recsys/kernels/", "kernels"), ("recsys/store/", "store")):
        if path.startswith(prefix):
            return layer
    top = path.split("/", 1)[0]
    if top in ("base", "kernels", "store", "models", "services", "tests") and "/" in path:
        return top
    if path.startswith(RUNTIME_HEADERS):
        return "runtime"
    return None  # the standard library or a third-party library


def check(root):
    root = pathlib.Path(root)
    problems = []
    for layer, allowed in ALLOWED.items():
        base = root / layer
        if not base.is_dir():
            continue
        for f in sorted(base.rglob("*")):
            rel = f.relative_to(root).as_posix()
            if f.suffix in SOURCES and f.is_file():
                for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = layer_of_include(m.group(2))
                    if target is not None and target not in allowed:
                        problems.append(
                            f"{rel}:{n}: includes {m.group(2)} ({target}); {layer}/ may include "
                            f"only {', '.join(sorted(allowed))}")
            elif f.name == "CMakeLists.txt":
                for n, line in enumerate(f.read_text().splitlines(), 1):
                    m = RUNTIME_TARGETS.search(line.split("#", 1)[0])
                    if m:
                        problems.append(f"{rel}:{n}: links {m.group(1)}, a serving-runtime "
                                        f"library; {layer}/ must not depend on it")
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
