#!/usr/bin/env python3
"""2501 (issue 8): the metrics exporters on a real broker, checked by
independent parsers.

brook-teldriver (a brook batch consumer with an event callback attached)
runs with metrics.listen=127.0.0.1:0, DogStatsD to a UDP socket of this
test and the lag gauge every 200 ms. 3 x 1000 records are produced with
kafkatool (kafka-python) while the consumer runs slowly (20 ms per batch
of 50), so the lag is visibly non-zero first; partition 1 offset 10 always
fails and is dead-lettered after one retry.

Checks:
- every scrape of GET /metrics parses with prometheus_client's parser and
  passes `promtool check metrics` (when installed);
- the lag gauge of each partition is > 0 at some scrape and 0 once the
  topic is drained and committed (committed offsets read with kafkatool);
- the final counters equal the workload: messages ok = 2999, failed = 2,
  dead letters = 1, histogram _count = batch counter = +Inf bucket,
  batch-size _sum = deliveries; labels group/topic(/partition) present;
- DogStatsD lines parse (name:value|type[|@rate]|#tags), carry the group
  and topic tags, and their counter deltas add up to the same totals;
- the event callback saw the same: first-attempt batch.start counts sum to
  3000, messages.processed to 2999, failed_count to 2, one dead letter.
"""
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

import brooktest as bt

PARTS, PER = 3, 1000
N = PARTS * PER


def scrape(addr):
    with urllib.request.urlopen("http://%s/metrics" % addr, timeout=10) as r:
        ctype = r.headers.get("Content-Type", "")
        return r.status, ctype, r.read().decode()


def parse(text):
    """{(name, frozenset(labels)): value} with prometheus_client's parser."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def total(samples, name, **want):
    vals = [v for (n, labels), v in samples.items()
            if n == name and all((k, str(x)) in labels for k, x in want.items())]
    return sum(vals) if vals else None


def promtool(text):
    exe = shutil.which("promtool")
    if not exe:
        return None
    p = subprocess.run([exe, "check", "metrics"], input=text, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return p.returncode, p.stdout


def parse_statsd(blob, group):
    """Counter totals from DogStatsD lines; checks every line's shape."""
    sums = {}
    lag_lines = 0
    for line in blob.splitlines():
        if not line:
            continue
        name, rest = line.split(":", 1)
        parts = rest.split("|")
        value, mtype = float(parts[0]), parts[1]
        assert mtype in ("c", "g", "h", "ms"), line
        tags = [p[1:] for p in parts[2:] if p.startswith("#")]
        assert tags, "no tags: %s" % line
        tagset = dict(t.split(":", 1) for t in tags[0].split(","))
        assert tagset.get("group") == group, "group tag: %s" % line
        assert name.startswith("brook.consumer."), line
        if name == "brook.consumer.lag":
            assert "topic" in tagset and "partition" in tagset, line
            lag_lines += 1
            continue
        if name == "brook.consumer.batch.queue.depth":
            continue
        assert "topic" in tagset, "topic tag: %s" % line
        if mtype == "c":
            key = (name, tagset.get("status"))
            sums[key] = sums.get(key, 0) + value
    return sums, lag_lines


def main(t):
    topic = t.topic("in", PARTS)
    dlq = t.topic("dlq", 1)
    group = t.name("g")
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.05)
    t.cleanup(udp.close)
    addr_file = os.path.join(t.dir, "metrics.addr")
    ready_file = os.path.join(t.dir, "ready")
    exe = os.path.join(bt.BUILD_DIR, "brook-teldriver")
    t.check(os.access(exe, os.X_OK), "%s not built" % exe)
    sets = {"metrics.listen": "127.0.0.1:0",
            "metrics.statsd.address": "127.0.0.1:%d" % udp.getsockname()[1],
            "metrics.statsd.interval.ms": 200, "metrics.lag.interval.ms": 200,
            "batch.size": 50, "batch.timeout.ms": 100, "ack.strategy": "best_effort",
            "retry.backoff.ms": 50, "dead.letter.topic": dlq, "dead.letter.max.retries": 1,
            "log.level": "warn"}
    sets.update(bt.DEFAULT_SETTINGS)
    cmd = [exe, "--brokers", t.brokers, "--topic", topic, "--group", group,
           "--address-file", addr_file, "--ready", ready_file, "--fail", "1:10", "--slow-ms", "20"]
    for k, v in sets.items():
        cmd += ["--set", "%s=%s" % (k, v)]
    out_path = os.path.join(t.dir, "driver.out")
    err_path = os.path.join(t.dir, "driver.err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)

    def kill():
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    t.cleanup(kill)
    addr = bt.wait_until(lambda: os.path.exists(addr_file) and open(addr_file).read().strip(),
                         30, "the metrics address file")
    t.say("metrics at http://%s/metrics" % addr)
    status, ctype, _ = scrape(addr)
    t.check(status == 200 and ctype.startswith("text/plain; version=0.0.4"),
            "first scrape: %s %s" % (status, ctype))
    # Wait for the assignment before producing, so that the lag is seen.
    def assigned():
        t.check(proc.poll() is None, "driver exited (rc %s): %s" % (proc.returncode, open(err_path).read()[-2000:]))
        return os.path.exists(ready_file)
    bt.wait_until(assigned, 30, "the driver's partition assignment")
    t.produce(topic, N, keyed=True, partitions=PARTS)
    end = t.end_offsets(topic)
    t.check(end == {p: PER for p in range(PARTS)}, "end offsets %s" % end)

    blob = []
    scrapes, linted = 0, 0
    lag_seen = {p: False for p in range(PARTS)}
    deadline = bt.now() + 120 * bt.MULT
    samples = {}
    while True:
        t.check(proc.poll() is None, "driver exited (rc %s): %s" % (proc.returncode, open(err_path).read()[-2000:]))
        status, _, text = scrape(addr)
        t.check(status == 200, "HTTP %d" % status)
        samples = parse(text)
        scrapes += 1
        pt = promtool(text)
        if pt is not None:
            t.check(pt[0] == 0, "promtool check metrics failed:\n%s\n--- exposition:\n%s" % (pt[1], text))
            linted += 1
        lags = {p: total(samples, "brook_consumer_lag", topic=topic, partition=p) for p in range(PARTS)}
        for p, v in lags.items():
            if v:
                lag_seen[p] = True
        try:
            while True:
                blob.append(udp.recv(65536).decode())
        except socket.timeout:
            pass
        if (all(v == 0 for v in lags.values()) and all(lag_seen.values())
                and total(samples, "brook_consumer_dead_letter_sent_total") == 1
                and t.committed(group, topic) == end):
            break
        t.check(bt.now() < deadline, "not drained: lag %s, seen %s" % (lags, lag_seen))
        time.sleep(0.1)
    t.say("%d scrapes (%d checked by promtool); lag went >0 and back to 0 on all partitions" % (scrapes, linted))

    ok = total(samples, "brook_consumer_messages_processed_total", status="ok", topic=topic, group=group)
    failed = total(samples, "brook_consumer_messages_processed_total", status="failed")
    t.check(ok == N - 1, "messages ok %s, expected %d" % (ok, N - 1))
    t.check(failed == 2, "messages failed %s, expected 2" % failed)
    batches = total(samples, "brook_consumer_batch_processed_total")
    t.check(total(samples, "brook_consumer_batch_size_count") == batches
            and total(samples, "brook_consumer_batch_processing_duration_seconds_count") == batches
            and total(samples, "brook_consumer_batch_size_bucket", le="+Inf") == batches,
            "histogram counts differ from %s batches" % batches)
    t.check(total(samples, "brook_consumer_batch_size_sum") == N + 1,
            "batch size sum %s, deliveries %d" % (total(samples, "brook_consumer_batch_size_sum"), N + 1))
    t.check(total(samples, "brook_consumer_batch_queue_depth", group=group) == 0, "queue depth")

    proc.send_signal(15)
    try:
        rc = proc.wait(timeout=60 * bt.MULT)
    except subprocess.TimeoutExpired:
        raise bt.Fail("driver did not stop")
    t.check(rc == 0, "driver rc %d: %s" % (rc, open(err_path).read()[-2000:]))

    def sd_batch_count(sums):
        return sum(v for (n, _), v in sums.items() if n == "brook.consumer.batch.processed.count")
    # The driver sent its last DogStatsD flush when it stopped: read until
    # the batches it reports add up to the last scrape's (bounded).
    deadline = bt.now() + 10 * bt.MULT
    while True:
        try:
            while True:
                blob.append(udp.recv(65536).decode())
        except socket.timeout:
            pass
        sums, lag_lines = parse_statsd("\n".join(blob), group)
        if sd_batch_count(sums) >= batches or bt.now() >= deadline:
            break
    t.check(sums.get(("brook.consumer.messages.processed.count", "ok")) == N - 1
            and sums.get(("brook.consumer.messages.processed.count", "failed")) == 2
            and sums.get(("brook.consumer.dead_letter.sent.count", None)) == 1,
            "DogStatsD counters %s" % sums)
    sd_batches = sd_batch_count(sums)
    t.check(sd_batches == batches, "DogStatsD batches %s, scraped %s" % (sd_batches, batches))
    t.check(lag_lines > 0, "no lag gauge in DogStatsD")

    ev = json.loads(open(out_path).read().strip().splitlines()[-1])
    t.check(ev["first_attempt_count"] == N and ev["processed"] == N - 1 and ev["processed_failed"] == 2
            and ev["stop_failed"] == 2 and ev["dead_letters"] == 1 and ev["start_count"] == ev["stop_count"] == N + 1,
            "events %s" % ev)
    t.summary("%d records; %d scrapes parsed by prometheus_client, %d by promtool; lag >0 then 0 on %d "
              "partitions; counters ok=%d failed=%d dead=1 batches=%d equal in Prometheus, DogStatsD "
              "(%d lines) and events" % (N, scrapes, linted, PARTS, ok, failed, batches, len("\n".join(blob).splitlines())))


bt.run(main)
