#!/usr/bin/env python3
"""2105 (issue 4, real broker): a crash (SIGKILL) between the dead-letter
write and the commit. After a restart each message is dead-lettered at most
once more, and nothing is lost.

- in-callback: the consumer kills itself inside the dead-letter callback
  (brook-testconsumer --kill-on-dead-letter 1): the dead letter is durably
  in the topic (the callback runs after its delivery report), the offset
  that passes it cannot have been committed yet.
- lagging-commit: commit.interval.ms=60000, so after the first commit no
  other lands; poison pills at partition 0 offsets 30, 70, 110 (batches of
  20); the test SIGKILLs the consumer once two of them are dead-lettered.

Each case is restarted (same group, same failures, normal commits) and runs
to the end. Checks with kafka-python: each pill's dead-letter count is
exactly 1 + (it was dead-lettered before the crash and the committed offset
at the crash did not pass it), so at most 2; every pill is in the
dead-letter topic; every other offset is processed; committed offsets reach
the end offsets; the restarted consumer resumes at the committed offset.
"""
import brooktest as bt
import kafkatool as kt

PER = 150


def dl_counts(t, topic):
    n = {}
    for r in t.read_topic(topic + ".dlq"):
        h = dict(r["headers"])
        k = (int(h["brook.dlq.partition"]), int(h["brook.dlq.offset"]))
        n[k] = n.get(k, 0) + 1
    return n


def start(t, label, topic, group, pills, extra_settings, extra_args=()):
    settings = {"batch.size": 20, "batch.timeout.ms": 200, "dead.letter.max.retries": 1,
                "retry.backoff.ms": 50, "dead.letter.topic": "{topic}.dlq"}
    settings.update(extra_settings)
    args = []
    for p, o in pills:
        args += ["--fail", "%d:%d" % (p, o)]
    return t.consumer(topic, group, label, settings=settings, args=args + list(extra_args), dead_letters=True)


def case(t, name, pills, crash):
    topic = t.topic(name.replace("-", ""), 1)
    kt.create_topic(t.brokers, topic + ".dlq", 1)
    t.produce(topic, PER, keyed=True, partition=0)
    group = t.name("g" + name.replace("-", ""))
    return topic, group, crash(topic, group)


def main(t):
    pills_a = [(0, 50)]
    pills_b = [(0, 30), (0, 70), (0, 110)]
    # Start both crashing consumers, concurrently.
    a = case(t, "in-callback", pills_a,
             lambda topic, group: start(t, "in-callback-1", topic, group, pills_a, {},
                                        ["--kill-on-dead-letter", 1]))
    b = case(t, "lagging-commit", pills_b,
             lambda topic, group: start(t, "lagging-commit-1", topic, group, pills_b,
                                        {"commit.interval.ms": 60000}, ["--slow-ms", 30]))
    # in-callback: it dies by itself.
    rc = a[2].wait(60)
    t.check(rc == -9, "in-callback: exit status %s, expected death by SIGKILL" % rc)
    # lagging-commit: kill once two pills are dead-lettered.
    bt.wait_until(lambda: len(b[2].dead_letters()) >= 2, 60, "two dead letters in lagging-commit")
    b[2].kill()

    # Crash state, then restart both (concurrently: each waits for the
    # session timeout of its dead member).
    state = []
    for (topic, group, first), pills, name in ((a, pills_a, "in-callback"), (b, pills_b, "lagging-commit")):
        at_crash = t.committed(group, topic)
        before = {(p, o) for p, o, _ in first.dead_letters()}
        dl_before = dl_counts(t, topic)
        t.check(set(dl_before) == before, "%s: dead letters in the topic at the crash %s, callbacks %s"
                % (name, dl_before, sorted(before)))
        second = start(t, name + "-2", topic, group, pills, {})
        state.append((topic, group, first, pills, name, at_crash, before, second))
    rows = []
    for topic, group, first, pills, name, at_crash, before, second in state:
        end = t.end_offsets(topic)
        t.wait_committed(group, topic, end, timeout=60)
        second.stop()
        rec2 = second.records()
        if at_crash[0] < end[0]:
            first2 = min(o for p, o, _ in rec2)
            t.check(first2 == max(at_crash[0], 0) or (0, max(at_crash[0], 0)) in set(pills),
                    "%s: restart began at %d, committed offset at the crash was %d" % (name, first2, at_crash[0]))
        done = {(p, o) for c in (first, second) for p, o, _ in c.records()}
        want = bt.all_offsets(end) - set(pills)
        t.check(done == want, "%s: lost %s" % (name, bt.sample(want - done)))
        counts = dl_counts(t, topic)
        for pill in pills:
            again = pill in before and pill[1] >= at_crash[0]
            want_n = 1 + int(again)
            t.check(counts.get(pill, 0) == want_n,
                    "%s: pill %s dead-lettered %d time(s), expected %d (dead-lettered before the crash: %s, "
                    "committed at the crash: %d)" % (name, pill, counts.get(pill, 0), want_n, pill in before,
                                                    at_crash[0]))
        rows.append("%s: committed %d at the crash with %d dead letter(s) written; after the restart committed %d, "
                    "dead-letter counts %s" % (name, at_crash[0], len(before), end[0],
                                               {o: counts[(p, o)] for p, o in pills}))
    for r in rows:
        t.say(r)
    t.summary(" | ".join(rows))


bt.run(main)
