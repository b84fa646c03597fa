"""brooktest - shared helpers of brook's real-broker tests (tests/broker/2NNN-*.py).

A test is a standalone script::

    import brooktest as bt

    def main(t):
        topic = t.topic("in", partitions=4)
        t.produce(topic, 1000, keyed=True, partitions=4)
        c = t.consumer(topic, group=t.name("g"), record=True)
        ...
        t.check(cond, "what went wrong")
        t.summary("what was measured")

    bt.run(main)

``run`` skips (exit 0, loudly) only when BROOK_BROKERS is unset; any failed
check, exception or timeout prints ``FAIL: <reason>`` plus the tail of every
brook-testconsumer's stderr and exits 1.  Consumers that are still running
are killed, clusters the test started are stopped (``t.cleanup``).

Everything a test verifies goes through kafkatool (kafka-python, an
independent Kafka client) or through the files brook-testconsumer writes from
inside its handlers (--record, --events, --dump, --dead-letters); brook's own
counters are never trusted.

Environment: BROOK_BROKERS (bootstrap list), BROOK_BUILD_DIR (holds the
driver programs built from tests/drivers/, brook-testconsumer and
brook-teldriver; default <source>/build), BROOK_SOURCE_DIR,
BROOK_TEST_TIMEOUT_MULT (scales timeouts for sanitizer builds, default 1),
BROOK_TEST_KEEP=1 (keep the work directory of a passing test).
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

import kafkatool as kt

SOURCE_DIR = os.environ.get("BROOK_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.environ.get("BROOK_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
MULT = float(os.environ.get("BROOK_TEST_TIMEOUT_MULT") or 1)
KAFKA = os.path.join(SOURCE_DIR, "scripts", "kafka")

PO = Tuple[int, int]  # (partition, offset)

# Settings of every test consumer unless a test overrides them: a member
# that died (SIGKILL) leaves the group after 6 s (the broker's minimum
# group.min.session.timeout.ms) instead of librdkafka's default 45 s.
DEFAULT_SETTINGS = {"kafka.session.timeout.ms": 6000, "kafka.heartbeat.interval.ms": 1000}


class Fail(Exception):
    """A failed check: the message says what was expected and what was seen."""


def now() -> float:
    return time.monotonic()


def wait_until(pred: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``pred`` until it returns something true (returned); Fail after
    ``timeout`` seconds (scaled by BROOK_TEST_TIMEOUT_MULT)."""
    deadline = now() + timeout * MULT
    while True:
        v = pred()
        if v:
            return v
        if now() >= deadline:
            raise Fail("timed out after %.0f s waiting for %s" % (timeout * MULT, what))
        time.sleep(interval)


# ------------------------------------------------------------------ files

def read_records(path: str) -> List[Tuple[int, int, int]]:
    """--record file: [(partition, offset, retry_count)] (complete lines only)."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                break  # torn by SIGKILL
            p, o, r = line.split()[:3]
            out.append((int(p), int(o), int(r)))
    return out


def read_events(path: str) -> List[List[Any]]:
    """--events file: [[kind, wall_ms, ints...]] (see brook-testconsumer)."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                break
            parts = line.split()
            out.append([parts[0]] + [int(x) for x in parts[1:]])
    return out


def read_dead_letters(path: str) -> List[Tuple[int, int, str]]:
    """--dead-letters file: [(partition, offset, reason)]."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                break
            p, o, reason = (line.rstrip("\n").split(" ", 2) + [""])[:3]
            out.append((int(p), int(o), reason))
    return out


def _b(v: Optional[str]) -> Optional[bytes]:
    return None if v is None else base64.b64decode(v)


def read_dump(path: str) -> List[Dict[str, Any]]:
    """--dump file: dicts with p, o, r, ts, key, value (bytes or None) and
    headers [(name str, value bytes or None)]."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                break
            d = json.loads(line)
            out.append({"p": d["p"], "o": d["o"], "r": d["r"], "ts": d["ts"],
                        "key": _b(d["k"]), "value": _b(d["v"]),
                        "headers": [(_b(n).decode("utf-8"), _b(v)) for n, v in d["h"]]})
    return out


def all_offsets(end: Dict[int, int], begin: Optional[Dict[int, int]] = None) -> Set[PO]:
    """Every (partition, offset) below the end offsets."""
    return {(p, o) for p, e in end.items() for o in range((begin or {}).get(p, 0), e)}


def count_po(records: Iterable[Tuple[int, int, int]]) -> Dict[PO, int]:
    n: Dict[PO, int] = {}
    for p, o, _ in records:
        n[(p, o)] = n.get((p, o), 0) + 1
    return n


def sample(s: Iterable[Any], k: int = 8) -> str:
    s = sorted(s)
    return "%s%s" % (s[:k], " ... (%d)" % len(s) if len(s) > k else "")


def check_prefix_processed(committed: Dict[int, int], processed: Set[PO], what: str = "") -> None:
    """Committed offsets never pass an unprocessed message: every offset
    below each committed offset was processed."""
    for p, c in committed.items():
        missing = [o for o in range(0, max(c, 0)) if (p, o) not in processed]
        if missing:
            raise Fail("%scommitted offset %d of partition %d passes %d unprocessed message(s), e.g. offsets %s"
                       % (what, c, p, len(missing), missing[:10]))


# -------------------------------------------------------------- consumers

class Consumer:
    """A brook-testconsumer process (tests/drivers/brook-testconsumer.c);
    its files live in the test's work dir."""

    def __init__(self, t: "Test", label: str, topic: str, group: str, brokers: str,
                 args: List[str], record: bool, events: bool, dead_letters: bool,
                 dump: bool) -> None:
        self.t = t
        self.label = label
        self.group = group
        base = os.path.join(t.dir, label)
        self.record_path = base + ".rec" if record else None
        self.events_path = base + ".events" if events else None
        self.dl_path = base + ".dl" if dead_letters else None
        self.dump_path = base + ".dump" if dump else None
        self.stderr_path = base + ".stderr"
        self.stdout_path = base + ".stdout"
        self.ready_path = base + ".ready"
        exe = os.path.join(BUILD_DIR, "brook-testconsumer")
        deadline = now() + 20  # a concurrent rebuild may be relinking it
        while not os.access(exe, os.X_OK):
            if now() >= deadline:
                raise Fail("%s not built (BROOK_BUILD_DIR=%s)" % (exe, BUILD_DIR))
            time.sleep(0.5)
        cmd = [exe, "--brokers", brokers, "--topic", topic, "--group", group,
               "--ready", self.ready_path]
        for flag, path in (("--record", self.record_path), ("--events", self.events_path),
                           ("--dead-letters", self.dl_path), ("--dump", self.dump_path)):
            if path:
                cmd += [flag, path]
        cmd += [str(a) for a in args]
        self.cmd = cmd
        self.started = now()
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            err.write(("# %s\n" % " ".join(cmd)).encode())
            err.flush()
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        self.rc: Optional[int] = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ready(self) -> bool:
        return os.path.exists(self.ready_path)

    def wait_ready(self, timeout: float = 30) -> None:
        def ok() -> bool:
            if not self.alive():
                raise Fail("%s exited (rc %s) before partitions were assigned" % (self.label, self.proc.returncode))
            return self.ready()
        wait_until(ok, timeout, "%s to get partitions" % self.label)

    def wait(self, timeout: float) -> int:
        try:
            self.rc = self.proc.wait(timeout=timeout * MULT)
        except subprocess.TimeoutExpired:
            raise Fail("%s still running after %.0f s" % (self.label, timeout * MULT)) from None
        return self.rc

    def stop(self, timeout: float = 40, expect_rc: Optional[int] = 0) -> int:
        """SIGTERM (brook_consumer_stop) and wait; check the exit status."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        rc = self.wait(timeout)
        if expect_rc is not None and rc != expect_rc:
            raise Fail("%s exited with %s after SIGTERM, expected %s; stderr tail:\n%s"
                       % (self.label, rc, expect_rc, self.stderr_tail()))
        return rc

    def kill(self) -> None:
        """SIGKILL, no goodbye."""
        if self.alive():
            self.proc.kill()
        self.rc = self.proc.wait()

    def records(self) -> List[Tuple[int, int, int]]:
        return read_records(self.record_path) if self.record_path else []

    def events(self) -> List[List[Any]]:
        return read_events(self.events_path) if self.events_path else []

    def dead_letters(self) -> List[Tuple[int, int, str]]:
        return read_dead_letters(self.dl_path) if self.dl_path else []

    def dump(self) -> List[Dict[str, Any]]:
        return read_dump(self.dump_path) if self.dump_path else []

    def stderr(self) -> str:
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def stderr_tail(self, n: int = 25) -> str:
        """The last ``n`` lines of stderr that are brook's own (librdkafka's
        forwarded chatter left out; the full file is in the work dir)."""
        lines = [x for x in self.stderr().splitlines() if " event=librdkafka " not in x]
        return "\n".join("    " + x[:400] for x in lines[-n:])

    def log_events(self, name: str) -> List[str]:
        """brook log lines with event=NAME."""
        return [x for x in self.stderr().splitlines() if " event=%s " % name in x + " "]


# ------------------------------------------------------------------- test

class Test:
    def __init__(self, name: str, brokers: str) -> None:
        self.test_name = name
        self.brokers = brokers
        self.dir = tempfile.mkdtemp(prefix="brooktest-%s-" % name)
        self.consumers: List[Consumer] = []
        self.cleanups: List[Callable[[], None]] = []
        self.t0 = now()
        self._uniq = "%d%04d" % (int(time.time()) % 100000, random.randrange(10000))
        self.summaries: List[str] = []

    # names and data
    def name(self, what: str) -> str:
        """Unique topic / group name: t<test>-<what>-<suffix>."""
        return "t%s-%s-%s" % (self.test_name.split("-")[0], what, self._uniq)

    def topic(self, what: str, partitions: int, rf: Optional[int] = None,
              config: Optional[Dict[str, str]] = None, brokers: Optional[str] = None) -> str:
        name = self.name(what)
        kt.create_topic(brokers or self.brokers, name, partitions, rf, config)
        return name

    def produce(self, topic: str, count: int, brokers: Optional[str] = None, **gen: Any) -> Dict[str, Any]:
        return kt.produce(brokers or self.brokers, topic, count, **gen)

    def produce_records(self, topic: str, records: Iterable[Dict[str, Any]], brokers: Optional[str] = None,
                        **kw: Any) -> Dict[str, Any]:
        return kt.produce_records(brokers or self.brokers, topic, records, **kw)

    def end_offsets(self, topic: str, brokers: Optional[str] = None) -> Dict[int, int]:
        return kt.end_offsets(brokers or self.brokers, topic)

    def committed(self, group: str, topic: str, brokers: Optional[str] = None) -> Dict[int, int]:
        return kt.committed(brokers or self.brokers, group, topic)

    def wait_committed(self, group: str, topic: str, target: Optional[Dict[int, int]] = None,
                       timeout: float = 60, brokers: Optional[str] = None) -> Dict[int, int]:
        """Wait until the group's committed offsets equal ``target`` (default:
        the end offsets); returns them; Fail with the pending partitions."""
        rep = kt.wait_committed(brokers or self.brokers, group, topic, int(timeout * MULT * 1000), target)
        if not rep["ok"]:
            raise Fail("group %s: committed offsets did not reach %s within %.0f s: pending %s"
                       % (group, "the end" if target is None else "the target", timeout * MULT,
                          json.dumps(rep["pending"])))
        return {int(p): v for p, v in rep["committed"].items()}

    def read_topic(self, topic: str, brokers: Optional[str] = None) -> List[Dict[str, Any]]:
        """Every record of ``topic`` (independent client) with bytes/None key
        and value and headers [(name, bytes)]."""
        out = []
        for r in kt.dump(brokers or self.brokers, topic, b64=True, timeout_ms=int(30000 * MULT)):
            out.append({"partition": r["partition"], "offset": r["offset"], "timestamp": r["timestamp"],
                        "key": _b(r["key"]), "value": _b(r["value"]),
                        "headers": [(k, _b(v)) for k, v in r["headers"]]})
        return out

    # consumers
    def consumer(self, topic: str, group: str, label: Optional[str] = None, brokers: Optional[str] = None,
                 settings: Optional[Dict[str, Any]] = None, args: Iterable[Any] = (),
                 record: bool = True, events: bool = True, dead_letters: bool = False,
                 dump: bool = False) -> Consumer:
        """Start brook-testconsumer. ``settings``: brook properties (--set)."""
        label = label or "c%d" % (len(self.consumers) + 1)
        a: List[str] = []
        merged = dict(DEFAULT_SETTINGS)
        merged.update(settings or {})
        for k, v in merged.items():
            a += ["--set", "%s=%s" % (k, v)]
        a += [str(x) for x in args]
        c = Consumer(self, label, topic, group, brokers or self.brokers, a, record, events, dead_letters, dump)
        self.consumers.append(c)
        return c

    # checks and output
    def check(self, cond: Any, msg: str) -> None:
        if not cond:
            raise Fail(msg)

    def say(self, msg: str) -> None:
        print("[%6.1fs] %s" % (now() - self.t0, msg), flush=True)

    def summary(self, msg: str) -> None:
        self.summaries.append(msg)
        print("SUMMARY %s: %s" % (self.test_name, msg), flush=True)

    def cleanup(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` when the test ends, pass or fail (last registered first)."""
        self.cleanups.append(fn)

    def _finish(self, ok: bool) -> None:
        for c in self.consumers:
            if c.alive():
                c.proc.kill()
                c.proc.wait()
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - report, keep cleaning
                print("cleanup failed: %r" % e, file=sys.stderr)
        if ok and not os.environ.get("BROOK_TEST_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


def kafka_cmd(*args: str, cluster: Optional[str] = None, nodes: Optional[int] = None,
              timeout: float = 180, check: bool = True) -> str:
    """Run scripts/kafka; returns stdout; Fail (with stderr) on error."""
    cmd = [KAFKA]
    if cluster:
        cmd += ["--cluster", cluster]
    if nodes:
        cmd += ["--brokers", str(nodes)]
    cmd += list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise Fail("%s failed (rc %d):\n%s" % (" ".join(cmd), p.returncode, p.stderr[-3000:]))
    return p.stdout


def harness_cluster_of(brokers: str) -> Optional[str]:
    """Name of the scripts/kafka cluster serving ``brokers``, if any."""
    root = os.environ.get("BROOK_KAFKA_DIR", "/tmp/brook-kafka")
    want = set(brokers.split(","))
    try:
        names = os.listdir(root)
    except OSError:
        return None
    for n in names:
        try:
            with open(os.path.join(root, n, "brokers")) as f:
                if set(f.read().strip().split(",")) & want:
                    return n
        except OSError:
            continue
    return None


def run(main: Callable[[Test], None]) -> None:
    """Run a test's ``main(t)``; exit 0 on success, 1 on failure."""
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    brokers = os.environ.get("BROOK_BROKERS", "")
    if not brokers:
        print("*" * 72)
        print("SKIPPED %s: BROOK_BROKERS is not set, no real Kafka broker to test against" % name)
        print("(make test starts one; or: scripts/kafka start && eval \"$(scripts/kafka env --export)\")")
        print("*" * 72)
        sys.exit(0)
    t = Test(name, brokers)
    t.say("%s against %s (work dir %s, timeout x%g)" % (name, brokers, t.dir, MULT))
    ok = False
    try:
        main(t)
        ok = True
    except Fail as e:
        print("FAIL %s: %s" % (name, e), flush=True)
    except Exception:  # noqa: BLE001 - a crash of the test is a failure too
        print("FAIL %s: exception in the test:" % name, flush=True)
        traceback.print_exc(file=sys.stdout)
    finally:
        if not ok:
            for c in t.consumers:
                print("---- %s (pid %d, rc %s): %s" % (c.label, c.pid, c.proc.poll(), " ".join(c.cmd)))
                print(c.stderr_tail(30))
            print("---- work dir kept: %s" % t.dir)
        t._finish(ok)
    print("%s %s in %.1f s" % ("PASS" if ok else "FAIL", name, now() - t.t0), flush=True)
    sys.exit(0 if ok else 1)
