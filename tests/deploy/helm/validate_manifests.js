#!/usr/bin/env node
// Validates rendered Kubernetes manifests offline (no API server):
//   node validate_manifests.js FILE...   ("-" = stdin)
// For every object: apiVersion/kind must be in the allowlist of current stable APIs; core
// kinds are checked against the Kubernetes OpenAPI schemas of kubernetes-models (types,
// enums, required fields) and, since those schemas accept any extra key, field names are
// also checked against the models' type declarations, so a misspelt key such as
// `readinesProbe` fails here instead of being dropped by the API server. ServiceMonitor
// (a CRD the models lack) is checked by hand. Exits 1 on any problem.
// Tools: $RECSYS_DEPLOY_TOOLS, default <repo>/build/deploy-tools (scripts/install-deps.sh).
'use strict';
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

const tools = process.env.RECSYS_DEPLOY_TOOLS ||
    path.resolve(__dirname, '..', '..', '..', 'build', 'deploy-tools');
const nm = path.join(tools, 'node_modules');
for (const pkg of ['kubernetes-models', 'js-yaml']) {
  if (!fs.existsSync(path.join(nm, pkg))) {
    console.error(`validate_manifests: ${path.join(nm, pkg)} is missing; run scripts/install-deps.sh`);
    process.exit(2);
  }
}
const yaml = require(path.join(nm, 'js-yaml'));

// apiVersion/kind -> model module under kubernetes-models/ (null: checked by hand).
const ALLOWED = {
  'apps/v1/Deployment': 'apps/v1/Deployment',
  'apps/v1/StatefulSet': 'apps/v1/StatefulSet',
  'v1/Service': 'v1/Service',
  'v1/ConfigMap': 'v1/ConfigMap',
  'v1/Pod': 'v1/Pod',
  'v1/ServiceAccount': 'v1/ServiceAccount',
  'v1/PersistentVolumeClaim': 'v1/PersistentVolumeClaim',
  'autoscaling/v2/HorizontalPodAutoscaler': 'autoscaling/v2/HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget': 'policy/v1/PodDisruptionBudget',
  'monitoring.coreos.com/v1/ServiceMonitor': null,
};

// ---- field names from the models' .d.ts declarations -------------------------------------
// Each interface lists its properties; a property typed IIoK8s... (or Array<IIoK8s...>)
// refers to another declaration file. Anything else (maps, strings, IntOrString) is a leaf.
const declCache = new Map();
function resolveImport(fromFile, spec) {
  if (spec.startsWith('.')) return path.resolve(path.dirname(fromFile), spec.replace(/\.js$/, '.d.ts'));
  if (spec.startsWith('@kubernetes-models/') && spec !== '@kubernetes-models/base') {
    return path.join(nm, spec.replace(/\.js$/, '') + '.d.ts');
  }
  return null;
}
function declaration(file) {
  if (declCache.has(file)) return declCache.get(file);
  let props = null;
  if (file && fs.existsSync(file)) {
    const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    const imports = new Map();
    for (const m of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) {
      imports.set(m[1], resolveImport(file, m[2]));
    }
    const start = text.search(/export interface I\w+( extends TypeMeta)? \{/);
    if (start >= 0) {
      props = new Map();
      let depth = 0;
      for (const line of text.slice(start).split('\n')) {
        const m = depth === 1 && line.match(/^\s*"([^"]+)"\??: (.*?);?$/);
        if (m) {
          const ref = m[2].match(/^(Array<)?(IIoK8s\w+)>?$/);
          props.set(m[1], ref && imports.get(ref[2]) ? { file: imports.get(ref[2]), array: !!ref[1] } : {});
        }
        depth += (line.match(/\{/g) || []).length - (line.match(/\}/g) || []).length;
        if (depth === 0 && line.includes('}')) break;
      }
    }
  }
  declCache.set(file, props);
  return props;
}
function unknownFields(value, file, where, errors) {
  const props = declaration(file);
  if (!props || value === null || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, v] of Object.entries(value)) {
    const p = props.get(key);
    if (!p) {
      errors.push(`${where}.${key}: unknown field`);
    } else if (p.file && p.array && Array.isArray(v)) {
      v.forEach((x, i) => unknownFields(x, p.file, `${where}.${key}[${i}]`, errors));
    } else if (p.file && !p.array) {
      unknownFields(v, p.file, `${where}.${key}`, errors);
    }
  }
}

// ---- checks the schemas do not make -------------------------------------------------------
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;  // Service names (RFC 1035), max 63
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DURATION = /^([0-9]+(ms|s|m|h))+$/;

function metadataErrors(obj, errors) {
  const md = obj.metadata || {};
  const name = md.name;
  if (typeof name !== 'string') return errors.push('metadata.name: missing');
  const service = obj.kind === 'Service';
  if (service ? !(DNS_LABEL.test(name) && name.length <= 63) : !(DNS_SUBDOMAIN.test(name) && name.length <= 253)) {
    errors.push(`metadata.name ${JSON.stringify(name)}: not a valid ${service ? 'DNS label' : 'DNS subdomain'}`);
  }
  for (const [k, v] of Object.entries(md.labels || {})) {
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) errors.push(`metadata.labels.${k}: invalid value ${JSON.stringify(v)}`);
  }
  for (const [k, v] of Object.entries(md.annotations || {})) {
    if (typeof v !== 'string') errors.push(`metadata.annotations.${k}: must be a string`);
  }
}

// The API server rejects a workload whose selector does not match its pod template.
function selectorErrors(obj, errors) {
  if (!['Deployment', 'StatefulSet'].includes(obj.kind)) return;
  const want = (obj.spec && obj.spec.selector && obj.spec.selector.matchLabels) || {};
  const have = (obj.spec && obj.spec.template && obj.spec.template.metadata && obj.spec.template.metadata.labels) || {};
  if (Object.keys(want).length === 0) errors.push('spec.selector.matchLabels: empty');
  for (const [k, v] of Object.entries(want)) {
    if (have[k] !== v) errors.push(`spec.selector.matchLabels.${k}=${v}: not on the pod template`);
  }
}

const SM_SPEC = new Set(['jobLabel', 'targetLabels', 'podTargetLabels', 'endpoints', 'selector',
  'selectorMechanism', 'namespaceSelector', 'sampleLimit', 'targetLimit', 'scrapeProtocols',
  'labelLimit', 'labelNameLengthLimit', 'labelValueLengthLimit', 'keepDroppedTargets',
  'attachMetadata', 'scrapeClass', 'bodySizeLimit']);
const SM_ENDPOINT = new Set(['port', 'targetPort', 'path', 'scheme', 'params', 'interval',
  'scrapeTimeout', 'tlsConfig', 'bearerTokenSecret', 'authorization', 'honorLabels',
  'honorTimestamps', 'basicAuth', 'oauth2', 'metricRelabelings', 'relabelings', 'proxyUrl',
  'followRedirects', 'enableHttp2', 'filterRunning']);
const RELABEL_ACTIONS = new Set(['replace', 'keep', 'drop', 'hashmod', 'labelmap', 'labeldrop',
  'labelkeep', 'lowercase', 'uppercase', 'keepequal', 'dropequal']);
function serviceMonitorErrors(obj, errors) {
  const spec = obj.spec;
  if (!spec || typeof spec !== 'object') return errors.push('spec: missing');
  for (const k of Object.keys(spec)) if (!SM_SPEC.has(k)) errors.push(`spec.${k}: unknown field`);
  const sel = spec.selector;
  if (!sel || typeof sel !== 'object' || (!sel.matchLabels && !sel.matchExpressions)) {
    errors.push('spec.selector: needs matchLabels or matchExpressions');
  } else {
    for (const [k, v] of Object.entries(sel.matchLabels || {})) if (typeof v !== 'string') errors.push(`spec.selector.matchLabels.${k}: must be a string`);
  }
  const ns = spec.namespaceSelector;
  if (ns !== undefined && !(ns.any === true || (Array.isArray(ns.matchNames) && ns.matchNames.every((n) => typeof n === 'string')))) {
    errors.push('spec.namespaceSelector: needs any: true or matchNames: [string]');
  }
  for (const key of ['targetLabels', 'podTargetLabels']) {
    if (spec[key] !== undefined && !(Array.isArray(spec[key]) && spec[key].every((s) => typeof s === 'string'))) errors.push(`spec.${key}: must be a list of strings`);
  }
  if (!Array.isArray(spec.endpoints) || spec.endpoints.length === 0) return errors.push('spec.endpoints: must be a non-empty list');
  spec.endpoints.forEach((ep, i) => {
    const where = `spec.endpoints[${i}]`;
    for (const k of Object.keys(ep)) if (!SM_ENDPOINT.has(k)) errors.push(`${where}.${k}: unknown field`);
    if (typeof ep.port !== 'string' && ep.targetPort === undefined) errors.push(`${where}: needs port (a Service port name) or targetPort`);
    if (ep.path !== undefined && !(typeof ep.path === 'string' && ep.path.startsWith('/'))) errors.push(`${where}.path: must start with /`);
    if (ep.scheme !== undefined && !['http', 'https'].includes(ep.scheme)) errors.push(`${where}.scheme: http or https`);
    for (const key of ['relabelings', 'metricRelabelings']) {
      (ep[key] || []).forEach((r, j) => {
        if (r.action !== undefined && !RELABEL_ACTIONS.has(String(r.action).toLowerCase())) errors.push(`${where}.${key}[${j}].action: unknown ${r.action}`);
        if (r.regex !== undefined && typeof r.regex !== 'string') errors.push(`${where}.${key}[${j}].regex: must be a string`);
      });
    }
    for (const d of ['interval', 'scrapeTimeout']) {
      if (ep[d] !== undefined && !(typeof ep[d] === 'string' && DURATION.test(ep[d]))) errors.push(`${where}.${d}: not a duration`);
    }
  });
}

// ---- main ---------------------------------------------------------------------------------
async function main() {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: validate_manifests.js FILE... (- = stdin)');
    process.exit(2);
  }
  const models = {};
  let failed = 0;
  const counts = {};
  const seen = new Set();
  for (const file of files) {
    const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
    let docs;
    try {
      docs = yaml.loadAll(text);
    } catch (e) {
      console.log(`FAIL ${file}: not YAML: ${e.message}`);
      failed++;
      continue;
    }
    for (const obj of docs) {
      if (obj === null || obj === undefined) continue;  // empty document
      const errors = [];
      const id = `${obj.apiVersion}/${obj.kind}`;
      const name = (obj.metadata && obj.metadata.name) || '?';
      if (!(id in ALLOWED)) {
        errors.push(`apiVersion/kind ${id} is not in the allowlist of stable APIs`);
      } else {
        metadataErrors(obj, errors);
        selectorErrors(obj, errors);
        const mod = ALLOWED[id];
        if (mod === null) {
          serviceMonitorErrors(obj, errors);
        } else {
          if (!models[mod]) models[mod] = (await import(pathToFileURL(path.join(nm, 'kubernetes-models', mod + '.js')).href))[path.basename(mod)];
          try {
            new models[mod](obj).validate();
          } catch (e) {
            const details = (e.errors || e.details || []).map((d) => `${d.instancePath || '/'} ${d.message || d.keyword}`);
            errors.push(details.length ? details.join('; ') : e.message);
          }
          unknownFields(obj, path.join(nm, 'kubernetes-models', mod + '.d.ts'), obj.kind, errors);
        }
        const key = `${id}/${name}`;
        if (seen.has(key)) errors.push('duplicate object');
        seen.add(key);
      }
      if (errors.length) {
        failed++;
        console.log(`FAIL ${id} ${name}`);
        for (const e of errors) console.log(`       ${e}`);
      } else {
        counts[id] = (counts[id] || 0) + 1;
        console.log(`ok   ${id} ${name}`);
      }
    }
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const summary = Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ');
  console.log(`validate_manifests: ${total} valid (${summary || 'none'}), ${failed} failed`);
  process.exit(failed || total === 0 ? 1 : 0);
}
main().catch((e) => {
  console.error(`validate_manifests: ${e.stack || e}`);
  process.exit(1);
});
