#!/usr/bin/env python3
"""2103 (issue 4, real broker): the dead-letter topic cannot be written.

The dead-letter topic exists but with max.message.bytes=64, so the broker
rejects every dead-letter record (MESSAGE_TOO_LARGE) until the test raises
the limit (kafka-python alter_configs). Partition 0 offset 30 always fails
(dead.letter.max.retries=1). While the writes fail: brook logs
event=dead_letter.failed repeatedly (retrying with backoff), partition 0's
committed offset never passes 30, nothing of partition 0 after the failing
batch is processed (the partition is paused), partition 1 flows to its end,
and the dead-letter topic stays empty. Once the topic accepts the record:
everything completes, the committed offsets reach the end, and the dead
letter is in the topic exactly once.
"""
import time

import brooktest as bt
import kafkatool as kt
from kafka.admin import ConfigResource, ConfigResourceType

PER = 300
BAD = (0, 30)
BLOCKED_S = 4


def main(t):
    topic = t.topic("in", 2)
    dlq = topic + ".dlq"
    kt.create_topic(t.brokers, dlq, 1, None, {"max.message.bytes": "64"})
    t.produce(topic, 2 * PER, keyed=True, partitions=2)
    end = t.end_offsets(topic)
    group = t.name("g")
    c = t.consumer(topic, group, "consumer", dead_letters=True,
                   settings={"batch.size": 100, "batch.timeout.ms": 300, "retry.backoff.ms": 200,
                             "retry.backoff.max.ms": 800, "dead.letter.max.retries": 1,
                             "dead.letter.topic": "{topic}.dlq"},
                   args=["--fail", "%d:%d" % BAD])
    bt.wait_until(lambda: len(c.log_events("dead_letter.failed")) >= 1, 30, "the first failed dead-letter write")
    t0 = bt.now()
    samples = []
    with kt.Offsets(t.brokers) as off:
        while bt.now() - t0 < BLOCKED_S:
            com = off.committed(group, topic)
            samples.append(com)
            t.check(com[0] <= BAD[1], "partition 0 committed %d, past the message whose dead letter failed" % com[0])
            t.check(off.end(dlq)[0] == 0, "the dead-letter topic accepted a record")
            t.check(c.alive(), "consumer exited (rc %s)" % c.proc.poll())
            time.sleep(0.2)
        t.check(off.committed(group, topic)[1] == end[1], "partition 1 did not flow while partition 0 waited: %s"
                % off.committed(group, topic))
    failed = len(c.log_events("dead_letter.failed"))
    t.check(failed >= 3, "only %d failed dead-letter writes logged in %d s (retries with backoff expected)"
            % (failed, BLOCKED_S))
    p0 = [o for p, o, _ in c.records() if p == 0]
    t.check(max(p0) < 100, "partition 0 processed offset %d beyond the waiting batch 0..99" % max(p0))
    t.check(not c.dead_letters(), "dead-letter callback called before the write succeeded")
    stalled = max(s[0] for s in samples)

    admin = kt._admin(t.brokers)
    try:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, dlq, configs={"max.message.bytes": "1048588"})])
    finally:
        admin.close()
    fixed = bt.now()
    t.wait_committed(group, topic, end, timeout=60)
    recovered = bt.now() - fixed
    c.stop()
    want = bt.all_offsets(end) - {BAD}
    done = {(p, o) for p, o, _ in c.records()}
    t.check(done == want, "processed != input minus the dead letter: missing %s" % bt.sample(want - done))
    dl = t.read_topic(dlq)
    t.check(len(dl) == 1, "%d dead letters in the topic, expected exactly 1" % len(dl))
    h = dict(dl[0]["headers"])
    t.check((h.get("brook.dlq.partition"), h.get("brook.dlq.offset")) == (b"0", b"30"), "dead letter headers %s" % h)
    t.check(c.dead_letters() == [(0, 30, "injected failure")], "dead-letter callbacks %s" % c.dead_letters())
    t.summary("dead-letter topic unwritable for %.0f+ s: %d failed writes retried, partition 0 committed at most %d "
              "(offset %d waits), partition 1 at its end; after the fix everything committed in %.1f s, "
              "1 dead letter" % (BLOCKED_S, failed, stalled, BAD[1], recovered))


bt.run(main)
