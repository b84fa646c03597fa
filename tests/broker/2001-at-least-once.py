#!/usr/bin/env python3
"""2001 (issue 3, scenario 1): every produced message is processed at least
once, and the group's committed offsets never pass an unprocessed message.

4 partitions x 400 keyed messages (kafka-python producer). A first consumer
(batch handler, batch.size 25, a transient failure on 1:60 that
all_or_nothing retries) is sampled while it runs: each sample reads the
group's committed offsets with the independent client, then the consumer's
record file; every offset below a committed offset must already be recorded.
It is SIGKILLed half way. A second consumer (commit.interval.ms=300, so the
interval commit path too) resumes exactly at the committed offsets and
finishes. The union of processed (partition, offset) pairs must equal the
input exactly, the committed offsets must equal the end offsets, and the only
duplicates are the killed consumer's work past its last commit.
"""
import brooktest as bt

PARTS, PER = 4, 400


def sample_invariant(t, group, topic, consumers, samples):
    """committed first, records second: committed offsets only pass records."""
    com = t.committed(group, topic)
    done = set()
    for c in consumers:
        done |= {(p, o) for p, o, _ in c.records()}
    bt.check_prefix_processed(com, done, "sample %d: " % samples)
    return com


def main(t):
    topic = t.topic("in", PARTS)
    t.produce(topic, PARTS * PER, keyed=True, partitions=PARTS)
    end = t.end_offsets(topic)
    t.check(end == {p: PER for p in range(PARTS)}, "end offsets %s" % end)
    group = t.name("g")

    c1 = t.consumer(topic, group, "first", settings={"batch.size": 25, "batch.timeout.ms": 200},
                    args=["--slow-ms", 40, "--fail", "1:60:2"])
    samples = 0
    moved = 0
    last = {}
    while len(c1.records()) < PARTS * PER // 2:
        t.check(c1.alive(), "first consumer exited early (rc %s)" % c1.proc.poll())
        com = sample_invariant(t, group, topic, [c1], samples)
        samples += 1
        moved += sum(1 for p, v in com.items() if v != last.get(p, v))
        last = com
        t.check(bt.now() - c1.started < 90 * bt.MULT, "first consumer too slow: %d records" % len(c1.records()))
    c1.kill()
    rec1 = c1.records()
    at_kill = t.committed(group, topic)
    done1 = {(p, o) for p, o, _ in rec1}
    bt.check_prefix_processed(at_kill, done1, "after SIGKILL: ")
    t.check(moved > 0, "committed offsets never moved while the first consumer ran (%d samples)" % samples)
    # 1:60 failed twice (all_or_nothing retries the whole batch): its
    # record must say it succeeded on the third delivery.
    r60 = [r for p, o, r in rec1 if (p, o) == (1, 60)]
    if r60:
        t.check(r60 == [2], "1:60 recorded with retry counts %s, expected [2]" % r60)
    t.say("first consumer killed after %d records; committed %s" % (len(rec1), at_kill))

    c2 = t.consumer(topic, group, "second",
                    settings={"batch.size": 40, "batch.timeout.ms": 200, "commit.interval.ms": 300},
                    args=["--slow-ms", 10])
    while True:
        com = sample_invariant(t, group, topic, [c1, c2], samples)
        samples += 1
        if com == end:
            break
        t.check(c2.alive(), "second consumer exited early (rc %s)" % c2.proc.poll())
        t.check(bt.now() - c2.started < 90 * bt.MULT, "second consumer did not finish: committed %s" % com)
    c2.stop()
    rec2 = c2.records()
    final = t.committed(group, topic)
    t.check(final == end, "committed %s after the stop, end offsets %s" % (final, end))

    want = bt.all_offsets(end)
    done2 = {(p, o) for p, o, _ in rec2}
    union = done1 | done2
    t.check(not (want - union), "never processed: %s" % bt.sample(want - union))
    t.check(not (union - want), "processed offsets that do not exist: %s" % bt.sample(union - want))
    # The new owner resumes exactly at the committed offset.
    for p in range(PARTS):
        first2 = min((o for q, o in done2 if q == p), default=None)
        if at_kill[p] < end[p]:
            t.check(first2 == max(at_kill[p], 0),
                    "partition %d: second consumer started at %s, committed offset was %d" % (p, first2, at_kill[p]))
    # Duplicates: only what the killed consumer did past its last commit.
    dups = done1 & done2
    bad = {(p, o) for p, o in dups if o < at_kill[p]}
    t.check(not bad, "processed again below the committed offset: %s" % bt.sample(bad))
    within = [bt.count_po(rec2)[k] for k in done2]
    t.check(max(within) == 1, "second consumer processed an offset twice")
    t.summary("%d messages, all processed; %d committed-offset samples, none passed an unprocessed message; "
              "SIGKILL after %d records, %d duplicate(s) (killed consumer's work past its last commit)"
              % (len(want), samples, len(rec1), len(dups)))


bt.run(main)
