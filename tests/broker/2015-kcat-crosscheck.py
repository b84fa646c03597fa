#!/usr/bin/env python3
"""2015 (issue 3, independent eyes): kcat (librdkafka's command-line client,
from Debian) as a second independent client. Records produced by kcat
(keys, headers, lz4 compression) arrive intact in brook's handler; the
dead letters brook writes, read back by kcat, carry the original key, value
and headers plus brook's origin headers; kcat, consuming the same topic in
its own group, sees exactly what brook processed.
"""

import base64
import json
import shutil
import subprocess

import brooktest as bt

N = 300


def kcat(*args, stdin=None):
    p = subprocess.run(["kcat", *args], input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120 * bt.MULT)
    if p.returncode != 0:
        raise bt.Fail("kcat %s: %s" % (" ".join(args), p.stderr.decode()[-500:]))
    return p.stdout


def main(t):
    if not shutil.which("kcat"):
        raise bt.Fail("kcat is not installed (Debian package kcat, scripts/deps)")
    topic = t.topic("in", partitions=3)
    dlq = t.topic("in-dlq", partitions=1)
    # kcat produces: key|value lines, a header on every record, lz4.
    lines = "".join("key-%d|value-%d\n" % (i, i) for i in range(N)).encode()
    kcat("-P", "-b", t.brokers, "-t", topic, "-K", "|", "-z", "lz4",
         "-H", "origin=kcat", "-H", "trace=abc", stdin=lines)
    c = t.consumer(topic, group=t.name("g"), dump=True, dead_letters=True,
                   settings={"batch.size": 50, "batch.timeout.ms": 200,
                             "dead.letter.topic": dlq, "dead.letter.max.retries": 1,
                             "retry.backoff.ms": 50, "ack.strategy": "best_effort"},
                   args=["--fail", "0:5", "--idle-exit", 3000])
    end = t.end_offsets(topic)
    t.wait_committed(c.group, topic, end, timeout=60)
    c.stop()
    seen = {}
    for d in c.dump():
        seen[(d["p"], d["o"])] = d
    t.check(sum(end.values()) == N, "kcat produced %d records" % sum(end.values()))
    # Every record reached the handler intact (the failing one too).
    values = set()
    for d in seen.values():
        i = int(d["value"].decode().split("-")[1])
        t.check(d["key"] == b"key-%d" % i, "key %r for value %r" % (d["key"], d["value"]))
        t.check(("origin", b"kcat") in d["headers"] and ("trace", b"abc") in d["headers"],
                "headers lost: %r" % d["headers"])
        values.add(i)
    t.check(values == set(range(N)), "handler saw %d distinct values of %d" % (len(values), N))
    # kcat reads the dead-letter topic: JSON envelope with headers.
    out = kcat("-C", "-b", t.brokers, "-t", dlq, "-e", "-J", "-q")
    dls = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    t.check(len(dls) == 1, "%d dead letters read by kcat, expected 1" % len(dls))
    h = dls[0].get("headers") or []
    hd = dict(zip(h[0::2], h[1::2]))
    want = seen[(0, 5)]
    t.check(dls[0]["key"] == want["key"].decode() and dls[0]["payload"] == want["value"].decode(),
            "dead letter key/value %r/%r" % (dls[0]["key"], dls[0]["payload"]))
    for k, v in (("origin", "kcat"), ("trace", "abc"), ("brook.dlq.topic", topic),
                 ("brook.dlq.partition", "0"), ("brook.dlq.offset", "5"),
                 ("brook.dlq.retries", "1")):
        t.check(hd.get(k) == v, "dead-letter header %s=%r, expected %r" % (k, hd.get(k), v))
    t.check(hd.get("brook.dlq.reason") == "injected failure", "reason %r" % hd.get("brook.dlq.reason"))
    # kcat in its own group sees exactly the offsets brook processed.
    out = kcat("-C", "-b", t.brokers, "-G", t.name("kcat"), topic, "-e", "-q",
               "-X", "auto.offset.reset=earliest", "-f", "%p %o\n")
    kpo = {tuple(int(x) for x in l.split()) for l in out.decode().splitlines() if l.strip()}
    t.check(kpo == set(seen), "kcat saw %d (partition, offset) pairs, brook %d" % (len(kpo), len(seen)))
    t.summary("%d kcat-produced lz4 records with headers intact in brook; dead letter "
              "read by kcat with original and origin headers; kcat's group saw the same %d offsets"
              % (N, len(kpo)))


bt.run(main)
