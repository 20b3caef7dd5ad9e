#!/usr/bin/env node
// Assertions on `helm template prod helm/recsys -n recsys-test [-f values/CASE.yaml]` output:
//   node check_rendered.js CASE RENDERED.yaml
// Every case gets the common checks (labels, security context, gRPC probes on the right
// health names, flags, selectors, shard list, helm test pods); CASES adds what that value
// set is about. Exits 1 with every failed assertion listed.
'use strict';
const fs = require('fs');
const path = require('path');

const tools = process.env.RECSYS_DEPLOY_TOOLS ||
    path.resolve(__dirname, '..', '..', '..', 'build', 'deploy-tools');
const yaml = require(path.join(tools, 'node_modules', 'js-yaml'));

const RELEASE = 'prod';
const NS = 'recsys-test';
const FULL = `${RELEASE}-recsys`;
const VERSION = '0.1.0';
const HEALTH = {
  feature_store: 'recsys.feature_store.v1.FeatureStoreService',
  seqrec: 'recsys.seqrec.v1.SeqRecService',
  behavior_search: 'recsys.behavior_search.v1.BehaviorSearchService',
  setrec: 'recsys.setrec.v1.SetRecService',
  rerank: 'recsys.rerank.v1.RerankService',
};
const shardAddr = (i) => `${FULL}-feature-store-${i}.${FULL}-feature-store-headless.${NS}.svc.cluster.local:50051`;
const shardList = (n) => Array.from({ length: n }, (_, i) => shardAddr(i)).join(',');
const DEFAULT_SERVICES = ['behavior_search', 'feature_store', 'seqrec'];

// What each value set must produce. services: enabled --services names; shards: feature
// store replicas (0 = none); gpu: name -> GPUs; fsFlag: name -> expected --<name>_feature_store
// (absent key: the in-release shard list; null: no flag); parked: services at replicas 0
// (no helm test pod); check: case-specific assertions.
const CASES = {
  default: { services: DEFAULT_SERVICES, shards: 1 },
  'gpu-on': {
    services: DEFAULT_SERVICES, shards: 1, gpu: { seqrec: 1 },
    check(t) {
      const d = t.workload('seqrec');
      const pod = d.spec.template.spec;
      t.eq(pod.nodeSelector, { 'nvidia.com/gpu.present': 'true' }, 'seqrec nodeSelector from gpuNodes');
      t.eq(t.flag('seqrec', 'seqrec_models'), 'sasrec-demo,bert4rec-demo', '--seqrec_models');
      t.eq(d.spec.strategy.rollingUpdate, { maxSurge: 0, maxUnavailable: 1 }, 'seqrec rollout strategy override');
      t.eq(t.workload('behavior_search').spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 }, 'default surge-first rollout');
      const bs = t.workload('behavior_search').spec.template.spec;
      t.ok(!t.server('seqrec').args.some((a) => a.startsWith('--admin_')), 'admin defaults: no admin flags');
      t.ok(!bs.volumes.some((v) => v.name === 'admin-token'), 'admin defaults: no token volume');
      t.ok(!bs.nodeSelector, 'behavior_search (no GPU) has no GPU nodeSelector');
      for (const name of ['seqrec', 'behavior_search']) {
        const models = t.workload(name).spec.template.spec.volumes.find((v) => v.name === 'models');
        t.eq(models.persistentVolumeClaim, { claimName: 'recsys-models', readOnly: true }, `${name} model repository PVC read-only`);
      }
    },
  },
  'all-services-on': {
    services: [...DEFAULT_SERVICES, 'rerank', 'setrec'], shards: 1, fsFlag: { rerank: null }, parked: ['rerank'],
    check(t) {
      t.eq(t.workload('setrec').spec.replicas, 2, 'setrec replicas');
      t.eq(t.workload('setrec').metadata.name, `${FULL}-setrec`, 'setrec Deployment name');
      t.eq(t.workload('rerank').spec.replicas, 0, 'replicas: 0 is kept, not defaulted to 1');
      t.eq(t.workload('rerank').spec.strategy, { type: 'Recreate' }, 'Recreate drops the default rollingUpdate');
      t.eq(t.server('rerank').resources.limits.memory, '8Gi', 'rerank: the LLM-sized limit of its values entry');
      t.ok(!t.server('rerank').args.some((x) => x.startsWith('--rerank_feature_store')), 'rerank: no feature store flag');
    },
  },
  'feature-store-3-shards': {
    services: ['feature_store', 'seqrec'], shards: 3,
    check(t) {
      const sts = t.workload('feature_store');
      const pvc = sts.spec.volumeClaimTemplates[0].spec;
      t.eq(pvc.storageClassName, 'fast-ssd', 'PVC storage class');
      t.eq(pvc.resources.requests.storage, '100Gi', 'PVC size');
      t.eq(sts.spec.podManagementPolicy, 'Parallel', 'shards start in parallel');
      t.ok(!t.objects.some((o) => JSON.stringify(o).includes('behavior')), 'disabled behavior_search renders nothing');
    },
  },
  'servicemonitor-on': {
    services: DEFAULT_SERVICES, shards: 1, serviceMonitor: true,
    check(t) {
      const sm = t.only('ServiceMonitor');
      t.eq(sm.metadata.labels.release, 'kube-prometheus-stack', 'ServiceMonitor extra label');
      t.eq(sm.spec.endpoints, [{ port: 'metrics', path: '/metrics', scheme: 'http', interval: '15s', scrapeTimeout: '10s',
        relabelings: [{ action: 'labeldrop', regex: 'service' }] }], 'endpoints (keeping the metrics\' own service label)');
      t.eq(sm.spec.jobLabel, 'app.kubernetes.io/part-of', 'job="recsys" as the alert rules expect');
      t.ok(t.kind('Service').every((s) => s.metadata.labels['app.kubernetes.io/part-of'] === 'recsys'), 'every Service has the job label');
      t.eq(sm.spec.namespaceSelector, { matchNames: [NS] }, 'namespaceSelector');
      // It must select every ClusterIP Service (each exposes `metrics`) and no headless one.
      const selected = t.kind('Service').filter((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels));
      const withMetrics = selected.filter((s) => s.spec.ports.some((p) => p.name === 'metrics'));
      t.eq(withMetrics.length, 3, 'ServiceMonitor reaches one metrics Service per service');
      t.ok(selected.every((s) => s.spec.clusterIP !== 'None' || !s.spec.ports.some((p) => p.name === 'metrics')), 'headless Service has no metrics port (no double scrape)');
    },
  },
  'custom-metric-hpa': {
    services: DEFAULT_SERVICES, shards: 1, hpa: ['behavior_search', 'seqrec'],
    check(t) {
      const hpa = (name) => t.kind('HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === `${FULL}-${name.replace(/_/g, '-')}`);
      const pods = { type: 'Pods', pods: { metric: { name: 'recsys_grpc_server_in_flight_requests' }, target: { type: 'AverageValue', averageValue: '16' } } };
      const cpu = { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } };
      t.eq(hpa('seqrec').spec.metrics, [cpu, pods], 'seqrec HPA: CPU and in-flight requests');
      t.eq([hpa('seqrec').spec.minReplicas, hpa('seqrec').spec.maxReplicas], [2, 10], 'seqrec HPA bounds');
      t.eq(hpa('behavior_search').spec.metrics, [{ ...pods, pods: { ...pods.pods, target: { type: 'AverageValue', averageValue: '32' } } }], 'behavior_search HPA: in-flight requests only');
    },
  },
  'external-feature-store': {
    services: ['behavior_search', 'seqrec'], shards: 0,
    fsFlag: { seqrec: 'fs-0.fs.shared.svc.cluster.local:50051,fs-1.fs.shared.svc.cluster.local:50051', behavior_search: null },
    check(t) {
      t.eq(t.kind('StatefulSet').length, 0, 'no StatefulSet');
      t.ok(!t.objects.some((o) => o.metadata.name.includes('feature-store')), 'no feature-store objects');
    },
  },
  'scheduling-and-flags': {
    services: DEFAULT_SERVICES, shards: 1, pdbMinAvailable: { seqrec: 1 },
    check(t) {
      const flags = t.commonFlags();
      t.ok(flags.includes('--log_level=debug') && flags.includes('--max_concurrent_rpcs=2048'), 'flag overrides in the flagfile');
      t.ok(flags.includes('--readiness_drain_delay=10s') && flags.includes('--drain_timeout=40s'), 'shutdown timings in the flagfile');
      const fsArgs = t.server('feature_store').args;
      t.ok(fsArgs.includes('--feature_store_max_events_per_user=1000000'), 'large integer flag is not printed as 1e+06');
      t.ok(fsArgs.includes('--feature_store_sync_writes=false'), 'boolean flag');
      t.ok(t.server('seqrec').args.includes('--seqrec_max_delay=1ms'), 'seqrec extra flag');
      t.ok(t.server('seqrec').args.includes('--intra_op_threads=2'), 'CPU limit 1500m: two intra-op threads');
      t.ok(!t.server('behavior_search').args.some((a) => a.startsWith('--intra_op_threads')), 'no CPU limit: the default');
      for (const name of DEFAULT_SERVICES) {
        const server = t.server(name);
        t.ok(server.args.includes('--admin_token_file=/etc/recsys-admin/token') && server.args.includes('--admin_from_loopback=false'), `${name}: admin token flags`);
        t.ok(server.volumeMounts.some((m) => m.name === 'admin-token' && m.mountPath === '/etc/recsys-admin' && m.readOnly), `${name}: admin token mounted read-only`);
        const volume = t.workload(name).spec.template.spec.volumes.find((v) => v.name === 'admin-token');
        t.eq(volume && volume.secret.secretName, 'recsys-admin', `${name}: admin token from the Secret`);
      }
      t.eq(t.server('feature_store').startupProbe.failureThreshold, 120, 'per-service probe override');
      t.eq(t.server('feature_store').startupProbe.periodSeconds, 5, 'global probe settings kept under the override');
      const sts = t.workload('feature_store');
      t.ok(!sts.spec.volumeClaimTemplates, 'persistence off: no volumeClaimTemplates');
      t.ok(sts.spec.template.spec.volumes.some((v) => v.name === 'data' && v.emptyDir), 'persistence off: /data is an emptyDir');
      const seq = t.workload('seqrec').spec.template.spec;
      t.eq(seq.nodeSelector, { pool: 'seqrec' }, 'per-service nodeSelector wins');
      t.eq(t.workload('behavior_search').spec.template.spec.nodeSelector, { pool: 'serving' }, 'global nodeSelector');
      t.ok(seq.affinity && seq.affinity.podAntiAffinity, 'per-service affinity');
      for (const o of t.podSpecs()) {
        t.ok((o.spec.tolerations || []).some((x) => x.key === 'dedicated'), `${o.name}: global toleration`);
      }
      t.eq(seq.terminationGracePeriodSeconds, 60, 'grace period');
    },
  },
};

function matches(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => (labels || {})[k] === v);
}
const isStd = (a, b) => JSON.stringify(a) === JSON.stringify(b);

class Checker {
  constructor(objects) {
    this.objects = objects;
    this.failures = [];
    this.passed = 0;
  }
  ok(cond, what) {
    if (cond) this.passed++;
    else this.failures.push(what);
  }
  eq(got, want, what) {
    this.ok(isStd(got, want), `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
  kind(k) { return this.objects.filter((o) => o.kind === k); }
  only(k) {
    const all = this.kind(k);
    if (all.length !== 1) throw new Error(`expected one ${k}, found ${all.length}`);
    return all[0];
  }
  workload(name) {
    const w = this.objects.find((o) => ['Deployment', 'StatefulSet'].includes(o.kind) &&
        o.metadata.labels['app.kubernetes.io/component'] === name.replace(/_/g, '-'));
    if (!w) throw new Error(`no workload for ${name}`);
    return w;
  }
  server(name) { return this.workload(name).spec.template.spec.containers.find((c) => c.name === 'server'); }
  flag(name, flag) {
    const a = this.server(name).args.find((x) => x.startsWith(`--${flag}=`));
    return a === undefined ? null : a.slice(flag.length + 3);
  }
  commonFlags() { return this.only('ConfigMap').data['flags.txt'].trim().split('\n'); }
  podSpecs() {
    const out = [];
    for (const o of this.objects) {
      if (o.kind === 'Pod') out.push({ name: `Pod/${o.metadata.name}`, spec: o.spec, meta: o.metadata });
      if (['Deployment', 'StatefulSet'].includes(o.kind)) out.push({ name: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec, meta: o.spec.template.metadata });
    }
    return out;
  }
}

function commonChecks(t, c) {
  const gpu = c.gpu || {};
  // Standard labels everywhere; the component on everything that belongs to one service.
  for (const o of t.objects) {
    const l = o.metadata.labels || {};
    const id = `${o.kind}/${o.metadata.name}`;
    t.ok(l['app.kubernetes.io/name'] === 'recsys' && l['app.kubernetes.io/instance'] === RELEASE &&
         l['app.kubernetes.io/version'] === VERSION && l['app.kubernetes.io/part-of'] === 'recsys' &&
         l['app.kubernetes.io/managed-by'] === 'Helm' && l['helm.sh/chart'] === `recsys-${VERSION}`, `${id}: standard labels`);
    if (!['ConfigMap', 'ServiceAccount', 'ServiceMonitor'].includes(o.kind)) t.ok(l['app.kubernetes.io/component'], `${id}: component label`);
  }
  // The enabled services, and nothing of the others.
  const workloads = t.objects.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind));
  const hosted = workloads.map((w) => t.server(w.metadata.labels['app.kubernetes.io/component']).args.find((a) => a.startsWith('--services=')).slice(11)).sort();
  t.eq(hosted, [...c.services].sort(), 'one workload per enabled service (--services=<name>)');
  t.eq(t.kind('StatefulSet').length, c.shards ? 1 : 0, 'feature store StatefulSet');
  t.eq(t.kind('ServiceMonitor').length, c.serviceMonitor ? 1 : 0, 'ServiceMonitor only when enabled');
  t.eq(t.kind('HorizontalPodAutoscaler').map((h) => h.spec.scaleTargetRef.name).sort(), (c.hpa || []).map((n) => `${FULL}-${n.replace(/_/g, '-')}`).sort(), 'HPAs');

  // Security context on every container, pod and test pod alike.
  for (const p of t.podSpecs()) {
    const psc = p.spec.securityContext || {};
    t.ok(psc.runAsNonRoot === true && psc.runAsUser === 10001 && (psc.seccompProfile || {}).type === 'RuntimeDefault', `${p.name}: pod securityContext`);
    t.eq(p.spec.automountServiceAccountToken, false, `${p.name}: no service account token`);
    for (const ctr of p.spec.containers) {
      const sc = ctr.securityContext || {};
      t.ok(sc.runAsNonRoot === true && sc.runAsUser === 10001 && sc.readOnlyRootFilesystem === true &&
           sc.allowPrivilegeEscalation === false && isStd((sc.capabilities || {}).drop, ['ALL']) &&
           (sc.seccompProfile || {}).type === 'RuntimeDefault', `${p.name}/${ctr.name}: container securityContext`);
    }
  }

  // Server pods: ports, flags, probes, volumes, image, GPU.
  const flags = t.commonFlags();
  const seconds = (f) => parseInt(flags.find((x) => x.startsWith(`--${f}=`)).split('=')[1], 10);
  const checksums = new Set();
  for (const w of workloads) {
    const name = w.metadata.labels['app.kubernetes.io/component'].replace(/-/g, '_');
    const id = `${w.kind}/${w.metadata.name}`;
    const pod = w.spec.template.spec;
    const s = t.server(name);
    t.eq(w.kind, name === 'feature_store' ? 'StatefulSet' : 'Deployment', `${id}: kind`);
    t.eq(s.ports.map((p) => [p.name, p.containerPort]), [['grpc', 50051], ['metrics', 9464]], `${id}: container ports`);
    t.eq(s.args.slice(0, 2), ['--flagfile=/etc/recsys/flags.txt', `--services=${name}`], `${id}: flagfile then --services`);
    t.eq(s.startupProbe.grpc, { port: 50051, service: '' }, `${id}: startup probe gRPC ""`);
    t.eq(s.livenessProbe.grpc, { port: 50051, service: '' }, `${id}: liveness probe gRPC ""`);
    t.eq(s.readinessProbe.grpc, { port: 50051, service: HEALTH[name] }, `${id}: readiness probe gRPC on its service`);
    for (const p of [s.startupProbe, s.livenessProbe, s.readinessProbe]) t.ok(!p.httpGet && !p.exec && !p.tcpSocket, `${id}: probes are gRPC only`);
    t.ok(pod.terminationGracePeriodSeconds > seconds('readiness_drain_delay') + seconds('drain_timeout'), `${id}: grace period covers drain delay + drain timeout`);
    const mounts = Object.fromEntries(s.volumeMounts.map((m) => [m.mountPath, m]));
    t.ok(mounts['/data'] && !mounts['/data'].readOnly && mounts['/tmp'] && !mounts['/tmp'].readOnly, `${id}: writable /data and /tmp`);
    t.ok(mounts['/etc/recsys'] && mounts['/etc/recsys'].readOnly, `${id}: flagfile mounted read-only`);
    if (name === 'feature_store') {
      t.ok(!mounts['/models'] && !s.args.some((a) => a.startsWith('--model_repo')), `${id}: no model repository`);
      t.eq(w.spec.replicas, c.shards, `${id}: replicas = shards`);
      const headless = t.kind('Service').find((x) => x.metadata.name === w.spec.serviceName);
      t.ok(headless && headless.spec.clusterIP === 'None' && matches(headless.spec.selector, w.spec.template.metadata.labels), `${id}: serviceName is a headless Service selecting its pods`);
    } else {
      t.ok(mounts['/models'] && mounts['/models'].readOnly && s.args.includes('--model_repo=/models'), `${id}: model repository read-only at /models`);
      const fs = c.fsFlag && name in c.fsFlag ? c.fsFlag[name] : shardList(c.shards);
      t.eq(t.flag(name, `${name}_feature_store`), fs, `${id}: --${name}_feature_store`);
      const hpa = (c.hpa || []).includes(name);
      t.ok(hpa ? w.spec.replicas === undefined : w.spec.replicas >= 0, `${id}: replicas ${hpa ? 'left to the HPA' : 'set'}`);
    }
    const n = gpu[name] || 0;
    const limit = ((s.resources || {}).limits || {})['nvidia.com/gpu'];
    t.eq(limit, n ? n : undefined, `${id}: nvidia.com/gpu limit`);
    t.eq(s.image, `ghcr.io/recsys/recsys-${n ? 'cuda' : 'cpu'}:${VERSION}`, `${id}: image`);
    // A GPU pod runs the forward pass on it where the service has a device flag.
    if (name === 'seqrec') t.eq(t.flag(name, 'seqrec_device'), n ? 'cuda:0' : null, `${id}: --seqrec_device`);
    t.eq((pod.tolerations || []).some((x) => x.key === 'nvidia.com/gpu'), n > 0, `${id}: nvidia.com/gpu toleration`);
    const sum = w.spec.template.metadata.annotations['checksum/config'];
    t.ok(/^[0-9a-f]{64}$/.test(sum), `${id}: checksum/config annotation`);
    checksums.add(sum);
    // Its ClusterIP Service selects exactly its pods (not the helm test pods).
    const svcs = t.kind('Service').filter((x) => x.spec.clusterIP !== 'None' && matches(x.spec.selector, w.spec.template.metadata.labels));
    t.eq(svcs.map((x) => x.metadata.name), [w.metadata.name], `${id}: one ClusterIP Service`);
    if (svcs[0]) t.eq(svcs[0].spec.ports.map((p) => [p.name, p.port, p.targetPort]), [['grpc', 50051, 'grpc'], ['metrics', 9464, 'metrics']], `${id}: Service ports`);
    const pdbs = t.kind('PodDisruptionBudget').filter((x) => matches(x.spec.selector.matchLabels, w.spec.template.metadata.labels));
    t.eq(pdbs.length, 1, `${id}: one PodDisruptionBudget`);
    if (pdbs[0]) {
      const min = (c.pdbMinAvailable || {})[name];
      t.eq(pdbs[0].spec, { ...(min === undefined ? { maxUnavailable: 1 } : { minAvailable: min }), selector: pdbs[0].spec.selector }, `${id}: PDB budget`);
    }
  }
  t.eq(checksums.size, workloads.length ? 1 : 0, 'every workload carries the same ConfigMap checksum');
  for (const o of [...t.kind('Service'), ...t.kind('PodDisruptionBudget')]) {
    const sel = o.kind === 'Service' ? o.spec.selector : o.spec.selector.matchLabels;
    t.ok(t.objects.some((w) => w.spec && w.spec.template && matches(sel, w.spec.template.metadata.labels)), `${o.kind}/${o.metadata.name}: selects some workload`);
    t.ok(!t.kind('Pod').some((p) => matches(sel, p.metadata.labels)), `${o.kind}/${o.metadata.name}: does not select the test pods`);
  }

  // helm test: one hook Pod per enabled service running recsys-cli health against it.
  const tests = t.kind('Pod');
  t.eq(tests.length, c.services.length - (c.parked || []).length, 'one helm test Pod per enabled service (not those scaled to zero)');
  for (const p of tests) {
    const id = `Pod/${p.metadata.name}`;
    t.eq(p.metadata.annotations['helm.sh/hook'], 'test', `${id}: helm test hook`);
    t.eq(p.spec.restartPolicy, 'Never', `${id}: restartPolicy`);
    const targets = p.spec.containers.map((ctr) => {
      t.eq(ctr.command.slice(0, 2), ['/usr/local/bin/recsys-cli', 'health'], `${id}/${ctr.name}: runs recsys-cli health`);
      t.ok(ctr.command.includes('--timeout=5s'), `${id}/${ctr.name}: timeout`);
      return (ctr.command.find((a) => a.startsWith('--target=')) || '').slice(9);
    });
    const svc = p.metadata.labels['app.kubernetes.io/component'].replace(/-test$/, '');
    if (svc === 'feature-store') {
      t.eq(targets, Array.from({ length: c.shards }, (_, i) => shardAddr(i)), `${id}: every shard, in order`);
    } else {
      t.eq(targets, [`${FULL}-${svc}:50051`], `${id}: target`);
      t.ok(t.kind('Service').some((s) => s.metadata.name === `${FULL}-${svc}`), `${id}: target Service exists`);
    }
  }
}

function main() {
  const [caseName, file] = process.argv.slice(2);
  const c = CASES[caseName];
  if (!c || !file) {
    console.error(`usage: check_rendered.js {${Object.keys(CASES).join('|')}} RENDERED.yaml`);
    process.exit(2);
  }
  const t = new Checker(yaml.loadAll(fs.readFileSync(file, 'utf8')).filter((o) => o));
  try {
    commonChecks(t, c);
    if (c.check) c.check(t);
  } catch (e) {
    t.failures.push(`exception: ${e.message}`);
  }
  for (const f of t.failures) console.log(`FAIL ${caseName}: ${f}`);
  console.log(`check_rendered ${caseName}: ${t.passed} assertions passed, ${t.failures.length} failed`);
  process.exit(t.failures.length ? 1 : 0);
}
main();
