#!/usr/bin/env python3
"""2502 (issue 8): W3C trace context continues through the dead-letter
topic on a real broker.

kafkatool (kafka-python, not librdkafka) produces 2 x 50 records; every
record carries a distinct `traceparent` and `tracestate` (plus an app
header). brook-testconsumer (batch handler, best_effort, one retry) fails
0:7, 0:31 and 1:12 on every delivery, so they go to the dead-letter topic.
Read back with kafkatool, each dead letter carries exactly its source
record's traceparent and tracestate (and app header), next to brook's
brook.dlq.topic / partition / offset headers naming the source; the
consumer's --dump shows the handler saw the same traceparent.
"""
import brooktest as bt

PARTS, PER = 2, 50
FAIL = {(0, 7), (0, 31), (1, 12)}


def traceparent(p, o):
    return "00-%032x-%016x-01" % ((p + 1) * 1000003 + o, 0xABC000 + o)


def tracestate(p, o):
    return "brook=p%do%d,vendor=x" % (p, o)


def main(t):
    topic = t.topic("in", PARTS)
    dlq = t.topic("dlq", 1)
    group = t.name("g")
    recs = []
    for o in range(PER):
        for p in range(PARTS):
            recs.append({"key": b"k%d-%d" % (p, o), "value": b"v%d-%d" % (p, o), "partition": p,
                         "headers": [("traceparent", traceparent(p, o).encode()),
                                     ("tracestate", tracestate(p, o).encode()),
                                     ("app", b"a%d" % o)]})
    t.produce_records(topic, recs)
    end = t.end_offsets(topic)
    t.check(end == {p: PER for p in range(PARTS)}, "end offsets %s" % end)
    args = []
    for p, o in sorted(FAIL):
        args += ["--fail", "%d:%d" % (p, o)]
    c = t.consumer(topic, group, settings={"batch.size": 10, "batch.timeout.ms": 100,
                                           "ack.strategy": "best_effort", "retry.backoff.ms": 50,
                                           "dead.letter.topic": dlq, "dead.letter.max.retries": 1},
                   args=args, dead_letters=True, dump=True)
    t.wait_committed(group, topic, timeout=60)
    c.stop()
    dead = t.read_topic(dlq)
    t.check(len(dead) == len(FAIL), "%d dead letters, expected %d" % (len(dead), len(FAIL)))
    seen = set()
    for r in dead:
        h = {}
        for k, v in r["headers"]:
            h[k] = v.decode() if v is not None else None
        p, o = int(h["brook.dlq.partition"]), int(h["brook.dlq.offset"])
        t.check(h["brook.dlq.topic"] == topic, "dlq topic header %s" % h.get("brook.dlq.topic"))
        t.check((p, o) in FAIL, "unexpected dead letter %d:%d" % (p, o))
        t.check(h.get("traceparent") == traceparent(p, o),
                "dead letter %d:%d traceparent %r, source had %r" % (p, o, h.get("traceparent"), traceparent(p, o)))
        t.check(h.get("tracestate") == tracestate(p, o),
                "dead letter %d:%d tracestate %r" % (p, o, h.get("tracestate")))
        t.check(h.get("app") == "a%d" % o, "app header lost on %d:%d" % (p, o))
        t.check(r["value"] == b"v%d-%d" % (p, o) and r["key"] == b"k%d-%d" % (p, o), "key/value of %d:%d" % (p, o))
        seen.add((p, o))
    t.check(seen == FAIL, "dead letters for %s" % sorted(seen))
    # The handler saw the same context (brook-testconsumer --dump).
    for d in c.dump():
        hs = dict(d["headers"])
        t.check(hs.get("traceparent") == traceparent(d["p"], d["o"]).encode(),
                "handler saw traceparent %r on %d:%d" % (hs.get("traceparent"), d["p"], d["o"]))
    t.summary("%d dead letters read by kafka-python keep the source traceparent and tracestate "
              "(e.g. %s)" % (len(dead), traceparent(0, 7)))


bt.run(main)
