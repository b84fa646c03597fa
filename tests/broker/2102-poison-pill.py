#!/usr/bin/env python3
"""2102 (issue 4, real broker): a poison pill (partition 0, offset 10,
always fails) does not hold up partitions 1..7. retry.backoff.ms=500 with
exponential backoff (500, 1000, 2000 ms) and dead.letter.max.retries=3.

Checks (events file, record file, kafka-python): partitions 1..7 are
processed completely and committed before the pill is dead-lettered (they
are not slowed by its 3.5 s of backoff), including 50 more records per
partition produced to them after the pill's first failure; the pill's batch is retried after
each backoff (measured intervals, in order, and nothing of partition 0
after the batch is processed meanwhile: the partition is paused, not the
consumer); the pill fails exactly 4 times (retry counts 0..3) and lands in
the dead-letter topic once with brook.dlq.retries=3; partition 0 then
continues after it and every offset but the pill is processed; committed
offsets equal the end offsets.
"""
import time

import brooktest as bt
import kafkatool as kt

PARTS, PER, BATCH = 8, 200, 50
PILL = (0, 10)
BACKOFF = [500, 1000, 2000]


def main(t):
    topic = t.topic("in", PARTS)
    kt.create_topic(t.brokers, topic + ".dlq", 1)
    t.produce(topic, PARTS * PER, keyed=True, partitions=PARTS)
    group = t.name("g")
    c = t.consumer(topic, group, "consumer", dead_letters=True,
                   settings={"batch.size": BATCH, "batch.timeout.ms": 500, "retry.backoff.ms": BACKOFF[0],
                             "retry.backoff.max.ms": 10000, "dead.letter.max.retries": 3,
                             "dead.letter.topic": "{topic}.dlq"},
                   args=["--fail", "%d:%d" % PILL])
    others_committed_ms = None
    end = t.end_offsets(topic)
    more = []

    def finished():
        nonlocal others_committed_ms, end
        if not more and any(e[0] == "F" for e in c.events()):
            # The pill failed once: the other partitions get new records,
            # which must flow while partition 0 backs off.
            recs = list(kt.generate(50 * (PARTS - 1), start=PARTS * PER, keyed=True))
            for i, r in enumerate(recs):
                r["partition"] = 1 + i % (PARTS - 1)
            t.produce_records(topic, recs)
            more.append(time.time() * 1000)
            end = t.end_offsets(topic)
        com = t.committed(group, topic)
        if others_committed_ms is None and all(com[p] == end[p] for p in range(1, PARTS)):
            others_committed_ms = time.time() * 1000
        t.check(c.alive(), "consumer exited (rc %s)" % c.proc.poll())
        return more and com == end
    bt.wait_until(finished, 60, "committed offsets to reach the end offsets", 0.1)
    c.stop()

    ev = c.events()
    recs = c.records()
    done = {(p, o) for p, o, _ in recs}
    want = bt.all_offsets(end) - {PILL}
    t.check(done == want, "processed != input minus the pill: missing %s, extra %s"
            % (bt.sample(want - done), bt.sample(done - want)))
    dead = [e for e in ev if e[0] == "D"]
    t.check([(e[2], e[3]) for e in dead] == [PILL], "dead-letter callbacks %s" % [(e[2], e[3]) for e in dead])
    dead_ms = dead[0][1]
    fails = [e for e in ev if e[0] == "F"]
    t.check([(e[2], e[3], e[4]) for e in fails] == [(0, 10, r) for r in range(4)],
            "pill failures (p, o, retry count): %s, expected retry counts 0..3" % [(e[2], e[3], e[4]) for e in fails])
    # The pill's batch attempts and the backoff between them.
    attempts = [e for e in ev if e[0] == "B" and e[2] == 0 and e[3] <= PILL[1] <= e[4]]
    t.check([e[6] for e in attempts] == [0, 1, 2, 3], "pill batch attempts %s" % [e[6] for e in attempts])
    gaps = [b[1] - a[1] for a, b in zip(attempts, attempts[1:])]
    for gap, want_gap in zip(gaps, BACKOFF):
        t.check(want_gap * 0.9 <= gap <= want_gap + 1500 * bt.MULT,
                "backoff between attempts %s ms, expected about %s" % (gaps, BACKOFF))
    # Partition 0 waits (paused) while its batch backs off.
    p0_after = [e for e in ev if e[0] == "B" and e[2] == 0 and e[3] > attempts[0][4] and e[1] < dead_ms]
    t.check(not p0_after, "partition 0 processed %s before its pill was dead-lettered" % p0_after[:3])
    # The others are not held up: done (recorded and committed) before the
    # pill leaves.
    last_other = max(e[1] for e in ev if e[0] == "E" and e[2] != 0)
    t.check(last_other < dead_ms, "partitions 1..%d finished %d ms after the pill was dead-lettered"
            % (PARTS - 1, last_other - dead_ms))
    t.check(more and more[0] < dead_ms, "the extra records were produced after the pill was dead-lettered")
    t.check(sum(end.values()) == PARTS * PER + 50 * (PARTS - 1), "end offsets %s" % end)
    t.check(others_committed_ms is not None and others_committed_ms < dead_ms + 200,
            "partitions 1..%d were not committed before the pill was dead-lettered" % (PARTS - 1))
    first_ms = attempts[0][1]
    # Partition 0 continues after the pill.
    p0_later = [o for p, o in done if p == 0 and o >= attempts[0][4] + 1]
    t.check(len(p0_later) == PER - attempts[0][4] - 1, "partition 0 after the pill's batch: %d records" % len(p0_later))

    dl = t.read_topic(topic + ".dlq")
    t.check(len(dl) == 1, "%d dead letters, expected 1" % len(dl))
    h = dict(dl[0]["headers"])
    t.check(h.get("brook.dlq.retries") == b"3" and h.get("brook.dlq.offset") == b"10"
            and h.get("brook.dlq.partition") == b"0", "dead-letter headers %s" % h)
    t.check(dl[0]["value"] == kt.record_value(PILL[1] * PARTS + PILL[0]),  # record i -> partition i % PARTS
            "dead letter value %r" % dl[0]["value"][:20])
    t.summary("partitions 1..7 (%d records, %d of them produced after the pill's first failure) done %d ms after "
              "that failure, pill dead-lettered after "
              "%d ms (backoff gaps %s ms, retries 3); partition 0 paused meanwhile and continued after it; "
              "committed = end; 1 dead letter"
              % ((PARTS - 1) * (PER + 50), 50 * (PARTS - 1), last_other - first_ms, dead_ms - first_ms, gaps))


bt.run(main)
