"""What dockerfile_test.py's checks share: the images and their policy, the pass/fail tally, and
what the built binaries say about themselves."""
import re
import subprocess

IMAGES = {
    # Dockerfile: (configure preset, RECSYS_CUDA it must resolve to, runtime lists it installs)
    "Dockerfile.cpu": ("cpu", "OFF", ["runtime-packages.txt"]),
    "Dockerfile.cuda": ("cuda", "ON", ["runtime-packages.txt", "runtime-packages-cuda.txt"]),
}
BINARIES = {"recsys-server": "/usr/local/bin/recsys-server", "recsys-cli": "/usr/local/bin/recsys-cli"}
USER_UID = "10001"
DATA_DIR = "/var/lib/recsys"
REQUIRED_CMD = {"data_dir": DATA_DIR, "log_format": "json"}
OCI_LABELS = ["title", "description", "version", "revision", "created", "base.name"]
# Packages that have no place in a runtime stage (the compiler and headers stay in the builder).
FORBIDDEN_RUNTIME = re.compile(
    r"^(build-essential|gcc(-\d+)?|g\+\+(-\d+)?|cpp(-\d+)?|clang.*|cmake|ninja-build|make|"
    r"pkg-config|.*-dev|cuda-nvcc.*|cuda-minimal-build.*|cuda-toolkit.*|cuda-compiler.*|"
    r"protobuf-compiler.*|nodejs|npm|python3.*)$")


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, name, detail=""):
        if ok:
            self.passed += 1
            print(f"ok    {name}")
        else:
            self.failed += 1
            print(f"FAIL  {name}" + (f": {detail}" if detail else ""))
        return ok


def server_flags(server):
    """recsys-server --helpfull -> {flag: default or None}."""
    p = subprocess.run([server, "--helpfull"], capture_output=True, text=True, timeout=30)
    text = re.sub(r"\s+", " ", p.stdout + p.stderr)
    flags = {}
    for m in re.finditer(r"--(\w+) \((.*?)\); (?:default: (\"[^\"]*\"|\S+?);)?", text):
        d = m.group(3)
        flags[m.group(1)] = d.strip('"') if d is not None else None
    return flags


def cli_commands(cli):
    p = subprocess.run([cli, "--help"], capture_output=True, text=True, timeout=30)
    return set(re.findall(r"^  (\w+)\s", p.stdout + p.stderr, re.M))
