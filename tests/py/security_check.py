#!/usr/bin/env python3
"""security_check - prove the secured test broker and record what librdkafka says.

Starts ``scripts/kafka start --security`` for each Kafka version asked for
(default 4.1.2 and 3.9.1, in parallel, clusters ``seccheck-<version>``),
then, against every listener:

* positive: kcat (Debian's, librdkafka 2.0.2), scripts/rdkafka-probe.c
  (compiled here against the system librdkafka) and kafka-python (through
  ``kafkatool --security``) produce and consume records;
* negative: wrong PLAIN/SCRAM password, unknown SCRAM user, SCRAM mechanism
  on the PLAIN listener, unknown CA, wrong host, mTLS without / with an
  expired / with an unknown-CA client certificate, plaintext to TLS and TLS
  to plaintext, and SCRAM with librdkafka < 2.6.1 against Kafka 4.x: the
  probe records every error_cb/log_cb event and the check asserts the exact
  codes and texts documented in docs/SECURITY-TESTING.md; kcat and
  kafka-python must fail too;
* local configuration errors (rd_kafka_new fails): wrong ssl.key.password,
  missing CA file, key that does not match the certificate;
* no sasl.password or ssl.key.password value ever shows in what librdkafka
  hands the application (error_cb, log_cb, errstr).

Run it as ``scripts/kafka-security-check`` (or with the python of
scripts/pyenv).  Options: ``--versions 4.1.2,3.9.1``, ``--wait S`` (how long a
negative probe watches, default 6), ``--keep`` (leave the clusters running),
``--json FILE`` (every observation), ``-v`` (print each probe's events).
Exit status 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KAFKA = os.path.join(ROOT, "scripts", "kafka")
PROBE_SRC = os.path.join(ROOT, "scripts", "rdkafka-probe.c")
KAFKATOOL = os.path.join(HERE, "kafkatool.py")
sys.path.insert(0, HERE)

import kafkatool as kt  # noqa: E402

T0 = time.monotonic()


def say(msg: str) -> None:
    sys.stderr.write("[security-check %5.1fs] %s\n" % (time.monotonic() - T0, msg))
    sys.stderr.flush()


# ------------------------------------------------------------------ clusters

def cluster_name(version: str) -> str:
    return "seccheck-" + version


def kafka_cmd(version: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, KAFKA_VERSION=version, BROOK_KAFKA_CLUSTER=cluster_name(version))
    env.pop("BROOK_KAFKA_SECURITY", None)
    return subprocess.run([KAFKA, *args], env=env, check=check, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def start_cluster(version: str) -> Dict[str, str]:
    t = time.monotonic()
    p = kafka_cmd(version, "start", "--security", check=False)
    if p.returncode != 0:
        raise RuntimeError("scripts/kafka start --security (Kafka %s) failed:\n%s" % (version, p.stderr[-3000:]))
    env = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    say("Kafka %s up in %.1f s (cluster %s)" % (version, time.monotonic() - t, cluster_name(version)))
    return env


# -------------------------------------------------------------------- probe

def build_probe(outdir: str) -> str:
    exe = os.path.join(outdir, "rdkafka-probe")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "rdkafka"], check=True, text=True,
                           stdout=subprocess.PIPE).stdout.split()
    subprocess.run(["cc", "-O1", "-Wall", "-o", exe, PROBE_SRC, *flags, "-lpthread"], check=True)
    return exe


def rk_conf(name: str, env: Dict[str, str], **over: str) -> Dict[str, str]:
    """librdkafka properties for listener ``name`` (ssl, mtls, scram, plain)."""
    c: Dict[str, str] = {}
    if name in ("ssl", "mtls", "scram", "wronghost"):
        c.update({"security.protocol": "sasl_ssl" if name == "scram" else "ssl",
                  "ssl.ca.location": env["BROOK_SEC_CA"]})
    if name == "mtls":
        c.update({"ssl.certificate.location": env["BROOK_SEC_CLIENT_CERT"],
                  "ssl.key.location": env["BROOK_SEC_CLIENT_KEY_ENC"],
                  "ssl.key.password": env["BROOK_SEC_CLIENT_KEY_PASSWORD"]})
    if name == "scram":
        c.update({"sasl.mechanism": "SCRAM-SHA-512", "sasl.username": env["BROOK_SCRAM_USER"],
                  "sasl.password": env["BROOK_SCRAM_PASSWORD"]})
    if name == "plain":
        c.update({"security.protocol": "sasl_plaintext", "sasl.mechanism": "PLAIN",
                  "sasl.username": env["BROOK_PLAIN_USER"], "sasl.password": env["BROOK_PLAIN_PASSWORD"]})
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def brokers_of(name: str, env: Dict[str, str]) -> str:
    return env["BROOK_BROKERS_" + name.upper()] if name != "plaintext" else env["BROOK_BROKERS"]


def run_probe(probe: str, mode: str, brokers: str, conf: Dict[str, str], topic: Optional[str] = None,
              wait: int = 6, extra: Tuple[str, ...] = ()) -> Dict[str, Any]:
    cmd = [probe, mode, "-b", brokers, "-w", str(wait), *extra]
    if topic:
        cmd += ["-t", topic]
    for k, v in conf.items():
        cmd += ["-X", "%s=%s" % (k, v)]
    p = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=wait + 60)
    events = []
    for line in p.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            events.append({"ev": "unparsed", "line": line})
    res = next((e for e in events if e.get("ev") == "result"), {})
    errs = [e for e in events if e.get("ev") == "error_cb"]
    secrets = [v for k, v in conf.items() if k in ("sasl.password", "ssl.key.password") and v]
    leaked = [k for k, v in conf.items() if v in secrets and v in p.stdout + p.stderr]
    return {"rc": p.returncode, "stderr": p.stderr.strip(), "events": events, "result": res, "leaked": leaked,
            "errors": errs, "verify": [e for e in events if e.get("ev") == "verify"],
            "logs": [e for e in events if e.get("ev") == "log"]}


# --------------------------------------------------------------------- kcat

def kcat(args: List[str], conf: Dict[str, str], stdin: Optional[str] = None, timeout: float = 30) -> Tuple[int, str, str, float]:
    cmd = ["kcat", *args]
    for k, v in conf.items():
        cmd += ["-X", "%s=%s" % (k, v)]
    t = time.monotonic()
    try:
        p = subprocess.run(cmd, input=stdin, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - t
    except subprocess.TimeoutExpired as e:
        return -9, (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), \
            "timeout after %ss" % timeout, time.monotonic() - t


# ------------------------------------------------------------------- checks

class Report:
    def __init__(self) -> None:
        self.rows: List[Dict[str, Any]] = []

    def add(self, version: str, case: str, tool: str, ok: bool, detail: str, data: Any = None) -> None:
        self.rows.append({"version": version, "case": case, "tool": tool, "ok": ok, "detail": detail,
                          "data": data})
        say("%s %-6s %-22s %-12s %s" % ("ok  " if ok else "FAIL", version, case, tool, detail))

    def failed(self) -> List[Dict[str, Any]]:
        return [r for r in self.rows if not r["ok"]]


# A negative expectation: every error_cb code (besides _ALL_BROKERS_DOWN) in
# ``codes``; the first one's reason matches ``reason``; the first report
# comes within 5 s; nothing fatal; librdkafka keeps retrying (a
# second report within the window) and the operation does not finish.
NEG = Dict[str, Any]

R_SSL_VERIFY = r"certificate verify failed"
# a wrong password that no librdkafka text contains by chance (the check
# asserts that no configured password shows up in any event)
BAD_PASSWORD = "Wr0ng-Passw0rd-7f3a"
NEGATIVES: List[Tuple[str, str, Callable[[Dict[str, str]], Dict[str, str]], NEG]] = [
    ("plain_bad_password", "plain",
     lambda e: rk_conf("plain", e, **{"sasl.password": BAD_PASSWORD}),
     {"codes": {"_AUTHENTICATION"},
      "reason": r"^sasl_plaintext://127\.0\.0\.1:\d+/bootstrap: SASL authentication error: Authentication failed: "
                r"Invalid username or password \(after \d+ms in state AUTH_REQ\)$"}),
    ("scram_bad_password", "scram",
     lambda e: rk_conf("scram", e, **{"sasl.password": BAD_PASSWORD}),
     {"codes": {"_AUTHENTICATION"},
      "reason": r"^sasl_ssl://127\.0\.0\.1:\d+/bootstrap: SASL authentication error: Authentication failed during "
                r"authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 "
                r"\(after \d+ms in state AUTH_REQ\)$"}),
    ("scram_unknown_user", "scram",
     lambda e: rk_conf("scram", e, **{"sasl.username": "nobody"}),
     {"codes": {"_AUTHENTICATION"},
      "reason": r"SASL authentication error: Authentication failed during authentication due to invalid "
                r"credentials with SASL mechanism SCRAM-SHA-512"}),
    ("scram_on_plain_listener", "plain",
     lambda e: rk_conf("plain", e, **{"sasl.mechanism": "SCRAM-SHA-512"}),
     {"codes": {"_AUTHENTICATION"},
      "reason": r"SASL SCRAM-SHA-512 mechanism handshake failed: Broker: Unsupported SASL mechanism: "
                r"broker's supported mechanisms: PLAIN \(after \d+ms in state AUTH_HANDSHAKE\)$"}),
    ("unknown_ca", "ssl",
     lambda e: rk_conf("ssl", e, **{"ssl.ca.location": e["BROOK_SEC_BAD_CA"]}),
     {"codes": {"_SSL", "_TRANSPORT"}, "reason": R_SSL_VERIFY, "x509": {19, 20}}),
    ("wrong_host", "wronghost",
     lambda e: rk_conf("wronghost", e),
     {"codes": {"_SSL", "_TRANSPORT"}, "reason": R_SSL_VERIFY, "x509": {64}}),
    ("mtls_no_client_cert", "mtls",
     lambda e: rk_conf("ssl", e),
     {"codes": {"_TRANSPORT"},
      "reason": r"^ssl://127\.0\.0\.1:\d+/bootstrap: Receive failed: error:0A000412:SSL routines::sslv3 alert "
                r"bad certificate: SSL alert number 42 \(after \d+ms in state APIVERSION_QUERY\)$"}),
    ("mtls_expired_cert", "mtls",
     lambda e: rk_conf("ssl", e, **{"ssl.certificate.location": e["BROOK_SEC_EXPIRED_CERT"],
                                    "ssl.key.location": e["BROOK_SEC_EXPIRED_KEY"]}),
     {"codes": {"_TRANSPORT"},
      "reason": r"^ssl://127\.0\.0\.1:\d+/bootstrap: Receive failed: error:0A000416:SSL routines::sslv3 alert "
                r"certificate unknown: SSL alert number 46 \(after \d+ms in state APIVERSION_QUERY\)$"}),
    ("mtls_unknown_ca_cert", "mtls",
     lambda e: rk_conf("ssl", e, **{"ssl.certificate.location": e["BROOK_SEC_ROGUE_CERT"],
                                    "ssl.key.location": e["BROOK_SEC_ROGUE_KEY"]}),
     {"codes": {"_TRANSPORT"},
      "reason": r"Receive failed: error:0A000416:SSL routines::sslv3 alert certificate unknown: SSL alert number 46"}),
    ("plaintext_to_tls", "ssl",
     lambda e: {},
     {"codes": {"_TRANSPORT"}, "log_level": 6,
      "reason": r"^127\.0\.0\.1:\d+/bootstrap: Disconnected while requesting ApiVersion: might be caused by "
                r"incorrect security.protocol configuration \(connecting to a SSL listener\?\) or broker version "
                r"is < 0\.10 \(see api\.version\.request\) \(after \d+ms in state APIVERSION_QUERY\)$"}),
    ("tls_to_plaintext", "plaintext",
     lambda e: rk_conf("ssl", e),
     {"codes": {"_SSL", "_TRANSPORT"}, "reason": r"SSL routines::unexpected eof while reading"}),
]
# SCRAM with the right password: librdkafka < 2.6.1 repeats the client nonce
# in client-final-message; Kafka 4.x rejects it exactly like a wrong password.
SCRAM_RIGHT_PASSWORD_4X: NEG = dict(NEGATIVES[1][3])


def check_negative(rep: Report, version: str, case: str, out: Dict[str, Any], exp: NEG, wait: int) -> None:
    errs = [e for e in out["errors"] if e["code"] != "_ALL_BROKERS_DOWN"]
    problems = []
    if not errs:
        problems.append("no error_cb event")
    else:
        first = errs[0]
        codes = {e["code"] for e in errs}
        if not codes <= exp["codes"]:
            problems.append("codes %s not within %s" % (sorted(codes), sorted(exp["codes"])))
        if not re.search(exp["reason"], first["reason"]):
            problems.append("first reason %r does not match %r" % (first["reason"], exp["reason"]))
        if first["t"] > 5000:
            problems.append("first error after %d ms" % first["t"])
        if len(errs) < 2:
            problems.append("only one report: no retry seen within %d s" % wait)
    if any(e.get("fatal") for e in out["errors"]):
        problems.append("fatal error")
    if out["leaked"]:
        problems.append("the value of %s shows in librdkafka's output" % out["leaked"])
    if not any(e["code"] == "_ALL_BROKERS_DOWN" for e in out["errors"]):
        problems.append("no _ALL_BROKERS_DOWN")
    if out["result"].get("ok") is not False or out["result"].get("done"):
        problems.append("operation did not fail: %s" % out["result"])
    fails = [l for l in out["logs"] if l["fac"] == "FAIL"]
    if not fails:
        problems.append("no FAIL log line")
    elif fails[0]["level"] != exp.get("log_level", 3):
        problems.append("FAIL log level %d, not %d" % (fails[0]["level"], exp.get("log_level", 3)))
    summary = {"first_ms": errs[0]["t"] if errs else None, "codes": [e["code"] for e in out["errors"]],
               "first_reason": errs[0]["reason"] if errs else None,
               "report_ms": [e["t"] for e in errs], "fail_log_level": fails[0]["level"] if fails else None}
    detail = "; ".join(problems) if problems else "%s after %d ms, %d reports in %d s, %s" % (
        errs[0]["code"], errs[0]["t"], len(errs), wait, ",".join(sorted({e["code"] for e in errs})))
    rep.add(version, case, "rdkafka-probe", not problems, detail, summary)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--versions", default="4.1.2,3.9.1", help="Kafka versions (default 4.1.2,3.9.1)")
    ap.add_argument("--wait", type=int, default=6, help="seconds a negative probe watches (default 6)")
    ap.add_argument("--keep", action="store_true", help="leave the clusters running")
    ap.add_argument("--json", help="write every observation to this file")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the probes' events")
    args = ap.parse_args()
    versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    for tool in ("kcat", "cc", "pkg-config", "openssl"):
        if not shutil.which(tool):
            say("missing %s (scripts/deps installs it)" % tool)
            return 1

    rep = Report()
    work = tempfile.mkdtemp(prefix="brook-seccheck-")
    envs: Dict[str, Dict[str, str]] = {}
    try:
        probe = build_probe(work)
        with cf.ThreadPoolExecutor(max_workers=len(versions)) as ex:
            futs = {v: ex.submit(start_cluster, v) for v in versions}
            for v, f in futs.items():
                envs[v] = f.result()
        t_cases = time.monotonic()

        jobs: List[Tuple[str, str, str, Callable[[], Any], Callable[[Any], None]]] = []

        def job(version: str, case: str, tool: str, fn: Callable[[], Any], judge: Callable[[Any], None]) -> None:
            jobs.append((version, case, tool, fn, judge))

        for v in versions:
            e = envs[v]
            new_scram = int(v.split(".")[0]) >= 4
            for name in ("ssl", "mtls", "scram", "plain"):
                topic = "sec-%s" % name
                kt.create_topic(e["BROOK_BROKERS"], topic, 1)
                scram_broken = name == "scram" and new_scram
                case = "%s_ok" % name if not scram_broken else "scram_right_password"

                def probe_pos(e=e, name=name, topic=topic, scram_broken=scram_broken) -> Any:
                    if scram_broken:
                        return run_probe(probe, "produce", brokers_of(name, e), rk_conf(name, e), topic,
                                         wait=args.wait), None
                    p = run_probe(probe, "produce", brokers_of(name, e), rk_conf(name, e), topic, wait=20)
                    c = run_probe(probe, "consume", brokers_of(name, e), rk_conf(name, e), topic, wait=30,
                                  extra=("-n", "3"))
                    return p, c

                def judge_pos(r: Any, v=v, case=case, scram_broken=scram_broken) -> None:
                    p, c = r
                    if scram_broken:
                        check_negative(rep, v, case, p, SCRAM_RIGHT_PASSWORD_4X, args.wait)
                        return
                    ok = (p["result"].get("ok") and c["result"].get("ok") and not p["errors"] and not c["errors"]
                          and not p["leaked"] and not c["leaked"])
                    rep.add(v, case, "rdkafka-probe", bool(ok),
                            "produced %s, consumed %s, %d error_cb" % (p["result"].get("done"),
                                                                    c["result"].get("done"),
                                                                    len(p["errors"]) + len(c["errors"])),
                            {"produce": p["result"], "consume": c["result"]})

                job(v, case, "rdkafka-probe", probe_pos, judge_pos)

                def kcat_pos(e=e, name=name, topic=topic) -> Any:
                    conf = rk_conf(name, e)
                    b = brokers_of(name, e)
                    pr = kcat(["-b", b, "-P", "-t", topic, "-X", "message.timeout.ms=15000"], conf,
                              stdin="kcat-1\nkcat-2\nkcat-3\n", timeout=25)
                    if pr[0] != 0:  # SCRAM on 4.x: do not wait for the consumer's timeout as well
                        return pr, kcat(["-b", b, "-L", "-m", "3"], conf, timeout=20)
                    co = kcat(["-b", b, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-m", "10"], conf,
                              timeout=25)
                    return pr, co

                def judge_kcat(r: Any, v=v, case=case, scram_broken=scram_broken) -> None:
                    pr, co = r
                    got = co[1].split()
                    if scram_broken:
                        ok = pr[0] != 0 and co[0] != 0 and "Authentication failed" in pr[2]
                        rep.add(v, case, "kcat", ok, "produce rc %d, consume rc %d: %s" % (
                            pr[0], co[0], (pr[2].strip().splitlines() or [""])[-1][:150]),
                            {"produce_stderr": pr[2], "consume_stderr": co[2]})
                        return
                    ok = pr[0] == 0 and co[0] == 0 and all(x in got for x in ("kcat-1", "kcat-2", "kcat-3"))
                    rep.add(v, case, "kcat", ok, "produce rc %d, consume rc %d, read %d records" % (
                        pr[0], co[0], len(got)), {"produce_stderr": pr[2], "consume_stderr": co[2]})

                job(v, case, "kcat", kcat_pos, judge_kcat)

                def py_pos(e=e, name=name, topic=topic) -> Any:
                    penv = dict(os.environ, **e, KAFKATOOL_SECURITY=name)
                    t2 = topic + "-py"
                    outs = []
                    for cmd in (["create-topic", "--topic", t2, "--partitions", "2"],
                                ["produce", "--topic", t2, "-n", "50", "--keyed"],
                                ["verify", "--topic", t2, "-n", "50"]):
                        p = subprocess.run([sys.executable, KAFKATOOL, *cmd], env=penv, text=True,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
                        outs.append((p.returncode, p.stdout.strip(), p.stderr.strip()))
                        if p.returncode:
                            break
                    return outs

                def judge_py(outs: Any, v=v, case=case) -> None:
                    ok = len(outs) == 3 and all(o[0] == 0 for o in outs) and json.loads(outs[2][1])["ok"]
                    rep.add(v, case.replace("scram_right_password", "scram_ok"), "kafka-python", ok,
                            "create/produce/verify rc %s" % [o[0] for o in outs] +
                            ("" if ok else ": " + outs[-1][2][-300:]), outs)

                job(v, case, "kafka-python", py_pos, judge_py)

            # TLS without hostname verification against the wrong-host
            # listener works: the failure above is the host check alone.
            def wronghost_noverify(e=e) -> Any:
                return run_probe(probe, "metadata", e["BROOK_BROKERS_WRONGHOST"],
                                 rk_conf("wronghost", e, **{"ssl.endpoint.identification.algorithm": "none"}),
                                 wait=15)

            job(v, "wrong_host_no_verify", "rdkafka-probe", wronghost_noverify,
                lambda out, v=v: rep.add(v, "wrong_host_no_verify", "rdkafka-probe",
                                         bool(out["result"].get("ok")) and not out["errors"],
                                         "metadata %s with ssl.endpoint.identification.algorithm=none"
                                         % ("ok" if out["result"].get("ok") else "FAILED"), out["result"]))

            for case, lis, conf_fn, exp in NEGATIVES:
                def neg(e=e, lis=lis, conf_fn=conf_fn) -> Any:
                    return run_probe(probe, "produce", brokers_of(lis, e), conf_fn(e), "sec-ssl", wait=args.wait)

                job(v, case, "rdkafka-probe", neg,
                    lambda out, v=v, case=case, exp=exp: check_negative(rep, v, case, out, exp, args.wait))

                if "x509" in exp:
                    def neg_verify(e=e, lis=lis, conf_fn=conf_fn) -> Any:
                        return run_probe(probe, "metadata", brokers_of(lis, e), conf_fn(e), wait=2,
                                         extra=("-V", "1"))

                    def judge_verify(out: Any, v=v, case=case, exp=exp) -> None:
                        codes = {x["x509_error"] for x in out["verify"] if x["x509_error"]}
                        vl = [l for l in out["logs"] if l["fac"] == "SSLCERTVRFY"]
                        ok = bool(codes) and codes <= exp["x509"] and bool(vl)
                        rep.add(v, case, "verify_cb", ok, "X509 error %s; log %s" % (
                            sorted(codes), vl[0]["msg"][-120:] if vl else "none"),
                            {"verify": out["verify"][:4]})

                    job(v, case, "verify_cb", neg_verify, judge_verify)

                def kcat_neg(e=e, lis=lis, conf_fn=conf_fn) -> Any:
                    return kcat(["-b", brokers_of(lis, e), "-L", "-m", "3"], conf_fn(e), timeout=20)

                def judge_kcat_neg(r: Any, v=v, case=case) -> None:
                    rc, _, err, secs = r
                    last = (err.strip().splitlines() or [""])[-1]
                    ok = rc != 0 and "Failed to acquire metadata" in err
                    rep.add(v, case, "kcat", ok, "rc %d after %.1f s: %s" % (rc, secs, last[:120]), err)

                job(v, case, "kcat", kcat_neg, judge_kcat_neg)

            # kafka-python must fail too (it only says it could not bootstrap)
            py_neg = {
                "plain_bad_password": dict(bootstrap_servers=e["BROOK_BROKERS_PLAIN"], security_protocol="SASL_PLAINTEXT",
                                           sasl_mechanism="PLAIN", sasl_plain_username=e["BROOK_PLAIN_USER"],
                                           sasl_plain_password=BAD_PASSWORD),
                "scram_bad_password": dict(kt.security_options("scram", e), sasl_plain_password=BAD_PASSWORD,
                                           bootstrap_servers=e["BROOK_BROKERS_SCRAM"]),
                "unknown_ca": dict(bootstrap_servers=e["BROOK_BROKERS_SSL"], security_protocol="SSL",
                                   ssl_cafile=e["BROOK_SEC_BAD_CA"]),
                "wrong_host": dict(bootstrap_servers=e["BROOK_BROKERS_WRONGHOST"], security_protocol="SSL",
                                   ssl_cafile=e["BROOK_SEC_CA"]),
                "mtls_no_client_cert": dict(bootstrap_servers=e["BROOK_BROKERS_MTLS"], security_protocol="SSL",
                                            ssl_cafile=e["BROOK_SEC_CA"]),
                "mtls_expired_cert": dict(bootstrap_servers=e["BROOK_BROKERS_MTLS"], security_protocol="SSL",
                                          ssl_cafile=e["BROOK_SEC_CA"], ssl_certfile=e["BROOK_SEC_EXPIRED_CERT"],
                                          ssl_keyfile=e["BROOK_SEC_EXPIRED_KEY"]),
            }
            for case, kw in py_neg.items():
                def pyneg(kw=kw) -> Any:
                    from kafka import KafkaAdminClient
                    t = time.monotonic()
                    try:
                        KafkaAdminClient(bootstrap_timeout_ms=4000, request_timeout_ms=4000, **kw).close()
                        return None, time.monotonic() - t
                    except Exception as ex:  # noqa: BLE001 - any failure is the expected outcome
                        return "%s: %s" % (type(ex).__name__, ex), time.monotonic() - t

                job(v, case, "kafka-python", pyneg,
                    lambda r, v=v, case=case: rep.add(v, case, "kafka-python", r[0] is not None,
                                                      "%s after %.1f s" % (r[0] or "connected?!", r[1]), r[0]))

        # local configuration errors: rd_kafka_new fails, no broker involved
        e = envs[versions[0]]
        local = [
            ("bad_key_password", rk_conf("mtls", e, **{"ssl.key.password": BAD_PASSWORD}),
             r"^ssl\.key\.location failed: error:0A080009:SSL routines::PEM lib$"),
            ("missing_ca_file", rk_conf("ssl", e, **{"ssl.ca.location": "/nonexistent/ca.pem"}),
             r"^ssl\.ca\.location failed: "),
            ("key_cert_mismatch", rk_conf("mtls", e, **{"ssl.key.location": e["BROOK_SEC_ROGUE_KEY"],
                                                         "ssl.key.password": None}),
             r"^ssl\.key\.location failed: .*key values mismatch$"),
        ]
        for case, conf, rx in local:
            job("-", case, "rdkafka-probe",
                lambda conf=conf: run_probe(probe, "metadata", e["BROOK_BROKERS_MTLS"], conf, wait=2),
                lambda out, case=case, rx=rx: rep.add(
                    "-", case, "rdkafka-probe",
                    out["rc"] == 2 and out["result"].get("stage") == "rd_kafka_new" and not out["leaked"]
                    and bool(re.search(rx, out["result"].get("error", ""))),
                    "rd_kafka_new: %s" % out["result"].get("error"), out["result"]))

        # debug=all dumps the configuration: the secrets must be redacted
        def debug_all() -> Any:
            return run_probe(probe, "metadata", e["BROOK_BROKERS_MTLS"],
                             rk_conf("mtls", e, **{"debug": "all", "security.protocol": "sasl_ssl",
                                                   "sasl.mechanism": "PLAIN", "sasl.username": "someone",
                                                   "sasl.password": BAD_PASSWORD}), wait=2)

        def judge_debug_all(out: Any) -> None:
            dumped = {m.group(1) for l in out["logs"] if l["fac"] == "CONF"
                      for m in [re.search(r"^\[thrd:app\]:   (sasl\.password|ssl\.key\.password|sasl\.username) = "
                                          r"\[redacted\]$", l["msg"])] if m}
            ok = not out["leaked"] and dumped == {"sasl.password", "ssl.key.password", "sasl.username"}
            rep.add("-", "debug_all_redaction", "rdkafka-probe", ok,
                    "%d log lines; redacted in the conf dump: %s; leaked: %s" % (
                        len(out["logs"]), sorted(dumped), out["leaked"] or "nothing"))

        job("-", "debug_all_redaction", "rdkafka-probe", debug_all, judge_debug_all)

        say("running %d probes" % len(jobs))
        with cf.ThreadPoolExecutor(max_workers=16) as ex:
            futs2 = [(j, ex.submit(j[3])) for j in jobs]
            for (v, case, tool, _, judge), f in futs2:
                try:
                    r = f.result()
                    if args.verbose:
                        sys.stderr.write(json.dumps(r, default=str)[:4000] + "\n")
                    judge(r)
                except Exception as ex2:  # noqa: BLE001
                    rep.add(v, case, tool, False, "exception: %r" % ex2)
        say("probes took %.1f s" % (time.monotonic() - t_cases))
    finally:
        if not args.keep:
            for v in envs:
                kafka_cmd(v, "stop", check=False)
        shutil.rmtree(work, ignore_errors=True)

    if args.json:
        with open(args.json, "w") as f:
            json.dump(rep.rows, f, indent=1, default=str)
    bad = rep.failed()
    passed = len(rep.rows) - len(bad)
    for r in bad:
        sys.stderr.write("FAIL: %s %s %s: %s\n" % (r["version"], r["case"], r["tool"], r["detail"]))
    say("done in %.1f s" % (time.monotonic() - T0))
    print("security-check: %d passed, %d failed" % (passed, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
