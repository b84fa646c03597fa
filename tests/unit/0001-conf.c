/*
 * 0001: the property table. Every property has a working default, accepts
 * its valid values and rejects invalid ones with a message that names the
 * property and the allowed values; unknown names are rejected; kafka.* keys
 * are validated by librdkafka; secrets are redacted in dumps.
 */
#include <string.h>

#include "core/conf.h"
#include "test.h"

static void expect_invalid(brook_conf_t *conf, const brook__prop_t *p,
                           const char *value)
{
        char es[512] = "";
        brook_err_t err = brook_conf_set(conf, p->name, value, es, sizeof(es));

        TEST_ASSERT(err == BROOK_ERR_CONF_INVALID, "%s=%s: got %s", p->name,
                    value, brook_err2name(err));
        TEST_ASSERT(strstr(es, p->name), "error does not name %s: %s", p->name,
                    es);
        TEST_ASSERT(strstr(es, "allowed"),
                    "error does not list allowed "
                    "values: %s",
                    es);
}

static void expect_value(brook_conf_t *conf, const char *name, const char *want)
{
        char buf[256];
        size_t sz = sizeof(buf);

        TEST_ASSERT(!brook_conf_get(conf, name, buf, &sz), "get %s", name);
        TEST_ASSERT(!strcmp(buf, want), "%s: %s != %s", name, buf, want);
}

static void check_prop(const brook__prop_t *p)
{
        brook_conf_t *conf = brook_conf_new();
        char v[64];

        TEST_ASSERT(p->doc && strlen(p->doc) > 10, "%s has no doc", p->name);
        /* The default is valid and is what get() returns. */
        TEST_ASSERT(!brook__prop_validate(p, p->def, NULL, 0),
                    "%s: default %s invalid", p->name, p->def);
        expect_value(conf, p->name, p->def);
        switch (p->type) {
        case BROOK__PT_INT:
                snprintf(v, sizeof(v), "%lld", (long long)p->min);
                test_conf_set(conf, p->name, v);
                expect_value(conf, p->name, v);
                snprintf(v, sizeof(v), "%lld", (long long)p->max);
                test_conf_set(conf, p->name, v);
                expect_value(conf, p->name, v);
                if (p->min > INT64_MIN) {
                        snprintf(v, sizeof(v), "%lld", (long long)p->min - 1);
                        expect_invalid(conf, p, v);
                }
                if (p->max < INT64_MAX) {
                        snprintf(v, sizeof(v), "%lld", (long long)p->max + 1);
                        expect_invalid(conf, p, v);
                }
                expect_invalid(conf, p, "abc");
                expect_invalid(conf, p, "");
                expect_invalid(conf, p, "12x");
                break;
        case BROOK__PT_BOOL:
                test_conf_set(conf, p->name, "true");
                test_conf_set(conf, p->name, "false");
                expect_invalid(conf, p, "maybe");
                break;
        case BROOK__PT_ENUM: {
                const brook__enum_t *w;

                for (w = p->words; w->name; w++) {
                        test_conf_set(conf, p->name, w->name);
                        expect_value(conf, p->name, w->name);
                }
                expect_invalid(conf, p, "no_such_value");
                break;
        }
        case BROOK__PT_STR: {
                /* host:port properties take an address (their checks are
                 * covered by 0006-conf-components). */
                const char *v =
                    strstr(p->name, "listen") || strstr(p->name, "address")
                        ? "127.0.0.1:1"
                        : "x";

                test_conf_set(conf, p->name, v);
                expect_value(conf, p->name, v);
                break;
        }
        }
        /* NULL resets to the default. */
        TEST_ASSERT(!brook_conf_set(conf, p->name, NULL, NULL, 0), "reset");
        expect_value(conf, p->name, p->def);
        brook_conf_destroy(conf);
}

int main(void)
{
        brook_conf_t *conf = brook_conf_new(), *dup;
        const char **dump;
        char es[512];
        size_t i, cnt;
        int found = 0;

        for (i = 0; i < BROOK__P__CNT; i++)
                check_prop(&brook__props[i]);
        TEST_SAY("%d properties checked", (int)BROOK__P__CNT);

        /* The plan's defaults. */
        expect_value(conf, "batch.size", "100");
        expect_value(conf, "batch.timeout.ms", "1000");
        expect_value(conf, "batch.max.bytes", "1048576");
        expect_value(conf, "batch.async", "false");
        expect_value(conf, "batch.max.concurrency", "10");
        expect_value(conf, "max.in.flight.batches", "3");
        expect_value(conf, "ack.strategy", "all_or_nothing");
        expect_value(conf, "dead.letter.max.retries", "3");

        /* Unknown names. */
        TEST_ASSERT(brook_conf_set(conf, "batch.sise", "1", es, sizeof(es)) ==
                        BROOK_ERR_CONF_UNKNOWN,
                    "typo accepted");
        TEST_ASSERT(strstr(es, "batch.sise"), "%s", es);
        TEST_ASSERT(brook_conf_set(conf, "kafka.no.such.thing", "1", es,
                                   sizeof(es)) == BROOK_ERR_CONF_UNKNOWN,
                    "unknown kafka.* accepted");
        TEST_ASSERT(strstr(es, "kafka.no.such.thing"), "%s", es);
        TEST_ASSERT(brook_conf_set(conf, "kafka.", "1", es, sizeof(es)) ==
                        BROOK_ERR_CONF_UNKNOWN,
                    "empty kafka. name accepted");
        /* kafka.* values are validated by librdkafka. */
        TEST_ASSERT(brook_conf_set(conf, "kafka.fetch.wait.max.ms", "-5", es,
                                   sizeof(es)) == BROOK_ERR_CONF_INVALID,
                    "bad kafka value accepted");
        TEST_ASSERT(strstr(es, "kafka.fetch.wait.max.ms"), "%s", es);
        test_conf_set(conf, "kafka.fetch.wait.max.ms", "50");
        expect_value(conf, "kafka.fetch.wait.max.ms", "50");
        /* Invalid arguments. */
        TEST_ASSERT(brook_conf_set(NULL, "batch.size", "1", es, sizeof(es)) ==
                        BROOK_ERR_INVALID_ARG,
                    "NULL conf");
        TEST_ASSERT(brook_conf_set(conf, NULL, "1", es, sizeof(es)) ==
                        BROOK_ERR_INVALID_ARG,
                    "NULL name");

        /* Secrets are redacted in dumps; dup keeps everything. */
        test_conf_set(conf, "kafka.sasl.password", "hunter2");
        test_conf_set(conf, "kafka.sasl.username", "alice");
        test_conf_set(conf, "rocksdb.max_open_files", "64");
        test_conf_set(conf, "batch.size", "500");
        dup = brook_conf_dup(conf);
        brook_conf_destroy(conf);
        dump = brook_conf_dump(dup, &cnt);
        TEST_ASSERT(dump && cnt % 2 == 0, "dump");
        for (i = 0; i < cnt; i += 2) {
                TEST_ASSERT(!strstr(dump[i + 1], "hunter2"),
                            "secret leaked in dump: %s=%s", dump[i],
                            dump[i + 1]);
                if (!strcmp(dump[i], "kafka.sasl.password")) {
                        TEST_ASSERT(!strcmp(dump[i + 1], "[redacted]"), "%s",
                                    dump[i + 1]);
                        found |= 1;
                }
                if (!strcmp(dump[i], "kafka.sasl.username"))
                        found |= strcmp(dump[i + 1], "alice") ? 0 : 2;
                if (!strcmp(dump[i], "batch.size"))
                        found |= strcmp(dump[i + 1], "500") ? 0 : 4;
                if (!strcmp(dump[i], "rocksdb.max_open_files"))
                        found |= strcmp(dump[i + 1], "64") ? 0 : 8;
        }
        TEST_ASSERT(found == 15, "dump misses entries (%d)", found);
        brook_conf_dump_free(dump, cnt);
        /* The owner reads its own secret in clear. */
        expect_value(dup, "kafka.sasl.password", "hunter2");
        brook_conf_destroy(dup);
        brook_conf_destroy(NULL);

        /* Error codes have names and descriptions. */
        for (i = 0; i < BROOK_ERR__END; i++) {
                TEST_ASSERT(
                    strncmp(brook_err2name((brook_err_t)i), "BROOK_", 6) == 0,
                    "err %zu has no name", i);
                TEST_ASSERT(
                    strcmp(brook_err2str((brook_err_t)i), "Unknown error"),
                    "err %zu has no description", i);
        }
        TEST_ASSERT(brook_version() == BROOK_VERSION, "version");
        TEST_ASSERT(!strcmp(brook_version_str(), BROOK_VERSION_STR), "version");
        return 0;
}
