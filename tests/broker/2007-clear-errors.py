#!/usr/bin/env python3
"""2007 (issue 3, scenario 7): configuration mistakes end with a clear error
from brook within a bounded time, never a hang.

- a topic that does not exist (the broker has auto.create.topics.enable=
  false): run() returns BROOK_ERR_UNKNOWN_TOPIC naming the topic, also when
  it is subscribed next to an existing one;
- a wrong bootstrap address (a closed port, and a name that does not
  resolve), with broker.unavailable.timeout.ms=5000: run() returns
  BROOK_ERR_TRANSPORT naming bootstrap.servers;
- invalid group ids (characters outside [a-zA-Z0-9._-], empty, 250
  characters): brook_consumer_new() refuses with a message naming group.id.

Every case must exit with status 3 (brook-testconsumer: run() or
construction failed) within its bound, print its error on stderr, and
process nothing. The cases run concurrently.
"""
import socket
import time

import brooktest as bt

# Bounds (seconds); sanitizer builds start slower, so add a little per
# BROOK_TEST_TIMEOUT_MULT step, not a multiple of the whole bound.
SLACK = 5 * (bt.MULT - 1)
UNKNOWN_TOPIC_S = 20 + SLACK
UNREACHABLE_S = 20 + SLACK  # broker.unavailable.timeout.ms=5000 plus detection and shutdown
BAD_GROUP_S = 5 + SLACK


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    return port


def main(t):
    good = t.topic("exists", 1)
    missing = t.name("missing")
    cases = []  # (label, consumer, bound, [strings stderr must contain])

    def case(label, bound, must, topic, group=None, brokers=None, settings=None):
        c = t.consumer(topic, t.name("g-" + label) if group is None else group, label, brokers=brokers,
                       settings=settings)
        cases.append((label, c, bound, must))

    case("unknown-topic", UNKNOWN_TOPIC_S, ["BROOK_ERR_UNKNOWN_TOPIC", missing], missing)
    case("unknown-among-known", UNKNOWN_TOPIC_S, ["BROOK_ERR_UNKNOWN_TOPIC", missing], good + "," + missing)
    port = closed_port()
    case("closed-port", UNREACHABLE_S, ["BROOK_ERR_TRANSPORT", "127.0.0.1:%d" % port, "bootstrap.servers"],
         good, brokers="127.0.0.1:%d" % port, settings={"broker.unavailable.timeout.ms": 5000})
    case("unresolvable", UNREACHABLE_S, ["BROOK_ERR_TRANSPORT", "no-such-host.invalid:9092", "bootstrap.servers"],
         good, brokers="no-such-host.invalid:9092", settings={"broker.unavailable.timeout.ms": 5000})
    case("group-chars", BAD_GROUP_S, ["group.id", "bad group!"], good, group="bad group!")
    case("group-empty", BAD_GROUP_S, ["group.id"], good, group="")
    case("group-long", BAD_GROUP_S, ["group.id", "g" * 250], good, group="g" * 250)

    # Poll them all, noting when each exits.
    exited = {}
    while len(exited) < len(cases):
        for label, c, bound, must in cases:
            if label in exited:
                continue
            if c.proc.poll() is not None:
                exited[label] = bt.now() - c.started
            elif bt.now() - c.started > bound:
                c.kill()
                raise bt.Fail("%s: still running after %.0f s (a hang, not a clear error); stderr tail:\n%s"
                              % (label, bound, c.stderr_tail()))
        time.sleep(0.02)
    lines = []
    for label, c, bound, must in cases:
        rc, took = c.proc.returncode, exited[label]
        err = [x for x in c.stderr().splitlines() if x.startswith("brook-testconsumer:")]
        t.check(rc == 3, "%s: exit status %s, expected 3; stderr tail:\n%s" % (label, rc, c.stderr_tail()))
        t.check(err, "%s: no error line from brook-testconsumer on stderr" % label)
        for m in must:
            t.check(any(m in x for x in err), "%s: the error does not mention %r: %s" % (label, m, err[-1]))
        t.check(not c.records(), "%s: processed messages" % label)
        lines.append("%s %.1fs" % (label, took))
        t.say("%-20s rc=3 in %4.1f s: %s" % (label, took, err[-1][:200]))
    t.summary("clear errors within their bounds: " + ", ".join(lines))


bt.run(main)
