"""Kesu over real HTTP: the shared bench models under gunicorn, driven through /api/v1.

Deploys bench/models/http (see its README, the SOURCE note) into a fresh database (SQLite
in a temporary folder, or a fresh schema of the PostgreSQL in DATABASE_URL), starts Kesu
with gunicorn (several sync workers) on 127.0.0.1, and drives two workloads, sequentially
and with 8 concurrent clients, each after 20 warm-up instances:

  (a) auto: POST /instances complaint_auto (runs to completion in the call)
  (b) user: POST /instances complaint_user, take its waiting task from the answer,
            POST /tasks/<id>/complete {"approved": true, "comment": "ok"}

The last line is JSON: instances/s and per-call p50/p95 (ms) for each workload and mode.

    .venv/bin/python bench/http.py [N] [--workers W] [--clients C]
"""
from __future__ import annotations

import _paths  # noqa: F401  (first: fixes sys.path for bench scripts)

import sys
from pathlib import Path

# This file shares its name with the standard library's `http` package: keep its folder off the path.

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from typing import Any, Callable  # noqa: E402
from urllib.parse import quote  # noqa: E402

import requests  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "bench" / "models" / "http"
WARM_UP = 20
FORM = {"approved": True, "comment": "ok"}


def database_url(tmp: str) -> tuple[str, Callable[[], None]]:
    """A fresh database: a SQLite file, or a new schema in DATABASE_URL's PostgreSQL."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp}/bench.db", lambda: None
    import sqlalchemy as sa
    schema = f"kesu_bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}", drop


def prepare(env: dict[str, str]) -> str:
    """Migrate, deploy the bench models, create a staff member; return an API token."""
    script = """
import sys
from pathlib import Path
from flask_migrate import upgrade
from app import create_app
from app.extensions import db
from app.models import User
from app.services import api_tokens, definitions
from app.services.uow import run_command
models = Path(sys.argv[1])
app = create_app()
with app.app_context():
    upgrade(revision="heads")
    now = app.extensions["kesu.runtime"].clock.now()
    files = {"bpmn/complaint_auto.bpmn": (models / "complaint_auto.bpmn").read_text(),
             "bpmn/complaint_user.bpmn": (models / "complaint_user.bpmn").read_text(),
             "bpmn/forms/review-form.json": (models / "review-form.json").read_text()}
    run_command(lambda: definitions.deploy(files, actor="bench", now=now))
    user = User(username="bench", display_name="bench", roles=["agent"], groups=[], created_at=now)
    user.set_password("unused")
    db.session.add(user)
    db.session.commit()
    token, _ = run_command(lambda: api_tokens.issue_token("bench", name="bench", now=now))
    print(token)
"""
    result = subprocess.run([sys.executable, "-c", script, str(MODELS)], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True)
    return result.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen([str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level",
                               "warning", "wsgi:app"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the workers import the app after the port is open
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=30).ok:
                return server
        except requests.RequestException:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer /health within 120 s")


class Client:
    """One API client with its own connection; records the latency of every call by name."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.latencies: dict[str, list[float]] = {}

    def post(self, name: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        response = self.session.post(self.base + path, json=body, timeout=30)
        self.latencies.setdefault(name, []).append(time.perf_counter() - started)
        if response.status_code >= 300:
            raise RuntimeError(f"{name}: {response.status_code} {response.text[:300]}")
        return response.json()

    def auto(self) -> None:
        assert self.post("start", "/instances", {"process_id": "complaint_auto"})["status"] == "completed"

    def user(self) -> None:
        instance = self.post("start", "/instances", {"process_id": "complaint_user"})
        task_id = instance["tasks"][0]["task_id"]
        assert self.post("complete", f"/tasks/{task_id}/complete", {"data": FORM})["status"] == "completed"


def run(base: str, token: str, workload: str, n: int, clients: int) -> dict[str, Any]:
    """Warm up, then run n instances spread over ``clients`` threads; return rate and latencies."""
    pool = [Client(base, token) for _ in range(clients)]
    for _ in range(WARM_UP):
        getattr(pool[0], workload)()
    for client in pool:
        client.latencies.clear()
    shares = [n // clients + (1 if i < n % clients else 0) for i in range(clients)]
    errors: list[BaseException] = []

    def drive(client: Client, count: int) -> None:
        try:
            for _ in range(count):
                getattr(client, workload)()
        except BaseException as error:  # reported below; the other threads finish
            errors.append(error)
    threads = [threading.Thread(target=drive, args=(c, k)) for c, k in zip(pool, shares)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{workload} x{clients}: {errors[0]}")
    calls: dict[str, list[float]] = {}
    for client in pool:
        for name, values in client.latencies.items():
            calls.setdefault(name, []).extend(values)
    return {"instances_per_s": round(n / elapsed, 1), "n": n, "clients": clients,
            "calls": {name: {"p50_ms": round(_pct(v, 50), 2), "p95_ms": round(_pct(v, 95), 2)}
                      for name, v in calls.items()}}


def _pct(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1] * 1000 if len(values) > 1 \
        else values[0] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=300)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="kesu-http-bench-")
    url, drop = database_url(tmp)
    env = {**os.environ, "KESU_ENV": "production", "DATABASE_URL": url, "KESU_INSTANCE_DIR": tmp,
           "KESU_SECRET_KEY": uuid.uuid4().hex, "KESU_WORKER": "off", "KESU_SCRIPT_WORKERS": "1",
           "PYTHONPATH": str(ROOT)}
    token = prepare(env)
    port = free_port()
    server = start_server(env, port, args.workers)
    results: dict[str, Any] = {"database": url.split(":")[0], "gunicorn_workers": args.workers}
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        for workload in ("auto", "user"):
            for mode, clients in (("sequential", 1), (f"concurrent_{args.clients}", args.clients)):
                result = run(base, token, workload, args.n, clients)
                results[f"{workload}_{mode}"] = result
                print(f"{workload:<5} {mode:<13} {result['instances_per_s']:>7.1f} instances/s  "
                      + "  ".join(f"{name} p50 {c['p50_ms']:.1f} ms p95 {c['p95_ms']:.1f} ms"
                                  for name, c in result["calls"].items()), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        drop()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
