#!/usr/bin/env python3
"""2006 (issue 3, scenario 6): what an independent producer writes arrives
intact in brook's handler, and in brook's dead-letter records.

kafka-python produces the same set of awkward records with each codec
(none, gzip, snappy, lz4, zstd; one partition per codec): headers (repeated
names, empty and binary values, 40 headers on one record), a null key, a
null value (tombstone), an empty value, an empty key, binary bytes 0..255,
UTF-8 text, explicit timestamps, a 1 MiB incompressible value and a 1 MiB
compressible value (topic max.message.bytes 4 MiB). brook-testconsumer
--dump writes every delivery the handler saw (key, value, headers,
timestamp, base64); each must equal what was produced, byte for byte, and
what the independent client reads back. Some records of partitions 0
(uncompressed) and 4 (zstd) fail permanently (dead.letter.max.retries=0):
their dead-letter records must carry the same key, value, headers and
timestamp plus brook's brook.dlq.* headers (the dead-letter producer needs
kafka.message.max.bytes raised for the 1 MiB value: it shares brook's
kafka.* settings).
"""
import random

import brooktest as bt
from kafka import KafkaProducer

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
MIB = 1 << 20
TS0 = 1_700_000_000_000
FAIL_IDX = [0, 1, 2, 6]  # failed (dead-lettered) in partitions 0 and 4


def records(codec):
    rng = random.Random(codec)
    big = bytes(rng.getrandbits(8) for _ in range(MIB))
    c = codec.encode()
    return [
        {"key": b"k0", "value": b"plain-" + c,
         "headers": [("h1", b"v1"), ("h1", b"dup"), ("empty", b""), ("bin", bytes(range(256)))]},
        {"key": None, "value": b"null-key-" + c},
        {"key": b"k2", "value": None, "headers": [("tombstone", b"1")]},
        {"key": b"k3", "value": b""},
        {"key": b"", "value": b"empty-key-" + c},
        {"key": b"k5", "value": bytes(range(256)) * 4 + c},
        {"key": b"k6", "value": big, "headers": [("size", b"1MiB")]},
        {"key": b"k7", "value": ((b"compressible-" + c) * (MIB // 13 + 1))[:MIB]},
        {"key": b"k8", "value": b"many-headers", "headers": [("h%02d" % i, b"x" * i) for i in range(40)]},
        {"key": "ключ".encode(), "value": "значение ✓ 値".encode()},
    ]


def produce(brokers, topic, partition, codec, recs):
    p = KafkaProducer(bootstrap_servers=brokers.split(","), acks="all", enable_idempotence=True,
                      compression_type=None if codec == "none" else codec, max_request_size=4 * MIB,
                      linger_ms=20, batch_size=256 * 1024)
    try:
        futs = [p.send(topic, key=r["key"], value=r["value"], partition=partition,
                       headers=r.get("headers") or None, timestamp_ms=TS0 + i)
                for i, r in enumerate(recs)]
        p.flush()
        return [f.get(timeout=30).offset for f in futs]
    finally:
        p.close()


def same(got, want, where):
    for field in ("key", "value"):
        if got[field] != want[field]:
            g, w = got[field], want[field]
            raise bt.Fail("%s: %s differs: got %s (%s bytes), want %s (%s bytes)"
                          % (where, field, None if g is None else g[:40], None if g is None else len(g),
                             None if w is None else w[:40], None if w is None else len(w)))
    wh = [(k, v) for k, v in (want.get("headers") or [])]
    gh = list(got["headers"])[:len(wh)] if where.startswith("dead letter") else list(got["headers"])
    if gh != wh:
        raise bt.Fail("%s: headers differ: got %s, want %s" % (where, gh[:6], wh[:6]))


def main(t):
    topic = t.topic("in", len(CODECS), config={"max.message.bytes": str(4 * MIB)})
    dlq = topic + ".dlq"
    bt.kt.create_topic(t.brokers, dlq, 1, None, {"max.message.bytes": str(4 * MIB)})
    sent = {}
    for part, codec in enumerate(CODECS):
        recs = records(codec)
        offs = produce(t.brokers, topic, part, codec, recs)
        t.check(offs == list(range(len(recs))), "%s: produced at offsets %s" % (codec, offs))
        for o, r in enumerate(recs):
            sent[(part, o)] = dict(r, ts=TS0 + o, codec=codec)
    # The independent client reads back what was written.
    back = {(r["partition"], r["offset"]): r for r in t.read_topic(topic)}
    t.check(set(back) == set(sent), "read back %d records, produced %d" % (len(back), len(sent)))
    for k, want in sent.items():
        same(back[k], want, "kafka-python read-back of %s (%s)" % (k, want["codec"]))

    group = t.name("g")
    fails = []
    for p in (0, 4):
        for i in FAIL_IDX:
            fails += ["--fail", "%d:%d" % (p, i)]
    c = t.consumer(topic, group, "consumer", dump=True, dead_letters=True,
                   settings={"batch.size": 4, "batch.timeout.ms": 100,
                             "kafka.max.partition.fetch.bytes": 4 * MIB,
                             "kafka.fetch.max.bytes": 16 * MIB,
                             "kafka.message.max.bytes": 5 * MIB,
                             "dead.letter.topic": "{topic}.dlq", "dead.letter.max.retries": 0},
                   args=fails)
    end = t.end_offsets(topic)
    t.wait_committed(group, topic, end, timeout=60)
    c.stop()

    seen = c.dump()
    by = {}
    for d in seen:
        by.setdefault((d["p"], d["o"]), []).append(d)
    t.check(set(by) == set(sent), "handler saw %d distinct records, %d produced; missing %s"
            % (len(by), len(sent), bt.sample(set(sent) - set(by))))
    for k, copies in by.items():
        for d in copies:
            same(d, sent[k], "handler delivery %s (%s)" % (k, sent[k]["codec"]))
            t.check(d["ts"] == sent[k]["ts"], "%s: timestamp %d, produced %d" % (k, d["ts"], sent[k]["ts"]))
    recs = {(p, o) for p, o, _ in c.records()}
    want_ok = {k for k in sent if not (k[0] in (0, 4) and k[1] in FAIL_IDX)}
    t.check(recs == want_ok, "successfully processed %s, expected %s" % (bt.sample(recs), bt.sample(want_ok)))

    dl = t.read_topic(dlq)
    want_dl = sorted((p, i) for p in (0, 4) for i in FAIL_IDX)
    got_dl = sorted((int(dict(r["headers"])["brook.dlq.partition"]), int(dict(r["headers"])["brook.dlq.offset"]))
                    for r in dl)
    t.check(got_dl == want_dl, "dead letters for %s, expected %s" % (got_dl, want_dl))
    for r in dl:
        h = dict(r["headers"])
        k = (int(h["brook.dlq.partition"]), int(h["brook.dlq.offset"]))
        same(r, sent[k], "dead letter of %s (%s)" % (k, sent[k]["codec"]))
        t.check(r["timestamp"] == sent[k]["ts"], "dead letter of %s: timestamp %s, original %s"
                % (k, r["timestamp"], sent[k]["ts"]))
        t.check(h["brook.dlq.topic"] == topic.encode() and h["brook.dlq.group"] == group.encode()
                and h["brook.dlq.retries"] == b"0" and h["brook.dlq.reason"] == b"injected failure"
                and h["brook.dlq.timestamp"] == str(sent[k]["ts"]).encode()
                and h.get("brook.dlq.failed_at", b"").isdigit(),
                "dead letter of %s: brook headers %s" % (k, {a: b for a, b in h.items() if a.startswith("brook.")}))
    big = sum(1 for k in by if sent[k]["value"] is not None and len(sent[k]["value"]) >= MIB)
    t.summary("%d records x %d codecs (%s) arrived byte-identical in the handler (key, value, headers, timestamp; "
              "%d of them 1 MiB values); %d dead letters keep key, value, headers and timestamp"
              % (len(sent) // len(CODECS), len(CODECS), ",".join(CODECS), big, len(dl)))


bt.run(main)
