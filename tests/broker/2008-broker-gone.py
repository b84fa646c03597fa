#!/usr/bin/env python3
"""2008 (issue 3, scenario 7 continued): the broker goes away for good while
brook consumes. Neither the consumer nor its stop may hang:

- consumer "gives-up" (broker.unavailable.timeout.ms=5000): run() must
  return BROOK_ERR_TRANSPORT naming bootstrap.servers, and the process exit,
  within 25 s of the broker's stop;
- consumer "stopped" (broker.unavailable.timeout.ms=120000,
  shutdown.timeout.ms=5000) gets SIGTERM (brook_consumer_stop) 3 s into the
  outage: it must exit within 20 s of the signal.

Both must have logged event=brokers.down. Runs on the suite's single-node
harness cluster (restarted afterwards, also on failure) or a private one.
"""
import os
import signal
import time

import brooktest as bt

GIVE_UP_S = 25 + 5 * (bt.MULT - 1)
STOP_S = 20 + 5 * (bt.MULT - 1)


def cluster_for(t):
    name = bt.harness_cluster_of(t.brokers)
    if name:
        try:
            with open(os.path.join(os.environ.get("BROOK_KAFKA_DIR", "/tmp/brook-kafka"), name, "nodes")) as f:
                if f.read().strip() == "1":
                    return name, t.brokers
        except OSError:
            pass
    name = "t2008-%d" % os.getpid()
    t.cleanup(lambda: bt.kafka_cmd("stop", cluster=name, check=False))
    bt.kafka_cmd("start", cluster=name, nodes=1, timeout=240)
    return name, bt.kafka_cmd("brokers", cluster=name).strip()


def main(t):
    cluster, brokers = cluster_for(t)
    t.cleanup(lambda: bt.kafka_cmd("start-broker", "1", cluster=cluster, check=False))
    topic = t.topic("in", 2, brokers=brokers)
    t.produce(topic, 2000, keyed=True, partitions=2, brokers=brokers)
    common = {"batch.size": 20, "batch.timeout.ms": 200}
    give_up = t.consumer(topic, t.name("g1"), "gives-up", brokers=brokers,
                         settings=dict(common, **{"broker.unavailable.timeout.ms": 5000}), args=["--slow-ms", 100])
    stopped = t.consumer(topic, t.name("g2"), "stopped", brokers=brokers,
                         settings=dict(common, **{"broker.unavailable.timeout.ms": 120000,
                                                  "shutdown.timeout.ms": 5000}), args=["--slow-ms", 100])
    bt.wait_until(lambda: len(give_up.records()) >= 100 and len(stopped.records()) >= 100, 60,
                  "both consumers to process 100 records")
    bt.kafka_cmd("stop-broker", "1", cluster=cluster)
    down_t = bt.now()
    t.say("broker stopped; it stays down")
    # A point in the outage chosen on purpose, not a wait for something:
    # the stop usually comes before the consumer has declared the brokers
    # down (event=brokers.down follows its failed probes), the case where
    # shutdown could wait for a broker it still believes may answer.
    time.sleep(3)
    stopped.proc.send_signal(signal.SIGTERM)
    sig_t = bt.now()
    exits, hung = {}, []
    while len(exits) + len(hung) < 2:
        for c, start, bound in ((give_up, down_t, GIVE_UP_S), (stopped, sig_t, STOP_S)):
            if c.label in exits or c.label in hung:
                continue
            if c.proc.poll() is not None:
                exits[c.label] = bt.now() - start
            elif bt.now() - start > bound:
                hung.append(c.label)
        time.sleep(0.05)
    if hung:
        why = []
        for c in (give_up, stopped):
            if c.label not in hung:
                continue
            fatal = c.log_events("consumer.fatal")
            down = c.log_events("brokers.down")
            why.append("%s: still running %.0f s after %s (brokers.down logged: %s; run() error logged: %s) - "
                       "run()'s shutdown waits for the broker to return"
                       % (c.label, GIVE_UP_S if c is give_up else STOP_S,
                          "the broker stopped" if c is give_up else "SIGTERM", bool(down),
                          fatal[0].split("error=", 1)[-1][:120] if fatal else "no"))
        raise bt.Fail("; ".join(why))
    err = [x for x in give_up.stderr().splitlines() if x.startswith("brook-testconsumer:")]
    t.check(give_up.proc.returncode == 3, "gives-up: exit status %s, expected 3" % give_up.proc.returncode)
    t.check(err and "BROOK_ERR_TRANSPORT" in err[-1] and "bootstrap.servers" in err[-1],
            "gives-up: unclear error: %s" % (err[-1] if err else "(none)"))
    t.check(stopped.proc.returncode == 0, "stopped: exit status %s after SIGTERM, expected 0"
            % stopped.proc.returncode)
    for c in (give_up, stopped):
        t.check(c.log_events("brokers.down"), "%s: no event=brokers.down line" % c.label)
    t.summary("broker gone: run() returned BROOK_ERR_TRANSPORT %.1f s after the broker stopped "
              "(broker.unavailable.timeout.ms=5000); SIGTERM during the outage returned in %.1f s"
              % (exits["gives-up"], exits["stopped"]))


bt.run(main)
