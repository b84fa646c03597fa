#!/usr/bin/env python3
"""kafkatool - an independent Kafka client for brook's tests.

Built on kafka-python (pure Python, its own implementation of the Kafka
protocol), so test data and verification never go through librdkafka, the
library brook itself is built on.  Use it as a CLI::

    PY="$(scripts/pyenv)"
    $PY tests/py/kafkatool.py create-topic --topic in --partitions 4
    $PY tests/py/kafkatool.py produce --topic in --count 10000 --keyed --compression lz4
    $PY tests/py/kafkatool.py dump --topic out --read-committed
    $PY tests/py/kafkatool.py verify --topic out --count 10000
    $PY tests/py/kafkatool.py wait-committed --group app --topic in --equals-end

or as a module (``sys.path.insert(0, "tests/py"); import kafkatool``): every
subcommand is a function of the same name (``create_topic``, ``produce``,
``produce_records``, ``dump``, ``verify``, ``committed``, ``end_offsets``,
``wait_committed``, ``lag``, ``delete_topic``); ``Offsets`` keeps clients
open for repeated offset queries, ``generate``/``record_value``/
``record_index`` give the deterministic test data.

``--brokers`` defaults to $BROOK_BROKERS (see ``scripts/kafka env``).

Secured listeners (``scripts/kafka start --security``): ``--security NAME``
(before the subcommand) or $KAFKATOOL_SECURITY, NAME one of ``ssl``, ``mtls``,
``scram``, ``plain``, connects through that listener with the CA, client
certificate and user/password of ``scripts/kafka env`` (BROOK_SEC_*,
BROOK_SCRAM_*, BROOK_PLAIN_*); ``--brokers`` then defaults to
$BROOK_BROKERS_<NAME>.  As a module: ``use_security(NAME)``, or
``set_security(kwargs)`` with any kafka-python security options;
``security_options(NAME)`` returns those options.
Results are JSON on stdout (``dump``: one JSON object per line); diagnostics
go to stderr; exit status 0 on success, 1 on failure/timeout, 2 on usage
errors.

Deterministic test data (``produce``): record ``i`` (``i`` from ``--start``
to ``--start + --count - 1``) has

* key ``k<i>`` with ``--keyed``, or ``k<i % K>`` with ``--keyed --keys K``;
  no key (null) without ``--keyed``;
* value ``v<i>;<filler>`` padded with printable filler to ``--value-size``
  bytes (filler depends only on ``--seed`` and ``i``); ``record_index(value)``
  returns ``i``, so a consumer can check completeness and order whatever the
  partitioning;
* headers ``[("i", b"<i>"), ("seed", b"<seed>")]`` with ``--headers``;
* ``--null-keys``: records with i % 10 == 9 have a null key;
  ``--null-values`` (with ``--keyed``): records with i % 10 == 4 have a null
  value (``verify`` skips those indexes: they carry no index);
* timestamp ``--timestamp-base + i * --timestamp-step`` ms when
  ``--timestamp-base`` is given, else the producer's clock.

Partitioning: ``--partition P`` sends everything to P; ``--partitions N``
sends record i to partition ``i % N``; otherwise kafka-python's default
partitioner (murmur2 of the key, as the Java client; NOTE: librdkafka's
default ``consistent_random`` partitioner uses CRC32 and places keys
differently).
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import logging
import os
import random
import string
import sys
import time
from typing import Any, Dict, Iterable, Iterator, List, Optional

try:
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka import errors as kerrors
except ImportError:  # pragma: no cover - only without the venv
    sys.stderr.write("kafkatool: kafka-python missing; run it with the python printed by scripts/pyenv\n")
    raise

log = logging.getLogger("kafkatool")

COMPRESSION = ("none", "gzip", "snappy", "lz4", "zstd")
_FILL_CHARS = (string.ascii_letters + string.digits).encode()


class ToolError(Exception):
    """A failure reported to the CLI user as one line, exit status 1."""


# ----------------------------------------------------------------- security

SECURITY_NAMES = ("ssl", "mtls", "scram", "plain")
# kafka-python options of every client kafkatool makes (set_security)
_SECURITY: Dict[str, Any] = {}
# env variable with the default bootstrap list (BROOK_BROKERS_<NAME> once a
# listener was chosen with use_security)
_BROKERS_ENV = "BROOK_BROKERS"


def security_options(name: str, env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """kafka-python options for the ``scripts/kafka start --security``
    listener ``name`` (ssl, mtls, scram, plain), from the variables of
    ``scripts/kafka env``."""
    e = os.environ if env is None else env

    def need(var: str) -> str:
        v = e.get(var)
        if not v:
            raise ToolError("%s is not set: eval \"$(scripts/kafka env --export)\" of a cluster started "
                            "with --security" % var)
        return v

    if name in ("ssl", "mtls", "scram"):
        opts: Dict[str, Any] = {"security_protocol": "SASL_SSL" if name == "scram" else "SSL",
                                "ssl_cafile": need("BROOK_SEC_CA"), "ssl_check_hostname": True}
        if name == "mtls":
            opts.update(ssl_certfile=need("BROOK_SEC_CLIENT_CERT"), ssl_keyfile=need("BROOK_SEC_CLIENT_KEY"))
        if name == "scram":
            opts.update(sasl_mechanism=e.get("BROOK_SCRAM_MECHANISM") or "SCRAM-SHA-512",
                        sasl_plain_username=need("BROOK_SCRAM_USER"),
                        sasl_plain_password=need("BROOK_SCRAM_PASSWORD"))
        return opts
    if name == "plain":
        return {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
                "sasl_plain_username": need("BROOK_PLAIN_USER"),
                "sasl_plain_password": need("BROOK_PLAIN_PASSWORD")}
    raise ToolError("unknown security listener %r (one of %s)" % (name, ", ".join(SECURITY_NAMES)))


def set_security(options: Optional[Dict[str, Any]], brokers_env: str = "BROOK_BROKERS") -> None:
    """Give every client kafkatool makes these kafka-python options (None:
    plaintext again); ``brokers_env`` names the default bootstrap variable."""
    global _BROKERS_ENV
    _SECURITY.clear()
    _SECURITY.update(options or {})
    _BROKERS_ENV = brokers_env


def use_security(name: Optional[str]) -> None:
    """Talk to the ``name`` listener (see security_options); None or "" for PLAINTEXT."""
    if not name:
        set_security(None)
    else:
        set_security(security_options(name), "BROOK_BROKERS_" + name.upper())


# ----------------------------------------------------------------- helpers

def _brokers(brokers: Optional[str]) -> List[str]:
    b = brokers or os.environ.get(_BROKERS_ENV, "")
    if not b:
        raise ToolError("no brokers: pass --brokers or set %s (eval \"$(scripts/kafka env)\")" % _BROKERS_ENV)
    return [x.strip() for x in b.split(",") if x.strip()]


def _admin(brokers: Optional[str]) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=_brokers(brokers), client_id="kafkatool-admin",
                            request_timeout_ms=30000, **_SECURITY)


def _consumer(brokers: Optional[str], read_committed: bool = False, **kw: Any) -> KafkaConsumer:
    return KafkaConsumer(bootstrap_servers=_brokers(brokers), client_id="kafkatool-consumer",
                         enable_auto_commit=False, auto_offset_reset="earliest",
                         isolation_level="read_committed" if read_committed else "read_uncommitted",
                         **_SECURITY, **kw)


def _partitions(consumer: KafkaConsumer, topic: str, timeout_ms: int = 10000) -> List[int]:
    """Partition ids of ``topic`` (ToolError if it does not show up in time)."""
    deadline = time.monotonic() + timeout_ms / 1000.0
    while True:
        parts = consumer.partitions_for_topic(topic)
        if parts:
            return sorted(parts)
        if time.monotonic() >= deadline:
            raise ToolError("topic %r not found" % topic)
        time.sleep(0.2)


def _enc(b: Optional[bytes], force_b64: bool = False):
    """Bytes to (json value, encoding): utf-8 text when possible, else base64."""
    if b is None:
        return None, None
    if not force_b64:
        try:
            return b.decode("utf-8"), None
        except UnicodeDecodeError:
            pass
    return base64.b64encode(b).decode("ascii"), "base64"


def _dec(v: Any, b64: bool) -> Optional[bytes]:
    """JSON value to bytes (None stays None); base64-decoded when ``b64``."""
    if v is None:
        return None
    if b64:
        return base64.b64decode(v)
    if isinstance(v, str):
        return v.encode("utf-8")
    return json.dumps(v, separators=(",", ":")).encode("utf-8")


def _retry(fn, timeout_ms: int = 30000, what: str = "request"):
    """Call ``fn()`` until it does not raise a retriable Kafka error (e.g.
    COORDINATOR_NOT_AVAILABLE while __consumer_offsets is being created on a
    fresh cluster, or a leader moving during a fault test)."""
    deadline = time.monotonic() + timeout_ms / 1000.0
    delay = 0.1
    while True:
        try:
            return fn()
        except kerrors.KafkaError as e:
            if not getattr(e, "retriable", False) or time.monotonic() + delay >= deadline:
                raise
            log.info("%s: %s; retrying", what, e)
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def _jkeys(d: Dict[int, Any]) -> Dict[str, Any]:
    return {str(k): d[k] for k in sorted(d)}


# ---------------------------------------------------------- deterministic data

def record_key(i: int, keys: Optional[int] = None) -> bytes:
    """Key of record ``i`` (``k<i>``, or ``k<i % keys>``)."""
    return ("k%d" % (i % keys if keys else i)).encode()


def record_value(i: int, seed: int = 0, size: int = 0) -> bytes:
    """Value of record ``i``: ``v<i>;`` plus deterministic filler up to ``size`` bytes."""
    head = b"v%d;" % i
    n = size - len(head)
    if n <= 0:
        return head
    pool = _pool(seed)
    off = (i * 2654435761) % _POOL_SIZE
    if n <= _POOL_SIZE:
        return head + pool[off:off + n]
    return head + (pool[off:off + _POOL_SIZE] * (n // _POOL_SIZE + 1))[:n]


_POOL_SIZE = 1 << 16


@functools.lru_cache(maxsize=8)
def _pool(seed: int) -> bytes:
    """64 KiB of printable filler from ``seed``, doubled so any slice of up to 64 KiB fits."""
    rng = random.Random(seed)
    block = bytes(_FILL_CHARS[rng.randrange(len(_FILL_CHARS))] for _ in range(_POOL_SIZE))
    return block + block


def record_index(value: Optional[bytes]) -> Optional[int]:
    """Index ``i`` encoded in a ``produce`` value, or None if it is not one."""
    if not value or not value.startswith(b"v"):
        return None
    head = value.split(b";", 1)[0][1:]
    return int(head) if head.isdigit() else None


# ------------------------------------------------------------- subcommands

def create_topic(brokers: Optional[str], topic: str, partitions: int, rf: Optional[int] = None,
                 config: Optional[Dict[str, str]] = None, timeout_ms: int = 30000) -> Dict[str, Any]:
    """Create ``topic``; fine if it already exists with the same partition count."""
    admin = _admin(brokers)
    try:
        spec = {"num_partitions": partitions, "replication_factor": rf if rf else -1,
                "configs": dict(config or {})}
        created = True
        try:
            _retry(lambda: admin.create_topics({topic: spec}, timeout_ms=timeout_ms),
                   timeout_ms, "create_topics")
        except kerrors.TopicAlreadyExistsError:
            created = False
        info = [t for t in admin.describe_topics([topic]) if t["name"] == topic]
        have = len(info[0]["partitions"]) if info else -1
        if not created and have != partitions:
            raise ToolError("topic %r exists with %d partitions, not %d" % (topic, have, partitions))
        if created:
            admin.wait_for_topics([topic], timeout_ms=timeout_ms)
        return {"topic": topic, "partitions": partitions, "created": created}
    finally:
        admin.close()


def delete_topic(brokers: Optional[str], topic: str, timeout_ms: int = 30000) -> Dict[str, Any]:
    """Delete ``topic``; fine if it does not exist."""
    admin = _admin(brokers)
    try:
        try:
            admin.delete_topics([topic], timeout_ms=timeout_ms)
            return {"topic": topic, "deleted": True}
        except kerrors.UnknownTopicOrPartitionError:
            return {"topic": topic, "deleted": False}
    finally:
        admin.close()


class _Tally:
    """Collects delivery reports of a producer."""

    def __init__(self) -> None:
        self.count: Dict[int, int] = {}
        self.first: Dict[int, int] = {}
        self.last: Dict[int, int] = {}
        self.errors: List[str] = []

    def ok(self, md: Any) -> None:
        p = md.partition
        self.count[p] = self.count.get(p, 0) + 1
        if p not in self.first or md.offset < self.first[p]:
            self.first[p] = md.offset
        if md.offset > self.last.get(p, -1):
            self.last[p] = md.offset

    def err(self, exc: BaseException) -> None:
        if len(self.errors) < 20:
            self.errors.append(repr(exc))
        else:
            self.errors.append("")

    def summary(self, topic: str, seconds: float) -> Dict[str, Any]:
        return {"topic": topic, "count": sum(self.count.values()),
                "errors": len(self.errors), "error_samples": [e for e in self.errors if e][:5],
                "partitions": _jkeys(self.count), "first_offset": _jkeys(self.first),
                "last_offset": _jkeys(self.last), "seconds": round(seconds, 3)}


def produce_records(brokers: Optional[str], topic: str, records: Iterable[Dict[str, Any]],
                    compression: str = "none", acks: Any = "all", linger_ms: int = 5,
                    transactional_id: Optional[str] = None, abort: bool = False,
                    idempotent: bool = True) -> Dict[str, Any]:
    """Produce ``records`` (dicts with bytes/None ``key``, ``value``, optional
    ``partition``, ``headers`` [(str, bytes)], ``timestamp`` ms) and wait for
    every delivery.  With ``transactional_id`` all records go into one
    transaction, committed (or aborted with ``abort``).  Returns a summary
    (count, per-partition count/first/last offset, errors)."""
    if compression not in COMPRESSION:
        raise ToolError("unknown compression %r" % compression)
    kw: Dict[str, Any] = {}
    if transactional_id:
        kw["transactional_id"] = transactional_id
    producer = KafkaProducer(bootstrap_servers=_brokers(brokers), client_id="kafkatool-producer",
                             acks=acks, linger_ms=linger_ms, max_in_flight_requests_per_connection=5,
                             enable_idempotence=bool(idempotent or transactional_id),
                             compression_type=None if compression == "none" else compression,
                             batch_size=256 * 1024, max_block_ms=10000, **_SECURITY, **kw)
    tally = _Tally()
    t0 = time.monotonic()
    try:
        try:
            producer.partitions_for(topic)
        except kerrors.KafkaTimeoutError:
            raise ToolError("topic %r not found" % topic) from None
        if transactional_id:
            producer.init_transactions()
            producer.begin_transaction()
        for r in records:
            if r.get("key") is None and r.get("value") is None:
                raise ToolError("kafka-python cannot send a record whose key and value are both null")
            fut = producer.send(topic, key=r.get("key"), value=r.get("value"),
                                partition=r.get("partition"), headers=r.get("headers") or None,
                                timestamp_ms=r.get("timestamp"))
            fut.add_callback(tally.ok)
            fut.add_errback(tally.err)
        producer.flush()
        if transactional_id:
            if abort:
                producer.abort_transaction()
            else:
                producer.commit_transaction()
    finally:
        producer.close()
    out = tally.summary(topic, time.monotonic() - t0)
    if transactional_id:
        out["transaction"] = "aborted" if abort else "committed"
    if tally.errors:
        raise ToolError("produce: %d delivery errors, e.g. %s; %s"
                        % (len(tally.errors), tally.errors[0], json.dumps(out)))
    return out


def generate(count: int, start: int = 0, keyed: bool = False, keys: Optional[int] = None,
             value_size: int = 0, seed: int = 0, partitions: Optional[int] = None,
             partition: Optional[int] = None, headers: bool = False, null_keys: bool = False,
             null_values: bool = False, timestamp_base: Optional[int] = None,
             timestamp_step: int = 1) -> Iterator[Dict[str, Any]]:
    """The deterministic records of ``produce`` (see module docstring).
    ``null_keys``: records with i % 10 == 9 get a null key; ``null_values``
    (needs ``keyed``): records with i % 10 == 4 get a null value (tombstone),
    so no record has both null (kafka-python refuses to send that)."""
    if null_values and not keyed:
        raise ToolError("--null-values needs --keyed (kafka-python cannot send null key and value)")
    for i in range(start, start + count):
        rec: Dict[str, Any] = {
            "key": record_key(i, keys) if keyed else None,
            "value": record_value(i, seed, value_size),
        }
        if null_keys and i % 10 == 9:
            rec["key"] = None
        if null_values and i % 10 == 4:
            rec["value"] = None
        if partition is not None:
            rec["partition"] = partition
        elif partitions:
            rec["partition"] = i % partitions
        if headers:
            rec["headers"] = [("i", str(i).encode()), ("seed", str(seed).encode())]
        if timestamp_base is not None:
            rec["timestamp"] = timestamp_base + (i - start) * timestamp_step
        yield rec


def produce(brokers: Optional[str], topic: str, count: int, compression: str = "none",
            transactional_id: Optional[str] = None, abort: bool = False, acks: Any = "all",
            **gen: Any) -> Dict[str, Any]:
    """Produce ``count`` deterministic records (``generate(**gen)``)."""
    return produce_records(brokers, topic, generate(count, **gen), compression=compression,
                           acks=acks, transactional_id=transactional_id, abort=abort)


def parse_json_records(lines: Iterable[str], b64: bool = False) -> Iterator[Dict[str, Any]]:
    """Records for ``produce_records`` from JSON lines ``{"key":..,"value":..,
    "partition":..,"headers":[[k,v],..],"timestamp":..}`` (null key/value kept;
    non-string values are JSON-encoded; with ``b64`` key, value and header
    values are base64)."""
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            o = json.loads(line)
        except ValueError as e:
            raise ToolError("stdin line %d: %s" % (n, e)) from None
        rec = {"key": _dec(o.get("key"), b64), "value": _dec(o.get("value"), b64)}
        if o.get("partition") is not None:
            rec["partition"] = int(o["partition"])
        if o.get("timestamp") is not None:
            rec["timestamp"] = int(o["timestamp"])
        if o.get("headers"):
            if any(v is None for _, v in o["headers"]):
                raise ToolError("stdin line %d: null header values are not supported by kafka-python" % n)
            rec["headers"] = [(str(k), _dec(v, b64)) for k, v in o["headers"]]
        yield rec


class Offsets:
    """Reusable clients for offset queries (one consumer, one admin client);
    use as a context manager.  The module functions below wrap it."""

    def __init__(self, brokers: Optional[str], read_committed: bool = False) -> None:
        self._brokers = brokers
        self._consumer = _consumer(brokers, read_committed)
        self._admin: Optional[KafkaAdminClient] = None

    def __enter__(self) -> "Offsets":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._consumer.close()
        if self._admin is not None:
            self._admin.close()

    def partitions(self, topic: str) -> List[int]:
        return _partitions(self._consumer, topic)

    def end(self, topic: str) -> Dict[int, int]:
        """{partition: high watermark} (last stable offset if read_committed)."""
        tps = [TopicPartition(topic, p) for p in self.partitions(topic)]
        ends = _retry(lambda: self._consumer.end_offsets(tps), what="end_offsets")
        return {tp.partition: ends[tp] for tp in sorted(ends, key=lambda t: t.partition)}

    def committed(self, group: str, topic: str) -> Dict[int, int]:
        """{partition: committed offset of ``group``, or -1}."""
        parts = self.partitions(topic)
        if self._admin is None:
            self._admin = _admin(self._brokers)
        admin = self._admin
        try:
            offs = _retry(lambda: admin.list_group_offsets({group: None}),
                          what="list_group_offsets").get(group, {})
        except kerrors.GroupIdNotFoundError:
            offs = {}
        out = {p: -1 for p in parts}
        for tp, om in offs.items():
            if tp.topic == topic and om is not None and om.offset is not None and om.offset >= 0:
                out[tp.partition] = om.offset
        return out


def end_offsets(brokers: Optional[str], topic: str, read_committed: bool = False) -> Dict[int, int]:
    """{partition: high watermark} (last stable offset with ``read_committed``)."""
    with Offsets(brokers, read_committed) as o:
        return o.end(topic)


def committed(brokers: Optional[str], group: str, topic: str) -> Dict[int, int]:
    """{partition: committed offset of ``group``, or -1} for every partition of ``topic``."""
    with Offsets(brokers) as o:
        return o.committed(group, topic)


def lag(brokers: Optional[str], group: str, topic: str) -> Dict[str, Any]:
    """Per-partition and total lag (end offset - committed; whole end if nothing committed)."""
    with Offsets(brokers) as o:
        ends = o.end(topic)
        com = o.committed(group, topic)
    per = {p: ends[p] - max(com.get(p, -1), 0) for p in ends}
    return {"group": group, "topic": topic, "total": sum(per.values()), "partitions": _jkeys(per),
            "committed": _jkeys(com), "end": _jkeys(ends)}


def wait_committed(brokers: Optional[str], group: str, topic: str, timeout_ms: int = 30000,
                   offsets: Optional[Dict[int, int]] = None, interval_ms: int = 200) -> Dict[str, Any]:
    """Wait until ``group``'s committed offsets on ``topic`` equal the topic's
    end offsets (or ``offsets``, {partition: offset}).  A partition with end
    offset 0 counts as done without a commit.  Returns the final state with
    ``ok`` true/false (false on timeout)."""
    deadline = time.monotonic() + timeout_ms / 1000.0
    with Offsets(brokers) as o:
        while True:
            target = dict(offsets) if offsets is not None else o.end(topic)
            com = o.committed(group, topic)
            pending = {p: (com.get(p, -1), want) for p, want in target.items()
                       if com.get(p, -1) != want and not (want == 0 and com.get(p, -1) == -1)}
            if not pending or time.monotonic() >= deadline:
                return {"ok": not pending, "group": group, "topic": topic,
                        "committed": _jkeys(com), "target": _jkeys(target),
                        "pending": {str(p): {"committed": c, "target": w}
                                    for p, (c, w) in sorted(pending.items())}}
            time.sleep(interval_ms / 1000.0)


def dump(brokers: Optional[str], topic: str, partitions: Optional[List[int]] = None,
         read_committed: bool = False, timeout_ms: int = 30000, b64: bool = False,
         max_records: Optional[int] = None, stats: Optional[Dict[str, Any]] = None
         ) -> Iterator[Dict[str, Any]]:
    """Yield every record of ``topic`` from the beginning up to the end
    offsets taken when the dump starts, as dicts: topic, partition, offset,
    key, value, headers [[k, v]], timestamp, timestamp_type; keys/values are
    utf-8 text, or base64 (then ``key_encoding``/``value_encoding`` say
    "base64"; ``b64`` forces base64 for all).  Raises ToolError when the end is
    not reached within ``timeout_ms`` (records read so far are yielded
    first).  ``stats`` (dict), if given, receives the record count and end
    offsets."""
    c = _consumer(brokers, read_committed, max_partition_fetch_bytes=4 * 1024 * 1024)
    try:
        parts = partitions if partitions is not None else _partitions(c, topic)
        tps = [TopicPartition(topic, p) for p in parts]
        c.assign(tps)
        ends = c.end_offsets(tps)
        begins = c.beginning_offsets(tps)
        c.seek_to_beginning(*tps)
        todo = {tp for tp in tps if ends[tp] > begins[tp]}
        n = 0
        deadline = time.monotonic() + timeout_ms / 1000.0
        while todo:
            if time.monotonic() >= deadline:
                left = {str(tp.partition): {"position": c.position(tp), "end": ends[tp]} for tp in sorted(todo)}
                raise ToolError("dump %s: end not reached within %d ms: %s" % (topic, timeout_ms, json.dumps(left)))
            batch = c.poll(timeout_ms=200, max_records=5000)
            for tp, recs in batch.items():
                for r in recs:
                    if r.offset >= ends[tp]:
                        continue
                    key, kenc = _enc(r.key, b64)
                    val, venc = _enc(r.value, b64)
                    out = {"topic": r.topic, "partition": r.partition, "offset": r.offset,
                           "key": key, "value": val,
                           "headers": [[k, _enc(v, b64)[0]] for k, v in (r.headers or [])],
                           "timestamp": r.timestamp, "timestamp_type": r.timestamp_type}
                    if kenc:
                        out["key_encoding"] = kenc
                    if venc:
                        out["value_encoding"] = venc
                    n += 1
                    yield out
                    if max_records is not None and n >= max_records:
                        return
            for tp in list(todo):
                if c.position(tp) >= ends[tp]:
                    todo.discard(tp)
        if stats is not None:
            stats.update({"records": n, "end": _jkeys({tp.partition: ends[tp] for tp in tps})})
    finally:
        c.close()


def verify(brokers: Optional[str], topic: str, count: int, start: int = 0,
           read_committed: bool = False, allow_duplicates: bool = False,
           null_values: bool = False, timeout_ms: int = 60000) -> Dict[str, Any]:
    """Check that ``topic`` holds the ``produce`` records start..start+count-1:
    each index present (exactly once unless ``allow_duplicates``), no foreign
    records, and, per partition and key, indexes increasing.  With
    ``null_values`` (data produced with --null-values) the tombstones
    (i % 10 == 4) are expected instead of those indexes.  Returns a report
    with ``ok``."""
    expected = [i for i in range(start, start + count) if not (null_values and i % 10 == 4)]
    seen: Dict[int, int] = {}
    foreign = tombstones = order_violations = 0
    last_by_key: Dict[Any, int] = {}
    for r in dump(brokers, topic, read_committed=read_committed, timeout_ms=timeout_ms):
        v = r["value"]
        if v is None and null_values:
            tombstones += 1
            continue
        idx = record_index(v.encode("utf-8")) if isinstance(v, str) and "value_encoding" not in r else None
        if idx is None or not start <= idx < start + count:
            foreign += 1
            continue
        seen[idx] = seen.get(idx, 0) + 1
        if r["key"] is not None:
            k = (r["partition"], r["key"])
            if idx <= last_by_key.get(k, -1):
                order_violations += 1
            last_by_key[k] = idx
    missing = [i for i in expected if i not in seen]
    dups = sum(n - 1 for n in seen.values() if n > 1)
    want_tomb = count - len(expected)
    ok = (not missing and not foreign and not order_violations and (allow_duplicates or not dups)
          and (tombstones == want_tomb or (allow_duplicates and tombstones >= want_tomb)))
    return {"ok": ok, "topic": topic, "expected": len(expected), "unique": len(seen),
            "records": sum(seen.values()) + foreign + tombstones, "missing": len(missing),
            "missing_sample": missing[:10], "duplicates": dups, "foreign": foreign,
            "tombstones": tombstones, "order_violations": order_violations}


# --------------------------------------------------------------------- CLI

def _kv(s: str) -> tuple:
    if "=" not in s:
        raise argparse.ArgumentTypeError("expected key=value, got %r" % s)
    k, v = s.split("=", 1)
    return k, v


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="kafkatool", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-v", "--verbose", action="store_true", help="kafka-python debug logging")
    ap.add_argument("--brokers", "-b", dest="global_brokers", metavar="BROKERS",
                    help="bootstrap list, also accepted after the subcommand (default $BROOK_BROKERS)")
    ap.add_argument("--security", choices=SECURITY_NAMES, default=os.environ.get("KAFKATOOL_SECURITY") or None,
                    help="use this listener of `scripts/kafka start --security` (default $KAFKATOOL_SECURITY; "
                         "brokers default to $BROOK_BROKERS_<NAME>)")
    sub = ap.add_subparsers(dest="cmd", required=True)

    def add(name: str, help_: str, topic: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--brokers", "-b", help="bootstrap list (default $BROOK_BROKERS)")
        if topic:
            p.add_argument("--topic", "-t", required=True)
        return p

    p = add("create-topic", "create a topic (ok if it exists with the same partition count)")
    p.add_argument("--partitions", "-p", type=int, required=True)
    p.add_argument("--rf", "--replication-factor", type=int, default=None, help="default: broker default")
    p.add_argument("--config", "-c", type=_kv, action="append", default=[], metavar="K=V")
    p.add_argument("--timeout-ms", type=int, default=30000)

    p = add("delete-topic", "delete a topic (ok if missing)")
    p.add_argument("--timeout-ms", type=int, default=30000)

    def producer_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--compression", "-z", choices=COMPRESSION, default="none")
        p.add_argument("--acks", default="all", help="all, 1 or 0 (default all)")
        p.add_argument("--transactional-id", help="produce everything in one transaction")
        p.add_argument("--abort", action="store_true", help="abort that transaction instead of committing")

    p = add("produce", "produce deterministic records (see module docstring)")
    p.add_argument("--count", "-n", type=int, required=True)
    p.add_argument("--start", type=int, default=0, help="index of the first record (default 0)")
    p.add_argument("--keyed", action="store_true", help="keys k<i> (default: null keys)")
    p.add_argument("--keys", type=int, default=None, help="with --keyed: only K distinct keys k<i %% K>")
    p.add_argument("--value-size", type=int, default=0, help="pad values to this many bytes")
    p.add_argument("--seed", type=int, default=0)
    grp = p.add_mutually_exclusive_group()
    grp.add_argument("--partitions", type=int, default=None, help="record i to partition i %% N")
    grp.add_argument("--partition", type=int, default=None, help="all records to this partition")
    p.add_argument("--headers", action="store_true", help="add headers i=<i>, seed=<seed>")
    p.add_argument("--null-keys", action="store_true", help="every 10th record (i %% 10 == 9) has a null key")
    p.add_argument("--null-values", action="store_true",
                   help="with --keyed: records with i %% 10 == 4 have a null value (tombstone)")
    p.add_argument("--timestamp-base", type=int, default=None, help="timestamp of record i: base + (i-start)*step ms")
    p.add_argument("--timestamp-step", type=int, default=1)
    producer_opts(p)

    p = add("produce-json", "produce JSON-lines records read from stdin")
    p.add_argument("--base64", action="store_true", help="key, value and header values are base64")
    producer_opts(p)

    p = add("dump", "print every record (from the beginning up to the current end) as JSON lines")
    p.add_argument("--from-beginning", action="store_true", help="(default; accepted for familiarity)")
    p.add_argument("--partition", type=int, action="append", default=None, help="only these partitions")
    p.add_argument("--read-committed", action="store_true", help="isolation.level=read_committed")
    p.add_argument("--base64", action="store_true", help="print all keys/values/headers base64")
    p.add_argument("--max-records", type=int, default=None)
    p.add_argument("--timeout-ms", type=int, default=30000)

    p = add("verify", "check a topic holds produce's records start..start+count-1 exactly once, in key order")
    p.add_argument("--count", "-n", type=int, required=True)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--read-committed", action="store_true")
    p.add_argument("--allow-duplicates", action="store_true")
    p.add_argument("--null-values", action="store_true", help="data was produced with --null-values")
    p.add_argument("--timeout-ms", type=int, default=60000)

    p = add("end-offsets", "print {partition: high watermark}")
    p.add_argument("--read-committed", action="store_true", help="last stable offsets instead")

    for name, help_ in (("committed", "print {partition: committed offset or -1} of a group"),
                        ("lag", "print a group's lag per partition and in total")):
        p = add(name, help_)
        p.add_argument("--group", "-g", required=True)

    p = add("wait-committed", "wait until a group's committed offsets reach the end offsets")
    p.add_argument("--group", "-g", required=True)
    p.add_argument("--equals-end", action="store_true", help="target = current end offsets (default)")
    p.add_argument("--offsets", help='explicit target as JSON {"partition": offset}')
    p.add_argument("--timeout-ms", type=int, default=30000)
    return ap


def _print(o: Any) -> None:
    sys.stdout.write(json.dumps(o, sort_keys=False) + "\n")


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
    try:
        use_security(args.security)
        b = args.brokers or args.global_brokers
        if args.cmd == "create-topic":
            _print(create_topic(b, args.topic, args.partitions, args.rf, dict(args.config), args.timeout_ms))
        elif args.cmd == "delete-topic":
            _print(delete_topic(b, args.topic, args.timeout_ms))
        elif args.cmd in ("produce", "produce-json"):
            acks: Any = args.acks if args.acks == "all" else int(args.acks)
            common = dict(compression=args.compression, acks=acks,
                          transactional_id=args.transactional_id, abort=args.abort)
            if args.cmd == "produce":
                _print(produce(b, args.topic, args.count, start=args.start, keyed=args.keyed,
                               keys=args.keys, value_size=args.value_size, seed=args.seed,
                               partitions=args.partitions, partition=args.partition,
                               headers=args.headers, null_keys=args.null_keys,
                               null_values=args.null_values, timestamp_base=args.timestamp_base,
                               timestamp_step=args.timestamp_step, **common))
            else:
                _print(produce_records(b, args.topic, parse_json_records(sys.stdin, args.base64), **common))
        elif args.cmd == "dump":
            stats: Dict[str, Any] = {}
            for r in dump(b, args.topic, args.partition, args.read_committed, args.timeout_ms,
                          args.base64, args.max_records, stats):
                _print(r)
            if stats:
                log.info("dumped %s", stats)
        elif args.cmd == "verify":
            rep = verify(b, args.topic, args.count, args.start, args.read_committed,
                         args.allow_duplicates, args.null_values, args.timeout_ms)
            _print(rep)
            return 0 if rep["ok"] else 1
        elif args.cmd == "end-offsets":
            _print(_jkeys(end_offsets(b, args.topic, args.read_committed)))
        elif args.cmd == "committed":
            _print(_jkeys(committed(b, args.group, args.topic)))
        elif args.cmd == "lag":
            _print(lag(b, args.group, args.topic))
        elif args.cmd == "wait-committed":
            target = None
            if args.offsets:
                target = {int(k): int(v) for k, v in json.loads(args.offsets).items()}
            rep = wait_committed(b, args.group, args.topic, args.timeout_ms, target)
            _print(rep)
            return 0 if rep["ok"] else 1
        return 0
    except ToolError as e:
        sys.stderr.write("kafkatool: %s\n" % e)
        return 1
    except kerrors.KafkaError as e:
        sys.stderr.write("kafkatool: %s: %s\n" % (type(e).__name__, e))
        return 1
    except BrokenPipeError:  # e.g. dump | head
        return 0


if __name__ == "__main__":
    sys.exit(main())
