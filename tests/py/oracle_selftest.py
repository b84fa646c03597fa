#!/usr/bin/env python3
"""oracle_selftest - proof that the Kafka Streams oracle and the Python
references of tests/py/oracle.py agree, record by record, on every topology.

pytest-style (test_* functions, plain asserts; pytest is not required)::

    $(scripts/pyenv) tests/py/oracle_selftest.py            # everything
    $(scripts/pyenv) tests/py/oracle_selftest.py -k offline # no broker needed
    $(scripts/pyenv) -m pytest tests/py/oracle_selftest.py  # if pytest is installed

The end-to-end tests use $BROOK_BROKERS when set; otherwise they start their
own broker (``BROOK_KAFKA_CLUSTER=$ORACLE_SELFTEST_CLUSTER`` (default
"oracle-selftest") ``scripts/kafka start``) and stop it at the end.  They
build the oracle (Maven), generate every scenario's input, run ALL
topologies in one Kafka Streams application (one JVM), compare every output
with the reference, then run the exactly-once word count (--eos) and
compare it too.  Timings of each phase are printed at the end (and written
as JSON to $ORACLE_SELFTEST_TIMINGS if set).

Not part of the CI suite (it is not under tests/broker).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import traceback
from typing import Any, Callable, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import oracle as O  # noqa: E402

SOURCE_DIR = O.SOURCE_DIR
KAFKA = os.path.join(SOURCE_DIR, "scripts", "kafka")
OUR_CLUSTER = os.environ.get("ORACLE_SELFTEST_CLUSTER", "oracle-selftest")
SEED = int(os.environ.get("ORACLE_SELFTEST_SEED", "1"))
PARTITIONS = int(os.environ.get("ORACLE_SELFTEST_PARTITIONS", "3"))

TIMINGS: Dict[str, float] = {}
_state: Dict[str, Any] = {}


def timed(what: str, fn: Callable[[], Any]) -> Any:
    t0 = time.monotonic()
    try:
        return fn()
    finally:
        TIMINGS[what] = round(time.monotonic() - t0, 2)


# ---------------------------------------------------------------- offline

def test_offline_split_words() -> None:
    """examples/wordcount split(): ASCII alphanumeric runs, lower-cased, 64-byte cap."""
    s = O.split_words
    assert s(None) == []
    assert s(b"") == []
    assert s(b"Hello, World!") == ["hello", "world"]
    assert s(b"  a1 B2--c3 ") == ["a1", "b2", "c3"]
    assert s("caf\u00e9 na\u00efve".encode()) == ["caf", "na", "ve"]  # UTF-8 bytes >= 0x80 separate
    assert s(b"x\x00y\xffz") == ["x", "y", "z"]
    long = b"A" * 70 + b"b" * 5
    assert s(long + b" next") == ["a" * 64, "next"]  # the rest of a long run is skipped
    assert s(b"_under_score_") == ["under", "score"]


def test_offline_murmur2_matches_java() -> None:
    """Values printed by org.apache.kafka.common.utils.Utils.murmur2 (kafka-clients 4.1.2)."""
    want = {"": 275646681, "a": -1563381124, "k1": 1684045097, "w13": 2096271968,
            "hello world": 1221641059, "k0123456789": 1741939539}
    for k, v in want.items():
        assert O.murmur2(k.encode()) == v, k
    assert O.partition_for(b"k1", 3) == 2 and O.partition_for(b"k0123456789", 3) == 0


def test_offline_windowed_key_layouts() -> None:
    """Bytes of WindowedSerdes.timeWindowedSerdeFrom / sessionWindowedSerdeFrom (printed by Java)."""
    tw = O.encode_key(O.F_TWIN_LONG, ("w1", 1767225600000, 1767225660000))
    assert tw.hex() == "77310000019b76daa800"
    sw = O.encode_key(O.F_SWIN_LONG, ("w1", 1767225600000, 1767225630000))
    assert sw.hex() == "77310000019b76db1d300000019b76daa800"  # key, end, start
    assert O.decode_key(O.F_SWIN_LONG, sw) == ("w1", 1767225600000, 1767225630000)
    assert O.decode_key(O.F_TWIN_LONG, tw) == ("w1", 1767225600000)
    assert O.from_be64(O.be64(-5)) == -5


def test_offline_generators_deterministic() -> None:
    for n in O.TOPOS:
        a = O.generate(n, 7, 300, 3)
        b = O.generate(n, 7, 300, 3)
        assert {r: [x.to_json() for x in v] for r, v in a.items()} == \
               {r: [x.to_json() for x in v] for r, v in b.items()}, n
        for role, recs in a.items():
            for x in recs:
                if x.key is not None:
                    assert x.partition == O.partition_for(x.key, 3)
    # a family shares its data
    assert [x.to_json() for x in O.generate("ss-join", 3)["left"]] == \
           [x.to_json() for x in O.generate("ss-outerjoin", 3)["left"]]


def test_offline_compare_detects_differences() -> None:
    """Every mode reports a changed value, a missing record and a reordering."""
    for n in O.TOPOS:
        exp = O.reference(n, O.generate(n, 1, 400, 3), 3)
        for role, recs in exp.items():
            if len(recs) < 3:
                continue
            assert O.compare(n, role, recs, list(recs)).ok, (n, role)
            mode = O.topo(n).outputs[role][1]
            changed = list(recs)
            i = len(changed) // 2
            o = changed[i]
            changed[i] = O.Out(o.key, ("x" + o.value) if isinstance(o.value, str) else
                               (0 if o.value is None else o.value + 1000), o.timestamp, o.partition)
            assert not O.compare(n, role, recs, changed).ok, (n, role, "changed")
            if mode in (O.M_SEQ, O.M_PERKEY, O.M_EMITTED, O.M_MULTISET):
                assert not O.compare(n, role, recs, recs[:i] + recs[i + 1:]).ok, (n, role, "missing")
            if mode == O.M_SEQ:
                # swap two records of the same partition and different content
                keyed = [r.partition for r in recs if r.key is not None]
                part = max(set(keyed), key=keyed.count)
                p = [k for k, r in enumerate(recs) if r.partition == part and r.key is not None]
                a, b = p[0], next((k for k in p if recs[k].ident() != recs[p[0]].ident()), None)
                if b is not None:
                    sw = list(recs)
                    sw[a], sw[b] = sw[b], sw[a]
                    assert not O.compare(n, role, recs, sw).ok, (n, role, "order")


# ---------------------------------------------------------------- end to end

def _brokers() -> str:
    b = os.environ.get("BROOK_BROKERS")
    if b:
        return b
    if "brokers" not in _state:
        env = dict(os.environ, BROOK_KAFKA_CLUSTER=OUR_CLUSTER)
        running = subprocess.run([KAFKA, "status"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL).returncode == 0
        timed("broker_start", lambda: subprocess.run([KAFKA, "start"], env=env, check=True,
                                                      stdout=subprocess.DEVNULL))
        _state["brokers"] = subprocess.run([KAFKA, "brokers"], env=env, check=True,
                                           stdout=subprocess.PIPE).stdout.decode().strip()
        _state["started_broker"] = not running  # stop it at the end only if we started it
    return _state["brokers"]


def _stop_broker() -> None:
    if _state.get("started_broker"):
        env = dict(os.environ, BROOK_KAFKA_CLUSTER=OUR_CLUSTER)
        subprocess.run([KAFKA, "stop"], env=env, stdout=subprocess.DEVNULL)


def _prefix(tag: str) -> str:
    return "ost%s%d%04d" % (tag, int(time.time()) % 100000, random.randrange(10000))


def _check(reports: List[O.Report]) -> None:
    bad = [r for r in reports if not r.ok]
    for r in reports:
        print(r.text())
    assert not bad, "%d of %d outputs differ from the reference" % (len(bad), len(reports))


def test_e2e_build_oracle() -> None:
    """Maven build (skipped by ./run when the jar is up to date) and --list."""
    timed("maven_build_or_uptodate_check", lambda: subprocess.run(
        [os.path.join(os.path.dirname(O.ORACLE), "run"), "--build-only"], check=True))
    out = timed("jvm_list", lambda: subprocess.run([O.ORACLE, "--list"], check=True,
                                                   stdout=subprocess.PIPE).stdout)
    listed = json.loads(out)
    assert set(listed) == set(O.TOPOS), set(listed) ^ set(O.TOPOS)
    for n, t in O.TOPOS.items():
        assert listed[n]["inputs"] + listed[n]["global_inputs"] == \
            [O.topic("oracle", n, r) for r in t.inputs], n
        assert listed[n]["outputs"] == [O.topic("oracle", n, r) for r in t.outputs], n


def test_e2e_all_topologies_one_application() -> None:
    b = _brokers()
    names = list(O.TOPOS)
    prefix = _prefix("a")
    inputs = {}

    def gen() -> None:
        O.create_topics(b, prefix, names, PARTITIONS)
        for n in names:
            inputs[n] = O.generate(n, SEED, None, PARTITIONS)
            O.produce_inputs(b, prefix, n, inputs[n])

    timed("gen_create_and_produce_all", gen)
    res = timed("oracle_all_topologies", lambda: O.run_oracle(b, prefix + "-app", prefix, names))
    res.pop("_stderr_tail", None)
    _state["oracle_all"] = res
    for k in ("startup_seconds", "seconds_to_running", "seconds_to_caught_up", "close_seconds", "seconds"):
        TIMINGS["oracle_all." + k] = res[k]
    TIMINGS["oracle_all.input_records"] = res["records"]
    reports: List[O.Report] = []

    def cmp() -> None:
        for n in names:
            exp = O.reference(n, inputs[n], PARTITIONS)
            for role in O.topo(n).outputs:
                act = O.decode(n, role, O.read_topic(b, O.topic(prefix, n, role)))
                reports.append(O.compare(n, role, exp[role], act))
                assert res["per_topology"][n]["outputs"][O.topic(prefix, n, role)] == len(act), (n, role)
            _state.setdefault("behaviours", {})[n] = O.behaviours(n, inputs[n], exp)

    timed("read_reference_compare_all", cmp)
    _check(reports)


def test_e2e_sliding_window_emitted_twice_by_suppress() -> None:
    """A crafted input on which suppress(untilWindowCloses) emits one sliding
    window twice: the suppression emits at end <= streamTime - grace, the
    aggregation still updates a window whose end == streamTime - grace."""
    b = _brokers()
    n = "win-sliding-count"
    prefix = _prefix("s")
    base = O.BASE_TS
    recs = [O.Rec(b"k", O.be64(1), base + t) for t in (1_000_000, 1_040_000, 1_030_000, 1_025_000, 1_100_000)]
    O._place(recs, PARTITIONS, random.Random(0))
    exp = O.reference(n, {"in": recs}, PARTITIONS)
    counts: Dict[Any, int] = {}
    for o in exp["final"]:
        counts[o.key] = counts.get(o.key, 0) + 1
    twice = [k for k, c in counts.items() if c > 1]
    assert len(twice) == 1, "the reference should emit exactly one window twice: %s" % counts
    O.create_topics(b, prefix, [n], PARTITIONS)
    O.produce_inputs(b, prefix, n, {"in": recs})
    timed("oracle_crafted_sliding", lambda: O.run_oracle(b, prefix + "-app", prefix, [n]))
    reports = []
    for role in O.topo(n).outputs:
        reports.append(O.compare(n, role, exp[role], O.decode(n, role, O.read_topic(b, O.topic(prefix, n, role)))))
    _check(reports)  # so Kafka Streams emitted that window twice too


def test_e2e_wordcount_exactly_once() -> None:
    b = _brokers()
    names = ["wordcount", "table-regroup", "agg-count", "st-join"]
    prefix = _prefix("e")
    O.create_topics(b, prefix, names, PARTITIONS)
    for n in names:
        O.produce_inputs(b, prefix, n, O.generate(n, SEED + 1, None, PARTITIONS))
    res = timed("oracle_eos", lambda: O.run_oracle(b, prefix + "-app", prefix, names, eos=True))
    assert res["settings"]["processing_guarantee"] == "exactly_once_v2"
    _check(O.compare_topologies(b, prefix, names, SEED + 1, None, PARTITIONS))


# ---------------------------------------------------------------- runner

def main(argv: List[str]) -> int:
    sel = argv[argv.index("-k") + 1] if "-k" in argv else ""
    tests = [(n, f) for n, f in sorted(globals().items(), key=lambda kv: 0)
             if n.startswith("test_") and callable(f) and sel in n]
    order = {n: i for i, n in enumerate(globals())}
    tests.sort(key=lambda nf: order[nf[0]])
    failed = []
    t0 = time.monotonic()
    try:
        for n, f in tests:
            t1 = time.monotonic()
            try:
                f()
                print("PASS %s (%.1f s)" % (n, time.monotonic() - t1), flush=True)
            except Exception:
                failed.append(n)
                print("FAIL %s (%.1f s)\n%s" % (n, time.monotonic() - t1, traceback.format_exc()), flush=True)
    finally:
        _stop_broker()
    TIMINGS["total"] = round(time.monotonic() - t0, 2)
    print("timings (s): " + json.dumps(TIMINGS))
    if _state.get("behaviours"):
        print("Kafka Streams behaviours exercised (counts): " + json.dumps(
            {n: v for n, v in _state["behaviours"].items() if v}))
    if os.environ.get("ORACLE_SELFTEST_TIMINGS"):
        with open(os.environ["ORACLE_SELFTEST_TIMINGS"], "w") as f:
            json.dump({"timings": TIMINGS, "oracle_all": _state.get("oracle_all"),
                       "behaviours": _state.get("behaviours")}, f, indent=1)
    print("%d passed, %d failed%s" % (len(tests) - len(failed), len(failed),
                                      (": " + ", ".join(failed)) if failed else ""))
    return 1 if failed else 0


def teardown_module(module: Any = None) -> None:  # pytest hook
    _stop_broker()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
