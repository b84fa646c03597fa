#!/usr/bin/env python3
"""2101 (issue 4, real broker): the acknowledgment strategies, message by
message. One partition of 300 keyed records with headers, batches of 100;
offset 150 always fails, offset 250 fails on its first two deliveries;
dead.letter.max.retries=3, dead.letter.topic={topic}.dlq.

For all_or_nothing, best_effort, last_successful (batch handler) and the
single-message handler (best_effort), running concurrently on their own
topics: how many times each offset was processed successfully (record
file) and how many failed deliveries each failing offset had (events file)
must match the strategy exactly; the group's committed offset read back by
kafka-python must be 300; the dead-letter topic (read by kafka-python) must
hold exactly record 150 with its key, value, original headers and
timestamp plus brook.dlq.* headers (retries 3); and, sampled while it runs,
the committed offset must never pass 150 before the dead letter is in the
topic; and until the poison's last attempt starts (its retries back off
1.4 s in all) it must stand exactly where the strategy says: 100 for
all_or_nothing (the whole batch is retried), 150 for the others
(successes are kept / the offset advances to the first failure).
"""
import time

import brooktest as bt
import kafkatool as kt

N, BATCH = 300, 100
POISON, FLAKY = 150, 250
RETRIES = 3


STALL = {"all_or_nothing": 100, "best_effort": POISON, "last_successful": POISON, "message": POISON}


def expected_ok(strategy, o):
    """Successful deliveries of offset o (record-file lines)."""
    if o == POISON:
        return 0
    if strategy == "message" or strategy == "best_effort":
        return 1
    if strategy == "all_or_nothing":
        if o < 100:
            return 1
        if o < 200:
            return RETRIES + 1  # the whole batch, every attempt
        return 1 if o == FLAKY else 3
    # last_successful: from the first failure on, again
    if o < POISON or 200 <= o <= FLAKY:
        return 1
    if o < 200:
        return RETRIES + 2  # 4 failing attempts + the resume after 150
    return 3


def main(t):
    runs = {}
    for strategy in ("all_or_nothing", "best_effort", "last_successful", "message"):
        topic = t.topic(strategy.replace("_", ""), 1)
        kt.create_topic(t.brokers, topic + ".dlq", 1)
        t.produce(topic, N, keyed=True, headers=True, partition=0, timestamp_base=1_600_000_000_000)
        group = t.name("g" + strategy.replace("_", ""))
        settings = {"ack.strategy": "best_effort" if strategy == "message" else strategy,
                    "retry.backoff.ms": 200, "retry.backoff.max.ms": 1000,
                    "dead.letter.max.retries": RETRIES, "dead.letter.topic": "{topic}.dlq"}
        args = ["--fail", "0:%d" % POISON, "--fail", "0:%d:2" % FLAKY]
        if strategy == "message":
            args += ["--mode", "message"]
        else:
            settings.update({"batch.size": BATCH, "batch.timeout.ms": 3000})
        c = t.consumer(topic, group, strategy, settings=settings, args=args, dead_letters=True)
        runs[strategy] = (topic, group, c)

    # Sample: the committed offset passes the poison only once its dead
    # letter is in the topic (committed read first, dead letters second).
    samples = 0
    done = set()
    before_dl = {s: set() for s in runs}
    with kt.Offsets(t.brokers) as off:
        def all_done():
            nonlocal samples
            for strategy, (topic, group, c) in runs.items():
                if strategy in done:
                    continue
                com = off.committed(group, topic)[0]
                t_query = time.time() * 1000  # the answer is from before this
                dl = off.end(topic + ".dlq")[0]
                samples += 1
                if dl == 0:
                    before_dl[strategy].add((t_query, com))
                t.check(com <= POISON or dl >= 1, "%s: committed offset %d passed %d while the dead-letter topic "
                        "was still empty" % (strategy, com, POISON))
                t.check(c.alive(), "%s: consumer exited (rc %s)" % (strategy, c.proc.poll()))
                if com == N:
                    done.add(strategy)
            return len(done) == len(runs)
        bt.wait_until(all_done, 90, "every strategy's committed offset to reach %d" % N, 0.1)

    table = []
    for strategy, (topic, group, c) in runs.items():
        c.stop()
        last = [e[1] for e in c.events() if e[0] == "B" and e[3] <= POISON <= e[4] and e[6] == RETRIES]
        t.check(len(last) == 1, "%s: %d last attempts of the poison" % (strategy, len(last)))
        seen = sorted({com for ts, com in before_dl[strategy] if ts < last[0]})
        t.check(seen and max(seen) == STALL[strategy],
                "%s: committed offsets seen while the poison was retried: %s; expected it to stand at %d"
                % (strategy, seen, STALL[strategy]))
        com = t.committed(group, topic)
        t.check(com == {0: N}, "%s: committed %s, expected {0: %d}" % (strategy, com, N))
        ok = bt.count_po(c.records())
        wrong = [(o, ok.get((0, o), 0), expected_ok(strategy, o)) for o in range(N)
                 if ok.get((0, o), 0) != expected_ok(strategy, o)]
        t.check(not wrong, "%s: offsets processed the wrong number of times (offset, seen, expected): %s"
                % (strategy, wrong[:8]))
        r250 = [r for p, o, r in c.records() if o == FLAKY]
        t.check(r250 == [2], "%s: offset %d succeeded with retry counts %s, expected [2]" % (strategy, FLAKY, r250))
        fails = {}
        for e in c.events():
            if e[0] == "F":
                fails.setdefault(e[3], []).append(e[4])
        t.check(fails.get(POISON) == list(range(RETRIES + 1)),
                "%s: poison failed with retry counts %s, expected %s" % (strategy, fails.get(POISON),
                                                                        list(range(RETRIES + 1))))
        t.check(fails.get(FLAKY) == [0, 1], "%s: flaky failed with retry counts %s" % (strategy, fails.get(FLAKY)))
        t.check(set(fails) == {POISON, FLAKY}, "%s: unexpected failures at %s" % (strategy, sorted(fails)))
        dls = c.dead_letters()
        t.check(dls == [(0, POISON, "injected failure")], "%s: dead-letter callbacks %s" % (strategy, dls))

        dl = t.read_topic(topic + ".dlq")
        t.check(len(dl) == 1, "%s: %d dead letters, expected 1" % (strategy, len(dl)))
        r = dl[0]
        h = dict(r["headers"])
        want_h = {"brook.dlq.topic": topic.encode(), "brook.dlq.partition": b"0",
                  "brook.dlq.offset": str(POISON).encode(), "brook.dlq.group": group.encode(),
                  "brook.dlq.retries": str(RETRIES).encode(), "brook.dlq.reason": b"injected failure",
                  "brook.dlq.timestamp": str(1_600_000_000_000 + POISON).encode()}
        bad = {k: (h.get(k), v) for k, v in want_h.items() if h.get(k) != v}
        t.check(not bad, "%s: dead-letter headers (got, want): %s" % (strategy, bad))
        t.check(h.get("brook.dlq.failed_at", b"").isdigit(), "%s: brook.dlq.failed_at %r" % (strategy, h.get("brook.dlq.failed_at")))
        t.check(r["key"] == kt.record_key(POISON) and r["value"] == kt.record_value(POISON),
                "%s: dead letter is %r=%r, not record %d" % (strategy, r["key"], r["value"], POISON))
        t.check(r["headers"][:2] == [("i", str(POISON).encode()), ("seed", b"0")],
                "%s: original headers not kept first: %s" % (strategy, r["headers"][:3]))
        t.check(r["timestamp"] == 1_600_000_000_000 + POISON, "%s: dead-letter timestamp %s" % (strategy, r["timestamp"]))
        table.append("%s: committed %d while retrying, %d at the end, %d dead letter (retries %s), "
                     "deliveries exact" % (strategy, STALL[strategy], com[0], len(dl),
                                           h["brook.dlq.retries"].decode()))
    for line in table:
        t.say(line)
    t.summary("; ".join(table) + "; %d committed/dead-letter samples ok" % samples)


bt.run(main)
