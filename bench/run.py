#!/usr/bin/env python3
"""bench/run.py - every brook benchmark case in one run, on one broker.

Run through ``make bench`` (scripts/bench), which starts the real Apache
Kafka broker unless BROKERS is given. Writes, under bench/results/:

* ``<date>-<host>.json``  every run of every case (raw numbers)
* ``<date>-<host>.md``    the table: median of 3 runs with the spread
* ``<date>-<host>-*.png`` charts: throughput per case, throughput vs batch
  size, RSS over time while draining a backlog

Nothing in the outputs is typed by hand: every number comes from a program
run in this invocation. BENCH_QUICK=1 shrinks the message counts.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "py"))
import kafkatool  # noqa: E402

BUILD = os.environ.get("BROOK_BUILD_DIR", os.path.join(ROOT, "build"))
BROKERS = os.environ["BROOK_BROKERS"]
QUICK = os.environ.get("BENCH_QUICK") == "1"
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
ONLY = os.environ.get("BENCH_ONLY", "")  # comma separated group filter
STAMP = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
HOST = socket.gethostname()
OUT = os.path.join(ROOT, "bench", "results")

# Message counts (full / quick).
N_MAIN = 300_000 if QUICK else 2_000_000
N_IO_SINGLE = 1_000 if QUICK else 3_000
N_IO_ASYNC = 10_000 if QUICK else 40_000
N_RSS = 300_000 if QUICK else 2_000_000
N_SEED = 200_000 if QUICK else 1_000_000
N_PEER = 200_000 if QUICK else 1_000_000
N_STORE = 50_000 if QUICK else 200_000
N_DURABLE = 10_000 if QUICK else 50_000
N_WC = 100_000 if QUICK else 500_000
KEYS = 10_000


def say(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def machine() -> Dict[str, Any]:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kb = 0
    try:
        with open("/proc/meminfo") as f:
            mem_kb = int(f.readline().split()[1])
    except (OSError, ValueError):
        pass
    return {
        "host": HOST,
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "kafka": os.environ.get("BROOK_KAFKA_VERSION", "external"),
        "brokers": BROKERS,
    }


def run_json(argv: List[str], timeout: int = 900) -> Dict[str, Any]:
    """Run a benchmark program; its last stdout line is its JSON result."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}: "
                           f"{p.stderr.strip()[-2000:]}")
    lines = [l for l in p.stdout.strip().splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(argv)}: no JSON result")
    return json.loads(lines[-1])


def topic(name: str, partitions: int, count: int, value_size: int = 100,
          keys: int = 10_000) -> str:
    """Create a topic and fill it with the deterministic input (seed 42)."""
    t = f"bench-{name}-{STAMP}"
    kafkatool.create_topic(BROKERS, t, partitions)
    run_json([f"{BUILD}/bench/bench-consumer", "--brokers", BROKERS,
              "--topic", t, "--case", "produce", "--count", str(count),
              "--value-size", str(value_size), "--keys", str(keys),
              "--seed", "42"])
    return t


def keyed_topic(name: str, partitions: int, count: int) -> str:
    """The count-by-key input: record i has key k<i % KEYS> (so every count
    is known: bench/peers/verify-counts), murmur2-partitioned by the
    independent client (each key in one partition), 100-byte values."""
    t = f"bench-{name}-{STAMP}"
    kafkatool.create_topic(BROKERS, t, partitions)
    say(f"bench: producing {count:,} keyed records into {t}")
    kafkatool.produce(BROKERS, t, count, keyed=True, keys=KEYS,
                      value_size=100, seed=42)
    return t


class Case:
    """One benchmark case: a name, a group, how to run it once."""

    def __init__(self, group: str, name: str, fn: Callable[[int], Dict[str, Any]],
                 note: str = ""):
        self.group, self.name, self.fn, self.note = group, name, fn, note
        self.runs: List[Dict[str, Any]] = []

    def median(self, key: str) -> Optional[float]:
        vals = [r[key] for r in self.runs if isinstance(r.get(key), (int, float))]
        return statistics.median(vals) if vals else None

    def spread(self, key: str) -> Optional[float]:
        vals = [r[key] for r in self.runs if isinstance(r.get(key), (int, float))]
        if len(vals) < 2 or not statistics.median(vals):
            return None
        return (max(vals) - min(vals)) / statistics.median(vals) * 100


def consumer_cases(main_topic: str) -> List[Case]:
    bc = f"{BUILD}/bench/bench-consumer"

    # brook closes a partial batch after batch.timeout.ms (default 1 s):
    # at the end of a backlog that wait would be counted as processing
    # time, so the brook cases use 100 ms (the raw consumer has no batches).
    tmo = ["--set", "batch.timeout.ms=100"]

    def consume(case: str, count: int, *extra: str, t: str = main_topic):
        more = tmo if case != "raw" else []
        return lambda i: run_json([bc, "--brokers", BROKERS, "--topic", t,
                                   "--case", case, "--count", str(count),
                                   *more, *extra])

    def produce(i: int) -> Dict[str, Any]:
        t = f"bench-produce-{STAMP}-{i}"
        kafkatool.create_topic(BROKERS, t, 8)
        return run_json([bc, "--brokers", BROKERS, "--topic", t, "--case",
                         "produce", "--count", str(N_MAIN), "--seed", "42"])

    cases = [
        Case("limit", "librdkafka producer (acks=all)", produce),
        Case("limit", "librdkafka consumer, no-op", consume("raw", N_MAIN)),
        Case("overhead", "brook batch consumer, no-op (batch.size=100)",
             consume("brook-batch", N_MAIN)),
        Case("overhead", "brook single-message mode, no-op",
             consume("brook-single", N_MAIN)),
        Case("overhead", "brook batch consumer, no-op, telemetry off",
             consume("brook-batch", N_MAIN, "--telemetry", "off")),
        Case("overhead", "brook batch consumer, no-op, all exporters on",
             consume("brook-batch", N_MAIN, "--telemetry", "all")),
    ]
    for bs in (1, 10, 1000):
        cases.append(Case("batch-size", f"brook batch consumer, batch.size={bs}",
                          consume("brook-batch", N_MAIN, "--batch-size", str(bs))))
    io = ["--work-us", "1000"]
    cases += [
        Case("io", "1 ms handler: single-message", consume("io-single", N_IO_SINGLE, *io)),
        Case("io", "1 ms handler: sync batch (100)", consume("io-batch", N_IO_SINGLE, *io)),
        Case("io", "1 ms handler: async, concurrency 1",
             consume("io-async", N_IO_SINGLE, *io, "--concurrency", "1")),
        Case("io", "1 ms handler: async, concurrency 10",
             consume("io-async", N_IO_ASYNC, *io, "--concurrency", "10")),
        Case("io", "1 ms handler: async, concurrency 50",
             consume("io-async", N_IO_ASYNC, *io, "--concurrency", "50")),
    ]

    def rss(i: int) -> Dict[str, Any]:
        trace = os.path.join(OUT, f"{STAMP}-{HOST}-rss-{i}.txt")
        r = run_json([bc, "--brokers", BROKERS, "--topic", main_topic,
                      "--case", "io-async", "--count", str(N_RSS),
                      "--work-us", "20", "--concurrency", "10",
                      "--rss-trace", trace, *tmo])
        r["rss_trace"] = os.path.basename(trace)
        return r

    cases.append(Case("memory", f"drain a {N_RSS:,}-message backlog, slow "
                      "handler (20 us, async 10)", rss,
                      note="peak RSS must stay flat: see the RSS chart"))
    return cases


def fresh_topic(what: str, partitions: int) -> str:
    t = f"bench-{what}-{STAMP}-{int(time.time() * 1000) % 10**8}"
    kafkatool.create_topic(BROKERS, t, partitions)
    return t


def seed_cases(seed_topic: str) -> List[Case]:
    """The plan's four workloads, single-record vs batch (100, 1000)."""
    bs = f"{BUILD}/bench/bench-seed"

    def one(workload: str, mode: str, batch: int, *extra: str,
            expect: int = N_SEED):
        def fn(i: int) -> Dict[str, Any]:
            argv = [bs, "--brokers", BROKERS, "--input", seed_topic,
                    "--expect", str(expect), "--workload", workload,
                    "--mode", mode, "--batch-size", str(batch), *extra]
            if workload == "sink":
                argv += ["--output", fresh_topic("seed-out", 8)]
            return run_json(argv)
        return fn

    cases = []
    for w, label in (("cpu", "CPU-bound transform"),
                     ("agg", "in-memory aggregation"),
                     ("store", "state-store writes (RocksDB)"),
                     ("sink", "Kafka sink (consume, transform, produce)")):
        cases.append(Case("seed", f"{label}: single-record", one(w, "record", 1)))
        for b in (100, 1000):
            cases.append(Case("seed", f"{label}: batch {b}", one(w, "batch", b)))
    # The plan's store case as an I/O-bound one: the RocksDB WAL fsynced on
    # every write (one fsync per put, one per put_batch). Fewer records:
    # the single-record variant does a few thousand fsyncs per second.
    label = "state-store writes (RocksDB, WAL fsynced per write)"
    cases.append(Case("seed", f"{label}: single-record",
                      one("store", "record", 1, "--durable", expect=N_DURABLE)))
    for b in (100, 1000):
        cases.append(Case("seed", f"{label}: batch {b}",
                          one("store", "batch", b, "--durable", expect=N_DURABLE)))
    return cases


def md_rows(text: str) -> List[List[str]]:
    """The cells of the Markdown table rows a bench program printed."""
    rows = []
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def store_cases() -> List[Case]:
    """Store operations single vs batch (bench-store, no broker), and word
    count end to end with single vs batch store operations (bench-streams).
    Each program reports the median of its own rounds; one program run
    feeds every case of its table for that run index."""
    memo: Dict[tuple, Any] = {}

    def program(key: str, i: int, argv: List[str]) -> List[List[str]]:
        if (key, i) not in memo:
            t0 = time.time()
            p = subprocess.run(argv, capture_output=True, text=True,
                               timeout=900)
            if p.returncode != 0:
                raise RuntimeError(f"{os.path.basename(argv[0])} exit "
                                   f"{p.returncode}: {p.stderr[-300:]}")
            memo[(key, i)] = (md_rows(p.stdout), time.time() - t0)
        return memo[(key, i)][0]

    def store_op(label: str, op: str):
        def fn(i: int) -> Dict[str, Any]:
            rows = program("store", i, [f"{BUILD}/bench/bench-store",
                                        "--keys", str(N_STORE)])
            for r in rows:
                if r[0] == label and r[1] == op:
                    return {"msgs_per_sec": float(r[2]), "unit": "ops/CPU-s"}
            raise RuntimeError(f"bench-store printed no row {label} / {op}")
        return fn

    def wordcount(variant: str):
        def fn(i: int) -> Dict[str, Any]:
            rows = program("wc", i, [f"{BUILD}/bench/bench-streams",
                                     "--only", "wordcount", "--rounds", "1",
                                     "--records", str(N_WC)])
            for r in rows:
                if r[1].startswith(variant):
                    return {"msgs_per_sec": float(r[2].split()[0]),
                            "unit": "words/s"}
            raise RuntimeError(f"bench-streams printed no row {variant}")
        return fn

    cases = []
    for label, short in (("rocksdb (WAL off, default)", "WAL off"),
                         ("rocksdb (WAL on)", "WAL on")):
        for op in ("put", "put_batch(100)", "put_batch(1000)",
                   "get", "get_batch(100)", "get_batch(1000)"):
            cases.append(Case("store", f"RocksDB store ({short}): {op}, "
                              "ops per CPU-second", store_op(label, op)))
    cases.append(Case("store", "word count end to end: single store ops "
                      "(words/s)", wordcount("single store ops")))
    cases.append(Case("store", "word count end to end: batch store ops "
                      "(words/s)", wordcount("batch store ops")))
    return cases


def countbykey(impl: str, topic: str, threads: int, mode: str = "batch",
               caching: Optional[int] = None) -> Callable[[int], Dict[str, Any]]:
    """One count-by-key run: brook or a peer, same input, same CLI; the
    result's rate is taken to the close (store, changelog and output
    written and offsets committed), and the output is verified."""
    def fn(i: int) -> Dict[str, Any]:
        out = fresh_topic("cbk-out", kafkatool_partitions(topic))
        app = f"bench-{impl}-{threads}-{mode}-{STAMP}-{i}-{int(time.time())}"
        common = ["--brokers", BROKERS, "--input", topic, "--output", out,
                  "--app-id", app, "--threads", str(threads),
                  "--expect", str(N_PEER)]
        if caching is not None:
            common += ["--caching-bytes", str(caching)]
        if impl == "brook":
            argv = [f"{BUILD}/bench/bench-countbykey", *common, "--mode", mode]
        else:
            argv = [os.path.join(ROOT, "bench", "peers", impl, "run"), *common]
        r = run_json(argv, timeout=1200)
        if "msgs_per_sec_to_closed" in r:
            r["msgs_per_sec_window"] = r.get("msgs_per_sec")
            r["msgs_per_sec"] = r["msgs_per_sec_to_closed"]
        v = subprocess.run([os.path.join(ROOT, "bench", "peers", "verify-counts"),
                            "--brokers", BROKERS, "--topic", out, "--count",
                            str(N_PEER), "--keys", str(KEYS)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=600)
        r["verified"] = v.returncode == 0
        if v.returncode != 0:
            raise RuntimeError(f"{impl} output wrong: {v.stdout.strip()[-300:]}")
        r["app_id"] = app
        return r
    return fn


def kafkatool_partitions(topic: str) -> int:
    return len(kafkatool.end_offsets(BROKERS, topic))


def peer_cases(topic8: str, topic64: str) -> List[Case]:
    cases = [
        Case("peers", "Kafka Streams 4.1.2 count-by-key, 1 thread",
             countbykey("kafka-streams", topic8, 1)),
        Case("peers", "Kafka Streams 4.1.2 count-by-key, 2 threads",
             countbykey("kafka-streams", topic8, 2)),
        Case("peers", "brook streams count-by-key, single-record, 1 thread",
             countbykey("brook", topic8, 1, "record")),
        Case("peers", "brook streams count-by-key, batch, 1 thread",
             countbykey("brook", topic8, 1, "batch")),
        Case("scale", "brook streams count-by-key, batch, 2 threads",
             countbykey("brook", topic8, 2, "batch")),
        Case("scale", "brook streams count-by-key, batch, 1 thread, 64 partitions",
             countbykey("brook", topic64, 1, "batch")),
    ]
    kstreams = os.path.join(ROOT, "bench", "peers", "kstreams-go", "run")
    p = subprocess.run([kstreams, "--probe"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode == 0:
        cases.insert(2, Case("peers", "birdayz/kstreams count-by-key, 1 thread",
                             countbykey("kstreams-go", topic8, 1)))
    else:
        UNAVAILABLE.append(("birdayz/kstreams (Go)", (p.stdout + p.stderr).strip()[-300:]))
    return cases


def restore_cases(topic8: str) -> List[Case]:
    """Restoration of a 1,000,000-record changelog: a process run with the
    cache off writes one changelog record per input record, then a restore
    run on an empty state directory is measured."""
    def fn(impl: str):
        def run(i: int) -> Dict[str, Any]:
            w = countbykey(impl, topic8, 1, "batch", caching=0)(i)
            app = w["app_id"]
            if impl == "brook":
                argv = [f"{BUILD}/bench/bench-countbykey", "--restore-only"]
            else:
                argv = [os.path.join(ROOT, "bench", "peers", impl, "run"),
                        "--restore-only"]
            argv += ["--brokers", BROKERS, "--input", topic8, "--output",
                     fresh_topic("cbk-out", 8), "--app-id", app, "--threads", "1"]
            r = run_json(argv, timeout=1200)
            r["msgs_per_sec"] = r.get("records_per_sec")
            r["records"] = r.get("records_restored")
            return r
        return run

    return [Case("restore", "brook restore, 1 thread (records/s)", fn("brook")),
            Case("restore", "Kafka Streams restore, 1 thread (records/s)",
                 fn("kafka-streams"))]


# Cases compared as a ratio run interleaved (run 1 of each, then run 2 of
# each, ...), so that a slow minute of the shared machine does not land on
# one side of the ratio only.
PHASE = {"limit": "consumer", "overhead": "consumer"}


def run_cases(cases: List[Case]) -> None:
    total = len(cases) * RUNS
    k = 0
    phases: List[List[Case]] = []
    for c in cases:
        key = PHASE.get(c.group, c.group)
        if phases and PHASE.get(phases[-1][0].group, phases[-1][0].group) == key:
            phases[-1].append(c)
        else:
            phases.append([c])
    for phase in phases:
        for i in range(RUNS):
            for c in phase:
                k += 1
                t0 = time.time()
                try:
                    r = c.fn(i)
                except Exception as e:  # a failed case is reported, not hidden
                    r = {"error": str(e)}
                r["wall_seconds"] = round(time.time() - t0, 2)
                c.runs.append(r)
                rate = r.get("msgs_per_sec")
                say(f"  [{k:3d}/{total}] {c.group:<10} {c.name:<58} run {i + 1}: "
                    + (f"{rate:,.0f} msg/s" if rate else r.get("error", "?")[:80]))


def fmt(v: Optional[float], unit: str = "") -> str:
    if v is None or v < 0:  # programs print -1 for "not measured"
        return "-"
    if v >= 100:
        return f"{v:,.0f}{unit}"
    return f"{v:.2f}{unit}"


def table(cases: List[Case], m: Dict[str, Any]) -> str:
    lines = [f"# brook benchmarks, {STAMP}", "",
             f"Machine: {m['host']}, {m['cpu']}, {m['cores']} cores, "
             f"{m['memory_gib']} GiB, Linux {m['kernel']}; Apache Kafka "
             f"{m['kafka']} (single broker, {m['brokers']}). "
             f"{RUNS} runs per case: median, and spread = (max-min)/median."
             + (" QUICK mode (small counts)." if QUICK else ""), "",
             "| group | case | msgs/s | spread | MB/s | p50 ms | p99 ms | "
             "peak RSS MiB | CPU s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for c in cases:
        errs = [r["error"] for r in c.runs if "error" in r]
        if errs and len(errs) == len(c.runs):
            lines.append(f"| {c.group} | {c.name} | FAILED: {errs[0][:120]} "
                         "| | | | | | |")
            continue
        rss = c.median("peak_rss_kb")
        lines.append(
            f"| {c.group} | {c.name} | {fmt(c.median('msgs_per_sec'))} | "
            f"{fmt(c.spread('msgs_per_sec'), '%')} | "
            f"{fmt(c.median('mb_per_sec'))} | {fmt(c.median('p50_ms'))} | "
            f"{fmt(c.median('p99_ms'))} | "
            f"{fmt(rss / 1024 if rss else None)} | "
            f"{fmt(c.median('cpu_seconds'))} |")
    lines += ["", "## Ratios", ""]
    by = {c.name: c for c in cases}

    def ratio(a: str, b: str, label: str, target: str = "") -> None:
        if a in by and b in by:
            x, y = by[a].median("msgs_per_sec"), by[b].median("msgs_per_sec")
            if x and y:
                lines.append(f"- {label}: **{x / y:.2f}x**"
                             + (f" (target {target})" if target else ""))

    ratio("brook batch consumer, no-op (batch.size=100)",
          "librdkafka consumer, no-op",
          "brook no-op batch consumer / raw librdkafka consumer", ">= 0.90")
    ratio("brook batch consumer, no-op (batch.size=100)",
          "brook single-message mode, no-op",
          "batch / single-message, no-op handler")
    ratio("brook batch consumer, no-op, all exporters on",
          "brook batch consumer, no-op, telemetry off",
          "telemetry: all exporters on / off, batch consumer", ">= 0.97")
    ratio("1 ms handler: async, concurrency 10", "1 ms handler: single-message",
          "async (10) / single-message, 1 ms handler")
    ratio("1 ms handler: async, concurrency 50", "1 ms handler: single-message",
          "async (50) / single-message, 1 ms handler")
    for extra in EXTRA_RATIOS:
        ratio(*extra)
    ks = by.get("Kafka Streams 4.1.2 count-by-key, 1 thread")
    bk = by.get("brook streams count-by-key, batch, 1 thread")
    if ks and bk and ks.median("peak_rss_kb") and bk.median("peak_rss_kb"):
        lines.append(f"- peak RSS, brook streams / Kafka Streams (count-by-key, "
                     f"1 thread): **{bk.median('peak_rss_kb') / ks.median('peak_rss_kb'):.3f}**"
                     " (target <= 0.1)")
    for name, why in UNAVAILABLE:
        lines.append(f"- {name}: not run: {why}")
    lines += ["", "Stateful streams cases (peers, scale) are timed to the close "
              "(store, changelog and output written, offsets committed); "
              "restore cases report records/s.",
              "", "Latency is from the record timestamp to the handler; for "
              "backlog cases it includes the time the record waited in Kafka.",
              ""]
    return "\n".join(lines)


EXTRA_RATIOS: List[tuple] = [
    ("brook streams count-by-key, batch, 1 thread",
     "Kafka Streams 4.1.2 count-by-key, 1 thread",
     "brook streams / Kafka Streams, count-by-key, 1 thread", ">= 5"),
    ("brook streams count-by-key, batch, 2 threads",
     "Kafka Streams 4.1.2 count-by-key, 2 threads",
     "brook streams / Kafka Streams, count-by-key, 2 threads", ">= 5"),
    ("brook streams count-by-key, batch, 1 thread",
     "brook streams count-by-key, single-record, 1 thread",
     "brook streams batch / single-record, count-by-key"),
    ("RocksDB store (WAL off): put_batch(100), ops per CPU-second",
     "RocksDB store (WAL off): put, ops per CPU-second",
     "RocksDB put_batch(100) / put (WAL off)"),
    ("RocksDB store (WAL off): get_batch(100), ops per CPU-second",
     "RocksDB store (WAL off): get, ops per CPU-second",
     "RocksDB get_batch(100) / get (WAL off)"),
    ("RocksDB store (WAL on): put_batch(100), ops per CPU-second",
     "RocksDB store (WAL on): put, ops per CPU-second",
     "RocksDB put_batch(100) / put (WAL on)"),
    ("word count end to end: batch store ops (words/s)",
     "word count end to end: single store ops (words/s)",
     "word count, batch / single store operations"),
    ("brook restore, 1 thread (records/s)",
     "Kafka Streams restore, 1 thread (records/s)",
     "brook / Kafka Streams restoration"),
    ("CPU-bound transform: batch 100", "CPU-bound transform: single-record",
     "seed: CPU-bound transform, batch 100 / single", "plan: 2x"),
    ("in-memory aggregation: batch 100", "in-memory aggregation: single-record",
     "seed: in-memory aggregation, batch 100 / single", "plan: 6x"),
    ("state-store writes (RocksDB): batch 100",
     "state-store writes (RocksDB): single-record",
     "seed: state-store writes, batch 100 / single", "plan: 50x"),
    ("Kafka sink (consume, transform, produce): batch 100",
     "Kafka sink (consume, transform, produce): single-record",
     "seed: Kafka sink, batch 100 / single", "plan: 20x"),
    ("state-store writes (RocksDB, WAL fsynced per write): batch 100",
     "state-store writes (RocksDB, WAL fsynced per write): single-record",
     "seed: state-store writes with fsynced WAL, batch 100 / single",
     "plan: 50x"),
    ("state-store writes (RocksDB, WAL fsynced per write): batch 1000",
     "state-store writes (RocksDB, WAL fsynced per write): single-record",
     "seed: state-store writes with fsynced WAL, batch 1000 / single",
     "plan: 50x"),
    ("CPU-bound transform: batch 1000", "CPU-bound transform: single-record",
     "seed: CPU-bound transform, batch 1000 / single", "plan: 2x"),
    ("in-memory aggregation: batch 1000", "in-memory aggregation: single-record",
     "seed: in-memory aggregation, batch 1000 / single", "plan: 6x"),
    ("state-store writes (RocksDB): batch 1000",
     "state-store writes (RocksDB): single-record",
     "seed: state-store writes, batch 1000 / single", "plan: 50x"),
    ("Kafka sink (consume, transform, produce): batch 1000",
     "Kafka sink (consume, transform, produce): single-record",
     "seed: Kafka sink, batch 1000 / single", "plan: 20x"),
]
UNAVAILABLE: List[tuple] = []


def charts(cases: List[Case]) -> List[str]:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        say("bench: matplotlib missing, no charts")
        return []
    made = []
    ok = [c for c in cases if c.median("msgs_per_sec")]
    fig, ax = plt.subplots(figsize=(11, 0.42 * len(ok) + 1.5))
    ax.barh([c.name for c in ok], [c.median("msgs_per_sec") for c in ok],
            color=["#4c72b0" if "brook" in c.name else "#999999" for c in ok])
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("messages/s (median of runs, log scale)")
    ax.set_title(f"brook benchmarks {STAMP} on {HOST}")
    fig.tight_layout()
    p = os.path.join(OUT, f"{STAMP}-{HOST}-throughput.png")
    fig.savefig(p, dpi=100)
    made.append(p)
    plt.close(fig)

    bs = []
    for c in cases:
        if c.group in ("batch-size", "overhead") and "batch.size=" in c.name \
                and c.median("msgs_per_sec"):
            n = int(c.name.split("batch.size=")[1].split(")")[0])
            bs.append((n, c.median("msgs_per_sec")))
    if bs:
        bs.sort()
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot([b[0] for b in bs], [b[1] for b in bs], marker="o")
        ax.set_xscale("log")
        ax.set_xlabel("batch.size")
        ax.set_ylabel("messages/s")
        ax.set_title("brook batch consumer (no-op): throughput vs batch size")
        fig.tight_layout()
        p = os.path.join(OUT, f"{STAMP}-{HOST}-batch-size.png")
        fig.savefig(p, dpi=100)
        made.append(p)
        plt.close(fig)

    traces = [r for c in cases for r in c.runs if r.get("rss_trace")]
    if traces:
        fig, ax = plt.subplots(figsize=(7, 4))
        for r in traces:
            ts, rss = [], []
            with open(os.path.join(OUT, r["rss_trace"])) as f:
                for line in f:
                    t, kb, _ = line.split()
                    ts.append(float(t))
                    rss.append(int(kb) / 1024)
            ax.plot(ts, rss, label=r["rss_trace"].rsplit("-", 1)[1][:-4])
        ax.set_xlabel("seconds")
        ax.set_ylabel("RSS MiB")
        ax.set_ylim(bottom=0)
        ax.set_title("RSS while draining a backlog with a slow handler")
        ax.legend(title="run")
        fig.tight_layout()
        p = os.path.join(OUT, f"{STAMP}-{HOST}-rss.png")
        fig.savefig(p, dpi=100)
        made.append(p)
        plt.close(fig)
    return made


def update_readme(md: str, base: str) -> None:
    """Put the latest full table into bench/README.md (between markers)."""
    path = os.path.join(ROOT, "bench", "README.md")
    with open(path) as f:
        text = f.read()
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    if start not in text or end not in text:
        return
    body = md.replace("](" + base, "](results/" + base)
    body = body.replace("# brook benchmarks,", "### Latest full run:", 1)
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    with open(path, "w") as f:
        f.write(head + start + "\n" + body + "\n" + end + tail)


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    m = machine()
    say(f"bench: {m['cores']} cores, broker {BROKERS}, "
        f"{'QUICK' if QUICK else 'full'} mode, {RUNS} runs per case")
    say("bench: generating the input (seed 42)")
    main_topic = topic("in8", 8, N_MAIN)
    cases = consumer_cases(main_topic)
    peer8 = keyed_topic("cbk8", 8, N_PEER)
    peer64 = keyed_topic("cbk64", 64, N_PEER)
    cases += seed_cases(peer8)
    cases += peer_cases(peer8, peer64)
    cases += restore_cases(peer8)
    cases += store_cases()
    if ONLY:
        groups = set(ONLY.split(","))
        cases = [c for c in cases if c.group in groups]
    run_cases(cases)
    base = os.path.join(OUT, f"{STAMP}-{HOST}")
    with open(base + ".json", "w") as f:
        json.dump({"machine": m, "quick": QUICK, "runs": RUNS,
                   "cases": [{"group": c.group, "name": c.name, "note": c.note,
                              "runs": c.runs} for c in cases]}, f, indent=1)
    md = table(cases, m)
    pngs = charts(cases)
    md += "\nCharts: " + ", ".join(f"![{os.path.basename(p)}]({os.path.basename(p)})"
                                    for p in pngs) + "\n"
    with open(base + ".md", "w") as f:
        f.write(md)
    if not QUICK and not ONLY:
        update_readme(md, os.path.basename(base))
    print(md)
    say(f"bench: wrote {base}.json, {base}.md and {len(pngs)} charts")
    failed = [c.name for c in cases if any("error" in r for r in c.runs)]
    if failed:
        say("bench: FAILED cases: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
