#!/usr/bin/env python3
"""2104 (issue 4, real broker): undecodable values, and the policies for
exhausted messages without a dead-letter topic. Three consumers run
concurrently on their own topics.

- decode: brook-testconsumer --decode-json (a value decoder that accepts
  only values starting with '{'). 2 partitions x 60 records; every tenth
  value is not JSON, plus a null value and an empty value. Each undecodable
  record goes to the dead-letter topic at once (brook.dlq.retries=0, no
  failed handler delivery although dead.letter.max.retries=3) with the
  decoder's reason in brook.dlq.reason; the handler never sees it; every
  other record is processed; committed offsets reach the end.
- policy-fail (no dead-letter topic, dead.letter.policy=fail, the default):
  offset 30 of partition 0 always fails; run() must return
  BROOK_ERR_DEAD_LETTER naming the partition and offset, and the group's
  committed offset must not pass 30.
- policy-skip (dead.letter.policy=skip): the message is skipped with an
  ERROR line (event=message.skipped), the dead-letter callback is called,
  and everything else is processed and committed.
"""
import json

import brooktest as bt
import kafkatool as kt

BAD = (0, 30)


def decode_input():
    """JSON-lines records for produce_records: (partition, value) by index."""
    out = []
    for p in range(2):
        for i in range(60):
            if i % 10 == 3:
                v = b"not-json-%d" % i
            elif p == 1 and i == 20:
                v = None
            elif p == 1 and i == 21:
                v = b""
            else:
                v = json.dumps({"p": p, "i": i}).encode()
            out.append({"key": b"k%d-%d" % (p, i), "value": v, "partition": p})
    return out


def reason_for(v):
    first = v[0] if v else 0
    return "value is not a JSON object (first byte 0x%02x)" % first


def main(t):
    # decode
    dtopic = t.topic("decode", 2)
    kt.create_topic(t.brokers, dtopic + ".dlq", 1)
    recs = decode_input()
    t.produce_records(dtopic, recs)
    by_po = {}
    for r in recs:
        by_po[(r["partition"], len([k for k in by_po if k[0] == r["partition"]]))] = r["value"]
    bad = {k for k, v in by_po.items() if not v or not v.startswith(b"{")}
    dgroup = t.name("gdecode")
    dec = t.consumer(dtopic, dgroup, "decode", dump=True, dead_letters=True, args=["--decode-json"],
                     settings={"batch.size": 25, "batch.timeout.ms": 200, "dead.letter.max.retries": 3,
                               "retry.backoff.ms": 100, "dead.letter.topic": "{topic}.dlq"})
    # policies
    ftopic = t.topic("pfail", 2)
    stopic = t.topic("pskip", 2)
    for tp in (ftopic, stopic):
        t.produce(tp, 200, keyed=True, partitions=2)
    common = {"batch.size": 20, "batch.timeout.ms": 200, "dead.letter.max.retries": 1, "retry.backoff.ms": 100}
    fgroup, sgroup = t.name("gpfail"), t.name("gpskip")
    pfail = t.consumer(ftopic, fgroup, "policy-fail", dead_letters=True, settings=common,
                       args=["--fail", "%d:%d" % BAD])
    pskip = t.consumer(stopic, sgroup, "policy-skip", dead_letters=True,
                       settings=dict(common, **{"dead.letter.policy": "skip"}), args=["--fail", "%d:%d" % BAD])

    # decode: results
    dend = t.end_offsets(dtopic)
    t.check(sum(dend.values()) == len(recs), "decode topic end offsets %s" % dend)
    t.wait_committed(dgroup, dtopic, dend, timeout=60)
    dec.stop()
    seen = {(d["p"], d["o"]) for d in dec.dump()}
    t.check(not (seen & bad), "the handler saw undecodable records %s" % bt.sample(seen & bad))
    good = set(by_po) - bad
    done = {(p, o) for p, o, _ in dec.records()}
    t.check(done == good, "processed != decodable records: missing %s, extra %s"
            % (bt.sample(good - done), bt.sample(done - good)))
    t.check(not any(e[0] == "F" for e in dec.events()), "handler failures although only the decoder rejects")
    dl = t.read_topic(dtopic + ".dlq")
    got = {}
    for r in dl:
        h = dict(r["headers"])
        k = (int(h["brook.dlq.partition"]), int(h["brook.dlq.offset"]))
        t.check(k not in got, "dead-lettered twice: %s" % (k,))
        got[k] = r
        t.check(h["brook.dlq.retries"] == b"0", "%s: brook.dlq.retries %s, expected 0 (no retries)" % (k, h["brook.dlq.retries"]))
        t.check(reason_for(by_po[k]) in h["brook.dlq.reason"].decode(),
                "%s: reason %r, expected the decoder's %r" % (k, h["brook.dlq.reason"], reason_for(by_po[k])))
        t.check(r["value"] == by_po[k], "%s: dead-letter value %r, original %r" % (k, r["value"], by_po[k]))
    t.check(set(got) == bad, "dead letters %s, undecodable %s" % (sorted(got), sorted(bad)))
    t.check(sorted((p, o) for p, o, _ in dec.dead_letters()) == sorted(bad), "dead-letter callbacks %s" % dec.dead_letters())

    # policy=fail: a clear error, nothing committed past the message
    rc = pfail.wait(60)
    err = [x for x in pfail.stderr().splitlines() if x.startswith("brook-testconsumer:")]
    t.check(rc == 3, "policy-fail: exit status %s, expected 3 (run() error)" % rc)
    t.check(err and "BROOK_ERR_DEAD_LETTER" in err[-1] and "[0]" in err[-1] and "offset 30" in err[-1],
            "policy-fail: unclear error %s" % (err[-1] if err else "(none)"))
    fcom = t.committed(fgroup, ftopic)
    t.check(fcom[0] <= BAD[1], "policy-fail: committed offset %d passed offset %d" % (fcom[0], BAD[1]))
    t.check(BAD not in {(p, o) for p, o, _ in pfail.records()}, "policy-fail: the failing offset was recorded")
    t.check(not pfail.dead_letters(), "policy-fail: dead-letter callback called")

    # policy=skip: skipped, logged, callback, everything else committed
    send = t.end_offsets(stopic)
    t.wait_committed(sgroup, stopic, send, timeout=60)
    pskip.stop()
    skipped = pskip.log_events("message.skipped")
    t.check(len(skipped) == 1 and "level=error" in skipped[0] and "offset=30" in skipped[0],
            "policy-skip: message.skipped lines %s" % skipped)
    t.check(pskip.dead_letters() == [(0, 30, "injected failure")], "policy-skip: callbacks %s" % pskip.dead_letters())
    sdone = {(p, o) for p, o, _ in pskip.records()}
    t.check(sdone == bt.all_offsets(send) - {BAD}, "policy-skip: processed %d of %d" % (len(sdone), sum(send.values()) - 1))

    t.summary("decode: %d undecodable of %d dead-lettered once each with the decoder's reason and retries 0, "
              "never handed to the handler, committed = end; policy=fail: run() returned BROOK_ERR_DEAD_LETTER, "
              "committed offset %d (the failing offset %d not passed); "
              "policy=skip: skipped with an ERROR line, committed = end"
              % (len(bad), len(recs), fcom[0], BAD[1]))


bt.run(main)
