#!/usr/bin/python3
"""Checks deploy/docker/Dockerfile.{cpu,cuda} and .dockerignore against the real build, without
a Docker engine:

  * the builder stage runs scripts/install-deps.sh (a file the stage has COPYed) and then
    `cmake --preset P` / `cmake --build --preset P` with P a preset of CMakePresets.json
    (cpu: RECSYS_CUDA=OFF, cuda: ON), from the directory the sources were copied to;
  * the runtime stage COPYs recsys-server and recsys-cli from where that preset's build puts
    them (the preset's binaryDir plus the targets' real paths in this build tree, which CMake
    passes in as $<TARGET_FILE:...>) to /usr/local/bin, and nothing else from the builder;
  * the runtime stage: debian:bookworm-slim, no compiler, installs runtime-packages.txt (and, for
    cuda, runtime-packages-cuda.txt), non-root USER 10001 with a passwd entry, a data directory
    owned by it, EXPOSE = the server's default ports, ENTRYPOINT/CMD with flags the server has;
  * runtime-packages.txt covers every shared library that ldd reports for this build's binaries
    (deploy/docker/runtime-packages.sh check; CUDA libraries only in the cuda list), and every
    package in it exists in Debian bookworm (apt-cache; where apt has no record of one, e.g. no
    lists, dpkg-query finding it installed on this bookworm machine does);
  * hadolint-style basics: tagged (not latest) base images, apt-get install -y
    --no-install-recommends after an apt-get update in the same RUN, apt lists removed in the
    RUN that fetched them, pipefail before pipes, exec-form CMD/ENTRYPOINT, COPY not ADD ...;
  * .dockerignore keeps build/, .git and data out, and keeps in what the builders COPY and build.

Prints one line a check and 'N passed, N failed'; exits 1 when any failed.

Checks live in dockerfile_checks.py (the Dockerfiles, .dockerignore) and package_checks.py (the
runtime lists); parsing in dockerfile_parse.py.
"""
import argparse
import os
import re
import sys
import types

# The modules beside this script: run by path, Python puts this directory first on sys.path, but
# not under -P or PYTHONSAFEPATH. No .pyc beside them either: the source tree may be read-only.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

from dockerfile_checks import check_dockerfile, check_dockerignore  # noqa: E402
from dockerfile_common import IMAGES, Checks, cli_commands, server_flags  # noqa: E402
from dockerfile_parse import load_presets  # noqa: E402
from package_checks import check_runtime_lists  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--server", required=True, help="$<TARGET_FILE:recsys-server>")
    ap.add_argument("--cli", required=True, help="$<TARGET_FILE:recsys-cli>")
    args = ap.parse_args()
    args.source_dir = os.path.realpath(args.source_dir)
    args.build_dir = os.path.realpath(args.build_dir)
    return args


def check_binaries(c, args):
    """The binaries of this build, and their paths relative to the build tree: the same relative
    paths under the image builder's build/<preset>. None where one is not built."""
    target_rel = {}
    have_bins = True
    for name, path in (("recsys-server", args.server), ("recsys-cli", args.cli)):
        path = os.path.realpath(path)
        ok = c.check(os.path.isfile(path) and os.access(path, os.X_OK),
                     f"{name} is built ({path})", "build it first: cmake --build --preset <name>")
        have_bins = have_bins and ok
        target_rel[name] = os.path.relpath(path, args.build_dir)
        c.check(not target_rel[name].startswith(".."), f"{name} lies in the build tree",
                f"{path} is outside {args.build_dir}")
    return target_rel if have_bins else None


def build_facts(c, args, target_rel):
    """What the Dockerfiles are checked against: the server's flags, the CLI's commands, the
    presets, project(VERSION) and .dockerignore (checked on the way)."""
    src = args.source_dir
    flags = server_flags(args.server)
    c.check({"data_dir", "log_format", "grpc_port", "metrics_port"} <= set(flags),
            "recsys-server --helpfull lists its flags", f"found {len(flags)} flags")
    m = re.search(r"project\(\s*\w+\s+VERSION\s+([\d.]+)", open(os.path.join(src, "CMakeLists.txt")).read())
    return types.SimpleNamespace(
        source_dir=src, target_rel=target_rel, flags=flags, clicmds=cli_commands(args.cli),
        presets=load_presets(src), version=m.group(1) if m else None,
        ignore_pats=check_dockerignore(c, src))


def main():
    args = parse_args()
    c = Checks()
    target_rel = check_binaries(c, args)
    if target_rel is not None:
        b = build_facts(c, args, target_rel)
        cuda_version = None  # Dockerfile.cuda's CUDA_VERSION, for the cuda list's sonames
        for fname, (preset, cuda, lists) in IMAGES.items():
            cv = check_dockerfile(c, b, fname, preset, cuda, lists)
            if cuda == "ON":
                cuda_version = cv
        check_runtime_lists(c, os.path.join(args.source_dir, "deploy", "docker"), args.server, args.cli,
                            cuda_version)
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed or target_rel is None else 0


if __name__ == "__main__":
    sys.exit(main())
