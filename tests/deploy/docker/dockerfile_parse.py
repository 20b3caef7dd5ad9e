"""Parsing for dockerfile_test.py, without a Docker engine: Dockerfile instructions and stages
(with Docker's ARG/ENV substitution), the shell commands of RUN, .dockerignore patterns, and
CMake presets."""
import fnmatch
import json
import os
import posixpath
import re
import shlex


# ---------------------------------------------------------------------------------------------
# Dockerfile parsing: instructions with line continuations, comments, the escape directive,
# stages, and the ARG/ENV substitution Docker applies to FROM, COPY, ADD, ENV, WORKDIR, USER,
# EXPOSE and LABEL (RUN is left to the shell).

class Instr:
    def __init__(self, cmd, args, line):
        self.cmd, self.args, self.line = cmd, args, line
        self.value = args  # args after substitution (set by the stage walk)

    def json_form(self):
        s = self.args.strip()
        if s.startswith("["):
            try:
                v = json.loads(s)
                if isinstance(v, list) and all(isinstance(x, str) for x in v):
                    return v
            except ValueError:
                pass
        return None


class Stage:
    def __init__(self, index, image, name, line):
        self.index, self.image, self.name, self.line = index, image, name, line
        self.instrs = []
        self.vars = {}

    def label(self):
        return self.name or str(self.index)


def parse_dockerfile(text):
    escape = "\\"
    lines = text.split("\n")
    # Parser directives: leading '# key=value' comments.
    for line in lines:
        m = re.match(r"^#\s*(\w+)\s*=\s*(\S+)\s*$", line)
        if not m:
            break
        if m.group(1).lower() == "escape":
            escape = m.group(2)
    instrs, buf, start = [], [], None
    for n, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and buf):
            continue  # comments (also inside continuations), blank lines inside continuations
        if not stripped:
            continue
        if start is None:
            start = n
        if raw.rstrip().endswith(escape):
            buf.append(raw.rstrip()[:-len(escape)])
            continue
        buf.append(raw)
        joined = " ".join(s.strip() for s in buf)
        cmd, _, args = joined.partition(" ")
        instrs.append(Instr(cmd.upper(), args.strip(), start))
        buf, start = [], None
    if buf:
        joined = " ".join(s.strip() for s in buf)
        cmd, _, args = joined.partition(" ")
        instrs.append(Instr(cmd.upper(), args.strip(), start))
    return instrs


def substitute(s, env):
    def repl(m):
        name = m.group(1) or m.group(4)
        op, word = m.group(2), m.group(3)
        val = env.get(name)
        if op == ":-":
            return val if val else word
        if op == ":+":
            return word if val else ""
        return val if val is not None else ""
    return re.sub(r"\$\{(\w+)(?:(:[-+])([^}]*))?\}|\$(?=\w)(?:(\w+))", repl, s)


def env_pairs(args):
    """ENV/ARG/LABEL 'k=v k2="v 2"' (or legacy 'ENV k v') -> [(k, v or None)]."""
    toks = shlex.split(args, posix=True)
    if toks and "=" not in toks[0] and len(toks) >= 2:
        return [(toks[0], " ".join(toks[1:]))]  # legacy ENV key value
    out = []
    for t in toks:
        k, eq, v = t.partition("=")
        out.append((k, v if eq else None))
    return out


def build_stages(instrs):
    global_args, stages = {}, []
    for ins in instrs:
        if ins.cmd == "FROM":
            toks = ins.args.split()
            toks = [t for t in toks if not t.startswith("--platform")]
            image = substitute(toks[0], global_args)
            name = toks[2] if len(toks) >= 3 and toks[1].upper() == "AS" else None
            stages.append(Stage(len(stages), image, name, ins.line))
            continue
        if not stages:
            if ins.cmd == "ARG":
                for k, v in env_pairs(ins.args):
                    global_args[k] = v if v is not None else ""
            continue
        st = stages[-1]
        if ins.cmd == "ARG":
            for k, v in env_pairs(ins.args):
                st.vars[k] = substitute(v, st.vars) if v is not None else global_args.get(k, st.vars.get(k, ""))
        elif ins.cmd == "ENV":
            for k, v in env_pairs(ins.args):
                st.vars[k] = substitute(v or "", st.vars)
        if ins.cmd in ("COPY", "ADD", "ENV", "WORKDIR", "USER", "EXPOSE", "LABEL", "VOLUME"):
            ins.value = substitute(ins.args, st.vars)
        st.instrs.append(ins)
    return global_args, stages


def copy_parts(ins):
    """COPY/ADD -> (flags dict, sources, dest), after substitution."""
    v = Instr(ins.cmd, ins.value, ins.line).json_form()
    toks = v if v is not None else shlex.split(ins.value)
    flags = {}
    while toks and toks[0].startswith("--"):
        k, _, val = toks.pop(0)[2:].partition("=")
        flags[k] = val
    return flags, toks[:-1], toks[-1] if toks else ""


def pipelines(script):
    """Shell script -> pipelines (lists of simple commands), split at && || ; & and newlines;
    the commands of a pipeline are split at |. Quotes are respected."""
    lex = shlex.shlex(script.replace("\n", " ; "), posix=True, punctuation_chars=";&|")
    lex.whitespace_split = True
    out, pipe, cur = [], [], []
    try:
        toks = list(lex)
    except ValueError:
        toks = script.split()
    for tok in toks + [";"]:
        if tok and set(tok) <= set(";&|()"):
            if cur:
                pipe.append(cur)
            cur = []
            if tok != "|":
                if pipe:
                    out.append([_simple(c) for c in pipe if _simple(c)])
                pipe = []
        else:
            cur.append(tok)
    return [p for p in out if p]


def run_commands(script):
    """Shell script -> simple commands (token lists), split at && || ; | & and newlines."""
    return [c for p in pipelines(script) for c in p]


def _simple(c):
    """Strips what runs a command from the command: VAR=value, !, exec, time, nice, xargs [opts]."""
    while c and re.match(r"^\w+=", c[0]):
        c = c[1:]
    while c and c[0] in ("!", "exec", "time", "nice", "command"):
        c = c[1:]
    if c and c[0] == "xargs":
        c = c[1:]
        while c and c[0].startswith("-"):
            c = c[1:]
    return c


# ---------------------------------------------------------------------------------------------
# .dockerignore (Docker's rules: patterns relative to the context root, filepath.Match plus
# '**', later '!' lines re-include; a matching directory excludes all below it).

def load_dockerignore(path):
    pats = []
    if not os.path.exists(path):
        return None
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        p = posixpath.normpath(line[1:] if neg else line).lstrip("/")
        pats.append((neg, p))
    return pats


def _pattern_regex(p):
    out, i = "", 0
    while i < len(p):
        if p.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif p.startswith("**", i):
            out += ".*"
            i += 2
        elif p[i] == "*":
            out += "[^/]*"
            i += 1
        elif p[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(p[i])
            i += 1
    return re.compile("^" + out + "$")


def ignored(pats, rel):
    """Is rel (a path in the context) left out of the context?"""
    rel = posixpath.normpath(rel)
    parts = rel.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    state = False
    for neg, p in pats:
        rx = _pattern_regex(p)
        if any(rx.match(pre) for pre in prefixes):
            state = not neg
    return state


# ---------------------------------------------------------------------------------------------
# CMake presets

def load_presets(src):
    with open(os.path.join(src, "CMakePresets.json"), encoding="utf-8") as f:
        return json.load(f)


def resolve_configure_preset(presets, name):
    by_name = {p["name"]: p for p in presets.get("configurePresets", [])}
    if name not in by_name:
        return None

    def walk(n, seen=()):
        p = by_name[n]
        inh = p.get("inherits", [])
        inh = [inh] if isinstance(inh, str) else inh
        merged = {"cacheVariables": {}}
        for parent in reversed(inh):  # earlier parents win
            if parent in seen:
                continue
            pm = walk(parent, seen + (n,))
            merged["cacheVariables"].update(pm["cacheVariables"])
            for k, v in pm.items():
                if k != "cacheVariables":
                    merged[k] = v
        for k, v in p.items():
            if k == "cacheVariables":
                merged["cacheVariables"].update(v)
            elif k not in ("inherits",):
                merged[k] = v
        return merged

    m = walk(name)
    m["hidden"] = by_name[name].get("hidden", False)
    for k, v in list(m["cacheVariables"].items()):
        if isinstance(v, dict):
            m["cacheVariables"][k] = v.get("value")
    return m


# ---------------------------------------------------------------------------------------------
# Where a stage puts things: COPY destinations, WORKDIR, the RUN commands that feed apt-get and
# run cmake.

def image_path_of(stage, rel, src_dir):
    """Where the context file rel lands in the stage's image, from its COPY instructions."""
    workdir, found = "/", None
    for ins in stage.instrs:
        if ins.cmd == "WORKDIR":
            workdir = posixpath.join(workdir, ins.value)
        if ins.cmd != "COPY":
            continue
        flags, srcs, dest = copy_parts(ins)
        if "from" in flags:
            continue
        dest_abs = posixpath.normpath(posixpath.join(workdir, dest))
        dir_dest = dest.endswith("/") or len(srcs) > 1
        for s in srcs:
            s = posixpath.normpath(s).lstrip("/")
            if s == ".":
                found = posixpath.join(dest_abs, rel)
            elif os.path.isdir(os.path.join(src_dir, s)):
                if rel.startswith(s + "/"):
                    found = posixpath.join(dest_abs, rel[len(s) + 1:])
            elif fnmatch.fnmatchcase(rel, s):
                found = posixpath.join(dest_abs, posixpath.basename(rel)) if dir_dest else dest_abs
    return found


def copied_before(stage, rel, src_dir, upto):
    """Like image_path_of, only the COPYs before instruction index upto."""
    st = Stage(stage.index, stage.image, stage.name, stage.line)
    st.instrs = stage.instrs[:upto]
    return image_path_of(st, rel, src_dir)


def workdir_at(stage, upto):
    wd = "/"
    for ins in stage.instrs[:upto]:
        if ins.cmd == "WORKDIR":
            wd = posixpath.join(wd, ins.value)
    return posixpath.normpath(wd)


def list_feeds_apt_install(script, path):
    """Does a pipeline of the script read path and hand it to apt-get install (a | ... | xargs
    apt-get install pipeline, or apt-get install $(... path ...))?"""
    for cmds in pipelines(script):
        installs = [c for c in cmds if c[:2] == ["apt-get", "install"]]
        if not installs:
            continue
        if any(path in a and "$(" in a for c in installs for a in c):
            return True
        readers = [c for c in cmds if c[:2] != ["apt-get", "install"] and c[0] != "rm" and path in c[1:]]
        if readers and len(cmds) > 1:
            return True
    return False


def parse_cmake(cmd):
    """cmake argv -> ('configure'|'build', preset, targets, defines)."""
    kind = "build" if "--build" in cmd else "configure"
    preset, targets, defines, i = None, [], {}, 1
    while i < len(cmd):
        a = cmd[i]
        if a == "--preset" and i + 1 < len(cmd):
            preset = cmd[i + 1]
            i += 1
        elif a.startswith("--preset="):
            preset = a.split("=", 1)[1]
        elif a in ("--target", "-t"):
            while i + 1 < len(cmd) and not cmd[i + 1].startswith("-"):
                targets.append(cmd[i + 1])
                i += 1
        elif a.startswith("-D"):
            k, _, v = a[2:].partition("=")
            defines[k.split(":")[0]] = v
        i += 1
    return kind, preset, targets, defines
