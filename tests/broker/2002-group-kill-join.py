#!/usr/bin/env python3
"""2002 (issue 3, scenario 2): three consumer processes in one group over 12
partitions; one is SIGKILLed while batches are in its handler, a fourth
joins later.

Every member: batch.async=true, max.in.flight.batches=3, batch.size=10, and a
handler that takes 300 ms, so batches are in flight all the time. The victim
is killed while its --events file shows batches that entered the handler
and did not leave it. The group notices after the session timeout (6 s); its
partitions move to the survivors, and then a new member joins and takes
partitions again (another rebalance, with batches in flight).

Checks, with the independent client and the record files: the union of the
processed (partition, offset) pairs equals the input; the committed offsets
reach the end offsets; committed offsets never passed an unprocessed message
(sampled while running); every duplicate was processed by the killed member
(survivors hand over revoked partitions with their work committed) and the
duplicate count is at most max.in.flight.batches x batch.size.
"""
import time

import brooktest as bt

PARTS, PER = 12, 300
INFLIGHT, BATCH = 3, 10
SETTINGS = {"batch.async": "true", "max.in.flight.batches": INFLIGHT, "batch.size": BATCH,
            "batch.timeout.ms": 200}
ARGS = ["--slow-ms", 300]


def open_batches(events):
    """Batches that entered the handler and did not leave it (p, first)."""
    open_ = set()
    for e in events:
        if e[0] == "B":
            open_.add((e[2], e[3]))
        elif e[0] in ("E", "X"):
            open_.discard((e[2], e[3]))
    return open_


def main(t):
    topic = t.topic("in", PARTS)
    t.produce(topic, PARTS * PER, keyed=True, partitions=PARTS)
    end = t.end_offsets(topic)
    want = bt.all_offsets(end)
    t.check(len(want) == PARTS * PER, "end offsets %s" % end)
    group = t.name("g")

    members = [t.consumer(topic, group, name, settings=SETTINGS, args=ARGS) for name in ("a", "b", "victim")]
    for c in members:
        c.wait_ready()
    a, b, victim = members
    samples = 0

    def invariant():
        nonlocal samples
        com = t.committed(group, topic)
        done = set()
        for c in t.consumers:
            done |= {(p, o) for p, o, _ in c.records()}
        bt.check_prefix_processed(com, done, "sample %d: " % samples)
        samples += 1
        return com

    # Kill the victim once it has done some work and has batches in flight.
    def victim_busy():
        invariant()
        t.check(victim.alive(), "victim exited by itself (rc %s)" % victim.proc.poll())
        return len(victim.records()) >= 4 * BATCH and open_batches(victim.events())
    wait = bt.wait_until(victim_busy, 60, "the victim to have batches in flight", 0.05)
    victim.kill()
    kill_t = bt.now()
    kill_wall = time.time() * 1000
    inflight = open_batches(victim.events())
    owned = {e[2] for e in victim.events() if e[0] == "A"}
    t.say("SIGKILLed the victim with %d batch(es) in its handler %s; it had partitions %s"
          % (len(inflight), sorted(inflight), sorted(owned)))
    t.check(wait, "no batch in flight at the kill")

    # The survivors take over the victim's partitions (after the session
    # timeout); then a new member joins.
    def taken_over():
        invariant()
        return any(e[0] == "A" and e[2] in owned and e[1] >= kill_wall for c in (a, b) for e in c.events())
    bt.wait_until(taken_over, 40, "the survivors to take over the victim's partitions", 0.2)
    t.say("survivors own the victim's partitions %.1f s after the kill" % (bt.now() - kill_t))
    com = invariant()
    left = sum(end[p] - max(com[p], 0) for p in end)
    t.check(left > 0, "nothing left for the joining member (test too fast to check a join)")
    late = t.consumer(topic, group, "late", settings=SETTINGS, args=ARGS)
    late.wait_ready(40)
    t.say("late member joined with %d messages left" % left)

    def finished():
        com = invariant()
        for c in (a, b, late):
            t.check(c.alive(), "%s exited (rc %s)" % (c.label, c.proc.poll()))
        return com == end
    bt.wait_until(finished, 120, "committed offsets to reach the end offsets %s" % end, 0.3)
    for c in (a, b, late):
        c.stop()
    final = t.committed(group, topic)
    t.check(final == end, "committed %s, end %s" % (final, end))

    counts = {}
    by = {}
    for c in t.consumers:
        for p, o, _ in c.records():
            counts[(p, o)] = counts.get((p, o), 0) + 1
            by.setdefault((p, o), set()).add(c.label)
    done = set(counts)
    t.check(not (want - done), "lost (never processed): %s" % bt.sample(want - done))
    t.check(not (done - want), "processed offsets that do not exist: %s" % bt.sample(done - want))
    dups = sum(n - 1 for n in counts.values())
    dup_keys = {k for k, n in counts.items() if n > 1}
    not_victim = {k for k in dup_keys if "victim" not in by[k]}
    t.check(not not_victim, "duplicates not caused by the killed member (a survivor's revoked work was "
            "not committed): %s processed by %s" % (bt.sample(not_victim), {k: sorted(by[k]) for k in list(not_victim)[:3]}))
    twice_by_victim = {k for k in dup_keys if counts[k] - len(by[k]) > 0}
    t.check(not twice_by_victim, "a member processed an offset twice: %s" % bt.sample(twice_by_victim))
    t.check(dups <= INFLIGHT * BATCH, "%d duplicates, more than max.in.flight.batches x batch.size = %d"
            % (dups, INFLIGHT * BATCH))
    t.check(len(late.records()) > 0, "the late member processed nothing")
    dup_parts = sorted({p for p, _ in dup_keys})
    t.summary("%d messages over %d partitions, none lost; victim killed with %d batch(es) in its handler; "
              "%d duplicate(s) (bound %d), all from the victim's partitions %s; late member processed %d; "
              "%d committed-offset samples ok"
              % (len(want), PARTS, len(inflight), dups, INFLIGHT * BATCH, dup_parts, len(late.records()), samples))


bt.run(main)
