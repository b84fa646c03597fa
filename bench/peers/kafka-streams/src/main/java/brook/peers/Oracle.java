package brook.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyDescription;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TableJoined;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.ValueJoiner;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;

/**
 * Kafka Streams as a semantic oracle for brook's tests (see ../../../../../../README.md,
 * section "The oracle").
 *
 * <p>Runs one or more named topologies in ONE KafkaStreams application (one
 * StreamsBuilder, several sub-topologies), each reading its own input
 * topic(s) {@code <prefix>-<name>-<role>} and writing its own output topic(s).
 * The input must be produced before the oracle starts: it reads the end
 * offsets of every input topic at start, runs until the application's
 * committed offsets reach them (inputs, then every internal repartition
 * topic), stays idle {@code --idle-exit-ms}, closes, and prints one JSON line.
 */
public final class Oracle {

    // ---- window and join parameters (documented in bench/peers/README.md) ----
    static final Duration TUMBLING_SIZE = Duration.ofSeconds(60);
    static final Duration TUMBLING_GRACE = Duration.ofSeconds(10);
    static final Duration HOPPING_SIZE = Duration.ofMinutes(5);
    static final Duration HOPPING_ADVANCE = Duration.ofMinutes(1);
    static final Duration HOPPING_GRACE = Duration.ofSeconds(30);
    static final Duration SLIDING_DIFF = Duration.ofSeconds(30);
    static final Duration SLIDING_GRACE = Duration.ofSeconds(10);
    static final Duration SESSION_GAP = Duration.ofSeconds(30);
    static final Duration SESSION_GRACE = Duration.ofSeconds(10);
    static final Duration SS_JOIN_DIFF = Duration.ofSeconds(10);
    static final Duration SS_JOIN_GRACE = Duration.ofSeconds(5);
    static final Duration VERSIONED_HISTORY = Duration.ofHours(1);

    /** One topology: its input roles (topic = prefix-name-role), global-table roles, outputs. */
    static final class Def {
        final String name;
        final List<String> inputs;
        final List<String> globals;
        final List<String> outputs;
        final String description;
        final Builder build;

        Def(String name, List<String> inputs, List<String> globals, List<String> outputs,
            String description, Builder build) {
            this.name = name;
            this.inputs = inputs;
            this.globals = globals;
            this.outputs = outputs;
            this.description = description;
            this.build = build;
        }
    }

    interface Builder {
        void build(StreamsBuilder b, Def d);
    }

    static String prefix = "oracle";

    static String topic(Def d, String role) {
        return prefix + "-" + d.name + "-" + role;
    }

    static final Map<String, Def> DEFS = new LinkedHashMap<>();

    static void def(String name, List<String> inputs, List<String> globals, List<String> outputs,
                    String description, Builder build) {
        DEFS.put(name, new Def(name, inputs, globals, outputs, description, build));
    }

    static final Serde<String> S = Serdes.String();
    static final Serde<Long> L = Serdes.Long();
    static final ValueJoiner<String, String, String> JOINER = (l, r) -> l + "|" + r;

    // ---- wordcount's split: examples/wordcount/main.c split(), byte for byte ----
    static final int MAX_WORD = 64;

    static boolean alnum(byte c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }

    static List<String> split(byte[] line) {
        List<String> out = new ArrayList<>();
        if (line == null) return out;
        int i = 0, n = line.length;
        while (i < n) {
            StringBuilder w = new StringBuilder();
            while (i < n && !alnum(line[i])) i++;
            while (i < n && alnum(line[i])) {
                if (w.length() < MAX_WORD) w.append((char) Character.toLowerCase((char) line[i]));
                i++;
            }
            if (w.length() > 0) out.add(w.toString());
        }
        return out;
    }

    /** "fk:payload" -> "fk"; null (no join key) when the value is null or has no ':'. */
    static String fk(String v) {
        if (v == null) return null;
        int i = v.indexOf(':');
        return i < 0 ? null : v.substring(0, i);
    }

    static <K> Materialized<K, Long, KeyValueStore<Bytes, byte[]>> kvLong(String store, Serde<K> ks) {
        return Materialized.<K, Long, KeyValueStore<Bytes, byte[]>>as(store).withKeySerde(ks).withValueSerde(L);
    }

    static Materialized<String, String, KeyValueStore<Bytes, byte[]>> kvString(String store) {
        return Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as(store).withKeySerde(S).withValueSerde(S);
    }

    static void windowed(StreamsBuilder b, Def d, String kind, boolean sum) {
        KStream<String, Long> s = b.stream(topic(d, "in"), Consumed.with(S, L));
        KGroupedStream<String, Long> g = s.groupByKey(Grouped.with(S, L));
        // count() counts records with a null value too (window aggregations skip
        // null keys only); sum adds nothing for a null value
        org.apache.kafka.streams.kstream.Aggregator<String, Long, Long> agg =
            sum ? (k, v, a) -> v == null ? a : a + v : (k, v, a) -> a + 1;
        org.apache.kafka.streams.kstream.Initializer<Long> zero = () -> 0L;
        Serde<Windowed<String>> wk;
        KTable<Windowed<String>, Long> upd, onclose;
        switch (kind) {
            case "tumbling":
            case "hopping": {
                TimeWindows w = kind.equals("tumbling")
                    ? TimeWindows.ofSizeAndGrace(TUMBLING_SIZE, TUMBLING_GRACE)
                    : TimeWindows.ofSizeAndGrace(HOPPING_SIZE, HOPPING_GRACE).advanceBy(HOPPING_ADVANCE);
                wk = WindowedSerdes.timeWindowedSerdeFrom(String.class, w.size());
                upd = g.windowedBy(w).aggregate(zero, agg, Named.as(d.name + "-agg"),
                    Materialized.<String, Long, WindowStore<Bytes, byte[]>>as(d.name + "-store")
                        .withKeySerde(S).withValueSerde(L).withCachingDisabled());
                onclose = g.windowedBy(w).emitStrategy(EmitStrategy.onWindowClose()).aggregate(zero, agg,
                    Named.as(d.name + "-onclose-agg"),
                    Materialized.<String, Long, WindowStore<Bytes, byte[]>>as(d.name + "-onclose-store")
                        .withKeySerde(S).withValueSerde(L).withCachingDisabled());
                break;
            }
            case "sliding": {
                SlidingWindows w = SlidingWindows.ofTimeDifferenceAndGrace(SLIDING_DIFF, SLIDING_GRACE);
                wk = WindowedSerdes.timeWindowedSerdeFrom(String.class, SLIDING_DIFF.toMillis());
                upd = g.windowedBy(w).aggregate(zero, agg, Named.as(d.name + "-agg"),
                    Materialized.<String, Long, WindowStore<Bytes, byte[]>>as(d.name + "-store")
                        .withKeySerde(S).withValueSerde(L).withCachingDisabled());
                onclose = g.windowedBy(w).emitStrategy(EmitStrategy.onWindowClose()).aggregate(zero, agg,
                    Named.as(d.name + "-onclose-agg"),
                    Materialized.<String, Long, WindowStore<Bytes, byte[]>>as(d.name + "-onclose-store")
                        .withKeySerde(S).withValueSerde(L).withCachingDisabled());
                break;
            }
            case "session": {
                SessionWindows w = SessionWindows.ofInactivityGapAndGrace(SESSION_GAP, SESSION_GRACE);
                wk = WindowedSerdes.sessionWindowedSerdeFrom(String.class);
                org.apache.kafka.streams.kstream.Merger<String, Long> merger = (k, a, c) -> a + c;
                upd = g.windowedBy(w).aggregate(zero, agg, merger, Named.as(d.name + "-agg"),
                    Materialized.<String, Long, SessionStore<Bytes, byte[]>>as(d.name + "-store")
                        .withKeySerde(S).withValueSerde(L).withCachingDisabled());
                onclose = g.windowedBy(w).emitStrategy(EmitStrategy.onWindowClose()).aggregate(zero, agg, merger,
                    Named.as(d.name + "-onclose-agg"),
                    Materialized.<String, Long, SessionStore<Bytes, byte[]>>as(d.name + "-onclose-store")
                        .withKeySerde(S).withValueSerde(L).withCachingDisabled());
                break;
            }
            default:
                throw new IllegalArgumentException(kind);
        }
        Produced<Windowed<String>, Long> out = Produced.with(wk, L);
        upd.toStream(Named.as(d.name + "-updates-stream")).to(topic(d, "updates"), out);
        upd.suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()).withName(d.name + "-suppress"))
           .toStream(Named.as(d.name + "-final-stream")).to(topic(d, "final"), out);
        onclose.toStream(Named.as(d.name + "-onclose-stream")).to(topic(d, "onclose"), out);
    }

    static final List<String> IN = List.of("in");
    static final List<String> LR = List.of("left", "right");
    static final List<String> OUT = List.of("out");
    static final List<String> WOUT = List.of("updates", "final", "onclose");
    static final List<String> NONE = List.of();

    static {
        def("wordcount", IN, NONE, OUT,
            "value = text line (bytes); split as examples/wordcount split(); groupBy(word) -> repartition; count()",
            (b, d) -> b.stream(topic(d, "in"), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
                .flatMapValues(Oracle::split, Named.as("wordcount-split"))
                .groupBy((k, w) -> w, Grouped.with("wordcount-words", S, S))
                .count(Named.as("wordcount-count"), kvLong("wordcount-counts", S))
                .toStream(Named.as("wordcount-out"))
                .to(topic(d, "out"), Produced.with(S, L)));

        def("agg-count", IN, NONE, OUT, "groupByKey().count() (skips null keys and null values)",
            (b, d) -> b.stream(topic(d, "in"), Consumed.with(S, L))
                .groupByKey(Grouped.with(S, L))
                .count(Named.as(d.name + "-count"), kvLong(d.name + "-store", S))
                .toStream().to(topic(d, "out"), Produced.with(S, L)));
        def("agg-sum", IN, NONE, OUT, "groupByKey().reduce(Long::sum)",
            (b, d) -> b.stream(topic(d, "in"), Consumed.with(S, L))
                .groupByKey(Grouped.with(S, L))
                .reduce(Long::sum, Named.as(d.name + "-reduce"), kvLong(d.name + "-store", S))
                .toStream().to(topic(d, "out"), Produced.with(S, L)));
        def("agg-reduce", IN, NONE, OUT, "groupByKey().reduce(Math::max)",
            (b, d) -> b.stream(topic(d, "in"), Consumed.with(S, L))
                .groupByKey(Grouped.with(S, L))
                .reduce(Math::max, Named.as(d.name + "-reduce"), kvLong(d.name + "-store", S))
                .toStream().to(topic(d, "out"), Produced.with(S, L)));
        def("table-regroup", IN, NONE, OUT,
            "table(key, \"group:amount\").groupBy(group, amount).aggregate(0, +, -)",
            (b, d) -> b.table(topic(d, "in"), Consumed.with(S, S), kvString(d.name + "-source"))
                .groupBy((k, v) -> KeyValue.pair(fk(v), Long.parseLong(v.substring(v.indexOf(':') + 1))),
                         Grouped.with(d.name + "-groups", S, L))
                .aggregate(() -> 0L, (g, a, agg) -> agg + a, (g, a, agg) -> agg - a,
                           Named.as(d.name + "-aggregate"), kvLong(d.name + "-store", S))
                .toStream().to(topic(d, "out"), Produced.with(S, L)));

        for (String kind : List.of("tumbling", "hopping", "sliding", "session")) {
            def("win-" + kind + "-count", IN, NONE, WOUT, kind + " windows, count()",
                (b, d) -> windowed(b, d, kind, false));
        }
        def("win-tumbling-sum", IN, NONE, WOUT, "tumbling windows, sum",
            (b, d) -> windowed(b, d, "tumbling", true));

        // ---- joins: value = left + "|" + right, a missing side is "null" ----
        def("st-join", LR, NONE, OUT, "stream(left).join(table(right))",
            (b, d) -> b.stream(topic(d, "left"), Consumed.with(S, S))
                .join(b.table(topic(d, "right"), Consumed.with(S, S), kvString(d.name + "-table")), JOINER)
                .to(topic(d, "out"), Produced.with(S, S)));
        def("st-leftjoin", LR, NONE, OUT, "stream(left).leftJoin(table(right))",
            (b, d) -> b.stream(topic(d, "left"), Consumed.with(S, S))
                .leftJoin(b.table(topic(d, "right"), Consumed.with(S, S), kvString(d.name + "-table")), JOINER)
                .to(topic(d, "out"), Produced.with(S, S)));
        def("sgt-join", List.of("left"), List.of("right"), OUT,
            "stream(left).join(globalTable(right), key = fk(value))",
            (b, d) -> {
                GlobalKTable<String, String> g = b.globalTable(topic(d, "right"), Consumed.with(S, S),
                                                               kvString(d.name + "-global"));
                b.stream(topic(d, "left"), Consumed.with(S, S))
                 .join(g, (k, v) -> fk(v), JOINER).to(topic(d, "out"), Produced.with(S, S));
            });
        def("sgt-leftjoin", List.of("left"), List.of("right"), OUT,
            "stream(left).leftJoin(globalTable(right), key = fk(value))",
            (b, d) -> {
                GlobalKTable<String, String> g = b.globalTable(topic(d, "right"), Consumed.with(S, S),
                                                               kvString(d.name + "-global"));
                b.stream(topic(d, "left"), Consumed.with(S, S))
                 .leftJoin(g, (k, v) -> fk(v), JOINER).to(topic(d, "out"), Produced.with(S, S));
            });
        for (String j : List.of("join", "leftjoin", "outerjoin")) {
            def("ss-" + j, LR, NONE, OUT, "stream(left)." + j + "(stream(right), JoinWindows "
                    + SS_JOIN_DIFF.toMillis() + " ms, grace " + SS_JOIN_GRACE.toMillis() + " ms)",
                (b, d) -> {
                    KStream<String, String> l = b.stream(topic(d, "left"), Consumed.with(S, S));
                    KStream<String, String> r = b.stream(topic(d, "right"), Consumed.with(S, S));
                    JoinWindows w = JoinWindows.ofTimeDifferenceAndGrace(SS_JOIN_DIFF, SS_JOIN_GRACE);
                    StreamJoined<String, String, String> sj =
                        StreamJoined.<String, String, String>with(S, S, S).withStoreName(d.name);
                    KStream<String, String> o = j.equals("join") ? l.join(r, JOINER, w, sj)
                        : j.equals("leftjoin") ? l.leftJoin(r, JOINER, w, sj) : l.outerJoin(r, JOINER, w, sj);
                    o.to(topic(d, "out"), Produced.with(S, S));
                });
            def("tt-" + j, LR, NONE, OUT, "table(left)." + j + "(table(right))",
                (b, d) -> {
                    KTable<String, String> l = b.table(topic(d, "left"), Consumed.with(S, S), kvString(d.name + "-left"));
                    KTable<String, String> r = b.table(topic(d, "right"), Consumed.with(S, S), kvString(d.name + "-right"));
                    KTable<String, String> o = j.equals("join") ? l.join(r, JOINER)
                        : j.equals("leftjoin") ? l.leftJoin(r, JOINER) : l.outerJoin(r, JOINER);
                    o.toStream().to(topic(d, "out"), Produced.with(S, S));
                });
        }
        for (String j : List.of("join", "leftjoin")) {
            def("fk-" + j, LR, NONE, OUT, "table(left)." + j + "(table(right), fk(leftValue)) (foreign-key join)",
                (b, d) -> {
                    KTable<String, String> l = b.table(topic(d, "left"), Consumed.with(S, S), kvString(d.name + "-left"));
                    KTable<String, String> r = b.table(topic(d, "right"), Consumed.with(S, S), kvString(d.name + "-right"));
                    TableJoined<String, String> tj = TableJoined.as(d.name);
                    KTable<String, String> o = j.equals("join") ? l.join(r, Oracle::fk, JOINER, tj)
                        : l.leftJoin(r, Oracle::fk, JOINER, tj);
                    o.toStream().to(topic(d, "out"), Produced.with(S, S));
                });
            def("svt-" + j, LR, NONE, OUT, "stream(left)." + j + "(versioned table(right)), table value as of the record's timestamp",
                (b, d) -> {
                    KTable<String, String> t = b.table(topic(d, "right"), Consumed.with(S, S),
                        Materialized.<String, String>as(
                            Stores.persistentVersionedKeyValueStore(d.name + "-table", VERSIONED_HISTORY))
                            .withKeySerde(S).withValueSerde(S));
                    KStream<String, String> s = b.stream(topic(d, "left"), Consumed.with(S, S));
                    (j.equals("join") ? s.join(t, JOINER) : s.leftJoin(t, JOINER))
                        .to(topic(d, "out"), Produced.with(S, S));
                });
        }
    }

    // ---- small RocksDB footprint: many stores in one JVM on a 2-core box ----
    public static final class SmallRocksDB implements RocksDBConfigSetter {
        static final Cache CACHE = new LRUCache(8L << 20);

        @Override
        public void setConfig(String storeName, Options options, Map<String, Object> configs) {
            BlockBasedTableConfig t = (BlockBasedTableConfig) options.tableFormatConfig();
            t.setBlockCache(CACHE);
            t.setBlockSize(4096L);
            options.setTableFormatConfig(t);
            options.setWriteBufferSize(1L << 20);
            options.setMaxWriteBufferNumber(2);
            // window and session stores open and drop one database per time
            // segment; make that cheap (the state dir is temporary: the
            // changelog topics are the durability)
            options.setAvoidFlushDuringShutdown(true);
            options.setStatsDumpPeriodSec(0);
            options.setStatsPersistPeriodSec(0);
            options.setSkipStatsUpdateOnDbOpen(true);
            options.setMaxFileOpeningThreads(1);
            options.setKeepLogFileNum(1);
        }

        @Override
        public void close(String storeName, Options options) {
            // the cache is shared by every store: never closed here
        }
    }

    // ---- command line ----------------------------------------------------
    static String brokers, appId, stateDir;
    static List<String> names = new ArrayList<>();
    static boolean eos, list;
    static long commitMs = 100, cachingBytes = 0, idleExitMs = 1000, timeoutS = 300;
    static int threads = 1;

    static void usage(String msg) {
        if (msg != null) System.err.println("oracle: " + msg);
        System.err.println(
            "usage: oracle --brokers B --app-id ID --topologies n1,n2,... [--prefix P] [--eos]\n"
          + "              [--commit-ms MS] [--caching-bytes N] [--state-dir D] [--threads N]\n"
          + "              [--idle-exit-ms MS] [--timeout-s S]\n"
          + "       oracle --list          (topologies and their topics as JSON)\n"
          + "topologies: " + String.join(",", DEFS.keySet()) + " (or 'all')");
        System.exit(2);
    }

    static void parse(String[] a) {
        for (int i = 0; i < a.length; i++) {
            String o = a[i];
            if (o.equals("--eos")) { eos = true; continue; }
            if (o.equals("--list")) { list = true; continue; }
            if (o.equals("-h") || o.equals("--help")) usage(null);
            if (i + 1 >= a.length) usage("missing value for " + o);
            String v = a[++i];
            try {
                switch (o) {
                    case "--brokers": brokers = v; break;
                    case "--app-id": appId = v; break;
                    case "--topologies":
                        for (String n : v.split(",")) {
                            if (n.isEmpty()) continue;
                            if (n.equals("all")) names.addAll(DEFS.keySet());
                            else if (!DEFS.containsKey(n)) usage("unknown topology " + n);
                            else names.add(n);
                        }
                        break;
                    case "--prefix": prefix = v; break;
                    case "--commit-ms": commitMs = Long.parseLong(v); break;
                    case "--caching-bytes": cachingBytes = Long.parseLong(v); break;
                    case "--state-dir": stateDir = v; break;
                    case "--threads": threads = Integer.parseInt(v); break;
                    case "--idle-exit-ms": idleExitMs = Long.parseLong(v); break;
                    case "--timeout-s": timeoutS = Long.parseLong(v); break;
                    default: usage("unknown option " + o);
                }
            } catch (NumberFormatException e) {
                usage("bad number for " + o + ": " + v);
            }
        }
        if (list) return;
        if (brokers == null) brokers = System.getenv("BROOK_BROKERS");
        if (brokers == null || appId == null || names.isEmpty())
            usage("--brokers (or $BROOK_BROKERS), --app-id and --topologies are required");
        names = new ArrayList<>(new java.util.LinkedHashSet<>(names));
    }

    static String json(Object v) {
        StringBuilder sb = new StringBuilder();
        json(sb, v);
        return sb.toString();
    }

    @SuppressWarnings("unchecked")
    static void json(StringBuilder sb, Object v) {
        if (v == null) sb.append("null");
        else if (v instanceof Number || v instanceof Boolean) sb.append(v);
        else if (v instanceof Map) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> e : ((Map<String, Object>) v).entrySet()) {
                if (!first) sb.append(',');
                first = false;
                json(sb, e.getKey());
                sb.append(':');
                json(sb, e.getValue());
            }
            sb.append('}');
        } else if (v instanceof Collection) {
            sb.append('[');
            boolean first = true;
            for (Object o : (Collection<Object>) v) {
                if (!first) sb.append(',');
                first = false;
                json(sb, o);
            }
            sb.append(']');
        } else {
            sb.append('"');
            for (char c : v.toString().toCharArray()) {
                if (c == '"' || c == '\\') sb.append('\\').append(c);
                else if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                else sb.append(c);
            }
            sb.append('"');
        }
    }

    static double secs(long nanos) { return Math.round(nanos / 1e6) / 1e3; }

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

    static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (Stream<Path> w = Files.walk(p)) {
            w.sorted(Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
        } catch (IOException e) {
            System.err.println("oracle: could not delete " + p + ": " + e);
        }
    }

    static Map<TopicPartition, Long> offsets(Admin admin, Collection<String> topics, OffsetSpec spec)
            throws Exception {
        if (topics.isEmpty()) return new HashMap<>();
        Map<String, TopicDescription> desc = admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> req = new HashMap<>();
        for (TopicDescription td : desc.values())
            for (TopicPartitionInfo pi : td.partitions())
                req.put(new TopicPartition(td.name(), pi.partition()), spec);
        Map<TopicPartition, Long> out = new HashMap<>();
        for (Map.Entry<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> e :
                admin.listOffsets(req).all().get(30, TimeUnit.SECONDS).entrySet())
            out.put(e.getKey(), e.getValue().offset());
        return out;
    }

    /** Records in each output topic, read to its end with isolation.level=read_committed. */
    static Map<String, Long> countOutputs(Collection<String> topics) throws Exception {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, IsolationLevel.READ_COMMITTED.toString().toLowerCase());
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        cp.put(ConsumerConfig.CLIENT_ID_CONFIG, appId + "-oracle-count");
        Map<String, Long> counts = new TreeMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (String t : topics) {
                counts.put(t, 0L);
                c.partitionsFor(t, Duration.ofSeconds(30)).forEach(pi -> tps.add(new TopicPartition(t, pi.partition())));
            }
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            Set<TopicPartition> todo = new HashSet<>();
            for (TopicPartition tp : tps) if (c.position(tp) < end.get(tp)) todo.add(tp);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!todo.isEmpty() && System.nanoTime() < deadline) {
                ConsumerRecords<byte[], byte[]> rs = c.poll(Duration.ofMillis(200));
                rs.forEach(r -> counts.merge(r.topic(), 1L, Long::sum));
                todo.removeIf(tp -> c.position(tp) >= end.get(tp));
            }
            if (!todo.isEmpty()) throw new IllegalStateException("could not read outputs to their end: " + todo);
        }
        return counts;
    }

    // ---- main --------------------------------------------------------------
    public static void main(String[] args) throws Exception {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null)
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        // the inputs hold null keys/values, late and out-of-order records on
        // purpose: the per-record "Skipping record ..." warnings are expected
        for (String lg : List.of("org.apache.kafka.streams.kstream.internals",
                                 "org.apache.kafka.streams.state.internals"))
            if (System.getProperty("org.slf4j.simpleLogger.log." + lg) == null)
                System.setProperty("org.slf4j.simpleLogger.log." + lg, "error");
        parse(args);
        if (list) {
            Map<String, Object> all = new LinkedHashMap<>();
            for (Def d : DEFS.values()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("inputs", d.inputs.stream().map(r -> topic(d, r)).collect(Collectors.toList()));
                m.put("global_inputs", d.globals.stream().map(r -> topic(d, r)).collect(Collectors.toList()));
                m.put("outputs", d.outputs.stream().map(r -> topic(d, r)).collect(Collectors.toList()));
                m.put("description", d.description);
                all.put(d.name, m);
            }
            System.out.println(json(all));
            return;
        }
        long t0 = System.nanoTime();

        List<Def> defs = names.stream().map(DEFS::get).collect(Collectors.toList());
        StreamsBuilder b = new StreamsBuilder();
        List<String> inputs = new ArrayList<>(), globals = new ArrayList<>(), outputs = new ArrayList<>();
        for (Def d : defs) {
            d.build.build(b, d);
            d.inputs.forEach(r -> inputs.add(topic(d, r)));
            d.globals.forEach(r -> globals.add(topic(d, r)));
            d.outputs.forEach(r -> outputs.add(topic(d, r)));
        }
        Topology topology = b.build();
        long builtNs = System.nanoTime();
        // every source topic of the application (inputs and internal repartition topics)
        Set<String> sources = new HashSet<>();
        for (TopologyDescription.Subtopology st : topology.describe().subtopologies())
            for (TopologyDescription.Node n : st.nodes())
                if (n instanceof TopologyDescription.Source)
                    sources.addAll(((TopologyDescription.Source) n).topicSet());
        // internal (repartition, subscription) topics: <app-id>-<name>
        Set<String> internal = new HashSet<>();
        for (String t : sources) if (!inputs.contains(t)) internal.add(appId + "-" + t);

        boolean tempState = stateDir == null;
        // RocksDB window/session stores open and drop one database per time
        // segment: on tmpfs (/dev/shm) that costs a third of a disk's time
        Path shm = Paths.get("/dev/shm");
        Path state = !tempState ? Paths.get(stateDir)
            : Files.isDirectory(shm) && Files.isWritable(shm)
            ? Files.createTempDirectory(shm, "brook-oracle-" + appId.replaceAll("[^A-Za-z0-9._-]", "_") + "-")
            : Files.createTempDirectory("brook-oracle-" + appId.replaceAll("[^A-Za-z0-9._-]", "_") + "-");
        if (tempState) Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(state)));

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, eos ? StreamsConfig.EXACTLY_ONCE_V2 : StreamsConfig.AT_LEAST_ONCE);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitMs);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cachingBytes);
        p.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, 0L);
        p.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.NO_OPTIMIZATION);
        p.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, SmallRocksDB.class);
        // emit checks of left/outer stream-stream joins and of onWindowClose
        // aggregations on every record instead of at most once per wall-clock
        // second: what they emit then depends on the input alone
        p.put(StreamsConfig.InternalConfig.EMIT_INTERVAL_MS_KSTREAMS_OUTER_JOIN_SPURIOUS_RESULTS_FIX, 0L);
        p.put(StreamsConfig.InternalConfig.EMIT_INTERVAL_MS_KSTREAMS_WINDOWED_AGGREGATION, 0L);
        String clientId = appId + "-" + UUID.randomUUID();
        p.put(StreamsConfig.CLIENT_ID_CONFIG, clientId);

        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> timing = new LinkedHashMap<>();
        timing.put("build_topology_seconds", secs(builtNs - t0));
        out.put("impl", "kafka-streams-oracle");
        out.put("app_id", appId);
        out.put("prefix", prefix);
        out.put("topologies", names);
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("kafka_streams_version", AppInfoParser.getVersion());
        settings.put("processing_guarantee", eos ? "exactly_once_v2" : "at_least_once");
        settings.put("commit_interval_ms", commitMs);
        settings.put("cache_max_bytes", cachingBytes);
        settings.put("max_task_idle_ms", 0);
        settings.put("num_stream_threads", threads);
        settings.put("idle_exit_ms", idleExitMs);
        settings.put("state_dir", state.toString());
        settings.put("max_heap_mb", Runtime.getRuntime().maxMemory() >> 20);
        out.put("settings", settings);

        String error = null;
        Map<TopicPartition, Long> inEnd;
        Map<String, Long> inputRecords = new TreeMap<>();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(timeoutS);
        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        ap.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId + "-oracle-admin");
        KafkaStreams streams = null;
        long startedNs = 0, runningNs = 0, caughtUpNs = 0, closingNs = 0, closedNs = 0;
        try (Admin admin = Admin.create(ap)) {
            List<String> all = new ArrayList<>(inputs);
            all.addAll(globals);
            all.addAll(outputs);
            Set<String> have = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<String> missing = all.stream().filter(t -> !have.contains(t)).collect(Collectors.toList());
            if (!missing.isEmpty()) throw new IllegalStateException("missing topics (create them first): " + missing);
            inEnd = offsets(admin, inputs, OffsetSpec.latest());
            Map<TopicPartition, Long> inBegin = offsets(admin, inputs, OffsetSpec.earliest());
            Map<TopicPartition, Long> gEnd = offsets(admin, globals, OffsetSpec.latest());
            Map<TopicPartition, Long> gBegin = offsets(admin, globals, OffsetSpec.earliest());
            inEnd.forEach((tp, e) -> inputRecords.merge(tp.topic(), e - inBegin.get(tp), Long::sum));
            gEnd.forEach((tp, e) -> inputRecords.merge(tp.topic(), e - gBegin.get(tp), Long::sum));

            long adminNs = System.nanoTime();
            timing.put("admin_checks_seconds", secs(adminNs - builtNs));
            streams = new KafkaStreams(topology, p);
            timing.put("new_kafka_streams_seconds", secs(System.nanoTime() - adminNs));
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
            long startCallNs = System.nanoTime();
            streams.start();
            startedNs = System.nanoTime();
            timing.put("start_call_seconds", secs(startedNs - startCallNs));
            while (running.getCount() > 0 && dead.getCount() > 0 && System.nanoTime() < deadline)
                running.await(100, TimeUnit.MILLISECONDS);
            runningNs = System.nanoTime();

            // caught up: committed offsets reached the inputs' end offsets taken at
            // start, and then every internal source topic's current end offset
            boolean done = false;
            while (!done && dead.getCount() > 0 && System.nanoTime() < deadline) {
                Map<TopicPartition, OffsetAndMetadata> com = admin.listConsumerGroupOffsets(appId)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
                done = true;
                for (Map.Entry<TopicPartition, Long> e : inEnd.entrySet()) {
                    OffsetAndMetadata c = com.get(e.getKey());
                    if (e.getValue() > 0 && (c == null || c.offset() < e.getValue())) { done = false; break; }
                }
                if (done && !internal.isEmpty()) {
                    Map<TopicPartition, Long> iEnd = null;
                    try {
                        iEnd = offsets(admin, internal, OffsetSpec.latest());
                    } catch (java.util.concurrent.ExecutionException e) {
                        done = false; // not created yet
                    }
                    if (iEnd != null) {
                        for (Map.Entry<TopicPartition, Long> e : iEnd.entrySet()) {
                            OffsetAndMetadata c = com.get(e.getKey());
                            if (e.getValue() > 0 && (c == null || c.offset() < e.getValue())) { done = false; break; }
                        }
                    }
                }
                if (!done) Thread.sleep(100);
            }
            caughtUpNs = System.nanoTime();
            if (dead.getCount() == 0) error = "streams failed: " + failure.get();
            else if (!done) error = "timeout after " + timeoutS + " s before the inputs were consumed";
            else Thread.sleep(idleExitMs);
        } catch (Exception e) {
            error = e.toString();
        } finally {
            closingNs = System.nanoTime();
            if (streams != null) {
                boolean closed = streams.close(new KafkaStreams.CloseOptions()
                        .leaveGroup(true).timeout(Duration.ofSeconds(60)));
                if (!closed && error == null) error = "close timed out";
            }
            closedNs = System.nanoTime();
        }

        Map<String, Object> per = new LinkedHashMap<>();
        Map<String, Long> counts = null;
        if (error == null) {
            try {
                counts = countOutputs(outputs);
            } catch (Exception e) {
                error = "counting outputs: " + e;
            }
        }
        for (Def d : defs) {
            Map<String, Object> m = new LinkedHashMap<>();
            Map<String, Object> ins = new LinkedHashMap<>();
            for (String r : d.inputs) ins.put(topic(d, r), inputRecords.get(topic(d, r)));
            for (String r : d.globals) ins.put(topic(d, r), inputRecords.get(topic(d, r)));
            m.put("inputs", ins);
            Map<String, Object> outs = new LinkedHashMap<>();
            for (String r : d.outputs) outs.put(topic(d, r), counts == null ? null : counts.get(topic(d, r)));
            m.put("outputs", outs);
            per.put(d.name, m);
        }
        long totalIn = inputRecords.values().stream().mapToLong(Long::longValue).sum();
        out.put("records", totalIn);
        out.put("per_topology", per);
        out.put("internal_topics", new ArrayList<>(new java.util.TreeSet<>(internal)));
        out.put("startup_seconds", startedNs > 0 ? secs(startedNs - t0) : null);
        out.put("startup_breakdown", timing);
        out.put("seconds_to_running", runningNs > 0 ? secs(runningNs - startedNs) : null);
        out.put("seconds_to_caught_up", caughtUpNs > 0 ? secs(caughtUpNs - startedNs) : null);
        out.put("close_seconds", secs(closedNs - closingNs));
        out.put("seconds", secs(System.nanoTime() - t0));
        out.put("peak_rss_kb", peakRssKb());
        if (error != null) out.put("error", error);
        System.out.println(json(out));
        System.out.flush();
        if (tempState) deleteTree(state);
        System.exit(error == null ? 0 : 1);
    }
}
