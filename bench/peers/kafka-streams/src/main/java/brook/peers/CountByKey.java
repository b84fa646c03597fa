package brook.peers;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import java.util.List;
import java.util.UUID;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Kafka Streams peer of brook's benchmarks (issue 9): "count by key".
 *
 * <pre>
 * input (key String, value bytes ignored)
 *   -> peek (counts input records for --expect)
 *   -> groupByKey -> count(Materialized.as("counts"))   RocksDB store + changelog
 *   -> toStream -> output (key String, value Long = 8-byte big-endian)
 * </pre>
 *
 * Process mode: runs until --expect input records went through the topology,
 * closes (flushes the cache, produces, commits) and prints one JSON line.
 * Restore mode (--restore-only): starts the same application on an empty
 * state directory, waits until the store is restored from its changelog and
 * reports the restoration (StateRestoreListener) as one JSON line.
 */
public final class CountByKey {
    static final String STORE = "counts";

    // ---- command line ----------------------------------------------------
    static String brokers, input, output, appId, stateDir;
    static int threads = 1;
    static long expect = -1;
    static Long commitMs, cachingBytes;
    static boolean restoreOnly;
    static long timeoutS = 900;

    static void usage(String msg) {
        if (msg != null) System.err.println("kafka-streams peer: " + msg);
        System.err.println(
            "usage: run --brokers B --input T --output T --app-id ID --threads N --expect N\n"
          + "           [--state-dir D] [--commit-ms MS] [--caching-bytes N] [--timeout-s S]\n"
          + "       run --restore-only --brokers B --input T --output T --app-id ID [--threads N]\n"
          + "           [--state-dir D] [--timeout-s S]");
        System.exit(2);
    }

    static void parse(String[] a) {
        for (int i = 0; i < a.length; i++) {
            String o = a[i];
            if (o.equals("--restore-only")) { restoreOnly = true; continue; }
            if (o.equals("-h") || o.equals("--help")) usage(null);
            if (i + 1 >= a.length) usage("missing value for " + o);
            String v = a[++i];
            try {
                switch (o) {
                    case "--brokers": brokers = v; break;
                    case "--input": input = v; break;
                    case "--output": output = v; break;
                    case "--app-id": appId = v; break;
                    case "--threads": threads = Integer.parseInt(v); break;
                    case "--expect": expect = Long.parseLong(v); break;
                    case "--state-dir": stateDir = v; break;
                    case "--commit-ms": commitMs = Long.parseLong(v); break;
                    case "--caching-bytes": cachingBytes = Long.parseLong(v); break;
                    case "--timeout-s": timeoutS = Long.parseLong(v); break;
                    default: usage("unknown option " + o);
                }
            } catch (NumberFormatException e) {
                usage("bad number for " + o + ": " + v);
            }
        }
        if (brokers == null) brokers = System.getenv("BROOK_BROKERS");
        if (brokers == null || input == null || output == null || appId == null)
            usage("--brokers (or $BROOK_BROKERS), --input, --output and --app-id are required");
        if (!restoreOnly && expect <= 0) usage("--expect N (N > 0) is required");
        if (threads < 1) usage("--threads must be >= 1");
    }

    // ---- measurements ----------------------------------------------------
    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static long peakRssKb() {
        try {
            for (String l : Files.readAllLines(Paths.get("/proc/self/status")))
                if (l.startsWith("VmHWM:"))
                    return Long.parseLong(l.substring(6).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return -1;
    }

    static String json(Map<String, Object> m) {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (sb.length() > 1) sb.append(',');
            sb.append('"').append(e.getKey()).append("\":");
            Object v = e.getValue();
            if (v == null) sb.append("null");
            else if (v instanceof Number || v instanceof Boolean) sb.append(v);
            else sb.append('"').append(v.toString().replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        return sb.append('}').toString();
    }

    static double secs(long nanos) { return Math.round(nanos / 1e6) / 1e3; }

    static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (Stream<Path> w = Files.walk(p)) {
            w.sorted(Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
        } catch (IOException e) {
            System.err.println("kafka-streams peer: could not delete " + p + ": " + e);
        }
    }

    // ---- the topology ----------------------------------------------------
    static final AtomicLong processed = new AtomicLong();
    static volatile long firstNs, lastNs, firstCpu, lastCpu;
    static final CountDownLatch reachedExpect = new CountDownLatch(1);

    static Topology topology() {
        StreamsBuilder b = new StreamsBuilder();
        b.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()))
         .peek((k, v) -> {
             long n = processed.incrementAndGet();
             if (n == 1) { firstNs = System.nanoTime(); firstCpu = cpuNanos(); }
             if (n == expect) { lastNs = System.nanoTime(); lastCpu = cpuNanos(); reachedExpect.countDown(); }
         })
         .groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()))
         .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as(STORE)
                    .withKeySerde(Serdes.String())
                    .withValueSerde(Serdes.Long()))
         .toStream()
         .to(output, Produced.with(Serdes.String(), Serdes.Long()));
        return b.build();
    }

    // ---- restoration -----------------------------------------------------
    static final class Restore implements StateRestoreListener {
        final Map<TopicPartition, Long> started = new HashMap<>();
        final Map<TopicPartition, Long> restored = new HashMap<>();
        long firstStartNs, lastEndNs, expected;
        int inFlight;

        @Override
        public synchronized void onRestoreStart(TopicPartition tp, String store, long start, long end) {
            if (started.isEmpty()) firstStartNs = System.nanoTime();
            started.put(tp, end - start);
            expected += end - start;
            inFlight++;
        }

        @Override
        public void onBatchRestored(TopicPartition tp, String store, long batchEnd, long n) { }

        @Override
        public synchronized void onRestoreEnd(TopicPartition tp, String store, long total) {
            restored.merge(tp, total, Long::sum);
            lastEndNs = System.nanoTime();
            inFlight--;
            notifyAll();
        }

        @Override
        public synchronized void onRestoreSuspended(TopicPartition tp, String store, long total) {
            restored.merge(tp, total, Long::sum);
            inFlight--;
            notifyAll();
        }

        synchronized long total() {
            long t = 0;
            for (long v : restored.values()) t += v;
            return t;
        }
    }

    /**
     * close() with leaveGroup(true) does not always send the LeaveGroup (seen
     * when closing right after the restoration, with nothing processed), and
     * then the next run with the same application id waits a whole session
     * timeout (45 s) in its first rebalance.  Remove this process's own
     * members explicitly; nothing measured is affected (it runs after close).
     */
    static void removeLeftoverMembers(String clientId) {
        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        ap.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId + "-cleanup");
        try (Admin admin = Admin.create(ap)) {
            ConsumerGroupDescription g = admin.describeConsumerGroups(List.of(appId))
                    .all().get(10, TimeUnit.SECONDS).get(appId);
            if (g.members().isEmpty()) return;
            // MemberToRemove names static members only; removing "all" members
            // (no list) also covers dynamic ones: do it only when every
            // member left is one of this process's consumers
            for (MemberDescription m : g.members())
                if (!m.clientId().startsWith(clientId + "-")) return;
            admin.removeMembersFromConsumerGroup(appId, new RemoveMembersFromConsumerGroupOptions())
                 .all().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.err.println("kafka-streams peer: could not remove leftover group members: " + e);
        }
    }

    // ---- main --------------------------------------------------------------
    public static void main(String[] args) throws Exception {
        // quiet by default (warnings and errors to stderr); stdout is the JSON line
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null)
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        parse(args);
        long t0 = System.nanoTime();

        boolean tempState = stateDir == null;
        Path state = tempState
            ? Files.createTempDirectory("brook-ks-" + appId.replaceAll("[^A-Za-z0-9._-]", "_") + "-")
            : Paths.get(stateDir);

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
        // the default client id (app id + random UUID), set here so that
        // leftover group members of this very process can be recognised
        String clientId = appId + "-" + UUID.randomUUID();
        p.put(StreamsConfig.CLIENT_ID_CONFIG, clientId);
        if (commitMs != null) p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitMs);
        if (cachingBytes != null) p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cachingBytes);
        StreamsConfig cfg = new StreamsConfig(p);

        KafkaStreams streams = new KafkaStreams(topology(), p);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch dead = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) running.countDown();
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.PENDING_ERROR) dead.countDown();
        });
        streams.setUncaughtExceptionHandler(e -> {
            failure.compareAndSet(null, e);
            dead.countDown();
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        Restore restore = new Restore();
        if (restoreOnly) {
            streams.setGlobalStateRestoreListener(restore);
            streams.cleanUp(); // the store must be rebuilt from the changelog
        }

        Map<String, Object> out = new LinkedHashMap<>();
        out.put("impl", "kafka-streams");
        out.put("mode", restoreOnly ? "restore" : "process");
        String error = null;
        long deadline = t0 + TimeUnit.SECONDS.toNanos(timeoutS);

        streams.start();
        long startedNs = System.nanoTime();

        if (!restoreOnly) {
            while (reachedExpect.getCount() > 0 && dead.getCount() > 0 && System.nanoTime() < deadline)
                reachedExpect.await(100, TimeUnit.MILLISECONDS);
            if (reachedExpect.getCount() > 0)
                error = dead.getCount() == 0 ? "streams failed: " + failure.get()
                      : "timeout after " + timeoutS + " s with " + processed.get() + " of " + expect + " records";
        } else {
            while (running.getCount() > 0 && dead.getCount() > 0 && System.nanoTime() < deadline)
                running.await(100, TimeUnit.MILLISECONDS);
            synchronized (restore) {
                while (restore.inFlight > 0 && dead.getCount() > 0 && System.nanoTime() < deadline)
                    restore.wait(100);
            }
            if (running.getCount() > 0 || restore.inFlight > 0)
                error = dead.getCount() == 0 ? "streams failed: " + failure.get()
                      : "timeout after " + timeoutS + " s waiting for restoration";
        }
        long doneNs = System.nanoTime();
        // leave the group so that a next run with the same --app-id (e.g.
        // --restore-only after a process run) does not wait for the session
        // timeout of this run's members
        boolean closed = streams.close(new KafkaStreams.CloseOptions()
                .leaveGroup(true).timeout(Duration.ofSeconds(120)));
        long closedNs = System.nanoTime();
        if (!closed && error == null) error = "close timed out";
        removeLeftoverMembers(clientId);

        if (!restoreOnly) {
            long n = expect;
            long win = lastNs - firstNs;
            out.put("records", error == null ? n : processed.get());
            out.put("seconds", error == null ? secs(win) : null);
            out.put("msgs_per_sec", error == null && win > 0 ? Math.round(n / (win / 1e9)) : null);
            // first record -> streams closed: includes the final cache flush (store
            // writes + output + changelog produce) and the offset commit of close()
            long full = closedNs - firstNs;
            out.put("seconds_to_closed", error == null ? secs(full) : null);
            out.put("msgs_per_sec_to_closed", error == null && full > 0 ? Math.round(n / (full / 1e9)) : null);
        } else {
            long n = restore.total();
            long win = restore.lastEndNs - restore.firstStartNs;
            out.put("records_restored", n);
            out.put("changelog_records_expected", restore.expected);
            out.put("partitions_restored", restore.restored.size());
            out.put("seconds", n > 0 ? secs(win) : 0.0);
            out.put("records_per_sec", n > 0 && win > 0 ? Math.round(n / (win / 1e9)) : null);
            out.put("seconds_to_running", secs(doneNs - startedNs));
        }
        out.put("peak_rss_kb", peakRssKb());
        out.put("cpu_seconds", secs(cpuNanos()));
        if (!restoreOnly && error == null) out.put("cpu_seconds_window", secs(lastCpu - firstCpu));
        out.put("threads", threads);
        if (!restoreOnly) {
            out.put("processed_total", processed.get());
            out.put("startup_seconds", firstNs > 0 ? secs(firstNs - startedNs) : null);
        }
        out.put("close_seconds", secs(closedNs - doneNs));
        out.put("wall_seconds", secs(closedNs - t0));
        out.put("kafka_streams_version", AppInfoParser.getVersion());
        out.put("commit_interval_ms", cfg.getLong(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG));
        out.put("cache_max_bytes", cfg.getLong(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG));
        out.put("store", "rocksdb");
        out.put("max_heap_mb", Runtime.getRuntime().maxMemory() >> 20);
        if (error != null) out.put("error", error);
        System.out.println(json(out));
        System.out.flush();

        if (tempState) deleteTree(state);
        System.exit(error == null ? 0 : 1);
    }
}
