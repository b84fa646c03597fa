#!/usr/bin/env python3
"""2003 (issue 3, scenario 3): rebalance while a batch is in flight.

Phase 1, revocation: member A (batch.async, 2 batches in flight, 1 s
handler) owns all 4 partitions; member B joins while A's batches are in its
handler. A's revoked batches must finish and be committed before A lets go:
its --events file shows each in-flight batch leaving the handler before the
partition's revocation, the new owner starts exactly after A's last
processed offset (no gap, no overlap), and nothing at all is processed
twice. The committed offsets, sampled throughout, never go back and never
pass an unprocessed message.

Phase 2, lost partitions: member A's first batch takes longer than
max.poll.interval.ms (7 s; its handler sleeps 10 s) while member B joins, so
librdkafka drops A from the group and B takes every partition, processes
everything and commits the end offsets. When A's handler finally returns,
A no longer owns the partition: it must not commit it (a stale commit would
move the committed offset back below B's). A's batch counts as "not
committed": B processed it again.
"""
import time

import brooktest as bt


class Watch:
    """Samples a group's committed offsets: never back, never past a
    message no member has processed."""

    def __init__(self, t, group, topic):
        self.t, self.group, self.topic = t, group, topic
        self.last = {}
        self.n = 0
        self.history = []

    def __call__(self):
        com = self.t.committed(self.group, self.topic)
        done = set()
        for c in self.t.consumers:
            done |= {(p, o) for p, o, _ in c.records()}
        bt.check_prefix_processed(com, done, "sample %d: " % self.n)
        for p, v in com.items():
            if v < self.last.get(p, -1):
                raise bt.Fail("committed offset of partition %d went back from %d to %d (a stale commit; "
                              "history %s)" % (p, self.last[p], v, [h[p] for h in self.history[-5:]]))
        self.last = com
        self.history.append(com)
        self.n += 1
        return com


def phase_revoke(t):
    parts, per = 4, 60
    topic = t.topic("revoke", parts)
    t.produce(topic, parts * per, keyed=True, partitions=parts)
    end = t.end_offsets(topic)
    group = t.name("grevoke")
    settings = {"batch.async": "true", "max.in.flight.batches": 2, "batch.size": 10, "batch.timeout.ms": 200}
    watch = Watch(t, group, topic)
    a = t.consumer(topic, group, "revoke-a", settings=settings, args=["--slow-ms", 700])
    a.wait_ready()

    def a_busy():
        watch()
        ev = a.events()
        done = sum(1 for e in ev if e[0] == "E")
        open_ = {(e[2], e[3]) for e in ev if e[0] == "B"} - {(e[2], e[3]) for e in ev if e[0] == "E"}
        return done >= 2 and open_
    bt.wait_until(a_busy, 30, "member A to have batches in its handler", 0.05)
    join_ms = time.time() * 1000
    b = t.consumer(topic, group, "revoke-b", settings=settings, args=["--slow-ms", 700])

    def done():
        return watch() == end
    bt.wait_until(done, 90, "committed offsets to reach the end %s" % end, 0.25)
    a.stop()
    b.stop()
    watch()

    ev = a.events()
    # A's first revocation after B started, per partition.
    revoked_at = {}
    for e in ev:
        if e[0] == "R" and e[1] >= join_ms and e[2] not in revoked_at:
            revoked_at[e[2]] = e[1]
    t.check(revoked_at, "member A was never revoked after B joined")
    inflight = []
    for e in ev:
        if e[0] == "B" and e[1] < min(revoked_at.values()):
            ends = [x for x in ev if x[0] == "E" and (x[2], x[3]) == (e[2], e[3])]
            if not ends or ends[0][1] >= join_ms:
                inflight.append((e[2], e[3], e[4]))
                t.check(ends, "A's batch %d:%d-%d never left the handler" % (e[2], e[3], e[4]))
                t.check(ends[0][1] <= revoked_at.get(e[2], float("inf")),
                        "A's batch %d:%d-%d finished after partition %d was revoked" % (e[2], e[3], e[4], e[2]))
    t.check(inflight, "no batch of A was in flight when B joined (test did not test anything)")

    ra, rb = a.records(), b.records()
    ca, cb = bt.count_po(ra), bt.count_po(rb)
    want = bt.all_offsets(end)
    done_all = set(ca) | set(cb)
    t.check(done_all == want, "processed != input: missing %s, extra %s"
            % (bt.sample(want - done_all), bt.sample(done_all - want)))
    twice = {k for k in want if ca.get(k, 0) + cb.get(k, 0) > 1}
    t.check(not twice, "processed twice across a clean revocation: %s" % bt.sample(twice))
    moved = []
    for p in range(parts):
        b_offs = sorted(o for q, o, _ in rb if q == p)
        if not b_offs:
            continue
        a_before = [o for q, o, _ in ra if q == p and o < b_offs[0]]
        start = max(a_before) + 1 if a_before else 0
        t.check(b_offs[0] == start, "partition %d: B started at %d, A had processed up to %d"
                % (p, b_offs[0], start - 1))
        moved.append(p)
    t.check(moved, "no partition moved to B")
    return ("revocation: %d batch(es) in flight in A when B joined, all finished before their partition was "
            "released; partitions %s moved with B resuming right after A's last offset; 0 duplicates; "
            "%d committed samples monotonic" % (len(inflight), moved, watch.n))


def phase_lost(t):
    parts, per = 2, 100
    topic = t.topic("lost", parts)
    t.produce(topic, parts * per, keyed=True, partitions=parts)
    end = t.end_offsets(topic)
    group = t.name("glost")
    watch = Watch(t, group, topic)
    a = t.consumer(topic, group, "lost-a",
                   settings={"batch.size": 20, "batch.timeout.ms": 100, "kafka.max.poll.interval.ms": 7000},
                   args=["--slow-ms", 10000, "--slow-count", 1])
    bt.wait_until(lambda: any(e[0] == "B" for e in a.events()), 30, "A's first batch to start")
    first = [e for e in a.events() if e[0] == "B"][0]
    b = t.consumer(topic, group, "lost-b", settings={"batch.size": 20, "batch.timeout.ms": 100})

    # B gets everything once A is dropped, and commits the end.
    bt.wait_until(lambda: watch() == end, 40, "B to commit the end offsets %s" % end, 0.2)
    t.check(not any(e[0] == "E" for e in a.events()), "A's slow batch ended before B committed everything: "
            "timing assumption broken (handler not slow enough?)")
    # A's batch ends (10 s after it started); A must not commit it now.
    bt.wait_until(lambda: any(e[0] == "E" for e in a.events()), 30, "A's slow batch to end")
    t0 = bt.now()
    while bt.now() - t0 < 3 * bt.MULT:
        watch()
        time.sleep(0.2)
    t.check(watch() == end, "committed %s after A's stale batch ended; end %s" % (watch.last, end))
    a_recs = a.records()
    t.check({(p, o) for p, o, _ in a_recs} >= {(first[2], o) for o in range(first[3], first[4] + 1)},
            "A's slow batch %s was not recorded" % first[2:5])
    for c in (a, b):
        t.check(c.alive(), "%s exited (rc %s)" % (c.label, c.proc.poll()))
    a.stop()
    b.stop()
    final = watch()
    t.check(final == end, "final committed %s, end %s" % (final, end))
    want = bt.all_offsets(end)
    done = {(p, o) for c in (a, b) for p, o, _ in c.records()}
    t.check(done == want, "processed != input: missing %s" % bt.sample(want - done))
    lost_lines = [x for x in a.stderr().splitlines() if "lost=true" in x or "MAX_POLL" in x.upper()]
    return ("lost partitions: A's batch %d:%d-%d outlived max.poll.interval.ms; B took over and committed %s; "
            "A's late completion moved no committed offset (%d samples, monotonic); A logged %d loss line(s)"
            % (first[2], first[3], first[4], end, watch.n, len(lost_lines)))


def main(t):
    s1 = phase_revoke(t)
    t.say(s1)
    s2 = phase_lost(t)
    t.say(s2)
    t.summary(s1 + " | " + s2)


bt.run(main)
