"""A real Prometheus (Debian's) scraping a real recsys-server on loopback with the shipped
scrape config and rules: after traffic through recsys-cli, every series the Grafana dashboard
and the rules read must exist, in the server's own /metrics and in Prometheus, with sane
values; every rule must evaluate cleanly, and the one alert the test provokes (a model
version that fails to load) must fire. The rerank service serves the ICR version the LLM
fixtures write (--llm_fixtures); without them its series are not checked.

    prometheus_stack_test.py --server=recsys-server --cli=recsys-cli --source=<repo root>
                             [--llm_fixtures=<build>/tests/models/llm/llm-fixtures]
"""

import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, timeout=60, fatal=True):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            result = check()
        except OSError:  # not listening yet (urllib's URLError is an OSError)
            result = None
        if result:
            return result
        time.sleep(0.5)
    if fatal:
        fail(f"timed out waiting for {what}")
    return None


def http_get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


class Prometheus:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def api(self, path, **params):
        url = f"{self.base}/api/v1/{path}?" + urllib.parse.urlencode(params)
        body = json.loads(http_get(url))
        if body.get("status") != "success":
            fail(f"{path} {params}: {body}")
        return body["data"]

    def query(self, expr):
        return self.api("query", query=expr)["result"]

    def values(self, expr):
        return [float(r["value"][1]) for r in self.query(expr)]


def expressions(source):
    """Every PromQL expression of the shipped rules and dashboard, with where it comes from."""
    out = []
    for name in ("recording.yml", "alerts.yml"):
        path = os.path.join(source, "deploy/prometheus/rules", name)
        for group in yaml.safe_load(open(path))["groups"]:
            for rule in group["rules"]:
                out.append((f"{name}: {rule.get('record') or rule.get('alert')}", rule["expr"]))
    dashboard = json.load(open(os.path.join(source, "deploy/grafana/recsys-dashboard.json")))
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            out.append((f"dashboard: {panel['title']}", target["expr"]))
    return out


def names_in(expr):
    """Raw metric names and recording-rule names an expression reads."""
    expr = re.sub(r'"[^"]*"', '""', expr)  # label values may contain anything
    expr = re.sub(r"\{[^}]*\}", "", expr)   # so may matchers
    raw = set(re.findall(r"\b(recsys_[a-z0-9_]+|up)\b", expr))
    recorded = set(re.findall(r"\b(recsys:[a-z0-9_:]+)", expr))
    return raw, recorded


def has_rerank(args):
    return bool(args.llm_fixtures) and os.path.exists(
        os.path.join(args.llm_fixtures, "icr-tiny", "1", "model.gguf"))


def start_server(args, tmp):
    repo = os.path.join(tmp, "data", "models")
    testdata = os.path.join(args.source, "tests/models/testdata")
    for model, fixture in (("sasrec", "sasrec-tiny"), ("bert4rec", "bert4rec-tiny"),
                           ("dare", "dare-tiny")):
        shutil.copytree(os.path.join(testdata, fixture, "1"), os.path.join(repo, model, "1"))
    if has_rerank(args):
        shutil.copytree(os.path.join(args.llm_fixtures, "icr-tiny", "1"),
                        os.path.join(repo, "icr", "1"))
    ports_file = os.path.join(tmp, "ports.json")
    log = open(os.path.join(tmp, "server.log"), "w")
    server = subprocess.Popen(
        [args.server, "--services=all", "--bind_address=127.0.0.1", "--grpc_port=0",
         "--metrics_port=0", f"--ports_file={ports_file}", f"--data_dir={tmp}/data",
         "--model_poll_interval=0", "--log_format=json"], stdout=log, stderr=log)
    ports = wait_for("the server's ports file",
                     lambda: os.path.exists(ports_file) and json.load(open(ports_file)))
    return server, ports


def start_prometheus(args, tmp, metrics_port):
    config_dir = os.path.join(tmp, "prometheus")
    shutil.copytree(os.path.join(args.source, "deploy/prometheus"), config_dir)
    config_path = os.path.join(config_dir, "prometheus.yml")
    config = yaml.safe_load(open(config_path))
    config["global"]["scrape_interval"] = "1s"  # the shipped file as is, only faster
    config["global"]["evaluation_interval"] = "1s"
    for job in config["scrape_configs"]:
        for sd in job.get("file_sd_configs", []):
            sd["refresh_interval"] = "1s"
    yaml.safe_dump(config, open(config_path, "w"))
    os.makedirs(os.path.join(config_dir, "targets"), exist_ok=True)
    json.dump([{"targets": [f"127.0.0.1:{metrics_port}"], "labels": {"service": "all"}}],
              open(os.path.join(config_dir, "targets", "recsys.json"), "w"))
    port = free_port()
    log = open(os.path.join(tmp, "prometheus.log"), "w")
    process = subprocess.Popen(
        [args.prometheus, f"--config.file={config_path}",
         f"--storage.tsdb.path={tmp}/tsdb", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=log)
    return process, Prometheus(port)


def traffic(args, tmp, grpc_port):
    def cli(*argv, expect=0):
        r = subprocess.run([args.cli, f"--target=127.0.0.1:{grpc_port}", *argv],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != expect:
            fail(f"recsys-cli {' '.join(argv)} exited {r.returncode}: {r.stdout}{r.stderr}")
    events = os.path.join(tmp, "events.jsonl")
    with open(events, "w") as f:
        for t, item in enumerate([3, 4, 5, 6], 1):
            f.write(json.dumps({"user_id": "alice", "item_id": item, "timestamp_ms": t}) + "\n")
    cli("ingest", f"--file={events}")
    cli("history", "--user=alice")
    cli("recommend", "--model=sasrec", "--user=alice", "--k=3")
    cli("score", "--model=bert4rec", "--history=3,4", "--candidates=5,6")
    cli("ctr", "--model=dare", "--history=3,4,5", "--history_categories=1,2,3",
        "--candidates=7,8", "--candidate_categories=2,3")
    if has_rerank(args):
        documents = os.path.join(tmp, "documents.jsonl")
        with open(documents, "w") as f:
            for i, text in enumerate(["Paris is in France.", "Rome is in Italy.", "Ice melts."]):
                f.write(json.dumps({"id": str(i), "text": text}) + "\n")
        for query in ("where is Paris", "where is Rome"):  # the second hits the prefix cache
            cli("rerank", "--model=icr", f"--query={query}", f"--documents={documents}")
    cli("recommend", "--model=nope", "--history=3", expect=1)  # a client error
    cli("bench", "--model=sasrec", "--history=3,4", "--candidates=5,6", "--duration=2s",
        "--concurrency=4")
    # A broken new version: the reload fails, version 1 keeps serving.
    broken = os.path.join(tmp, "data", "models", "sasrec", "2")
    os.makedirs(broken)
    open(os.path.join(broken, "config.json"), "w").write("{not json")
    cli("reload", "--model=sasrec", expect=1)


def check(prom, exported, source, rerank):
    used_raw, used_recorded = set(), set()
    for where, expr in expressions(source):
        raw, recorded = names_in(expr)
        if not rerank:
            raw = {name for name in raw if not name.startswith("recsys_rerank_")}
        used_raw |= raw
        used_recorded |= recorded
        for name in raw - {"up"}:
            if not re.search(rf"^{name}(\{{| )", exported, re.M):
                fail(f"{where} reads {name}, which recsys-server does not export")
    print(f"{len(used_raw)} raw series and {len(used_recorded)} recording rules are read")
    for name in sorted(used_raw):
        wait_for(f"{name} in Prometheus", lambda: prom.query(f"count({{__name__=\"{name}\"}})"))
    for name in sorted(used_recorded):
        wait_for(f"recording rule {name} to have a value",
                 lambda: prom.query(f"count({{__name__=\"{name}\"}})"), timeout=45)
    seqrec = 'grpc_service="recsys.seqrec.v1.SeqRecService"'
    sane = [
        (f'sum(recsys_grpc_server_handled_total{{{seqrec},grpc_code="OK"}})', lambda v: v >= 10),
        (f'sum(recsys_grpc_server_handled_total{{{seqrec},grpc_code="NOT_FOUND"}})', lambda v: v == 1),
        (f'sum(recsys:grpc_requests:rate5m{{{seqrec}}})', lambda v: v > 0),
        (f'recsys:grpc_error_ratio:rate5m{{{seqrec}}}', lambda v: v == 0),
        (f'recsys:grpc_latency_seconds:p99_5m{{{seqrec}}}', lambda v: 0 < v < 10),
        ('min(recsys_service_ready)', lambda v: v == 1),
        ('count(recsys_service_ready)', lambda v: v == 4),
        ('recsys_model_version{model="sasrec"}', lambda v: v == 1),
        ('recsys_model_loads_total{model="sasrec",result="error"}', lambda v: v == 1),
        ('min(recsys_batcher_queue_capacity)', lambda v: v > 0),
        ('max(recsys:batch_size:mean5m)', lambda v: v >= 1),
        ('sum(recsys_feature_store_operations_total{store="local",op="ingest_events",code="OK"})',
         lambda v: v == 1),
        ('sum(recsys_feature_store_operations_total{store="remote",op="get_histories",code="OK"})',
         lambda v: v >= 1),
        ('recsys_rocksdb_write_stopped', lambda v: v == 0),
        ('max(recsys:stage_latency_seconds:p99_5m)', lambda v: 0 < v < 10),
    ]
    if rerank:
        sane += [
            ('sum(recsys_rerank_prefix_cache_requests_total{result="hit"})', lambda v: v == 1),
            ('sum(recsys_rerank_documents_total)', lambda v: v == 6),
        ]
    for expr, ok in sane:
        seen = []

        def holds():
            seen[:] = prom.values(expr)
            return len(seen) == 1 and not math.isnan(seen[0]) and ok(seen[0])

        if not wait_for(f"{expr} to be sane", holds, timeout=30, fatal=False):
            fail(f"{expr} = {seen}")
        print(f"ok  {expr} = {seen[0]:g}")
    bad = [r for g in prom.api("rules")["groups"] for r in g["rules"] if r["health"] != "ok"]
    if bad:
        fail(f"rules that do not evaluate: {[(r['name'], r.get('lastError')) for r in bad]}")
    wait_for("RecsysModelReloadFailed to fire", lambda: [
        a for a in prom.api("alerts")["alerts"]
        if a["labels"]["alertname"] == "RecsysModelReloadFailed" and a["state"] == "firing"])
    firing = {a["labels"]["alertname"] for a in prom.api("alerts")["alerts"]}
    if firing != {"RecsysModelReloadFailed"}:
        fail(f"unexpected alerts: {firing}")
    print("ok  every rule evaluates; RecsysModelReloadFailed fires, nothing else")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--server", required=True)
    p.add_argument("--cli", required=True)
    p.add_argument("--source", required=True, help="the repository root")
    p.add_argument("--prometheus", default="/usr/bin/prometheus")
    p.add_argument("--llm_fixtures", default="")
    args = p.parse_args()
    if not os.access(args.prometheus, os.X_OK):
        fail(f"{args.prometheus} not found: run scripts/install-deps.sh (Debian's prometheus)")
    tmp = tempfile.mkdtemp(prefix="recsys-prometheus-")
    processes = []
    try:
        server, ports = start_server(args, tmp)
        processes.append(server)
        prometheus, prom = start_prometheus(args, tmp, ports["metrics_port"])
        processes.append(prometheus)
        # Traffic once scraping has begun, so rate() sees the counters move.
        wait_for("Prometheus to scrape the server",
                 lambda: prom.values('up{job="recsys"}') == [1.0])
        traffic(args, tmp, ports["grpc_port"])
        exported = http_get(f"http://127.0.0.1:{ports['metrics_port']}/metrics")
        if not has_rerank(args):
            print("no LLM fixtures: the rerank series are not checked")
        check(prom, exported, args.source, has_rerank(args))
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if os.environ.get("RECSYS_KEEP_TMP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
