#!/usr/bin/env python3
"""2005 (issue 3, scenario 5): three-broker KRaft cluster (replication
factor 3, min.insync.replicas 2); the leader of partition 0 is SIGKILLed
while brook consumes. After leader election, consumption and commits go on:
messages produced after the kill (acks=all, 2 of 3 replicas left) are
consumed and committed too, and nothing is lost.

The cluster is this test's own (scripts/kafka --cluster t2005-failover
--brokers 3), separate from the suite's single broker, and is stopped at the
end whatever happens. The consumer's session timeout (30 s) outlasts the
election (a SIGKILLed node is fenced after broker.session.timeout.ms, 9 s).
With two brokers up, brook must not report an outage (event=brokers.down).
"""

import brooktest as bt
import kafkatool as kt

CLUSTER = "t2005-failover"
PARTS, PER, MORE = 6, 300, 100


def leaders(brokers, topic):
    """{partition: leader node id} (independent admin client)."""
    admin = kt._admin(brokers)
    try:
        for tdesc in admin.describe_topics([topic]):
            if tdesc["name"] == topic:
                return {p["partition_index"]: p["leader_id"] for p in tdesc["partitions"]}
    finally:
        admin.close()
    raise bt.Fail("topic %s not described" % topic)


def main(t):
    t0 = bt.now()
    t.cleanup(lambda: bt.kafka_cmd("stop", cluster=CLUSTER, check=False))
    bt.kafka_cmd("start", cluster=CLUSTER, nodes=3, timeout=300)
    brokers = bt.kafka_cmd("brokers", cluster=CLUSTER).strip()
    t.say("3-node cluster up in %.1f s: %s" % (bt.now() - t0, brokers))
    topic = t.topic("in", PARTS, rf=3, brokers=brokers)
    t.produce(topic, PARTS * PER, keyed=True, partitions=PARTS, brokers=brokers)
    before = leaders(brokers, topic)
    victim = before[0]
    t.check(victim in (1, 2, 3), "leader of partition 0: %s" % victim)
    group = t.name("g")
    c = t.consumer(topic, group, "consumer", brokers=brokers,
                   settings={"batch.size": 20, "batch.timeout.ms": 200, "kafka.session.timeout.ms": 30000,
                             "broker.unavailable.timeout.ms": 120000},
                   args=["--slow-ms", 50])
    bt.wait_until(lambda: len(c.records()) >= PARTS * PER // 3, 60, "a third of the input to be processed")
    n_kill = len(c.records())
    t.say("SIGKILL node %d (leader of partition 0 and of %d partition(s) in all) after %d records"
          % (victim, sum(1 for v in before.values() if v == victim), n_kill))
    bt.kafka_cmd("kill-broker", str(victim), "--hard", cluster=CLUSTER)
    kill_t = bt.now()
    # Produce more (acks=all) once the partitions have new leaders.
    t.produce(topic, PARTS * MORE, start=PARTS * PER, keyed=True, partitions=PARTS, brokers=brokers)
    t.say("produced %d more records %.1f s after the kill" % (PARTS * MORE, bt.now() - kill_t))
    after = bt.wait_until(lambda: (lambda l: l if l[0] not in (victim, -1) else None)(leaders(brokers, topic)),
                          60, "a new leader for partition 0")
    end = t.end_offsets(topic, brokers=brokers)
    t.check(sum(end.values()) == PARTS * (PER + MORE), "end offsets %s" % end)
    com = t.wait_committed(group, topic, end, timeout=120, brokers=brokers)
    caught_up = bt.now() - kill_t
    t.check(c.alive(), "consumer exited (rc %s)" % c.proc.poll())
    c.stop()
    final = t.committed(group, topic, brokers=brokers)
    t.check(final == end, "committed %s after stop, end %s" % (final, end))

    recs = c.records()
    want = bt.all_offsets(end)
    done = {(p, o) for p, o, _ in recs}
    t.check(done == want, "processed != input: missing %s, extra %s"
            % (bt.sample(want - done), bt.sample(done - want)))
    bt.check_prefix_processed(com, done)
    post = {(p, o) for p, o in done if p == 0 and o >= PER}
    t.check(len(post) == MORE, "partition 0: %d of the %d records produced after the kill processed" % (len(post), MORE))
    dups = len(recs) - len(done)
    # Two of three brokers stayed up: no outage may be reported.
    t.check(not c.log_events("brokers.down"), "brook reported all brokers down while 2 of 3 were up: %s"
            % c.log_events("brokers.down")[:1])
    t.check(not c.log_events("consumer.fatal"), "fatal error: %s" % c.log_events("consumer.fatal")[:1])
    moved = sorted(p for p in before if before[p] == victim)
    t.summary("killed leader node %d of partitions %s after %d of %d records; partition 0 led by node %d after the "
              "election; all %d messages (%d produced after the kill) processed and committed %.1f s after the kill; "
              "%d duplicate(s)" % (victim, moved, n_kill, PARTS * PER, after[0], len(want), PARTS * MORE,
                                   caught_up, dups))


bt.run(main)
