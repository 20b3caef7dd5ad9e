"""The runtime package lists (deploy/docker/runtime-packages*.txt): against the shared libraries
ldd reports for this build's binaries (deploy/docker/runtime-packages.sh), their contents, and
against Debian bookworm's archive."""
import os
import re
import subprocess
import tempfile

from dockerfile_common import FORBIDDEN_RUNTIME


def read_list(path):
    """A runtime-packages*.txt -> package names (comments and blank lines dropped)."""
    out = []
    for line in open(path, encoding="utf-8"):
        name = line.split("#", 1)[0].strip()
        if name:
            out.append(name)
    return out


def check_runtime_lists(c, docker_dir, server, cli, cuda_version):
    """Every check of the runtime lists. cuda_version: Dockerfile.cuda's CUDA_VERSION, or None."""
    bins = [server, cli]
    script = os.path.join(docker_dir, "runtime-packages.sh")
    debian_list = os.path.join(docker_dir, "runtime-packages.txt")
    cuda_list = os.path.join(docker_dir, "runtime-packages-cuda.txt")
    rows = check_lists_match_ldd(c, script, bins)
    debs = read_list(debian_list)
    cudas = read_list(cuda_list) if os.path.exists(cuda_list) else []
    check_list_contents(c, debs, cudas)
    check_cuda_sonames(c, rows, cuda_version)
    check_script_has_teeth(c, script, debian_list, rows, server, cli)
    check_debian_archive(c, debs)


def check_lists_match_ldd(c, script, bins):
    """runtime-packages.sh maps what ldd reports to packages, and the lists name exactly those.
    Returns its rows: (soname, path, 'debian'|'cuda', package)."""
    p = subprocess.run([script, "list"] + bins, capture_output=True, text=True)
    c.check(p.returncode == 0, "runtime-packages.sh list maps every library ldd reports to a package",
            (p.stdout + p.stderr).strip()[-2000:])
    rows = [r.split("\t") for r in p.stdout.splitlines() if r.count("\t") == 3]
    cuda_rows = [r for r in rows if r[2] == "cuda"]
    # A build with the CUDA kernels (the default preset where nvcc exists) loads cuBLAS: both lists
    # are checked. A CPU-only build checks the Debian list, and that it loads no CUDA library.
    check_args = [] if cuda_rows else ["--no-cuda"]
    if not cuda_rows:
        print("note  this build loads no CUDA library (CPU only): runtime-packages-cuda.txt is not "
              "checked against ldd here")
    p = subprocess.run([script, "check"] + check_args + bins, capture_output=True, text=True)
    print("      " + (p.stdout + p.stderr).strip().replace("\n", "\n      "))
    c.check(p.returncode == 0,
            "runtime-packages.txt" + ("" if check_args else " and runtime-packages-cuda.txt") +
            " list exactly the packages of the libraries ldd reports for recsys-server and recsys-cli")
    return rows


def check_list_contents(c, debs, cudas):
    """No build tools in the Debian list, CUDA packages only in the cuda list, unversioned names."""
    c.check(not [d for d in debs if FORBIDDEN_RUNTIME.match(d)],
            "runtime-packages.txt has no compiler, headers or build tools")
    c.check(not [d for d in debs if re.match(r"^(cuda-|libcublas|libcudart|libnv|nvidia-)", d)],
            "runtime-packages.txt has no CUDA package (those go only in the cuda image)")
    c.check(bool(cudas) and all(re.fullmatch(r"[a-z0-9][a-z0-9.+-]*[a-z]", x) for x in cudas),
            "runtime-packages-cuda.txt names packages without the -<major>-<minor> suffix", str(cudas))


def check_cuda_sonames(c, rows, cuda_version):
    """The CUDA libraries this build loads match Dockerfile.cuda's CUDA_VERSION; cudart is static."""
    cuda_rows = [r for r in rows if r[2] == "cuda"]
    if not (cuda_rows and cuda_version):
        return
    majors = {r[0].rsplit(".so.", 1)[1].split(".")[0] for r in cuda_rows}
    c.check(majors == {cuda_version.split(".")[0]},
            f"the CUDA libraries this build loads have the major of Dockerfile.cuda's CUDA_VERSION "
            f"{cuda_version}", f"sonames {[r[0] for r in cuda_rows]}")
    c.check(not [r for r in rows if r[0].startswith("libcudart.so")],
            "cudart is linked statically (the runtime stage installs no cuda-cudart)")


def check_script_has_teeth(c, script, debian_list, rows, server, cli):
    """runtime-packages.sh check fails on a list without one needed package, or with one no
    library needs."""
    derived = [r[3] for r in rows if r[2] == "debian"]
    if not derived:
        return
    with tempfile.TemporaryDirectory() as tmp:
        drop = sorted(set(derived))[len(set(derived)) // 2]
        short = os.path.join(tmp, "short.txt")
        with open(short, "w") as f:
            f.writelines(line for line in open(debian_list) if line.split("#")[0].strip() != drop)
        p = subprocess.run([script, "check", "--no-cuda", "--debian-list", short, cli, server],
                           capture_output=True, text=True)
        c.check(p.returncode != 0 and f"MISSING from {short}: {drop}" in p.stdout,
                f"runtime-packages.sh check fails on a list without {drop}", p.stdout[-500:])
        stale = os.path.join(tmp, "stale.txt")
        with open(stale, "w") as f:
            f.write(open(debian_list).read() + "libfoo-unneeded1\n")
        p = subprocess.run([script, "check", "--no-cuda", "--debian-list", stale, cli, server],
                           capture_output=True, text=True)
        c.check(p.returncode != 0 and "STALE" in p.stdout and "libfoo-unneeded1" in p.stdout,
                "runtime-packages.sh check fails on a list entry no library needs", p.stdout[-500:])


# --- Debian bookworm's archive -----------------------------------------------------------------

def installed_here(pkg):
    """Is pkg installed on this machine (dpkg-query)? On this bookworm machine that makes it a
    package of the release even where apt has no lists (rm -rf /var/lib/apt/lists/*)."""
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return p.returncode == 0 and p.stdout.strip() == "install ok installed"


def apt_policy(debs):
    """apt-cache policy -> {package: its block} for the packages apt-cache knows."""
    p = subprocess.run(["apt-cache", "policy"] + debs, capture_output=True, text=True)
    blocks = {}
    for b in re.split(r"^(?=\S)", p.stdout, flags=re.M):
        name = b.split(":", 1)[0].strip()
        if name in debs:
            blocks[name] = b
    return blocks


def _from_an_archive(block):
    """Does a policy block name a source other than /var/lib/dpkg/status? Without apt's lists an
    installed package still has a block, its only source the status file."""
    # Source lines are '<priority> <URI> <suite>/<component> ...' (URIs have a scheme), the
    # status file's is '<priority> /var/lib/dpkg/status'; version lines end in the priority.
    return re.search(r"^\s+-?\d+\s+\S*:", block, re.M) is not None


def check_debian_archive(c, debs):
    """Every Debian package named exists in bookworm: apt-cache knows it (from bookworm's main
    archive), or, where apt-cache has no archive record of it, it is installed here."""
    osr = open("/etc/os-release").read() if os.path.exists("/etc/os-release") else ""
    if not c.check("VERSION_CODENAME=bookworm" in osr, "this machine is Debian bookworm (apt-cache answers for it)"):
        return
    p = subprocess.run(["apt-cache", "show", "--no-all-versions"] + debs, capture_output=True, text=True)
    found = set(re.findall(r"^Package: (\S+)", p.stdout, re.M))
    blocks = apt_policy(debs)
    in_archive = {d for d, b in blocks.items() if _from_an_archive(b)}
    # Only those apt-cache has no archive record of are asked of dpkg.
    installed = {d for d in debs if d not in in_archive and installed_here(d)}
    missing = [d for d in debs if d not in found and d not in installed]
    c.check(not missing, f"apt-cache show, or dpkg-query for one installed here, finds every package of "
            f"runtime-packages.txt ({len(debs)})",
            f"not found: {missing} (apt-get update first?)")
    # A package apt-cache knows from an archive must come from bookworm's main one; one it knows
    # only as installed (no lists) passes as such; one it does not know at all fails here too.
    not_bookworm = [d for d in debs if d in in_archive
                    and not re.search(r"\sbookworm(-updates|-security)?/main\s", blocks[d])]
    not_bookworm += [d for d in debs if d not in in_archive and d not in installed]
    c.check(not not_bookworm, "every package of runtime-packages.txt that apt-cache knows comes from "
            "bookworm's main archive (apt-cache policy)", str(not_bookworm))
