/*
 * 0003: bad consumer arguments get clear errors, never a crash: missing
 * handlers, missing bootstrap.servers, invalid group ids (refused when
 * set), bad subscribe arguments, NULL handles.
 */
#include <string.h>

#include "test.h"

static brook_err_t on_msg(brook_msg_t *m, void *o)
{
        (void)m;
        (void)o;
        return BROOK_OK;
}

static void expect_fail(brook_conf_t *conf, brook_handlers_t *h,
                        const char *needle)
{
        char es[512] = "";
        brook_consumer_t *c = brook_consumer_new(conf, h, NULL, es, sizeof(es));

        TEST_ASSERT(!c, "consumer created; expected an error about %s", needle);
        TEST_ASSERT(strstr(es, needle), "error \"%s\" does not mention %s", es,
                    needle);
}

/* Invalid values are refused when set, naming the property. */
static void expect_set_fail(brook_conf_t *conf, const char *name,
                            const char *value)
{
        char es[512] = "";

        TEST_ASSERT(brook_conf_set(conf, name, value, es, sizeof(es)) ==
                        BROOK_ERR_CONF_INVALID,
                    "%s=%s accepted", name, value);
        TEST_ASSERT(strstr(es, name), "error \"%s\" does not mention %s", es,
                    name);
}

int main(void)
{
        brook_conf_t *conf = brook_conf_new();
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        char es[512];
        const char *topics[] = {"a", ""};
        brook_error_t *err;

        expect_fail(conf, h, "handler");
        brook_handlers_set_message(h, on_msg);
        expect_fail(conf, h, "bootstrap.servers");
        test_conf_set(conf, "bootstrap.servers", "127.0.0.1:1");
        expect_fail(conf, h, "group.id");
        expect_set_fail(conf, "group.id", "bad group!");
        expect_fail(conf, h, "group.id");
        expect_set_fail(conf, "group.id", "g/1");
        expect_fail(conf, h, "group.id");
        test_conf_set(conf, "group.id", "good.group_1-x");
        c = brook_consumer_new(conf, h, NULL, es, sizeof(es));
        TEST_ASSERT(c, "%s", es);
        TEST_ASSERT(brook_consumer_subscribe(c, NULL, 0, es, sizeof(es)) ==
                        BROOK_ERR_INVALID_ARG,
                    "no topics");
        TEST_ASSERT(brook_consumer_subscribe(c, topics, 2, es, sizeof(es)) ==
                        BROOK_ERR_INVALID_ARG,
                    "empty topic name");
        brook_consumer_destroy(c);
        TEST_ASSERT(!brook_consumer_new(NULL, h, NULL, es, sizeof(es)), "NULL");
        TEST_ASSERT(!brook_consumer_new(conf, NULL, NULL, es, sizeof(es)),
                    "NULL");
        err = brook_consumer_run(NULL);
        TEST_ASSERT(brook_error_code(err) == BROOK_ERR_INVALID_ARG,
                    "run(NULL)");
        brook_error_destroy(err);
        brook_consumer_stop(NULL);
        brook_consumer_destroy(NULL);
        brook_handlers_destroy(NULL);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        return 0;
}
