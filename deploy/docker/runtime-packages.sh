#!/usr/bin/env bash
# Maps the shared libraries that recsys-server and recsys-cli load (ldd) to the packages that
# ship them (dpkg -S), so the runtime stage of deploy/docker/Dockerfile.* installs exactly those.
#
#   runtime-packages.sh list   BINARY...             one line a library: soname, path, kind, package
#   runtime-packages.sh check  [--no-cuda] BINARY... the lists below against the binaries: exit 1 on
#                                                    a package missing from a list, or a list entry
#                                                    that no library needs (unless marked "# extra")
#   runtime-packages.sh update BINARY...             rewrite the lists from the binaries, keeping the
#                                                    "# extra" lines
# Options (before the binaries): --debian-list FILE, --cuda-list FILE (defaults: the files beside
# this script), --no-cuda (check: the binaries must load no CUDA library; the cuda list is not read).
#
# Kinds: "debian": a file of a Debian package (runtime-packages.txt). "cuda": a CUDA toolkit
# library (libcublas.so.13 ...), from NVIDIA's repository in the cuda image only; its list
# (runtime-packages-cuda.txt) names the packages without the -<major>-<minor> suffix that
# Dockerfile.cuda appends from CUDA_VERSION. Found either in a package such as libcublas-13-0
# (the cuda image's builder) or, unpackaged, by soname (a toolkit from pip wheels or a runfile).
# "driver": libcuda.so.1, which the NVIDIA container toolkit mounts from the host: nothing to
# install. cudart is linked statically (kernels/CMakeLists.txt), so it normally does not appear.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
debian_list="$here/runtime-packages.txt"
cuda_list="$here/runtime-packages-cuda.txt"
no_cuda=0

die() { echo "runtime-packages: $*" >&2; exit 2; }
usage() { sed -n '2,20p' "$0" >&2; exit 2; }

[ $# -ge 1 ] || usage
mode="$1"; shift
case "$mode" in list|check|update) ;; *) usage ;; esac
while [ $# -gt 0 ]; do
  case "$1" in
    --debian-list) debian_list="$2"; shift 2 ;;
    --debian-list=*) debian_list="${1#*=}"; shift ;;
    --cuda-list) cuda_list="$2"; shift 2 ;;
    --cuda-list=*) cuda_list="${1#*=}"; shift ;;
    --no-cuda) no_cuda=1; shift ;;
    --) shift; break ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || die "no binaries given"

# CUDA toolkit sonames -> NVIDIA package base name (debian12 repository).
cuda_package_of_soname() {
  case "$1" in
    libcudart.so.*) echo cuda-cudart ;;
    libcublas.so.*|libcublasLt.so.*) echo libcublas ;;
    libcufft.so.*|libcufftw.so.*) echo libcufft ;;
    libcurand.so.*) echo libcurand ;;
    libcusparse.so.*) echo libcusparse ;;
    libcusolver.so.*|libcusolverMg.so.*) echo libcusolver ;;
    libnvrtc.so.*|libnvrtc-builtins.so.*) echo cuda-nvrtc ;;
    libnvJitLink.so.*) echo libnvjitlink ;;
    *) return 1 ;;
  esac
}

# 1. Every library the binaries load (ldd is transitive): "soname path" lines.
declare -A lib_path=()
for bin in "$@"; do
  [ -f "$bin" ] || die "$bin: no such file (build it first)"
  if ! out="$(ldd "$bin" 2>&1)"; then
    die "ldd $bin failed: $out"
  fi
  while IFS= read -r line; do
    line="${line#"${line%%[![:space:]]*}"}"
    case "$line" in
      linux-vdso.so.*|"") continue ;;
      *"=> not found"*) die "$bin: ${line%% *} not found (ldd): install it before checking" ;;
      *" => "/*) soname="${line%% => *}"; path="${line#* => }"; path="${path%% (*}" ;;
      /*) path="${line%% (*}"; soname="$(basename "$path")" ;;
      *) die "$bin: unexpected ldd line: $line" ;;
    esac
    lib_path["$soname"]="$path"
  done <<<"$out"
done

# 2. Owners: dpkg -S knows a file by the path its package installed, which on a merged-/usr
# system may be the /lib or the /usr/lib spelling, the symlink or its target (alternatives such
# as libblas.so.3 resolve to the provider's file). One dpkg call for all candidate paths.
declare -A candidates=()
for soname in "${!lib_path[@]}"; do
  p="${lib_path[$soname]}"
  r="$(readlink -f "$p" || echo "$p")"
  for c in "$p" "$r"; do
    candidates["$c"]=1
    case "$c" in
      /usr/lib/*) candidates["${c#/usr}"]=1 ;;
      /lib/*|/lib64/*) candidates["/usr$c"]=1 ;;
    esac
  done
done
declare -A owner=()
while IFS= read -r line; do
  case "$line" in "diversion by"*|"") continue ;; esac
  pkgs="${line%%: /*}"; file="/${line#*: /}"
  pkg="${pkgs%%,*}"; pkg="${pkg%%:*}"
  [ -n "${owner[$file]:-}" ] || owner["$file"]="$pkg"
done < <(dpkg -S "${!candidates[@]}" 2>/dev/null || true)

owner_of() {
  local p="$1" r c
  r="$(readlink -f "$p" || echo "$p")"
  for c in "$p" "$r" "${p#/usr}" "/usr$p" "${r#/usr}" "/usr$r"; do
    if [ -n "${owner[$c]:-}" ]; then echo "${owner[$c]}"; return 0; fi
  done
  return 1
}

# 3. Classify: soname path kind package.
declare -A debian=() cuda=()
rows=()
for soname in $(printf '%s\n' "${!lib_path[@]}" | sort); do
  path="${lib_path[$soname]}"
  if pkg="$(owner_of "$path")"; then
    if [[ "$pkg" =~ ^(.+)-[0-9]+-[0-9]+$ ]] && cuda_package_of_soname "$soname" >/dev/null; then
      kind=cuda; pkg="${BASH_REMATCH[1]}"   # libcublas-13-0 -> libcublas
    else
      kind=debian
    fi
  elif [ "$soname" = libcuda.so.1 ]; then
    kind=driver; pkg=-
  elif pkg="$(cuda_package_of_soname "$soname")"; then
    kind=cuda
  else
    die "$soname ($path) belongs to no Debian package and is no known CUDA library"
  fi
  case "$kind" in
    debian) debian["$pkg"]=1 ;;
    cuda) cuda["$pkg"]=1 ;;
  esac
  rows+=("$soname	$path	$kind	$pkg")
done

if [ "$mode" = list ]; then
  printf '%s\n' "${rows[@]}"
  exit 0
fi

# A list file: one package a line; "#" starts a comment; a line whose comment starts with
# "extra" is kept by hand. Prints "name<TAB>extra|derived".
read_list() {
  [ -f "$1" ] || die "$1: no such file"
  sed -n -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' \
         -e 's/^[[:space:]]*\([^[:space:]#]*\)[[:space:]]*#[[:space:]]*extra.*/\1	extra/p' \
         -e 't' -e 's/^[[:space:]]*\([^[:space:]#]*\).*/\1	derived/p' "$1"
}

if [ "$mode" = update ]; then
  write_list() {  # file default-header names...
    local file="$1" header="$2" extras=""; shift 2
    if [ -f "$file" ]; then
      header="$(awk '/^#/ {print; next} {exit}' "$file")"
      extras="$(grep -E '^[^#[:space:]]+[[:space:]]*#[[:space:]]*extra' "$file" || true)"
    fi
    {
      printf '%s\n' "$header"
      { [ -z "$extras" ] || printf '%s\n' "$extras"; printf '%s\n' "$@"; } | sort -u -k1,1
    } >"$file.new"
    mv "$file.new" "$file"
    echo "runtime-packages: wrote $file"
  }
  write_list "$debian_list" "# Debian packages of the runtime stage (runtime-packages.sh update)" "${!debian[@]}"
  if [ ${#cuda[@]} -gt 0 ]; then
    write_list "$cuda_list" "# CUDA packages of the cuda runtime stage (runtime-packages.sh update)" "${!cuda[@]}"
  fi
  exit 0
fi

# check
problems=0
compare() {  # label listfile assoc-array-name
  local label="$1" file="$2"; local -n want="$3"
  local -A have=() extra=()
  local name how
  while IFS=$'\t' read -r name how; do
    have["$name"]=1
    [ "$how" = extra ] && extra["$name"]=1
  done < <(read_list "$file")
  for name in $(printf '%s\n' "${!want[@]}" | sort); do
    if [ -z "${have[$name]:-}" ]; then
      echo "runtime-packages: MISSING from $file: $name ($label; needed by$(printf '%s\n' "${rows[@]}" | awk -F'\t' -v p="$name" '$4==p {printf " %s", $1}'))"
      problems=$((problems + 1))
    fi
  done
  for name in $(printf '%s\n' "${!have[@]}" | sort); do
    if [ -z "${want[$name]:-}" ] && [ -z "${extra[$name]:-}" ]; then
      echo "runtime-packages: STALE in $file: $name (no library of the binaries is in it; mark it '# extra: why' if it is wanted anyway)"
      problems=$((problems + 1))
    fi
  done
  echo "runtime-packages: $label: ${#want[@]} package(s) needed, ${#have[@]} listed in $file"
}
compare debian "$debian_list" debian
if [ "$no_cuda" -eq 1 ]; then
  if [ ${#cuda[@]} -gt 0 ]; then
    echo "runtime-packages: --no-cuda, but the binaries load CUDA libraries: $(printf '%s\n' "${rows[@]}" | awk -F'\t' '$3=="cuda" {printf "%s ", $1}')"
    problems=$((problems + 1))
  fi
else
  compare cuda "$cuda_list" cuda
fi
if [ "$problems" -gt 0 ]; then
  echo "runtime-packages: $problems problem(s); 'runtime-packages.sh list' shows each library's package"
  exit 1
fi
echo "runtime-packages: ok"
