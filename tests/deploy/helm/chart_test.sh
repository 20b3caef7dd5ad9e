#!/usr/bin/env bash
# Tests of the Helm chart helm/recsys, offline (no cluster):
#   chart_test.sh PROJECT_SOURCE_DIR [cases|bad-values|validator|all]
# cases:      helm lint --strict, helm template, every object through validate_manifests.js
#             and check_rendered.js, NOTES.txt, for the defaults and each values/*.yaml;
#             plus determinism, the ConfigMap checksum, kubeVersion and helm package.
# bad-values: each bad-values/*.yaml must be rejected (helm template, and helm lint unless
#             marked "# render-only"), with the message given on its "# expect:" line.
# validator:  validate_manifests.js must fail on broken manifests (it has teeth).
# Tools come from $RECSYS_DEPLOY_TOOLS or PROJECT_SOURCE_DIR/build/deploy-tools; when they
# are missing the test fails (CI installs them with scripts/install-deps.sh).
set -uo pipefail

src=${1:?usage: chart_test.sh PROJECT_SOURCE_DIR [cases|bad-values|validator|all]}
section=${2:-all}
here=$src/tests/deploy/helm
chart=$src/helm/recsys
tools=${RECSYS_DEPLOY_TOOLS:-$src/build/deploy-tools}
helm=$tools/bin/helm
export RECSYS_DEPLOY_TOOLS=$tools

missing() {
  echo "chart_test: $1 is missing. Run scripts/install-deps.sh (it runs scripts/install-deploy-tools.sh)," >&2
  echo "chart_test: or point RECSYS_DEPLOY_TOOLS at a directory with bin/helm and node_modules/." >&2
  exit 1
}
[ -x "$helm" ] || missing "helm ($helm)"
command -v node >/dev/null || missing "node (Node.js on PATH)"
for pkg in kubernetes-models js-yaml; do
  [ -d "$tools/node_modules/$pkg" ] || missing "the npm package $pkg ($tools/node_modules/$pkg)"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checks=0
RELEASE=prod
NS=recsys-test

pass() { checks=$((checks + 1)); echo "ok    $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL  $*"; }
# expect_ok DESCRIPTION LOG COMMAND...: the command must succeed; its output goes to LOG
# and is shown when it does not.
expect_ok() {
  local what=$1 log=$2
  shift 2
  if "$@" >"$log" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/      /' "$log"; fi
}
render() { "$helm" template "$RELEASE" "$chart" --namespace "$NS" "$@"; }
checksum_of() { grep -m1 'checksum/config:' "$1" | awk '{print $2}'; }

run_cases() {
  local files=("" "$here"/values/*.yaml)
  for f in "${files[@]}"; do
    local name=default args=()
    if [ -n "$f" ]; then name=$(basename "$f" .yaml); args=(-f "$f"); fi
    echo "--- case $name"
    expect_ok "$name: helm lint --strict" "$work/$name.lint" "$helm" lint --strict "$chart" "${args[@]}"
    if ! render "${args[@]}" >"$work/$name.yaml" 2>"$work/$name.err"; then
      fail "$name: helm template"; sed 's/^/      /' "$work/$name.err"; continue
    fi
    pass "$name: helm template"
    if node "$here/validate_manifests.js" "$work/$name.yaml" >"$work/$name.val" 2>&1; then
      pass "$name: validate_manifests: $(tail -1 "$work/$name.val" | sed 's/^validate_manifests: //')"
      sed 's/^/      /' "$work/$name.val" | head -n -1
    else
      fail "$name: validate_manifests"; sed 's/^/      /' "$work/$name.val"
    fi
    expect_ok "$name: check_rendered" "$work/$name.chk" node "$here/check_rendered.js" "$name" "$work/$name.yaml"
    tail -1 "$work/$name.chk" | sed 's/^/      /'
    # NOTES.txt is only rendered by install; --dry-run=client needs no cluster.
    if "$helm" install "$RELEASE" "$chart" --namespace "$NS" --dry-run=client "${args[@]}" >"$work/$name.notes" 2>&1 &&
       grep -q "helm test $RELEASE --namespace $NS" "$work/$name.notes"; then
      pass "$name: NOTES.txt renders and names helm test"
    else
      fail "$name: NOTES.txt"; sed 's/^/      /' "$work/$name.notes" | tail -20
    fi
  done

  echo "--- release-wide properties"
  render >"$work/again.yaml" 2>&1
  if cmp -s "$work/default.yaml" "$work/again.yaml"; then pass "output is deterministic"; else fail "two renders differ"; fi
  render --set flags.log_level=debug >"$work/debug.yaml" 2>&1
  local a b
  a=$(checksum_of "$work/default.yaml")
  b=$(checksum_of "$work/debug.yaml")
  if [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]; then
    pass "a flag change changes checksum/config (pods roll)"
  else
    fail "checksum/config did not change with a flag ($a vs $b)"
  fi
  if render --kube-version 1.24.0 >"$work/kv.out" 2>&1; then
    fail "kubeVersion: rendering for Kubernetes 1.24 should fail"
  elif grep -q 'kubeVersion\|incompatible' "$work/kv.out"; then
    pass "kubeVersion >=1.25.0-0: 1.24 refused"
  else
    fail "kubeVersion: unexpected error"; sed 's/^/      /' "$work/kv.out"
  fi
  expect_ok "kubeVersion: 1.25 accepted" "$work/kv2.out" render --kube-version 1.25.0
  expect_ok "helm package" "$work/package.out" "$helm" package "$chart" --destination "$work"
}

run_bad_values() {
  echo "--- bad values (must be rejected)"
  for f in "$here"/bad-values/*.yaml; do
    local name want
    name=$(basename "$f" .yaml)
    want=$(sed -n 's/^# expect: //p' "$f" | head -1)
    if [ -z "$want" ]; then fail "$name: no '# expect:' line"; continue; fi
    if render -f "$f" >"$work/bad.out" 2>&1; then
      fail "$name: helm template accepted it"
    elif grep -qF -- "$want" "$work/bad.out"; then
      pass "$name: helm template refuses it: $want"
    else
      fail "$name: helm template failed without '$want'"; sed 's/^/      /' "$work/bad.out"
    fi
    grep -q '^# render-only' "$f" && continue
    if "$helm" lint --strict "$chart" -f "$f" >"$work/bad.out" 2>&1; then
      fail "$name: helm lint --strict accepted it"
    elif grep -qF -- "$want" "$work/bad.out"; then
      pass "$name: helm lint --strict refuses it"
    else
      fail "$name: helm lint failed without '$want'"; sed 's/^/      /' "$work/bad.out"
    fi
  done
}

# validate_manifests.js must fail on each broken variant of a good rendering, naming the problem.
run_validator() {
  echo "--- validate_manifests.js rejects broken manifests"
  render --set serviceMonitor.enabled=true >"$work/good.yaml" || { fail "helm template"; return; }
  expect_ok "good rendering passes" "$work/good.out" node "$here/validate_manifests.js" "$work/good.yaml"
  local -a names=(deprecated-api typo-field wrong-type bad-name selector-mismatch servicemonitor-typo)
  local -a wants=("not in the allowlist" "readinesProbe: unknown field" "must be integer"
                  "not a valid DNS label" "not on the pod template" "scrapeIntervl: unknown field")
  local i
  for i in "${!names[@]}"; do
    local n=${names[$i]} out="$work/${names[$i]}.yaml"
    case $n in
      deprecated-api) { cat "$work/good.yaml"; printf -- '---\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: old}\n'; } >"$out" ;;
      typo-field) sed 's/readinessProbe:/readinesProbe:/' "$work/good.yaml" >"$out" ;;
      wrong-type) sed 's/containerPort: 9464/containerPort: "9464"/' "$work/good.yaml" >"$out" ;;
      bad-name) sed "s/name: $RELEASE-recsys-seqrec$/name: $RELEASE-recsys-Seq_rec/" "$work/good.yaml" >"$out" ;;
      # The first Deployment's selector (6-space indent; its labels have 4) loses its pods.
      selector-mismatch) awk '/^kind: Deployment/ { d = 1 }
          d && /^      app.kubernetes.io\/component:/ { sub(/component: /, "component: x"); d = 0 } 1' \
          "$work/good.yaml" >"$out" ;;
      servicemonitor-typo) sed 's/^      interval: /      scrapeIntervl: /' "$work/good.yaml" >"$out" ;;
    esac
    if node "$here/validate_manifests.js" "$out" >"$work/v.out" 2>&1; then
      fail "validator accepted $n"
    elif grep -qF -- "${wants[$i]}" "$work/v.out"; then
      pass "validator rejects $n: $(grep -m1 -F -- "${wants[$i]}" "$work/v.out" | sed 's/^ *//')"
    else
      fail "validator rejected $n without '${wants[$i]}'"; sed 's/^/      /' "$work/v.out"
    fi
  done
}

case $section in
  cases) run_cases ;;
  bad-values) run_bad_values ;;
  validator) run_validator ;;
  all) run_cases; run_bad_values; run_validator ;;
  *) echo "chart_test: unknown section $section" >&2; exit 2 ;;
esac
echo "chart_test ($section): $((checks - failures)) of $checks checks passed"
[ "$failures" -eq 0 ]
