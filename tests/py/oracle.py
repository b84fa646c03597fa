#!/usr/bin/env python3
"""oracle - inputs, readers, independent references and comparisons for
brook's differential tests against Apache Kafka Streams.

Every scenario ("topology", named as in bench/peers/kafka-streams/oracle)
has a seeded input generator, an output format, a pure-Python reference
computed from the generated input alone, and a comparison mode.  The Kafka
Streams oracle (bench/peers/kafka-streams/oracle) runs the same topologies
on a real broker; brook's tests run brook's version; both outputs are checked
against the reference here (and against each other).

CLI (``$(scripts/pyenv) tests/py/oracle.py ...``, brokers from $BROOK_BROKERS)::

    oracle.py list                                   topologies, topics, formats
    oracle.py gen --prefix P --topologies a,b [--seed S] [--records N] [--partitions N]
                                                     create topics, produce inputs
    oracle.py reference --topologies a [--seed S ...] [--output FILE]
                                                     expected outputs (JSON lines)
    oracle.py read --topic T --format F              decoded records (JSON lines)
    oracle.py compare --prefix P --topologies a,b [--seed S ...] [--output-prefix Q]
                                                     outputs of P (or Q) vs reference
    oracle.py compare-topics --a T1 --b T2 --format F --mode M
                                                     two output topics vs each other
    oracle.py run --topologies a,b [--eos] ...       gen + Kafka Streams oracle + compare

As a module: ``generate(name, seed, records, partitions)`` -> {role: [Rec]},
``produce_inputs``, ``read_topic``, ``decode``, ``reference(name, inputs)``
-> {output role: Expected}, ``compare(...)`` -> Report.

See bench/peers/README.md ("The oracle") for the byte formats, the
semantics each reference implements and the Kafka Streams settings.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
ORACLE = os.path.join(SOURCE_DIR, "bench", "peers", "kafka-streams", "oracle")

# ------------------------------------------------------------ parameters
# (must equal bench/peers/kafka-streams/src/main/java/brook/peers/Oracle.java)
TUMBLING_SIZE, TUMBLING_GRACE = 60_000, 10_000
HOPPING_SIZE, HOPPING_ADVANCE, HOPPING_GRACE = 300_000, 60_000, 30_000
SLIDING_DIFF, SLIDING_GRACE = 30_000, 10_000
SESSION_GAP, SESSION_GRACE = 30_000, 10_000
SS_JOIN_DIFF, SS_JOIN_GRACE = 10_000, 5_000
VERSIONED_HISTORY = 3_600_000
MAX_WORD = 64  # examples/wordcount/main.c

BASE_TS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: far from 0 (no "early" sliding windows)
NO_TS = -1  # Kafka's ConsumerRecord.NO_TIMESTAMP, the initial stream time


# ------------------------------------------------------------ records

@dataclass
class Rec:
    """An input or output record.  key/value are bytes or None; ``partition``
    is explicit for inputs; ``offset`` is set for records read back."""
    key: Optional[bytes]
    value: Optional[bytes]
    timestamp: int
    partition: Optional[int] = None
    offset: Optional[int] = None

    def to_json(self) -> Dict[str, Any]:
        return {"p": self.partition, "o": self.offset, "ts": self.timestamp,
                "k": _show(self.key), "v": _show(self.value)}


def _show(b: Optional[bytes]) -> Optional[str]:
    if b is None:
        return None
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + b.hex()


def be64(n: int) -> bytes:
    return (n & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")


def from_be64(b: bytes) -> int:
    if len(b) != 8:
        raise ValueError("not an 8-byte long: %r" % b)
    return int.from_bytes(b, "big", signed=True)


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as a signed 32-bit int."""
    m, r, mask = 0x5BD1E995, 24, 0xFFFFFFFF
    length = len(data)
    h = (0x9747B28C ^ length) & mask
    for i in range(length // 4):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h = (h * m) & mask
        h ^= k
    rest = length % 4
    tail = length & ~3
    if rest == 3:
        h ^= data[tail + 2] << 16
    if rest >= 2:
        h ^= data[tail + 1] << 8
    if rest >= 1:
        h ^= data[tail]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(key: bytes, partitions: int) -> int:
    """The Java client's default partition of a non-null key: toPositive(murmur2) % n."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


# ------------------------------------------------------------ topologies

# output formats
F_STR_LONG = "str-long"      # key UTF-8 string, value 8-byte big-endian long
F_STR_STR = "str-str"        # key and value UTF-8 strings
F_TWIN_LONG = "twin-long"    # key = string + 8-byte BE window start; value long
F_SWIN_LONG = "swin-long"    # key = string + 8-byte BE end + 8-byte BE start; value long

# comparison modes
M_SEQ = "seq"            # per partition, the exact record sequence (key, value, timestamp)
M_PERKEY = "perkey"      # per key, the exact sequence of values
M_FINAL = "final"        # last value per key (tombstone = absent)
M_EMITTED = "emitted"    # set of (key, value, timestamp), every key emitted exactly once
M_MULTISET = "multiset"  # multiset of (key, value, timestamp)


@dataclass
class Topo:
    name: str
    family: str
    inputs: List[str]                    # roles: topic = <prefix>-<name>-<role>
    outputs: Dict[str, Tuple[str, str]]  # role -> (format, comparison mode)
    compacted: List[str] = field(default_factory=list)  # input roles created with cleanup.policy=compact
    params: Dict[str, Any] = field(default_factory=dict)


TOPOS: Dict[str, Topo] = {}


def _topo(name: str, family: str, inputs: List[str], outputs: Dict[str, Tuple[str, str]],
          compacted: Optional[List[str]] = None, **params: Any) -> None:
    TOPOS[name] = Topo(name, family, inputs, outputs, compacted or [], params)


_topo("wordcount", "wordcount", ["in"], {"out": (F_STR_LONG, M_PERKEY)})
_topo("agg-count", "agg", ["in"], {"out": (F_STR_LONG, M_SEQ)}, op="count")
_topo("agg-sum", "agg", ["in"], {"out": (F_STR_LONG, M_SEQ)}, op="sum")
_topo("agg-reduce", "agg", ["in"], {"out": (F_STR_LONG, M_SEQ)}, op="max")
_topo("table-regroup", "regroup", ["in"], {"out": (F_STR_LONG, M_FINAL)}, compacted=["in"])
for _kind, _fmt in (("tumbling", F_TWIN_LONG), ("hopping", F_TWIN_LONG), ("sliding", F_TWIN_LONG),
                    ("session", F_SWIN_LONG)):
    _topo("win-%s-count" % _kind, "windowed", ["in"],
          {"updates": (_fmt, M_SEQ), "final": (_fmt, M_SEQ), "onclose": (_fmt, M_SEQ)},
          kind=_kind, op="count")
_topo("win-tumbling-sum", "windowed", ["in"],
      {"updates": (F_TWIN_LONG, M_SEQ), "final": (F_TWIN_LONG, M_SEQ), "onclose": (F_TWIN_LONG, M_SEQ)},
      kind="tumbling", op="sum")
for _j in ("join", "leftjoin"):
    _topo("st-" + _j, "st", ["left", "right"], {"out": (F_STR_STR, M_SEQ)}, compacted=["right"], join=_j)
    _topo("sgt-" + _j, "sgt", ["left", "right"], {"out": (F_STR_STR, M_SEQ)}, compacted=["right"], join=_j)
    _topo("fk-" + _j, "fk", ["left", "right"], {"out": (F_STR_STR, M_FINAL)},
          compacted=["left", "right"], join=_j)
    _topo("svt-" + _j, "svt", ["left", "right"], {"out": (F_STR_STR, M_SEQ)}, compacted=["right"], join=_j)
for _j in ("join", "leftjoin", "outerjoin"):
    _topo("ss-" + _j, "ss", ["left", "right"], {"out": (F_STR_STR, M_SEQ)}, join=_j)
    _topo("tt-" + _j, "tt", ["left", "right"], {"out": (F_STR_STR, M_SEQ)},
          compacted=["left", "right"], join=_j)


def topic(prefix: str, name: str, role: str) -> str:
    return "%s-%s-%s" % (prefix, name, role)


def topo(name: str) -> Topo:
    if name not in TOPOS:
        raise ValueError("unknown topology %r (known: %s)" % (name, ", ".join(TOPOS)))
    return TOPOS[name]


def names_arg(s: str) -> List[str]:
    out: List[str] = []
    for n in s.split(","):
        n = n.strip()
        if not n:
            continue
        if n == "all":
            out += list(TOPOS)
        elif n.endswith("*"):
            out += [t for t in TOPOS if t.startswith(n[:-1])]
        else:
            topo(n)
            out.append(n)
    return list(dict.fromkeys(out))


# ------------------------------------------------------------ generators
#
# generate(name, seed, records, partitions) -> {role: [Rec]} in production
# order per topic (= offset order per partition).  Deterministic in (family,
# seed, records, partitions): every topology of a family gets the same data.

def _rng(family: str, seed: int) -> random.Random:
    return random.Random("%s/%d" % (family, seed))


def _place(recs: List[Rec], partitions: int, rng: random.Random) -> List[Rec]:
    """Explicit partitions: murmur2 of the key (Java's default partitioner),
    a seeded random partition for a null key."""
    for r in recs:
        r.partition = partition_for(r.key, partitions) if r.key is not None else rng.randrange(partitions)
    return recs


def _unique_ts(rng: random.Random, n: int, spacing: int, jitter: int) -> List[int]:
    """n distinct timestamps, roughly increasing (i * spacing) with +-jitter disorder."""
    seen = set()
    out = []
    for i in range(n):
        t = BASE_TS + i * spacing + (rng.randrange(-jitter, jitter + 1) if jitter else 0)
        while t in seen:
            t += 1
        seen.add(t)
        out.append(t)
    return out


_WORD_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_SEPARATORS = [" ", " ", " ", "  ", ", ", ". ", "-", "_", "\t", "'", "!? ", " (", ") ",
               "\u00e9", "\u00df", "\u20ac", "\U0001F600", "\u00a0", "/", "+"]


def gen_wordcount(seed: int, n: int, partitions: int) -> Dict[str, List[Rec]]:
    rng = _rng("wordcount", seed)
    vocab = []
    for _ in range(400):
        ln = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 12])
        vocab.append("".join(rng.choice(_WORD_CHARS) for _ in range(ln)))
    weights = [1.0 / (i + 1) for i in range(len(vocab))]  # Zipf-like
    recs = []
    for i in range(n):
        ts = BASE_TS + i * 10
        key = None if rng.random() < 0.5 else ("line%d" % rng.randrange(50)).encode()
        roll = rng.random()
        if roll < 0.02:
            value: Optional[bytes] = None if key is not None else b""
        elif roll < 0.03:
            value = b""
        else:
            parts = []
            for _ in range(rng.randrange(1, 14)):
                w = rng.choices(vocab, weights)[0]
                c = rng.random()
                if c < 0.03:  # longer than MAX_WORD: truncated to its first 64 bytes
                    w = w + "".join(rng.choice(_WORD_CHARS) for _ in range(rng.randrange(60, 90)))
                elif c < 0.06:  # non-ASCII letters are separators in the C locale
                    w = w[:len(w) // 2] + rng.choice(["\u00e9", "\u00fc", "\u00df"]) + w[len(w) // 2:]
                parts.append(w)
                parts.append(rng.choice(_SEPARATORS))
            line = "".join(parts)
            if rng.random() < 0.1:
                line = rng.choice(_SEPARATORS) + line
            value = line.encode("utf-8")
            if rng.random() < 0.01:  # invalid UTF-8 and a NUL: bytes >= 0x80 and 0 are separators
                value = value + b"\xff\xfeabc\x00DEF"
        recs.append(Rec(key, value, ts))
    return {"in": _place(recs, partitions, rng)}


def gen_agg(seed: int, n: int, partitions: int, keys: int = 50) -> Dict[str, List[Rec]]:
    rng = _rng("agg", seed)
    recs = []
    for i, ts in enumerate(_unique_ts(rng, n, 100, 300)):
        key = None if rng.random() < 0.02 else ("k%d" % rng.randrange(keys)).encode()
        value = None if (key is not None and rng.random() < 0.03) else be64(rng.randrange(-1000, 1001))
        recs.append(Rec(key, value, ts))
    return {"in": _place(recs, partitions, rng)}


def gen_regroup(seed: int, n: int, partitions: int, rows: int = 80, groups: int = 7) -> Dict[str, List[Rec]]:
    rng = _rng("regroup", seed)
    recs = []
    for ts in _unique_ts(rng, n, 100, 0):
        key = ("r%d" % rng.randrange(rows)).encode()
        if rng.random() < 0.08:
            recs.append(Rec(key, None, ts))
        else:
            recs.append(Rec(key, ("g%d:%d" % (rng.randrange(groups), rng.randrange(1, 101))).encode(), ts))
    return {"in": _place(recs, partitions, rng)}


def gen_windowed(seed: int, n: int, partitions: int, keys: int = 24, late: float = 0.05) -> Dict[str, List[Rec]]:
    """Keyed longs with explicit, out-of-order timestamps.  Every key is
    active in bursts (gaps of 1-20 s inside a burst, 35-150 s between bursts:
    session windows with merges); arrival order = true time plus up to 8 s of
    disorder; a fraction ``late`` of the records is late by more than every
    grace period (20-400 s behind)."""
    rng = _rng("windowed", seed)
    per_key = max(1, n // keys)
    events: List[Tuple[int, bytes]] = []
    for k in range(keys):
        key = ("w%d" % k).encode()
        t = BASE_TS + rng.randrange(0, 120_000)
        left = per_key
        while left > 0:
            burst = rng.randrange(1, 12)
            for _ in range(min(burst, left)):
                events.append((t, key))
                t += rng.randrange(1_000, 20_000)
                left -= 1
            t += rng.randrange(35_000, 150_000)
    events.sort()
    arrivals = []
    for i, (t, key) in enumerate(events):
        if rng.random() < late:
            ts = t - rng.randrange(20_000, 400_000)
        else:
            ts = t - rng.randrange(0, 8_000)
        # arrival position: sort key = true time (plus a small random delay)
        arrivals.append((t + rng.randrange(0, 3_000), i, key, ts))
    arrivals.sort()
    recs = []
    for _, _, key, ts in arrivals:
        r = rng.random()
        if r < 0.005:
            recs.append(Rec(None, be64(rng.randrange(1, 100)), ts))
        elif r < 0.015:
            recs.append(Rec(key, None, ts))
        else:
            recs.append(Rec(key, be64(rng.randrange(1, 100)), ts))
    return {"in": _place(recs, partitions, rng)}


def _interleaved(rng: random.Random, n: int, spacing: int, jitter: int, p_left: float) -> List[Tuple[str, int]]:
    """n events (side, ts), timestamps distinct across both sides."""
    return [("left" if rng.random() < p_left else "right", ts) for ts in _unique_ts(rng, n, spacing, jitter)]


def gen_st(seed: int, n: int, partitions: int, family: str = "st") -> Dict[str, List[Rec]]:
    """Stream (left) and table (right), String keys j<i>, interleaved in time
    with mild disorder: table updates and tombstones (the compacted table
    topic refuses null keys); stream
    records with keys partly absent from the table, null keys, null values."""
    rng = _rng(family, seed)
    left, right = [], []
    for i, (side, ts) in enumerate(_interleaved(rng, n, 200, 500, 0.6)):
        if side == "right":
            key = ("j%d" % rng.randrange(30)).encode()
            right.append(Rec(key, None if rng.random() < 0.12 else ("T%d" % i).encode(), ts))
        else:
            r = rng.random()
            key = None if r < 0.03 else ("j%d" % rng.randrange(40)).encode()
            value = None if (key is not None and rng.random() < 0.03) else ("S%d" % i).encode()
            left.append(Rec(key, value, ts))
    return {"left": _place(left, partitions, rng), "right": _place(right, partitions, rng)}


def gen_sgt(seed: int, n: int, partitions: int) -> Dict[str, List[Rec]]:
    """Stream (left) with values "fk:payload" (fk j<i>, partly absent from the
    table; some values without ':' = no join key; null values; null keys) and
    a global table (right) keyed by fk with updates and tombstones."""
    rng = _rng("sgt", seed)
    left, right = [], []
    for i, (side, ts) in enumerate(_interleaved(rng, n, 200, 500, 0.6)):
        if side == "right":
            key = ("j%d" % rng.randrange(30)).encode()
            right.append(Rec(key, None if rng.random() < 0.12 else ("G%d" % i).encode(), ts))
        else:
            key = None if rng.random() < 0.3 else ("s%d" % rng.randrange(25)).encode()
            r = rng.random()
            if r < 0.03 and key is not None:
                value = None
            elif r < 0.07:
                value = ("nofk%d" % i).encode()
            else:
                value = ("j%d:S%d" % (rng.randrange(40), i)).encode()
            left.append(Rec(key, value, ts))
    return {"left": _place(left, partitions, rng), "right": _place(right, partitions, rng)}


def gen_ss(seed: int, n: int, partitions: int) -> Dict[str, List[Rec]]:
    """Two streams, keys s<i>, timestamps distinct per partition, up to 6 s
    of disorder, 5% of the records 15-60 s late (beyond window + grace), null
    keys and null values on both sides."""
    rng = _rng("ss", seed)
    left, right = [], []
    used = set()
    for i, (side, ts) in enumerate(_interleaved(rng, n, 700, 3_000, 0.5)):
        if rng.random() < 0.05:
            ts -= rng.randrange(15_000, 60_000)
            while ts in used:
                ts -= 1
        used.add(ts)
        r = rng.random()
        key = None if r < 0.02 else ("s%d" % rng.randrange(15)).encode()
        value = None if (key is not None and rng.random() < 0.02) else (("L%d" if side == "left" else "R%d") % i).encode()
        (left if side == "left" else right).append(Rec(key, value, ts))
    return {"left": _place(left, partitions, rng), "right": _place(right, partitions, rng)}


def gen_tt(seed: int, n: int, partitions: int) -> Dict[str, List[Rec]]:
    """Two tables, keys t<i>, interleaved updates, 15% tombstones (some for
    keys that never existed), distinct timestamps, mild disorder.  (Table
    topics are compacted: a compacted topic refuses null keys.)"""
    rng = _rng("tt", seed)
    left, right = [], []
    for i, (side, ts) in enumerate(_interleaved(rng, n, 200, 500, 0.5)):
        key = ("t%d" % rng.randrange(40)).encode()
        value = None if rng.random() < 0.15 else (("L%d" if side == "left" else "R%d") % i).encode()
        (left if side == "left" else right).append(Rec(key, value, ts))
    return {"left": _place(left, partitions, rng), "right": _place(right, partitions, rng)}


def gen_fk(seed: int, n: int, partitions: int) -> Dict[str, List[Rec]]:
    """Left table f<i> -> "x<j>:payload" (foreign key x<j>; some values
    without ':' = null foreign key; tombstones), right table x<j> -> value
    (some x<j> never present; tombstones)."""
    rng = _rng("fk", seed)
    left, right = [], []
    for i, (side, ts) in enumerate(_interleaved(rng, n, 200, 500, 0.6)):
        if side == "left":
            key = ("f%d" % rng.randrange(60)).encode()
            r = rng.random()
            if r < 0.1:
                value = None
            elif r < 0.14:
                value = ("nofk%d" % i).encode()
            else:
                value = ("x%d:P%d" % (rng.randrange(25), i)).encode()
            left.append(Rec(key, value, ts))
        else:
            key = ("x%d" % rng.randrange(20)).encode()
            right.append(Rec(key, None if rng.random() < 0.12 else ("X%d" % i).encode(), ts))
    return {"left": _place(left, partitions, rng), "right": _place(right, partitions, rng)}


def gen_svt(seed: int, n: int, partitions: int) -> Dict[str, List[Rec]]:
    """Stream (left) and versioned table (right), keys v<i>; the table's
    updates arrive up to 40 s out of order (history is kept for 1 h), with
    tombstones; stream records up to 10 s out of order, null keys, null values."""
    rng = _rng("svt", seed)
    left, right = [], []
    used = set()
    for i, (side, ts) in enumerate(_interleaved(rng, n, 300, 0, 0.6)):
        if side == "right":
            ts -= rng.randrange(0, 40_000)
        else:
            ts -= rng.randrange(0, 10_000)
        while ts in used:
            ts -= 1
        used.add(ts)
        if side == "right":
            key = ("v%d" % rng.randrange(15)).encode()
            right.append(Rec(key, None if rng.random() < 0.1 else ("T%d" % i).encode(), ts))
        else:
            key = None if rng.random() < 0.03 else ("v%d" % rng.randrange(20)).encode()
            value = None if (key is not None and rng.random() < 0.03) else ("S%d" % i).encode()
            left.append(Rec(key, value, ts))
    return {"left": _place(left, partitions, rng), "right": _place(right, partitions, rng)}


GENERATORS: Dict[str, Callable[[int, int, int], Dict[str, List[Rec]]]] = {
    "wordcount": gen_wordcount, "agg": gen_agg, "regroup": gen_regroup, "windowed": gen_windowed,
    "st": gen_st, "sgt": gen_sgt, "ss": gen_ss, "tt": gen_tt, "fk": gen_fk, "svt": gen_svt,
}

DEFAULT_RECORDS = {"wordcount": 2000, "agg": 3000, "regroup": 2000, "windowed": 3000, "st": 2000,
                   "sgt": 2000, "ss": 2000, "tt": 2000, "fk": 2000, "svt": 2000}


def generate(name: str, seed: int = 1, records: Optional[int] = None, partitions: int = 3) -> Dict[str, List[Rec]]:
    t = topo(name)
    n = records if records is not None else DEFAULT_RECORDS[t.family]
    return GENERATORS[t.family](seed, n, partitions)


# ------------------------------------------------------------ Kafka I/O

def _kafka():
    try:
        import kafka  # noqa: F401
    except ImportError:  # pragma: no cover
        sys.stderr.write("oracle: kafka-python missing; run with the python printed by scripts/pyenv\n")
        raise
    sys.path.insert(0, HERE)
    import kafkatool
    return kafkatool


# The records carry timestamps from BASE_TS (2026-01-01) on.  The broker
# applies time-based retention and segment rolling to record timestamps:
# with its defaults (7 days) it would delete such records within minutes
# (the retention check runs every 5 minutes) and roll a segment per batch,
# letting the log cleaner compact table inputs before they are read.  Every
# topic of the oracle is therefore created with infinite retention and
# segments that never roll by time.
TOPIC_CONFIG = {"retention.ms": "-1", "segment.ms": str(100 * 365 * 86400 * 1000)}


def create_topics(brokers: Optional[str], prefix: str, names: Sequence[str], partitions: int = 3,
                  recreate: bool = False) -> List[str]:
    """Create every input and output topic of ``names`` (TOPIC_CONFIG; input
    tables with cleanup.policy=compact)."""
    kt = _kafka()
    made = []
    for n in names:
        t = topo(n)
        for role in t.inputs + list(t.outputs):
            name = topic(prefix, n, role)
            cfg = dict(TOPIC_CONFIG)
            if role in t.compacted:
                cfg["cleanup.policy"] = "compact"
            if recreate:
                kt.delete_topic(brokers, name)
            kt.create_topic(brokers, name, partitions, config=cfg)
            made.append(name)
    return made


def produce_inputs(brokers: Optional[str], prefix: str, name: str, inputs: Dict[str, List[Rec]]) -> Dict[str, int]:
    """Produce the generated inputs (explicit partitions and timestamps; one
    idempotent producer per topic, acks=all) and wait for every delivery."""
    kt = _kafka()
    counts = {}
    for role, recs in inputs.items():
        t = topic(prefix, name, role)
        res = kt.produce_records(brokers, t, ({"key": r.key, "value": r.value, "partition": r.partition,
                                               "timestamp": r.timestamp} for r in recs), linger_ms=20)
        counts[t] = res["count"]
    return counts


def read_topic(brokers: Optional[str], name: str, read_committed: bool = True,
               timeout_s: float = 60.0) -> List[Rec]:
    """Every record of ``name`` up to its end offsets (read_committed by
    default), in offset order per partition."""
    kt = _kafka()
    from kafka import TopicPartition
    c = kt._consumer(brokers, read_committed, max_partition_fetch_bytes=4 * 1024 * 1024)
    out: List[Rec] = []
    try:
        parts = kt._partitions(c, name)
        tps = [TopicPartition(name, p) for p in parts]
        c.assign(tps)
        ends = c.end_offsets(tps)
        c.seek_to_beginning(*tps)
        todo = {tp for tp in tps if c.position(tp) < ends[tp]}
        deadline = time.monotonic() + timeout_s
        while todo:
            if time.monotonic() > deadline:
                raise RuntimeError("read %s: end not reached in %.0f s" % (name, timeout_s))
            for tp, rs in c.poll(timeout_ms=200, max_records=10000).items():
                for r in rs:
                    if r.offset < ends[tp]:
                        out.append(Rec(r.key, r.value, r.timestamp, r.partition, r.offset))
            for tp in list(todo):
                if c.position(tp) >= ends[tp]:
                    todo.discard(tp)
    finally:
        c.close()
    out.sort(key=lambda r: (r.partition, r.offset))
    return out


# ------------------------------------------------------------ decoding

def decode_key(fmt: str, k: Optional[bytes]) -> Any:
    """str key, or (key, start, end) for windowed formats (time windows: end =
    start + the window size of the topology, filled in by decode())."""
    if k is None:
        return None
    if fmt in (F_STR_LONG, F_STR_STR):
        return k.decode("utf-8")
    if fmt == F_TWIN_LONG:
        return (k[:-8].decode("utf-8"), from_be64(k[-8:]))
    if fmt == F_SWIN_LONG:
        return (k[:-16].decode("utf-8"), from_be64(k[-8:]), from_be64(k[-16:-8]))
    raise ValueError(fmt)


def decode_value(fmt: str, v: Optional[bytes]) -> Any:
    if v is None:
        return None
    if fmt == F_STR_STR:
        return v.decode("utf-8")
    return from_be64(v)


def window_size(name: str) -> int:
    kind = topo(name).params.get("kind")
    return {"tumbling": TUMBLING_SIZE, "hopping": HOPPING_SIZE, "sliding": SLIDING_DIFF}.get(kind, 0)


@dataclass
class Out:
    """A decoded output record: key (str, (key, start, end) or None), value, timestamp, partition."""
    key: Any
    value: Any
    timestamp: Optional[int]
    partition: Optional[int]

    def ident(self, with_ts: bool = True) -> Tuple:
        return (self.key, self.value, self.timestamp) if with_ts else (self.key, self.value)


def decode(name: str, role: str, recs: Iterable[Rec]) -> List[Out]:
    fmt = topo(name).outputs[role][0]
    size = window_size(name)
    out = []
    for r in recs:
        k = decode_key(fmt, r.key)
        if fmt == F_TWIN_LONG and k is not None:
            k = (k[0], k[1], k[1] + size)
        out.append(Out(k, decode_value(fmt, r.value), r.timestamp, r.partition))
    return out


def encode_key(fmt: str, key: Any) -> Optional[bytes]:
    if key is None:
        return None
    if fmt in (F_STR_LONG, F_STR_STR):
        return key.encode("utf-8")
    if fmt == F_TWIN_LONG:
        return key[0].encode("utf-8") + be64(key[1])
    if fmt == F_SWIN_LONG:
        return key[0].encode("utf-8") + be64(key[2]) + be64(key[1])
    raise ValueError(fmt)


# ============================================================ references
#
# reference(name, inputs, partitions) -> {output role: [Out]}: the records
# Kafka Streams 4.1 emits, with partition (None for a null key: Kafka
# Streams' producer then picks a partition itself) and timestamp, in emit
# order per partition.  Each comparison mode only uses what it needs.

def by_partition(recs: List[Rec]) -> Dict[int, List[Rec]]:
    out: Dict[int, List[Rec]] = collections.defaultdict(list)
    for r in recs:
        out[r.partition].append(r)
    return out


def merged(a: List[Rec], b: List[Rec]) -> List[Tuple[str, Rec]]:
    """Kafka Streams' processing order of two co-partitioned inputs in one
    task when both were produced before the application started
    (max.task.idle.ms=0 waits for data known to be on the broker): always
    the queue whose head record has the smaller timestamp (PartitionGroup's
    priority queue on RecordQueue.headRecordTimestamp).  Timestamps of the
    two inputs must be distinct (a tie's order is not defined)."""
    i = j = 0
    out = []
    while i < len(a) or j < len(b):
        if j >= len(b) or (i < len(a) and a[i].timestamp < b[j].timestamp):
            out.append(("left", a[i]))
            i += 1
        else:
            if i < len(a) and a[i].timestamp == b[j].timestamp:
                raise ValueError("equal head timestamps %d in one task: order not defined" % a[i].timestamp)
            out.append(("right", b[j]))
            j += 1
    return out


def _s(b: Optional[bytes]) -> Optional[str]:
    return None if b is None else b.decode("utf-8")


def _part(key: Optional[str], partitions: int) -> Optional[int]:
    return None if key is None else partition_for(key.encode("utf-8"), partitions)


def split_words(line: Optional[bytes]) -> List[str]:
    """examples/wordcount/main.c split(): runs of ASCII alphanumerics (C
    locale isalnum), lower-cased, each truncated to its first MAX_WORD bytes."""
    words = []
    if line is None:
        return words
    i, n = 0, len(line)
    while i < n:
        while i < n and not (chr(line[i]).isascii() and chr(line[i]).isalnum()):
            i += 1
        w = bytearray()
        while i < n and chr(line[i]).isascii() and chr(line[i]).isalnum():
            if len(w) < MAX_WORD:
                w.append(ord(chr(line[i]).lower()))
            i += 1
        if w:
            words.append(w.decode("ascii"))
    return words


def ref_wordcount(t: Topo, inputs: Dict[str, List[Rec]], partitions: int) -> Dict[str, List[Out]]:
    """Per word the counts 1, 2, ..., n (one update per occurrence, caching
    off); the order between words is not defined (repartition topic)."""
    counts: Dict[str, int] = collections.Counter()
    out = []
    for r in inputs["in"]:
        for w in split_words(r.value):
            counts[w] += 1
            out.append(Out(w, counts[w], None, _part(w, partitions)))
    return {"out": out}


def ref_agg(t: Topo, inputs: Dict[str, List[Rec]], partitions: int) -> Dict[str, List[Out]]:
    """groupByKey + count/reduce: per input partition in offset order, skip
    null keys and null values, emit (key, new aggregate) with timestamp =
    max(record, previous aggregate) (KStreamAggregate/KStreamReduce)."""
    op = t.params["op"]
    out = []
    for p, recs in sorted(by_partition(inputs["in"]).items()):
        state: Dict[str, Tuple[int, int]] = {}
        for r in recs:
            if r.key is None or r.value is None:
                continue
            k, v = _s(r.key), from_be64(r.value)
            old = state.get(k)
            if op == "count":
                agg = (old[0] if old else 0) + 1
            elif op == "sum":
                agg = v if old is None else old[0] + v
            else:
                agg = v if old is None else max(old[0], v)
            ts = r.timestamp if old is None else max(r.timestamp, old[1])
            state[k] = (agg, ts)
            out.append(Out(k, agg, ts, p))
    return {"out": out}


def ref_regroup(t: Topo, inputs: Dict[str, List[Rec]], partitions: int) -> Dict[str, List[Out]]:
    """table(key -> "group:amount").groupBy(group).aggregate(+, -): the final
    sum per group over the final table rows; a group that ever received an
    amount stays in the result (0 when its rows are gone)."""
    table: Dict[str, str] = {}
    seen_groups = set()
    for r in inputs["in"]:
        if r.key is None:
            continue
        k = _s(r.key)
        if r.value is None:
            table.pop(k, None)
        else:
            table[k] = _s(r.value)
            seen_groups.add(table[k].split(":", 1)[0])
    sums = {g: 0 for g in seen_groups}
    for v in table.values():
        g, a = v.split(":", 1)
        sums[g] += int(a)
    return {"out": [Out(g, s, None, _part(g, partitions)) for g, s in sorted(sums.items())]}


# ---- windowed aggregations -------------------------------------------------

class Suppress:
    """suppress(untilWindowCloses(unbounded())) (KTableSuppressProcessor with
    an in-memory time-ordered buffer): every update is buffered under its
    window end (replacing the key's earlier entry); after each update, stream
    time = max update timestamp seen, and every entry with end <= stream
    time - suppressDuration is emitted in (end, serialized key) order;
    entries whose last update is a tombstone (merged sessions) are dropped."""

    def __init__(self, duration: int, fmt: str, partition: int, out: List[Out]) -> None:
        self.duration = duration
        self.fmt = fmt
        self.partition = partition
        self.out = out
        self.st = NO_TS
        self.buf: Dict[Any, Tuple[int, Any, int]] = {}  # key -> (end, value, ts)

    def update(self, key: Any, end: int, value: Any, ts: int) -> None:
        self.st = max(self.st, ts)
        self.buf[key] = (end, value, ts)
        limit = self.st - self.duration
        ready = sorted((e, encode_key(self.fmt, k), k) for k, (e, _, _) in self.buf.items() if e <= limit)
        for _, _, k in ready:
            e, v, ts2 = self.buf.pop(k)
            if v is not None:
                self.out.append(Out(k, v, ts2, self.partition))


def _agg_fn(op: str) -> Callable[[int, Optional[int]], int]:
    if op == "count":
        return lambda a, v: a + 1
    return lambda a, v: a if v is None else a + v


def _time_windows_for(ts: int, size: int, adv: int) -> List[int]:
    """TimeWindows.windowsFor: starts = multiples of advance in (ts - size, ts], >= 0."""
    start = (max(0, ts - size + adv) // adv) * adv
    out = []
    while start <= ts:
        out.append(start)
        start += adv
    return out


def ref_time_windows(t: Topo, inputs: Dict[str, List[Rec]], partitions: int) -> Dict[str, List[Out]]:
    """TimeWindows (tumbling: advance = size), KStreamWindowAggregate: per
    partition, stream time = max timestamp of records with a key (null-key
    records are skipped before stream time advances; null values are
    aggregated: count counts them, sum adds nothing); the record updates each
    of its windows [start, start + size) (starts = multiples of advance in
    (ts - size, ts], >= 0) whose end > stream time - grace, else that window
    drops the record.  Update timestamp = max record timestamp of the window.

    onclose (emitStrategy(onWindowClose), emit interval 0; time-ordered
    window store, retention size + grace): after each record with a key, when
    the close time (stream time - grace) passed the last emit's, the windows
    with start in [max(last upper + 1, store time - retention), close time -
    size] are emitted in (start, key) order (store time = largest window
    start written), unless
    that range covers no new window (TimeWindows.windowsFor of both bounds
    equal).  A closed window whose start is already below store time -
    retention when the next emit happens is never emitted: after a jump of
    stream time windows are lost (Kafka Streams behaviour, documented)."""
    kind, op = t.params["kind"], t.params["op"]
    size, adv, grace = ((TUMBLING_SIZE, TUMBLING_SIZE, TUMBLING_GRACE) if kind == "tumbling"
                        else (HOPPING_SIZE, HOPPING_ADVANCE, HOPPING_GRACE))
    retention = size + grace
    f = _agg_fn(op)
    fmt = t.outputs["updates"][0]
    updates: List[Out] = []
    final: List[Out] = []
    onclose: List[Out] = []
    for p, recs in sorted(by_partition(inputs["in"]).items()):
        st = NO_TS
        store_st = NO_TS
        last_emit = NO_TS
        store: Dict[Tuple[str, int], Tuple[int, int]] = {}
        sup = Suppress(grace, fmt, p, final)
        for r in recs:
            if r.key is None:
                continue
            k, v = _s(r.key), (None if r.value is None else from_be64(r.value))
            st = max(st, r.timestamp)
            close = st - grace
            for start in _time_windows_for(r.timestamp, size, adv):
                end = start + size
                if end > close:
                    old = store.get((k, start))
                    agg = f(0 if old is None else old[0], v)
                    ts = r.timestamp if old is None else max(r.timestamp, old[1])
                    store[(k, start)] = (agg, ts)
                    store_st = max(store_st, start)
                    wk = (k, start, end)
                    updates.append(Out(wk, agg, ts, p))
                    sup.update(wk, end, agg, ts)
            # onWindowClose
            if last_emit == NO_TS or last_emit < close:
                upper = close - size
                if upper >= 0:
                    lower = 0 if last_emit == NO_TS else max(0, last_emit - size) + 1
                    if last_emit == NO_TS or (_time_windows_for(upper, size, adv)
                                              != _time_windows_for(lower - 1, size, adv)):
                        frm = max(lower, store_st - retention)
                        for (kk, s0), (agg, ts) in sorted(store.items(), key=lambda e: (e[0][1], e[0][0].encode())):
                            if frm <= s0 <= upper:
                                onclose.append(Out((kk, s0, s0 + size), agg, ts, p))
                        last_emit = close
    return {"updates": updates, "final": final, "onclose": onclose}


def _sliding_partition(recs: List[Rec], p: int, f: Callable[[int, Optional[int]], int], on_close: bool,
                       out: List[Out], sup: Optional["Suppress"]) -> None:
    """One partition of KStreamSlidingWindowAggregate (see ref_sliding).
    ``on_close``: the emitStrategy(onWindowClose) variant, whose time-ordered
    store returns windows from store time - retention (not + 1) and which
    emits closed windows instead of updates."""
    d, grace = SLIDING_DIFF, SLIDING_GRACE
    retention = 2 * d + grace
    st = NO_TS
    store_st = NO_TS
    last_emit = NO_TS
    store: Dict[str, Dict[int, Tuple[int, int]]] = collections.defaultdict(dict)

    def put(k: str, start: int, agg: int, ts: int) -> None:
        nonlocal store_st
        store_st = max(store_st, start)
        store[k][start] = (agg, ts)

    for r in recs:
        if r.key is None or r.value is None:
            continue
        k, v, ts = _s(r.key), from_be64(r.value), r.timestamp
        st = max(st, ts)
        close = st - grace
        if ts + d < close:
            continue
        if ts < d:
            raise ValueError("record timestamp %d < time difference: 'early' windows not modelled" % ts)

        def forward(start: int, agg: int, nts: int) -> None:
            if not on_close:
                wk = (k, start, start + d)
                out.append(Out(wk, agg, nts, p))
                sup.update(wk, start + d, agg, nts)

        def update(start: int, old: Optional[Tuple[int, int]]) -> None:
            if start + d >= close:
                agg = f(0 if old is None else old[0], v)
                nts = ts if old is None else max(ts, old[1])
                put(k, start, agg, nts)
                forward(start, agg, nts)

        lo = max(0, ts - 2 * d, store_st - retention + (0 if on_close else 1))
        hi = ts + 1
        visit = [] if hi < lo else sorted(((s0, a) for s0, a in store[k].items() if lo <= s0 <= hi), reverse=True)
        starts = set()
        left_agg = right_agg = None
        left_done = right_done = False
        prev_ts = None
        stop = False
        for s0, (agg, wts) in visit:
            starts.add(s0)
            end = s0 + d
            if s0 == ts + 1:
                right_done = True
            elif end > ts:
                if right_agg is None:
                    right_agg = (agg, wts)
                update(s0, (agg, wts))
            elif end == ts:
                left_done = True
                update(s0, (agg, wts))
                if wts < ts:
                    prev_ts = wts
                else:
                    stop = True
                    break
            else:
                left_agg = (agg, wts)
                prev_ts = wts
                break
        if not stop:
            if prev_ts is not None:
                ps = prev_ts + 1
                if ps not in starts and ps + d >= ts:
                    update(ps, (0, ts))
            if not left_done:
                if prev_ts is not None and ts - d <= prev_ts:
                    update(ts - d, (left_agg[0], ts))
                else:
                    update(ts - d, (0, ts))
            if not right_done and right_agg is not None and right_agg[1] > ts:
                put(k, ts + 1, right_agg[0], right_agg[1])
                forward(ts + 1, right_agg[0], right_agg[1])
        if on_close and (last_emit == NO_TS or last_emit < close):
            upper = close - d - 1
            if upper >= 0:
                lower = 0 if last_emit == NO_TS else max(0, last_emit - d)
                frm = max(lower, store_st - retention)
                if upper >= frm:
                    for s0, kk, (agg, wts) in sorted((s0, kk, a) for kk, ws in store.items() for s0, a in ws.items()
                                                     if frm <= s0 <= upper):
                        out.append(Out((kk, s0, s0 + d), agg, wts, p))
                last_emit = close


def ref_sliding(t: Topo, inputs: Dict[str, List[Rec]], partitions: int) -> Dict[str, List[Out]]:
    """SlidingWindows (KStreamSlidingWindowAggregate, reverse-iterator path of
    the RocksDB window store).  Windows are [start, start + d] (both ends
    inclusive).  Per partition; records with a null key or a null value are
    skipped before stream time advances.  A record whose left window [ts-d,
    ts] ends before stream time - grace is dropped; else the store's windows
    of the key with start in [ts - 2d, ts + 1] (only those the store still
    returns: start >= store time - retention + 1, store time = largest start
    written, retention = 2d + grace) are visited newest first: the record's
    own right window (start ts+1) exists -> noted; windows containing ts are
    updated; the window ending exactly at ts is updated (and ends the visit
    when its newest record is at ts); the first window ending before ts gives
    the aggregate for the record's new left window and the previous record's
    timestamp.  Then the previous record's right window, the record's left
    window and the record's right window (a copy of the first window found
    that holds a later record) are created as Kafka Streams does.  A window
    is only updated while its end >= stream time - grace.

    onclose: a separate aggregation on a time-ordered store (windows visible
    from store time - retention, without the + 1); after each record that was
    not dropped, when the close time passed the last emit's, windows with
    start in [max(last close - d, store time - retention), close - d - 1] are
    emitted in (start, key) order (windows below the store's retention are
    lost, as for TimeWindows)."""
    f = _agg_fn(t.params["op"])
    fmt = t.outputs["updates"][0]
    updates: List[Out] = []
    final: List[Out] = []
    onclose: List[Out] = []
    for p, recs in sorted(by_partition(inputs["in"]).items()):
        _sliding_partition(recs, p, f, False, updates, Suppress(SLIDING_GRACE, fmt, p, final))
        _sliding_partition(recs, p, f, True, onclose, None)
    return {"updates": updates, "final": final, "onclose": onclose}


def ref_session(t: Topo, inputs: Dict[str, List[Rec]], partitions: int) -> Dict[str, List[Out]]:
    """SessionWindows (KStreamSessionWindowAggregate on the RocksDB session
    store).  Sessions [start, end] (inclusive).  Per partition; null-key
    records are skipped before stream time advances (null values count).
    Window close time = stream time - grace - gap.  The record at ts merges
    with the key's sessions that end >= ts - gap and start <= ts + gap and
    that the store still returns (end >= store time - retention + 1; store
    time = largest session end written or removed, retention = gap + grace);
    if the merged session ends before the close time the record is dropped;
    else merged sessions are removed (a tombstone update each, timestamp =
    its end, in end order) unless the merged window is [ts, ts] itself, and
    the merged session is written and emitted with timestamp = its end.
    Final results (suppress): sessions with end <= stream time - grace - gap.

    onclose (emitStrategy(onWindowClose), emit interval 0, time-ordered
    session store with segments of max(retention / 2, 60 s)): after each
    record with a key, when the close time passed the last emit's, sessions
    with end in [last close, close - 1] are emitted in (end, key, start)
    order - only those in a
    segment the store has not dropped yet (a put drops segments older than
    the segment of its stream time - retention): a closed session whose
    segment expired before the next emit is never emitted."""
    gap, grace = SESSION_GAP, SESSION_GRACE
    retention = gap + grace
    seg_interval = max(retention // 2, 60_000)
    f = _agg_fn(t.params["op"])
    fmt = t.outputs["updates"][0]
    updates: List[Out] = []
    final: List[Out] = []
    onclose: List[Out] = []
    for p, recs in sorted(by_partition(inputs["in"]).items()):
        st = NO_TS
        store_st = NO_TS
        store: Dict[str, Dict[Tuple[int, int], int]] = collections.defaultdict(dict)  # key -> (start, end) -> agg
        sup = Suppress(grace + gap, fmt, p, final)
        last_emit = NO_TS
        put_st = NO_TS  # stream time of the store's last put (its segments expire then)
        for r in recs:
            if r.key is None:
                continue
            k, v, ts = _s(r.key), (None if r.value is None else from_be64(r.value)), r.timestamp
            st = max(st, ts)
            close = st - grace - gap
            lo = max(ts - gap, store_st - retention + 1)
            found = sorted(((e, s) for (s, e) in store[k] if e >= lo and s <= ts + gap))
            agg = 0
            ms, me = ts, ts
            for e, s in found:
                agg = agg + store[k][(s, e)]
                ms, me = min(ms, s), max(me, e)
            if me < close:
                pass  # dropped
            else:
                if (ms, me) != (ts, ts):
                    for e, s in found:
                        del store[k][(s, e)]
                        store_st = max(store_st, e)
                        wk = (k, s, e)
                        updates.append(Out(wk, None, e, p))
                        sup.update(wk, e, None, e)
                agg = f(agg, v)
                store[k][(ms, me)] = agg
                store_st = max(store_st, me)
                put_st = store_st
                wk = (k, ms, me)
                updates.append(Out(wk, agg, me, p))
                sup.update(wk, me, agg, me)
            # onWindowClose (time-ordered session store): sessions with end in
            # [last close, close - 1] whose segment the store still holds
            if last_emit == NO_TS or last_emit < close:
                upper = close - 1
                lower = max(0, last_emit)
                if upper >= 0 and upper >= lower:
                    live = (put_st - retention) // seg_interval
                    for (e, kk, s0) in sorted((e, kk, s0) for kk, ss in store.items() for (s0, e) in ss):
                        if lower <= e <= upper and e // seg_interval >= live:
                            onclose.append(Out((kk, s0, e), store[kk][(s0, e)], e, p))
                    last_emit = close
    return {"updates": updates, "final": final, "onclose": onclose}


def ref_windowed(t: Topo, inputs: Dict[str, List[Rec]], partitions: int) -> Dict[str, List[Out]]:
    kind = t.params["kind"]
    if kind in ("tumbling", "hopping"):
        return ref_time_windows(t, inputs, partitions)
    if kind == "sliding":
        return ref_sliding(t, inputs, partitions)
    return ref_session(t, inputs, partitions)


# ---- joins -------------------------------------------------------------------

def _j(left: Optional[str], right: Optional[str]) -> str:
    """The joiner of every join topology: left + "|" + right (Java's "null" for a missing side)."""
    return "%s|%s" % ("null" if left is None else left, "null" if right is None else right)


def fk_of(v: Optional[str]) -> Optional[str]:
    if v is None or ":" not in v:
        return None
    return v.split(":", 1)[0]


def ref_st(t: Topo, inputs: Dict[str, List[Rec]], partitions: int) -> Dict[str, List[Out]]:
    """stream-table join/leftJoin, per partition in merged order: a table
    record (null key dropped) updates or (tombstone) deletes its key; a
    stream record looks the key up.  join drops null keys, null values and
    misses; leftJoin drops null values only and joins a null key with null.
    Timestamp = the stream record's."""
    left_join = t.params["join"] == "leftjoin"
    out = []
    lp, rp = by_partition(inputs["left"]), by_partition(inputs["right"])
    for p in sorted(set(lp) | set(rp)):
        table: Dict[str, str] = {}
        for side, r in merged(lp.get(p, []), rp.get(p, [])):
            k, v = _s(r.key), _s(r.value)
            if side == "right":
                if k is None:
                    continue
                if v is None:
                    table.pop(k, None)
                else:
                    table[k] = v
                continue
            if v is None:
                continue
            if k is None:
                if left_join:
                    out.append(Out(None, _j(v, None), r.timestamp, None))
                continue
            tv = table.get(k)
            if tv is not None or left_join:
                out.append(Out(k, _j(v, tv), r.timestamp, p))
    return {"out": out}


def ref_sgt(t: Topo, inputs: Dict[str, List[Rec]], partitions: int) -> Dict[str, List[Out]]:
    """stream-globalTable join/leftJoin on fk(value): the global table is
    fully loaded before the stream is processed (all input produced first),
    so every stream record sees the final table.  join drops null values and
    null join keys (fk missing) and misses; leftJoin drops null values only.
    Output key = the stream record's key (may be null), timestamp = its."""
    left_join = t.params["join"] == "leftjoin"
    table: Dict[str, str] = {}
    for r in inputs["right"]:
        if r.key is None:
            continue
        if r.value is None:
            table.pop(_s(r.key), None)
        else:
            table[_s(r.key)] = _s(r.value)
    out = []
    for p, recs in sorted(by_partition(inputs["left"]).items()):
        for r in recs:
            k, v = _s(r.key), _s(r.value)
            if v is None:
                continue
            f = fk_of(v)
            tv = None if f is None else table.get(f)
            if tv is not None or left_join:
                out.append(Out(k, _j(v, tv), r.timestamp, None if k is None else p))
    return {"out": out}


def ref_ss(t: Topo, inputs: Dict[str, List[Rec]], partitions: int) -> Dict[str, List[Out]]:
    """stream-stream join/leftJoin/outerJoin with JoinWindows
    .ofTimeDifferenceAndGrace(d, g) (KStreamKStreamJoin, spurious-result fix
    on, emit interval 0), per partition in merged order:

    * every record advances the task's shared stream time first;
    * outer side, null key, non-null value: emitted at once as (v, null);
      other null keys / null values are dropped (and not stored);
    * a record at the current stream time first emits the waiting
      non-joined records of the outer store whose window closed (ts + d + g
      < stream time) in (ts, right-before-left, key) order; the scan stops
      once an open entry of each side was seen, and an internal minimum time
      (the timestamp of the last entry scanned) lets later records skip the
      scan while min + d + g >= stream time (Kafka Streams' TimeTracker);
    * it joins with the other side's stored records of the key with
      timestamps in [ts - d, ts + d] that the window store still returns
      (ts >= store time - (2d + g) + 1, store time = largest timestamp
      stored on that side), oldest first, timestamp = max of both; a joined
      record is removed from the outer store;
    * an outer-side record without a partner is emitted at once as
      non-joined when ts + d < stream time, else it waits in the outer store;
    * then the record is stored on its side."""
    kind = t.params["join"]
    d, g = SS_JOIN_DIFF, SS_JOIN_GRACE
    retention = 2 * d + g
    has_outer_store = kind != "join"
    out = []
    lp, rp = by_partition(inputs["left"]), by_partition(inputs["right"])
    for p in sorted(set(lp) | set(rp)):
        st = NO_TS
        min_time = 2 ** 63 - 1
        stores: Dict[str, List[Tuple[str, int, str]]] = {"left": [], "right": []}
        store_st = {"left": NO_TS, "right": NO_TS}
        outer: Dict[Tuple[int, int, bytes], List[str]] = {}  # (ts, 1 left / 0 right, key bytes) -> values

        def joined(side: str, mine: Optional[str], other: Optional[str]) -> str:
            return _j(mine, other) if side == "left" else _j(other, mine)

        def emit_non_joined() -> None:
            nonlocal min_time
            if min_time + d + g >= st:
                return
            min_time = 2 ** 63 - 1
            prev = None
            open_sides = set()
            for ok in sorted(outer):
                ots, oside, okey = ok
                min_time = ots
                if len(open_sides) == 2:
                    break
                if min_time + d + g >= st:
                    open_sides.add(oside)
                    continue
                for val in outer[ok]:
                    kk = okey.decode("utf-8")
                    out.append(Out(kk, _j(val, None) if oside == 1 else _j(None, val), ots, _part(kk, partitions)))
                if prev is not None and prev != ok:
                    del outer[prev]
                prev = ok
            if prev is not None:
                del outer[prev]

        for side, r in merged(lp.get(p, []), rp.get(p, [])):
            other = "right" if side == "left" else "left"
            is_outer = (side == "left" and kind in ("leftjoin", "outerjoin")) or (side == "right" and kind == "outerjoin")
            k, v, ts = _s(r.key), _s(r.value), r.timestamp
            st = max(st, ts)
            if is_outer and k is None and v is not None:
                out.append(Out(None, joined(side, v, None), ts, None))
                continue
            if k is None or v is None:
                continue
            if has_outer_store and ts == st:
                emit_non_joined()
            lo, hi = max(0, ts - d), max(0, ts + d)
            vis = store_st[other] - retention + 1
            matches = [(ots, i, ov) for i, (ok, ots, ov) in enumerate(stores[other])
                       if ok == k and lo <= ots <= hi and ots >= vis]
            matches.sort()
            for ots, _, ov in matches:
                if has_outer_store:
                    outer.pop((ots, 1 if other == "left" else 0, r.key), None)
                out.append(Out(k, joined(side, v, ov), max(ts, ots), p))
            if is_outer and not matches:
                if hi < st:
                    out.append(Out(k, joined(side, v, None), ts, p))
                else:
                    min_time = min(min_time, ts)
                    outer.setdefault((ts, 1 if side == "left" else 0, r.key), []).append(v)
            stores[side].append((k, ts, v))
            store_st[side] = max(store_st[side], ts)
    return {"out": out}


def ref_tt(t: Topo, inputs: Dict[str, List[Rec]], partitions: int) -> Dict[str, List[Out]]:
    """table-table join/leftJoin/outerJoin (KTableKTable*Join, caching off),
    per partition in merged order.  Each side's source store applies the
    update (null keys dropped) and forwards (new, old) - old only when that
    side sends old values: the left side for leftJoin/outerJoin, the right
    side for outerJoin.  Then, with the other side's current value o:
    join: o missing -> nothing; else (key, new|o or tombstone when new is null);
    leftJoin, left update: o missing and new and old null -> nothing; else
    new|o (tombstone when new null); right update: left missing -> nothing,
    else left|new; outerJoin: o missing and new and old null -> nothing; else
    new|o, tombstone when both null.  Timestamp = max(update, o's) (the
    update's when o is missing)."""
    kind = t.params["join"]
    old_left = kind in ("leftjoin", "outerjoin")
    old_right = kind == "outerjoin"
    out = []
    lp, rp = by_partition(inputs["left"]), by_partition(inputs["right"])
    for p in sorted(set(lp) | set(rp)):
        tables: Dict[str, Dict[str, Tuple[str, int]]] = {"left": {}, "right": {}}
        for side, r in merged(lp.get(p, []), rp.get(p, [])):
            if r.key is None:
                continue
            k, v, ts = _s(r.key), _s(r.value), r.timestamp
            mine, theirs = tables[side], tables["right" if side == "left" else "left"]
            prev = mine.get(k)
            if v is None:
                mine.pop(k, None)
            else:
                mine[k] = (v, ts)
            sends_old = old_left if side == "left" else old_right
            old = prev[0] if (prev is not None and sends_old) else None
            o = theirs.get(k)
            ov = None if o is None else o[0]
            rts = ts if o is None else max(ts, o[1])

            def emit(val: Optional[str]) -> None:
                out.append(Out(k, val, rts, p))

            def pair(mv: Optional[str], tv: Optional[str]) -> str:
                return _j(mv, tv) if side == "left" else _j(tv, mv)

            if kind == "join":
                if o is None:
                    continue
                emit(None if v is None else pair(v, ov))
            elif kind == "leftjoin":
                if side == "left":
                    if o is None and v is None and old is None:
                        continue
                    emit(None if v is None else pair(v, ov))
                else:
                    if o is None:
                        continue
                    emit(pair(v, ov))
            else:
                if o is None and v is None and old is None:
                    continue
                emit(pair(v, ov) if (o is not None or v is not None) else None)
    return {"out": out}


def ref_fk(t: Topo, inputs: Dict[str, List[Rec]], partitions: int) -> Dict[str, List[Out]]:
    """Foreign-key table-table join/leftJoin: the final result per left key
    = the join of the final tables (intermediate results travel through the
    subscription topics and are not compared).  join: left row with fk(value)
    present in the right table -> left|right, else absent; leftJoin: every
    left row -> left|right or left|null (also for a row without foreign key)."""
    left_join = t.params["join"] == "leftjoin"
    tables: Dict[str, Dict[str, str]] = {"left": {}, "right": {}}
    for side in ("left", "right"):
        for r in inputs[side]:
            if r.key is None:
                continue
            if r.value is None:
                tables[side].pop(_s(r.key), None)
            else:
                tables[side][_s(r.key)] = _s(r.value)
    out = []
    for k, v in sorted(tables["left"].items()):
        f = fk_of(v)
        rv = None if f is None else tables["right"].get(f)
        if rv is not None or left_join:
            out.append(Out(k, _j(v, rv), None, _part(k, partitions)))
    return {"out": out}


def ref_svt(t: Topo, inputs: Dict[str, List[Rec]], partitions: int) -> Dict[str, List[Out]]:
    """stream join/leftJoin with a versioned table (KIP-914), per partition
    in merged order: table records (null keys dropped) add a version
    (tombstones too) to the key's history; a stream record joins with the
    version of its key valid at the record's timestamp (the latest version
    with timestamp <= it, among those processed so far; none or a tombstone =
    no match; a table record older than the table's stream time - history
    retention (1 h) is refused; a lookup older than that only finds the
    latest version, if that is not newer than the record).  Null keys / values as in the stream-table join."""
    left_join = t.params["join"] == "leftjoin"
    out = []
    lp, rp = by_partition(inputs["left"]), by_partition(inputs["right"])
    for p in sorted(set(lp) | set(rp)):
        hist: Dict[str, List[Tuple[int, Optional[str]]]] = collections.defaultdict(list)
        st = NO_TS
        for side, r in merged(lp.get(p, []), rp.get(p, [])):
            k, v, ts = _s(r.key), _s(r.value), r.timestamp
            if side == "right":
                if k is None:
                    continue
                if ts < st - VERSIONED_HISTORY:  # RocksDBVersionedStore: expired put, not stored
                    continue
                st = max(st, ts)
                h = hist[k]
                i = bisect.bisect_left(h, (ts,))
                if i < len(h) and h[i][0] == ts:
                    h[i] = (ts, v)
                else:
                    h.insert(i, (ts, v))
                continue
            if v is None:
                continue
            if k is None:
                if left_join:
                    out.append(Out(None, _j(v, None), ts, None))
                continue
            h = hist.get(k, [])
            i = bisect.bisect_right(h, (ts, "\uffff")) - 1
            tv = h[i][1] if i >= 0 else None
            if ts < st - VERSIONED_HISTORY:  # beyond the history: only a latest value <= ts counts
                tv = h[-1][1] if h and h[-1][0] <= ts else None
            if tv is not None or left_join:
                out.append(Out(k, _j(v, tv), ts, p))
    return {"out": out}


REFERENCES: Dict[str, Callable[[Topo, Dict[str, List[Rec]], int], Dict[str, List[Out]]]] = {
    "wordcount": ref_wordcount, "agg": ref_agg, "regroup": ref_regroup, "windowed": ref_windowed,
    "st": ref_st, "sgt": ref_sgt, "ss": ref_ss, "tt": ref_tt, "fk": ref_fk, "svt": ref_svt,
}


def reference(name: str, inputs: Dict[str, List[Rec]], partitions: int = 3) -> Dict[str, List[Out]]:
    t = topo(name)
    return REFERENCES[t.family](t, inputs, partitions)


def behaviours(name: str, inputs: Dict[str, List[Rec]], expected: Dict[str, List[Out]]) -> Dict[str, int]:
    """Counts of Kafka Streams behaviours in ``expected`` that a naive reading
    of the DSL would not predict (documented in bench/peers/README.md), so a
    test can show its data exercises them."""
    t = topo(name)
    out: Dict[str, int] = {}
    if t.family == "windowed":
        fin = collections.Counter(o.key for o in expected["final"])
        out["final_windows"] = len(fin)
        out["final_emitted_twice"] = sum(1 for n in fin.values() if n > 1)
        oc = {o.key for o in expected["onclose"]}
        out["onclose_windows"] = len(oc)
        out["closed_windows_never_emitted_by_onclose"] = len(set(fin) - oc)
        keyed = [r for r in inputs["in"] if r.key is not None]
        out["null_key_records"] = len(inputs["in"]) - len(keyed)
        out["null_value_records"] = sum(1 for r in keyed if r.value is None)
        if t.params["kind"] == "session":
            out["session_merge_tombstones"] = sum(1 for o in expected["updates"] if o.value is None)
    elif t.family == "ss":
        outs = expected["out"]
        side_vals = collections.defaultdict(set)
        for o in outs:
            lft, rgt = o.value.split("|", 1)
            side_vals[lft].add(rgt == "null")
            side_vals[rgt].add(lft == "null")
        out["non_joined_then_joined"] = sum(1 for v, flags in side_vals.items() if v != "null" and flags == {True, False})
        emitted = {v for v in side_vals if v != "null"}
        outer_sides = ["left"] if t.params["join"] == "leftjoin" else ["left", "right"] if t.params["join"] == "outerjoin" else []
        out["outer_records_never_emitted"] = sum(1 for side in outer_sides for r in inputs[side]
                                                 if r.key is not None and r.value is not None
                                                 and r.value.decode() not in emitted)
        out["null_key_results"] = sum(1 for o in outs if o.key is None)
    elif t.family == "tt":
        last: Dict[Any, Any] = {}
        n = 0
        for o in expected["out"]:
            if o.value is None and last.get(o.key) is None:
                n += 1
            last[o.key] = o.value
        out["tombstones_without_previous_result"] = n
    elif t.family in ("st", "svt", "sgt"):
        out["null_key_results"] = sum(1 for o in expected["out"] if o.key is None)
    return out


# ============================================================ comparison

@dataclass
class Report:
    name: str
    role: str
    mode: str
    expected: int
    actual: int
    differences: List[str]
    total_differences: int
    notes: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.total_differences == 0

    def text(self) -> str:
        head = "%s %s/%s [%s]: %d expected, %d actual records" % (
            "OK  " if self.ok else "FAIL", self.name, self.role, self.mode, self.expected, self.actual)
        lines = [head]
        if not self.ok:
            lines.append("  %d difference(s)%s:" % (self.total_differences,
                         ", first %d" % len(self.differences) if len(self.differences) < self.total_differences else ""))
            lines += ["    " + d for d in self.differences]
        lines += ["  note: " + n for n in self.notes]
        return "\n".join(lines)

    def to_json(self) -> Dict[str, Any]:
        return {"topology": self.name, "output": self.role, "mode": self.mode, "ok": self.ok,
                "expected": self.expected, "actual": self.actual, "differences": self.total_differences,
                "first_differences": self.differences, "notes": self.notes}


def _fmt_out(o: Optional[Out]) -> str:
    if o is None:
        return "(none)"
    return "key=%s value=%s ts=%s p=%s" % (json.dumps(o.key), json.dumps(o.value), o.timestamp, o.partition)


def per_partition(recs: Iterable[Out]) -> Dict[Optional[int], List[Out]]:
    """Records per partition, in order (None: null-key records of a reference,
    whose partition Kafka Streams' producer picks)."""
    out: Dict[Optional[int], List[Out]] = collections.defaultdict(list)
    for r in recs:
        out[r.partition].append(r)
    return dict(out)


def multiset(recs: Iterable[Out], with_ts: bool = True) -> "collections.Counter[Tuple]":
    """Multiset of (key, value[, timestamp]) - e.g. join results."""
    return collections.Counter(r.ident(with_ts) for r in recs)


def final_values(recs: Iterable[Out]) -> Dict[Any, Any]:
    """Fold records in order: last value per key (per (key, start, end) for
    windowed outputs), a tombstone removes the key."""
    m: Dict[Any, Any] = {}
    for r in recs:
        if r.value is None:
            m.pop(r.key, None)
        else:
            m[r.key] = r.value
    return m


def compare(name: str, role: str, expected: List[Out], actual: List[Out], mode: Optional[str] = None,
            max_diffs: int = 10, check_ts: bool = True) -> Report:
    """Compare decoded output records with the expected ones under ``mode``
    (default: the topology's).  Records are in offset order per partition."""
    mode = mode or topo(name).outputs[role][1]
    diffs: List[str] = []
    total = 0
    notes: List[str] = []

    def add(msg: str) -> None:
        nonlocal total
        total += 1
        if len(diffs) < max_diffs:
            diffs.append(msg)

    def ident(o: Out) -> Tuple:
        return o.ident(check_ts and o.timestamp is not None)

    if mode == M_SEQ:
        # keyed records: exact sequence per partition; null-key records: a multiset
        ep: Dict[Any, List[Out]] = collections.defaultdict(list)
        ap: Dict[Any, List[Out]] = collections.defaultdict(list)
        en: List[Out] = []
        an: List[Out] = []
        for o in expected:
            (en if o.key is None else ep[o.partition]).append(o)
        for o in actual:
            (an if o.key is None else ap[o.partition]).append(o)
        for p in sorted(set(ep) | set(ap), key=lambda x: (x is None, x)):
            e, a = ep.get(p, []), ap.get(p, [])
            for i in range(max(len(e), len(a))):
                eo = e[i] if i < len(e) else None
                ao = a[i] if i < len(a) else None
                if eo is None or ao is None or ident(eo) != (ao.ident(check_ts and eo.timestamp is not None)):
                    add("partition %s #%d: expected %s, got %s" % (p, i, _fmt_out(eo), _fmt_out(ao)))
        ec = collections.Counter(ident(o) for o in en)
        ac = collections.Counter(o.ident(check_ts) for o in an)
        for k in sorted(set(ec) | set(ac), key=repr):
            if ec[k] != ac[k]:
                add("null-key record %s: expected %d, got %d" % (k, ec[k], ac[k]))
    elif mode == M_PERKEY:
        ek: Dict[Any, List[Any]] = collections.defaultdict(list)
        ak: Dict[Any, List[Any]] = collections.defaultdict(list)
        for o in expected:
            ek[o.key].append(o.value)
        for o in actual:
            ak[o.key].append(o.value)
        for k in sorted(set(ek) | set(ak), key=repr):
            if ek.get(k, []) != ak.get(k, []):
                e, a = ek.get(k, []), ak.get(k, [])
                add("key %s: expected %d values %s, got %d values %s" % (
                    json.dumps(k), len(e), _clip(e), len(a), _clip(a)))
    elif mode == M_FINAL:
        ef, af = final_values(expected), final_values(actual)
        for k in sorted(set(ef) | set(af), key=repr):
            if ef.get(k) != af.get(k):
                add("key %s: expected final %s, got %s" % (json.dumps(k), json.dumps(ef.get(k)), json.dumps(af.get(k))))
    elif mode == M_EMITTED:
        ek2: Dict[Any, List[Out]] = collections.defaultdict(list)
        ak2: Dict[Any, List[Out]] = collections.defaultdict(list)
        for o in expected:
            ek2[o.key].append(o)
        for o in actual:
            ak2[o.key].append(o)
        for k in sorted(set(ek2) | set(ak2), key=repr):
            e, a = ek2.get(k, []), ak2.get(k, [])
            if len(a) > 1:
                add("key %s emitted %d times: %s" % (json.dumps(k), len(a), "; ".join(_fmt_out(x) for x in a[:3])))
            elif [ident(x) for x in e] != [x.ident(check_ts and bool(e) and e[0].timestamp is not None) for x in a]:
                add("key %s: expected %s, got %s" % (json.dumps(k), _fmt_out(e[0] if e else None),
                                                     _fmt_out(a[0] if a else None)))
    elif mode == M_MULTISET:
        ec = collections.Counter(ident(o) for o in expected)
        ac = collections.Counter(o.ident(check_ts) for o in actual)
        for k in sorted(set(ec) | set(ac), key=repr):
            if ec[k] != ac[k]:
                add("record %s: expected %d, got %d" % (k, ec[k], ac[k]))
    else:
        raise ValueError("unknown mode %r" % mode)
    return Report(name, role, mode, len(expected), len(actual), diffs, total, notes)


def _clip(xs: List[Any], n: int = 8) -> str:
    s = json.dumps(xs[:n])
    return s[:-1] + ", ...]" if len(xs) > n else s


# ============================================================ CLI

def _brokers(b: Optional[str]) -> str:
    b = b or os.environ.get("BROOK_BROKERS")
    if not b:
        raise SystemExit("oracle: no brokers: pass --brokers or set BROOK_BROKERS")
    return b


def cmd_gen(a: argparse.Namespace) -> int:
    b = _brokers(a.brokers)
    names = names_arg(a.topologies)
    t0 = time.monotonic()
    create_topics(b, a.prefix, names, a.partitions, recreate=a.recreate)
    t1 = time.monotonic()
    counts: Dict[str, int] = {}
    for n in names:
        counts.update(produce_inputs(b, a.prefix, n, generate(n, a.seed, a.records, a.partitions)))
    print(json.dumps({"prefix": a.prefix, "topologies": names, "seed": a.seed, "produced": counts,
                      "create_seconds": round(t1 - t0, 3), "produce_seconds": round(time.monotonic() - t1, 3)}))
    return 0


def cmd_reference(a: argparse.Namespace) -> int:
    out = open(a.output, "w") if a.output else sys.stdout
    try:
        for n in names_arg(a.topologies):
            inputs = generate(n, a.seed, a.records, a.partitions)
            exp = reference(n, inputs, a.partitions)
            if a.behaviours:
                out.write(json.dumps({"topology": n, "behaviours": behaviours(n, inputs, exp)}) + "\n")
                continue
            for role, recs in exp.items():
                for o in recs:
                    out.write(json.dumps({"topology": n, "output": role, "p": o.partition, "ts": o.timestamp,
                                          "key": o.key, "value": o.value}) + "\n")
    finally:
        if a.output:
            out.close()
    return 0


def cmd_read(a: argparse.Namespace) -> int:
    recs = read_topic(_brokers(a.brokers), a.topic, not a.read_uncommitted)
    fmt = a.format
    for r in recs:
        k = decode_key(fmt, r.key) if fmt else _show(r.key)
        v = decode_value(fmt, r.value) if fmt else _show(r.value)
        print(json.dumps({"p": r.partition, "o": r.offset, "ts": r.timestamp, "key": k, "value": v}))
    return 0


def compare_topologies(brokers: str, prefix: str, names: Sequence[str], seed: int, records: Optional[int],
                       partitions: int, output_prefix: Optional[str] = None, outputs: Optional[List[str]] = None,
                       max_diffs: int = 10, check_ts: bool = True, mode: Optional[str] = None) -> List[Report]:
    """Regenerate the inputs of ``names`` (same seed, records, partitions as
    ``gen``), compute the references and compare them with the output topics
    <output_prefix or prefix>-<name>-<role>."""
    reports = []
    for n in names:
        exp = reference(n, generate(n, seed, records, partitions), partitions)
        for role in topo(n).outputs:
            if outputs and role not in outputs:
                continue
            act = decode(n, role, read_topic(brokers, topic(output_prefix or prefix, n, role)))
            reports.append(compare(n, role, exp[role], act, mode=mode, max_diffs=max_diffs, check_ts=check_ts))
    return reports


def _print_reports(reports: List[Report], as_json: bool) -> int:
    bad = [r for r in reports if not r.ok]
    for r in reports:
        print(json.dumps(r.to_json()) if as_json else r.text())
    if not as_json:
        print("%d output(s) compared, %d differ" % (len(reports), len(bad)))
    return 1 if bad else 0


def cmd_compare(a: argparse.Namespace) -> int:
    reports = compare_topologies(_brokers(a.brokers), a.prefix, names_arg(a.topologies), a.seed, a.records,
                                 a.partitions, a.output_prefix, a.outputs.split(",") if a.outputs else None,
                                 a.max_diffs, not a.no_timestamps, a.mode)
    return _print_reports(reports, a.json)


def cmd_compare_topics(a: argparse.Namespace) -> int:
    b = _brokers(a.brokers)
    name, role = a.topology, a.output
    ra = decode(name, role, read_topic(b, a.a))
    rb = decode(name, role, read_topic(b, a.b))
    rep = compare(name, role, ra, rb, mode=a.mode, max_diffs=a.max_diffs, check_ts=not a.no_timestamps)
    return _print_reports([rep], a.json)


def run_oracle(brokers: str, app_id: str, prefix: str, names: Sequence[str], eos: bool = False,
               extra: Sequence[str] = (), timeout_s: int = 600) -> Dict[str, Any]:
    """Run bench/peers/kafka-streams/oracle; return its JSON line (raises on failure)."""
    cmd = [ORACLE, "--brokers", brokers, "--app-id", app_id, "--prefix", prefix,
           "--topologies", ",".join(names)] + (["--eos"] if eos else []) + list(extra)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout_s)
    line = p.stdout.decode().strip().splitlines()[-1] if p.stdout.strip() else ""
    try:
        res = json.loads(line)
    except ValueError:
        raise RuntimeError("oracle failed (exit %d): %s\n%s" % (p.returncode, line, p.stderr.decode()[-4000:]))
    if p.returncode != 0 or "error" in res:
        raise RuntimeError("oracle failed (exit %d): %s\n%s" % (p.returncode, line, p.stderr.decode()[-4000:]))
    res["_stderr_tail"] = p.stderr.decode()[-2000:]
    return res


def cmd_run(a: argparse.Namespace) -> int:
    b = _brokers(a.brokers)
    names = names_arg(a.topologies)
    prefix = a.prefix or "or%d%04d" % (int(time.time()) % 100000, random.randrange(10000))
    t0 = time.monotonic()
    create_topics(b, prefix, names, a.partitions)
    for n in names:
        produce_inputs(b, prefix, n, generate(n, a.seed, a.records, a.partitions))
    t1 = time.monotonic()
    res = run_oracle(b, prefix + "-app", prefix, names, a.eos)
    t2 = time.monotonic()
    reports = compare_topologies(b, prefix, names, a.seed, a.records, a.partitions, max_diffs=a.max_diffs)
    t3 = time.monotonic()
    res.pop("_stderr_tail", None)
    sys.stderr.write("oracle: %s\n" % json.dumps(res))
    sys.stderr.write("timing: gen+produce %.1f s, oracle %.1f s, read+compare %.1f s\n" % (t1 - t0, t2 - t1, t3 - t2))
    return _print_reports(reports, a.json)


def cmd_list(a: argparse.Namespace) -> int:
    for n, t in TOPOS.items():
        print(json.dumps({"name": n, "family": t.family,
                          "inputs": [topic(a.prefix, n, r) for r in t.inputs],
                          "compacted": [topic(a.prefix, n, r) for r in t.compacted],
                          "outputs": {topic(a.prefix, n, r): {"format": f, "mode": m}
                                      for r, (f, m) in t.outputs.items()},
                          "params": t.params}))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="oracle", description=__doc__.split("\n\n")[0])
    ap.add_argument("--brokers", "-b", help="bootstrap list (default $BROOK_BROKERS)")
    sub = ap.add_subparsers(dest="cmd", required=True)

    def data_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--brokers", "-b", default=argparse.SUPPRESS, help="bootstrap list (default $BROOK_BROKERS)")
        p.add_argument("--topologies", "-t", required=True, help="comma-separated names, 'all', or 'prefix*'")
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--records", "-n", type=int, default=None, help="records per topology (default per family)")
        p.add_argument("--partitions", type=int, default=3)

    p = sub.add_parser("list", help="topologies, topics, formats, comparison modes")
    p.add_argument("--prefix", default="P")
    p = sub.add_parser("gen", help="create the topics and produce the inputs")
    p.add_argument("--prefix", required=True)
    p.add_argument("--recreate", action="store_true", help="delete the topics first")
    data_opts(p)
    p = sub.add_parser("reference", help="print the expected outputs as JSON lines")
    p.add_argument("--output", "-o")
    p.add_argument("--behaviours", action="store_true",
                   help="print only counts of the Kafka Streams behaviours the data exercises")
    data_opts(p)
    p = sub.add_parser("read", help="print an output topic's records, decoded")
    p.add_argument("--brokers", "-b", default=argparse.SUPPRESS)
    p.add_argument("--topic", required=True)
    p.add_argument("--format", choices=[F_STR_LONG, F_STR_STR, F_TWIN_LONG, F_SWIN_LONG])
    p.add_argument("--read-uncommitted", action="store_true")
    p = sub.add_parser("compare", help="compare output topics with the reference")
    p.add_argument("--prefix", required=True, help="prefix the inputs were generated with")
    p.add_argument("--output-prefix", help="read outputs <Q>-<name>-<role> instead (e.g. brook's)")
    p.add_argument("--outputs", help="only these output roles (comma-separated)")
    p.add_argument("--mode", choices=[M_SEQ, M_PERKEY, M_FINAL, M_EMITTED, M_MULTISET],
                   help="comparison mode instead of each output's default")
    p.add_argument("--max-diffs", type=int, default=10)
    p.add_argument("--no-timestamps", action="store_true", help="ignore record timestamps")
    p.add_argument("--json", action="store_true")
    data_opts(p)
    p = sub.add_parser("compare-topics", help="compare two output topics (e.g. Kafka Streams' and brook's)")
    p.add_argument("--brokers", "-b", default=argparse.SUPPRESS)
    p.add_argument("--topology", required=True)
    p.add_argument("--output", default="out", help="output role (format and default mode)")
    p.add_argument("--a", required=True, help="expected topic")
    p.add_argument("--b", required=True, help="actual topic")
    p.add_argument("--mode", choices=[M_SEQ, M_PERKEY, M_FINAL, M_EMITTED, M_MULTISET])
    p.add_argument("--max-diffs", type=int, default=10)
    p.add_argument("--no-timestamps", action="store_true")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("run", help="gen + Kafka Streams oracle + compare")
    p.add_argument("--prefix", help="default: a fresh unique one")
    p.add_argument("--eos", action="store_true")
    p.add_argument("--max-diffs", type=int, default=10)
    p.add_argument("--json", action="store_true")
    data_opts(p)
    a = ap.parse_args(argv)
    return {"list": cmd_list, "gen": cmd_gen, "reference": cmd_reference, "read": cmd_read,
            "compare": cmd_compare, "compare-topics": cmd_compare_topics, "run": cmd_run}[a.cmd](a)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. oracle.py read ... | head
        sys.exit(0)
