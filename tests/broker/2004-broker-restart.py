#!/usr/bin/env python3
"""2004 (issue 3, scenario 4): the broker is stopped for several seconds and
restarted (same data) while brook consumes; the consumer rides the outage
out, reconnects, continues, loses nothing, and logs the outage clearly
(event=brokers.down while no broker answers, event=brokers.up after).

Runs on the scripts/kafka cluster that serves BROOK_BROKERS when it is a
single node of the harness (the suite's broker; tests run one at a time), or
else on a private single-node cluster it starts and stops itself. The node
is stopped (scripts/kafka stop-broker: SIGTERM), kept down for 5 s and
restarted with its data (start-broker); then more messages are produced,
which must be consumed too. (A SIGKILLed KRaft node cannot re-register
until broker.session.timeout.ms, 9 s, has passed: the clean stop keeps the
test short; for the client both are the same lost connections.)

The consumer's session timeout (30 s) outlasts the outage, so it keeps its
partitions: the work done from prefetched messages while the broker was
down is committed after the reconnect, and nothing may be processed twice
(unless brook logged a lost assignment).
"""
import os
import time

import brooktest as bt

PARTS, PER, MORE = 4, 250, 50
DOWN_S = 5


def cluster_for(t):
    """(cluster name, brokers): the suite's single-node harness cluster, or
    a private one started here."""
    name = bt.harness_cluster_of(t.brokers)
    if name:
        try:
            with open(os.path.join(os.environ.get("BROOK_KAFKA_DIR", "/tmp/brook-kafka"), name, "nodes")) as f:
                if f.read().strip() == "1":
                    return name, t.brokers
        except OSError:
            pass
    name = "t2004-%d" % os.getpid()
    t.say("BROOK_BROKERS is not a single-node scripts/kafka cluster: starting private cluster %s" % name)
    t.cleanup(lambda: bt.kafka_cmd("stop", cluster=name, check=False))
    bt.kafka_cmd("start", cluster=name, nodes=1, timeout=240)
    brokers = bt.kafka_cmd("brokers", cluster=name).strip()
    return name, brokers


def main(t):
    cluster, brokers = cluster_for(t)
    # If the test fails half way, the broker must not stay down for the
    # tests after this one.
    t.cleanup(lambda: bt.kafka_cmd("start-broker", "1", cluster=cluster, check=False))
    topic = t.topic("in", PARTS, brokers=brokers)
    t.produce(topic, PARTS * PER, keyed=True, partitions=PARTS, brokers=brokers)
    group = t.name("g")
    c = t.consumer(topic, group, "consumer", brokers=brokers,
                   settings={"batch.size": 20, "batch.timeout.ms": 200,
                             "broker.unavailable.timeout.ms": 120000,
                             "kafka.session.timeout.ms": 30000,
                             "kafka.reconnect.backoff.max.ms": 1000},
                   args=["--slow-ms", 60])
    bt.wait_until(lambda: len(c.records()) >= PARTS * PER // 4, 60, "a quarter of the input to be processed")
    before = len(c.records())
    t.say("stopping the broker (cluster %s) after %d records" % (cluster, before))
    bt.kafka_cmd("stop-broker", "1", cluster=cluster)
    down_t = bt.now()
    time.sleep(DOWN_S)
    t.check(c.alive(), "consumer exited during the outage (rc %s)" % c.proc.poll())
    during = len(c.records())
    bt.kafka_cmd("start-broker", "1", cluster=cluster, timeout=240)
    outage = bt.now() - down_t
    t.say("broker back after %.1f s; consumer processed %d records meanwhile (from fetched data)"
          % (outage, during - before))
    t.produce(topic, PARTS * MORE, start=PARTS * PER, keyed=True, partitions=PARTS, brokers=brokers)
    end = t.end_offsets(topic, brokers=brokers)
    t.check(sum(end.values()) == PARTS * (PER + MORE), "end offsets %s" % end)
    com = t.wait_committed(group, topic, end, timeout=120, brokers=brokers)
    t.check(c.alive(), "consumer exited (rc %s)" % c.proc.poll())
    c.stop()
    final = t.committed(group, topic, brokers=brokers)
    t.check(final == end, "committed %s, end %s" % (final, end))

    want = bt.all_offsets(end)
    done = {(p, o) for p, o, _ in c.records()}
    t.check(done == want, "processed != input: missing %s, extra %s"
            % (bt.sample(want - done), bt.sample(done - want)))
    bt.check_prefix_processed(com, done)
    dups = len(c.records()) - len(done)
    lost = [x for x in c.log_events("partitions.revoked") if "lost=true" in x]
    t.check(dups == 0 or lost, "%d message(s) processed twice although the consumer kept its partitions" % dups)
    down = c.log_events("brokers.down")
    up = c.log_events("brokers.up")
    t.check(down, "no event=brokers.down line in the consumer's log during a %.0f s outage" % outage)
    t.check(up, "no event=brokers.up line in the consumer's log after the broker came back")
    t.check(not c.log_events("consumer.fatal"), "consumer logged a fatal error: %s" % c.log_events("consumer.fatal"))
    t.say("outage log: %s" % down[0][:300])
    t.say("recovery log: %s" % up[-1][:300])
    t.summary("%d messages (%d produced after the restart) all processed and committed across a %.1f s broker "
              "outage (stop + restart); %d duplicate(s); brook logged %d brokers.down and %d brokers.up line(s)"
              % (len(want), PARTS * MORE, outage, dups, len(down), len(up)))


bt.run(main)
