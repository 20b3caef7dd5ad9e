"""The checks of one Dockerfile (deploy/docker/Dockerfile.*) and of .dockerignore, by topic.

check_dockerfile runs them in order on an Image, which collects what the earlier checks found
(the builder stage, its cmake steps, the preset) for the later ones. `b` is the build they are
checked against (see dockerfile_test.build_facts): source_dir, presets, flags, clicmds, version,
target_rel and ignore_pats.
"""
import json
import os
import posixpath
import re
import subprocess

from dockerfile_common import (BINARIES, DATA_DIR, FORBIDDEN_RUNTIME, OCI_LABELS, REQUIRED_CMD,
                               USER_UID)
from dockerfile_parse import (build_stages, copied_before, copy_parts, env_pairs, ignored,
                              image_path_of, list_feeds_apt_install, load_dockerignore, parse_cmake,
                              parse_dockerfile, resolve_configure_preset, run_commands, workdir_at)


class Image:
    """One Dockerfile: what it must be (preset, RECSYS_CUDA, lists) and what was found in it."""

    def __init__(self, fname, preset_name, want_cuda, lists):
        self.fname, self.preset_name, self.want_cuda, self.lists = fname, preset_name, want_cuda, lists
        self.t = f"{fname}:"  # prefix of every check's name
        self.builder = self.deps_at = self.conf_at = self.build_at = self.resolved = None
        self.cmake_runs = []  # (stage, instruction index, argv) of every 'cmake --preset' in a RUN


def check_dockerfile(c, b, fname, preset_name, want_cuda, lists):
    """All checks of one Dockerfile. Returns the CUDA_VERSION it builds with (None where it is not
    the cuda image, or where the checks stopped before reading it)."""
    im = Image(fname, preset_name, want_cuda, lists)
    t = im.t
    path = os.path.join(b.source_dir, "deploy", "docker", fname)
    if not c.check(os.path.exists(path), f"{t} exists", path):
        return None
    im.text = open(path, encoding="utf-8").read()
    im.global_args, im.stages = build_stages(parse_dockerfile(im.text))
    if not c.check(len(im.stages) >= 2, f"{t} multi-stage", f"{len(im.stages)} stage(s)"):
        return None
    im.final = im.stages[-1]
    im.names = {s.name: s for s in im.stages if s.name}
    im.run_text = " ".join(ins.args for ins in im.final.instrs if ins.cmd == "RUN")

    check_base_images(c, im)
    # What follows is relative to the builder and its cmake steps: without them it means nothing.
    if not find_builder(c, b, im) or not check_builder_cmake(c, im):
        return None
    check_builder_presets(c, b, im)
    check_builder_sources(c, b, im)
    check_runtime_copies(c, b, im)
    check_runtime_packages(c, b, im)
    cuda_version = check_cuda_builder(c, im) if want_cuda == "ON" else None
    check_runtime_user(c, im)
    check_entrypoint(c, b, im)
    check_ports_healthcheck(c, b, im)
    check_labels(c, b, im)
    check_hadolint(c, im)
    check_context_copies(c, b, im)
    return cuda_version


# --- stages and base images ------------------------------------------------------------------

def check_base_images(c, im):
    """Base images tagged (not latest); the runtime is Debian bookworm-slim."""
    for s in im.stages:
        img = s.image
        if img in im.names:
            continue
        repo_tag = img.split("@")[0]
        tag = repo_tag.rsplit(":", 1)[1] if ":" in repo_tag.split("/")[-1] else None
        c.check(("@sha256:" in img) or (tag is not None and tag != "latest"),
                f"{im.t} stage {s.label()} base image {img} has a tag that is not 'latest'")
    c.check(im.final.image.split("@")[0] == "debian:bookworm-slim",
            f"{im.t} runtime stage is FROM debian:bookworm-slim", im.final.image)


# --- the builder: install-deps.sh, then cmake with the preset ---------------------------------

def find_builder(c, b, im):
    """The stage that runs scripts/install-deps.sh (the builder), and every 'cmake --preset' RUN
    of the stages before the runtime."""
    for s in im.stages[:-1]:
        for i, ins in enumerate(s.instrs):
            if ins.cmd != "RUN":
                continue
            for cmd in run_commands(ins.args):
                if cmd[0] == "cmake" and any(a.startswith("--preset") for a in cmd):
                    im.cmake_runs.append((s, i, cmd))
                if cmd[0] in ("bash", "sh") and len(cmd) > 1:
                    cmd = cmd[1:]
                if posixpath.basename(cmd[0]) == "install-deps.sh" and im.deps_at is None:
                    im.builder, im.deps_at = s, i
                    _check_install_deps_copied(c, b, im, cmd[0])
    return c.check(im.builder is not None, f"{im.t} a builder stage runs scripts/install-deps.sh")


def _check_install_deps_copied(c, b, im, run_path):
    """install-deps.sh, and the files it runs and reads, are COPYed in before the RUN."""
    s, i = im.builder, im.deps_at
    script = posixpath.normpath(posixpath.join(workdir_at(s, i), run_path))
    placed = copied_before(s, "scripts/install-deps.sh", b.source_dir, i)
    c.check(placed == script,
            f"{im.t} builder runs scripts/install-deps.sh, COPYed in before it",
            f"runs {script}, the COPYs put it at {placed}")
    for dep in ("scripts/install-deploy-tools.sh", "deploy/tools/package.json"):
        want = posixpath.join(posixpath.dirname(posixpath.dirname(script)), dep)
        got = copied_before(s, dep, b.source_dir, i)
        c.check(got == want, f"{im.t} {dep} (install-deps.sh runs it/reads it) is COPYed before it",
                f"needed at {want}, COPYed to {got}")


def check_builder_cmake(c, im):
    """The builder configures, then builds, with a preset, after install-deps.sh. Returns whether
    both steps were found in that order."""
    t = im.t
    for s, i, cmd in im.cmake_runs:
        if s is not im.builder:
            continue
        kind, pname, targets, defines = parse_cmake(cmd)
        if kind == "configure" and im.conf_at is None:
            im.conf_at = (i, pname, defines)
        elif kind == "build" and im.build_at is None:
            im.build_at = (i, pname, targets)
    c.check(im.builder.image.split("@")[0] in ("debian:bookworm",),
            f"{t} builder is FROM debian:bookworm (the packages install-deps.sh names)", im.builder.image)
    ok = c.check(im.conf_at is not None and im.conf_at[0] > im.deps_at,
                 f"{t} builder runs 'cmake --preset ...' after install-deps.sh")
    ok = c.check(im.build_at is not None and im.build_at[0] >= (im.conf_at or (im.deps_at,))[0],
                 f"{t} builder runs 'cmake --build --preset ...' after configuring") and ok
    return ok


def check_builder_presets(c, b, im):
    """The presets the builder uses exist in CMakePresets.json and build what the image needs."""
    t = im.t
    _, cpreset, defines = im.conf_at
    _, bpreset, targets = im.build_at
    im.resolved = resolved = resolve_configure_preset(b.presets, cpreset)
    c.check(cpreset == im.preset_name, f"{t} configure preset is '{im.preset_name}'", f"got '{cpreset}'")
    if c.check(resolved is not None and not resolved["hidden"],
               f"{t} configure preset '{cpreset}' is a visible configurePreset of CMakePresets.json"):
        cuda = defines.get("RECSYS_CUDA", resolved["cacheVariables"].get("RECSYS_CUDA"))
        c.check(cuda == im.want_cuda, f"{t} preset '{cpreset}' builds with RECSYS_CUDA={im.want_cuda}",
                f"got {cuda}")
    bp = {p["name"]: p for p in b.presets.get("buildPresets", [])}.get(bpreset)
    c.check(bp is not None and bp.get("configurePreset") == cpreset,
            f"{t} build preset '{bpreset}' exists and builds configure preset '{cpreset}'",
            f"buildPreset: {bp}")
    if targets:
        c.check(set(BINARIES) <= set(targets), f"{t} 'cmake --build --target' builds {sorted(BINARIES)}",
                f"targets {targets}")


def check_builder_sources(c, b, im):
    """What cmake reads at configure time is COPYed into the builder before it runs."""
    t = im.t
    conf_i, _, defines = im.conf_at
    conf_wd = workdir_at(im.builder, conf_i)
    for f in ("CMakeLists.txt", "CMakePresets.json"):
        placed = copied_before(im.builder, f, b.source_dir, conf_i)
        c.check(placed == posixpath.join(conf_wd, f),
                f"{t} {f} is COPYed into the directory cmake runs in ({conf_wd})", f"COPYed to {placed}")
    # Every source directory the top-level CMakeLists.txt adds is in the builder at configure time.
    top = open(os.path.join(b.source_dir, "CMakeLists.txt"), encoding="utf-8").read()
    subdirs = re.findall(r"add_subdirectory\(\s*(\w+)", top)
    tests_off = defines.get("RECSYS_BUILD_TESTS", "").upper() in ("OFF", "0", "FALSE", "NO")
    missing = [d for d in subdirs + ["cmake"]
               if not (d == "tests" and tests_off)
               and copied_before(im.builder, d + "/CMakeLists.txt" if d != "cmake" else "cmake/RecsysCuda.cmake",
                                 b.source_dir, conf_i) is None]
    c.check(not missing, f"{t} the source directories CMakeLists.txt adds are COPYed before configuring",
            f"missing {missing}")


def builder_binary_dir(im):
    """The configure preset's binaryDir as a path in the builder (None for an unknown preset)."""
    if im.resolved is None:
        return None
    conf_i, cpreset, _ = im.conf_at
    conf_wd = workdir_at(im.builder, conf_i)
    bdir = im.resolved.get("binaryDir", "${sourceDir}/build/${presetName}")
    bdir = bdir.replace("${sourceDir}", conf_wd).replace("${presetName}", cpreset)
    return posixpath.normpath(posixpath.join(conf_wd, bdir))


# --- the runtime stage -------------------------------------------------------------------------

def check_runtime_copies(c, b, im):
    """The runtime takes the two binaries from where the preset's build puts them, and nothing else."""
    t, final = im.t, im.final
    bdir = builder_binary_dir(im)
    copies_from = []
    for ins in final.instrs:
        if ins.cmd == "COPY":
            fl, srcs, dest = copy_parts(ins)
            if "from" in fl:
                copies_from.append((fl["from"], srcs, dest))
    for binary, dest in BINARIES.items():
        # The same path relative to the build tree as in this build ($<TARGET_FILE>).
        want_src = posixpath.join(bdir, b.target_rel[binary]) if bdir else None
        hit = [cf for cf in copies_from if dest in (cf[2], cf[2].rstrip("/") + "/" + binary)]
        ok = bool(hit) and hit[0][0] in (im.builder.name, str(im.builder.index)) and hit[0][1] == [want_src]
        c.check(ok, f"{t} runtime COPYs {binary} from the builder's {want_src} to {dest}",
                f"got {hit}" if hit else f"no COPY --from to {dest}")
    extra = [cf for cf in copies_from if cf[2] not in BINARIES.values()]
    c.check(not extra, f"{t} runtime COPYs nothing else from other stages (no toolchain, no build tree)",
            str(extra))
    c.check(final.image not in im.names, f"{t} runtime stage does not start FROM another stage", final.image)


def check_runtime_packages(c, b, im):
    """The runtime lists are COPYed and installed; no compiler, no CUDA list in the cpu image."""
    t, final = im.t, im.final
    for lst in im.lists:
        placed = image_path_of(final, f"deploy/docker/{lst}", b.source_dir)
        used = placed is not None and any(
            list_feeds_apt_install(ins.args, placed) for ins in final.instrs if ins.cmd == "RUN")
        c.check(used, f"{t} runtime installs deploy/docker/{lst} (COPYed, then apt-get install in the same RUN)",
                f"COPYed to {placed}")
    for other in {"runtime-packages-cuda.txt"} - set(im.lists):
        c.check(other not in im.text, f"{t} does not install the CUDA packages ({other})")
    named = [a for ins in final.instrs if ins.cmd == "RUN" for cmd in run_commands(ins.args)
             if cmd[:2] == ["apt-get", "install"] for a in cmd[2:] if not a.startswith("-")]
    bad = [p for p in named if FORBIDDEN_RUNTIME.match(p)]
    c.check(not bad and "install-deps.sh" not in im.run_text,
            f"{t} runtime installs no compiler, headers or build tools", str(bad))


def check_cuda_builder(c, im):
    """The cuda builder has nvcc of CUDA_VERSION on PATH. Returns CUDA_VERSION (the runtime
    lists' sonames are checked against its major)."""
    t, builder = im.t, im.builder
    cv = builder.vars.get("CUDA_VERSION") or im.global_args.get("CUDA_VERSION")
    c.check(bool(cv) and re.fullmatch(r"\d+\.\d+", cv or ""), f"{t} CUDA_VERSION is major.minor", str(cv))
    path_env = builder.vars.get("PATH", "")
    c.check(f"/usr/local/cuda-{cv}/bin" in path_env.split(":") or "/usr/local/cuda/bin" in path_env.split(":"),
            f"{t} builder has CUDA {cv}'s nvcc on PATH (RecsysCuda.cmake looks there)", path_env)
    c.check(any(re.search(r"cuda-(nvcc|minimal-build|toolkit)-\$\{CUDA_VERSION/\./-\}", ins.args)
                for ins in builder.instrs if ins.cmd == "RUN"),
            f"{t} builder installs nvcc for CUDA_VERSION")
    return cv


def check_runtime_user(c, im):
    """A non-root USER with a passwd entry, owning the data directory; no apt-get after it."""
    t, final = im.t, im.final
    users = [ins.value.strip() for ins in final.instrs if ins.cmd == "USER"]
    c.check(bool(users) and users[-1].split(":")[0] == USER_UID,
            f"{t} runtime's final USER is {USER_UID} (non-root)", f"USER {users}")
    user_at = max((i for i, ins in enumerate(final.instrs) if ins.cmd == "USER"), default=len(final.instrs))
    c.check(re.search(rf"useradd\b[^&;]*--uid[= ]{USER_UID}\b", im.run_text) is not None,
            f"{t} runtime creates a passwd entry for uid {USER_UID} (useradd --uid)")
    owned = any(re.search(rf"install\s+-d\b[^&;]*-o\s+{USER_UID}\b[^&;]*\s{re.escape(DATA_DIR)}\b", ins.args)
                or (DATA_DIR in ins.args and re.search(rf"chown\s+(-R\s+)?{USER_UID}", ins.args))
                for ins in final.instrs[:user_at] if ins.cmd == "RUN")
    c.check(owned, f"{t} runtime creates {DATA_DIR} owned by {USER_UID}")
    after = [ins.args for ins in final.instrs[user_at:] if ins.cmd == "RUN" and "apt-get" in ins.args]
    c.check(not after, f"{t} no apt-get after USER {USER_UID} (it would fail as non-root)", str(after))


def check_entrypoint(c, b, im):
    """ENTRYPOINT is the server; one exec-form CMD with flags the server has (--helpfull)."""
    t, final = im.t, im.final
    ep = [ins for ins in final.instrs if ins.cmd == "ENTRYPOINT"]
    cm = [ins for ins in final.instrs if ins.cmd == "CMD"]
    c.check(len(ep) == 1 and ep[0].json_form() == [BINARIES["recsys-server"]],
            f"{t} ENTRYPOINT [\"{BINARIES['recsys-server']}\"]", ep[-1].args if ep else "none")
    cmd_list = cm[-1].json_form() if len(cm) == 1 else None
    if not c.check(cmd_list is not None, f"{t} one exec-form CMD", cm[-1].args if cm else "none"):
        return
    given = {}
    for a in cmd_list:
        m = re.fullmatch(r"--(\w+)=(.*)", a)
        given[m.group(1) if m else a] = m.group(2) if m else None
    unknown = [k for k in given if k not in b.flags]
    c.check(not unknown, f"{t} CMD's flags are flags of recsys-server (--helpfull)", f"unknown {unknown}")
    for k, v in REQUIRED_CMD.items():
        c.check(given.get(k) == v, f"{t} CMD has --{k}={v}", f"got {given.get(k)}")


def check_ports_healthcheck(c, b, im):
    """EXPOSE is the server's default ports; a HEALTHCHECK, where there is one, uses recsys-cli."""
    t, final, flags = im.t, im.final, b.flags
    exposed = set()
    for ins in final.instrs:
        if ins.cmd == "EXPOSE":
            exposed |= {p.split("/")[0] for p in ins.value.split()}
    want_ports = {flags.get("grpc_port"), flags.get("metrics_port")}
    c.check(exposed == want_ports and None not in want_ports,
            f"{t} EXPOSE is the server's default --grpc_port and --metrics_port {sorted(p for p in want_ports if p)}",
            f"EXPOSE {sorted(exposed)}")
    hc = [ins for ins in final.instrs if ins.cmd == "HEALTHCHECK"]
    if hc:
        m = re.search(r"\bCMD\s+(\[.*\])\s*$", hc[-1].args)
        hv = json.loads(m.group(1)) if m else None
        ok = (hv is not None and hv[0] == BINARIES["recsys-cli"] and len(hv) > 1 and hv[1] in b.clicmds
              and all(not a.startswith("--target=") or a.endswith(":" + str(flags.get("grpc_port"))) for a in hv))
        c.check(ok, f"{t} HEALTHCHECK runs a recsys-cli command on the gRPC port (exec form)", hc[-1].args)


def check_labels(c, b, im):
    """The OCI labels, with the project's version and the runtime's base image."""
    t, final = im.t, im.final
    labels = {}
    for ins in final.instrs:
        if ins.cmd == "LABEL":
            labels.update({k: v for k, v in env_pairs(ins.value)})
    miss = [k for k in OCI_LABELS if not labels.get("org.opencontainers.image." + k)]
    c.check(not miss, f"{t} OCI labels {OCI_LABELS}", f"missing {miss}")
    c.check(labels.get("org.opencontainers.image.version") == b.version,
            f"{t} org.opencontainers.image.version defaults to project(VERSION) {b.version}",
            str(labels.get("org.opencontainers.image.version")))
    c.check(labels.get("org.opencontainers.image.base.name", "").endswith(final.image),
            f"{t} org.opencontainers.image.base.name names the runtime's base image",
            str(labels.get("org.opencontainers.image.base.name")))


# --- hadolint-style rules, every stage (one check, every problem in its detail) ----------------

def check_hadolint(c, im):
    problems = []
    for s in im.stages:
        state = {"pipefail": False, "CMD": 0, "ENTRYPOINT": 0}  # SHELL and CMD/ENTRYPOINT so far
        for ins in s.instrs:
            _hadolint_instr(ins, s, im.stages, state, problems)
        if state["CMD"] > 1 or state["ENTRYPOINT"] > 1:
            problems.append(f"stage {s.label()}: more than one CMD or ENTRYPOINT (DL4003/DL4004)")
    if re.search(r":latest\b", im.text):
        problems.append("a ':latest' tag")
    c.check(not problems, f"{im.t} hadolint-style basics", "; ".join(problems))


def _hadolint_instr(ins, s, stages, state, problems):
    where = f"line {ins.line}"
    if ins.cmd == "SHELL":
        state["pipefail"] = "pipefail" in (ins.json_form() or [])
    elif ins.cmd == "MAINTAINER":
        problems.append(f"{where}: MAINTAINER is deprecated (DL4000)")
    elif ins.cmd == "WORKDIR" and not ins.value.startswith("/"):
        problems.append(f"{where}: WORKDIR {ins.value} is relative (DL3000)")
    elif ins.cmd in ("CMD", "ENTRYPOINT"):
        if ins.json_form() is None:
            problems.append(f"{where}: {ins.cmd} in shell form (DL3025)")
        state[ins.cmd] += 1
    elif ins.cmd == "ADD":
        _, srcs, _ = copy_parts(ins)
        if any(not re.match(r"https?://", x) for x in srcs):
            problems.append(f"{where}: ADD of a local file, use COPY (DL3020)")
    elif ins.cmd == "COPY":
        fl, _, _ = copy_parts(ins)
        if "from" in fl:
            earlier = {x.name for x in stages[:s.index] if x.name} | {str(i) for i in range(s.index)}
            if fl["from"] == s.name or (fl["from"] not in earlier and ":" not in fl["from"]
                                        and "/" not in fl["from"]):
                problems.append(f"{where}: COPY --from={fl['from']} is no earlier stage (DL3022/DL3023)")
    elif ins.cmd == "RUN":
        _hadolint_run(ins.args, where, state["pipefail"], problems)


def _hadolint_run(body, where, pipefail, problems):
    if re.search(r"(?<![|])\|(?![|])", body) and not pipefail:
        problems.append(f"{where}: RUN with a pipe and no SHELL [... -o pipefail ...] (DL4006)")
    updated, fetched = False, False
    for cmd in run_commands(body):
        if cmd[0] == "sudo":
            problems.append(f"{where}: sudo (DL3004)")
        if cmd[0] == "cd":
            problems.append(f"{where}: cd in RUN, use WORKDIR (DL3003)")
        if cmd[0] == "apt":
            problems.append(f"{where}: apt, use apt-get (DL3027)")
        if posixpath.basename(cmd[0]) == "install-deps.sh":
            fetched = True  # it runs apt-get update itself
        if cmd[0] != "apt-get" or len(cmd) < 2:
            continue
        sub = [a for a in cmd[1:] if not a.startswith("-")]
        opts = [a for a in cmd[1:] if a.startswith("-")]
        verb = sub[0] if sub else ""
        if verb == "update":
            updated = fetched = True
        if verb in ("upgrade", "dist-upgrade", "full-upgrade"):
            problems.append(f"{where}: apt-get {verb} (DL3005)")
        if verb == "install":
            fetched = True
            if "--no-install-recommends" not in opts:
                problems.append(f"{where}: apt-get install without --no-install-recommends (DL3015)")
            if not any(o in ("-y", "--yes", "--assume-yes") or re.fullmatch(r"-[a-z]*y[a-z]*", o)
                       for o in opts):
                problems.append(f"{where}: apt-get install without -y (DL3014)")
            if not updated:
                problems.append(f"{where}: apt-get install with no apt-get update before it in the "
                                "same RUN (the lists were removed)")
    if fetched and not re.search(r"rm\s+-(rf|fr)\s+[^&;|]*/var/lib/apt/lists/\*?", body):
        problems.append(f"{where}: apt lists not removed in the RUN that fetched them (DL3009)")


# --- the build context: .dockerignore ----------------------------------------------------------

def check_context_copies(c, b, im):
    """What the Dockerfile COPYs from the context exists and .dockerignore keeps it in."""
    if b.ignore_pats is None:
        return
    needed = []
    for s in im.stages:
        for ins in s.instrs:
            if ins.cmd == "COPY":
                fl, srcs, _ = copy_parts(ins)
                if "from" not in fl:
                    needed += [posixpath.normpath(x) for x in srcs if posixpath.normpath(x) != "."]
    left_out = [n for n in needed if ignored(b.ignore_pats, n)]
    c.check(not left_out, f"{im.t} .dockerignore keeps in every file it COPYs", str(left_out))
    gone = [n for n in needed if not os.path.exists(os.path.join(b.source_dir, n))]
    c.check(not gone, f"{im.t} every file it COPYs from the context exists", str(gone))


def check_dockerignore(c, src):
    """.dockerignore leaves out the build tree, .git and data, and keeps in the build's sources.
    Returns its patterns (None where there is no .dockerignore)."""
    pats = load_dockerignore(os.path.join(src, ".dockerignore"))
    if not c.check(pats is not None, ".dockerignore exists"):
        return None
    for p in ("build", ".git", "recsys-data", "build/default/services/server/recsys-server",
              "services/server/recsys-data", "CMakeUserPresets.json"):
        c.check(ignored(pats, p), f".dockerignore leaves out {p}")
    build_inputs = [f for f in _source_files(src)
                    if re.match(r"(CMakeLists\.txt|CMakePresets\.json|cmake/|protos/|"
                                r"kernels/|store/|models/|services/|scripts/|deploy/)", f)]
    dropped = [f for f in build_inputs if ignored(pats, f)]
    c.check(not dropped and build_inputs, ".dockerignore keeps every source file of the build in the context",
            f"leaves out {dropped[:10]}")
    return pats


def _source_files(src):
    """The build's inputs: git's files (tracked, or untracked and not ignored) where this is a
    checkout, else the source files on disk."""
    tracked = subprocess.run(["git", "-C", src, "ls-files", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, text=True)
    if tracked.returncode == 0:
        return [f for f in tracked.stdout.split("\n") if f]
    files = []
    for root, dirs, names in os.walk(src):
        dirs[:] = [d for d in dirs if not (root == src and d in ("build", ".git"))]
        files += [os.path.relpath(os.path.join(root, n), src) for n in names
                  if n == "CMakeLists.txt" or re.search(r"\.(cc|h|cu|cuh|proto|cmake|sh|json|py)$", n)]
    return files
