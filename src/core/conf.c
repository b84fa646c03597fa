/*
 * core/conf.c: brook_conf_t, a string key/value configuration validated against
 * the property table (core/conf_table.c), with "kafka." keys validated by
 * librdkafka and "rocksdb." keys kept for the state store.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "core/conf.h"

typedef struct kv_s {
        char *name; /* full name, with its prefix */
        char *value;
} kv_t;

struct brook_conf_s {
        char **vals; /* [BROOK__P__CNT], NULL: default */
        kv_t *pass;  /* pass-through keys in the order set */
        size_t pass_cnt, pass_cap;
        brook_log_cb_t *log_cb;
        void *opaque;
};

static char *xstrdup(const char *s)
{
        size_t n = strlen(s) + 1;
        char *d = malloc(n);

        if (d)
                memcpy(d, s, n);
        return d;
}

brook_conf_t *brook_conf_new(void)
{
        brook_conf_t *conf = calloc(1, sizeof(*conf));

        if (!conf)
                return NULL;
        conf->vals = calloc(BROOK__P__CNT, sizeof(*conf->vals));
        if (!conf->vals) {
                free(conf);
                return NULL;
        }
        return conf;
}

void brook_conf_destroy(brook_conf_t *conf)
{
        size_t i;

        if (!conf)
                return;
        for (i = 0; i < BROOK__P__CNT; i++)
                free(conf->vals[i]);
        free(conf->vals);
        for (i = 0; i < conf->pass_cnt; i++) {
                free(conf->pass[i].name);
                free(conf->pass[i].value);
        }
        free(conf->pass);
        free(conf);
}

static brook_err_t pass_set(brook_conf_t *conf, const char *name,
                            const char *value)
{
        size_t i;
        char *v = NULL;

        if (value && !(v = xstrdup(value)))
                return BROOK_ERR_NO_MEM;
        for (i = 0; i < conf->pass_cnt; i++) {
                if (strcmp(conf->pass[i].name, name))
                        continue;
                free(conf->pass[i].value);
                if (v) {
                        conf->pass[i].value = v;
                        return BROOK_OK;
                }
                /* reset: remove the entry, keep the order */
                free(conf->pass[i].name);
                memmove(&conf->pass[i], &conf->pass[i + 1],
                        (conf->pass_cnt - i - 1) * sizeof(*conf->pass));
                conf->pass_cnt--;
                return BROOK_OK;
        }
        if (!v)
                return BROOK_OK;
        if (conf->pass_cnt == conf->pass_cap) {
                size_t cap = conf->pass_cap ? conf->pass_cap * 2 : 8;
                kv_t *p = realloc(conf->pass, cap * sizeof(*p));

                if (!p) {
                        free(v);
                        return BROOK_ERR_NO_MEM;
                }
                conf->pass = p;
                conf->pass_cap = cap;
        }
        conf->pass[conf->pass_cnt].name = xstrdup(name);
        if (!conf->pass[conf->pass_cnt].name) {
                free(v);
                return BROOK_ERR_NO_MEM;
        }
        conf->pass[conf->pass_cnt].value = v;
        conf->pass_cnt++;
        return BROOK_OK;
}

brook_conf_t *brook_conf_dup(const brook_conf_t *conf)
{
        brook_conf_t *d;
        size_t i;

        if (!conf || !(d = brook_conf_new()))
                return NULL;
        for (i = 0; i < BROOK__P__CNT; i++) {
                if (conf->vals[i] && !(d->vals[i] = xstrdup(conf->vals[i])))
                        goto fail;
        }
        for (i = 0; i < conf->pass_cnt; i++)
                if (pass_set(d, conf->pass[i].name, conf->pass[i].value))
                        goto fail;
        d->log_cb = conf->log_cb;
        d->opaque = conf->opaque;
        return d;
fail:
        brook_conf_destroy(d);
        return NULL;
}

int brook__parse_int(const char *s, int64_t *out)
{
        char *end;
        long long v;

        while (isspace((unsigned char)*s))
                s++;
        if (!*s)
                return -1;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s)
                return -1;
        while (isspace((unsigned char)*end))
                end++;
        if (*end)
                return -1;
        *out = (int64_t)v;
        return 0;
}

int brook__parse_bool(const char *s, int *out)
{
        static const char *t[] = {"true", "1", "yes", "on"};
        static const char *f[] = {"false", "0", "no", "off"};
        size_t i;

        for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                if (!strcasecmp(s, t[i])) {
                        *out = 1;
                        return 0;
                }
                if (!strcasecmp(s, f[i])) {
                        *out = 0;
                        return 0;
                }
        }
        return -1;
}

/* The value of @p word in @p words, or -1. */
static int enum_value(const brook__enum_t *words, const char *word)
{
        for (; words->name; words++)
                if (!strcmp(words->name, word))
                        return words->value;
        return -1;
}

/* "a, b, c" into @p buf. */
static const char *enum_list(const brook__enum_t *words, char *buf, size_t size)
{
        size_t o = 0;

        buf[0] = '\0';
        for (; words->name && o < size; words++)
                o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ", " : "",
                                      words->name);
        return buf;
}

brook_err_t brook__prop_validate(const brook__prop_t *p, const char *value,
                                 char *errstr, size_t errstr_size)
{
        char words[256];
        int64_t iv;
        int bv;

        switch (p->type) {
        case BROOK__PT_INT:
                if (brook__parse_int(value, &iv)) {
                        brook__errstr(errstr, errstr_size,
                                      "%s: \"%s\" is not an integer "
                                      "(allowed: %lld..%lld)",
                                      p->name, value, (long long)p->min,
                                      (long long)p->max);
                        return BROOK_ERR_CONF_INVALID;
                }
                if (iv < p->min || iv > p->max) {
                        brook__errstr(errstr, errstr_size,
                                      "%s: %lld is out of range "
                                      "(allowed: %lld..%lld)",
                                      p->name, (long long)iv, (long long)p->min,
                                      (long long)p->max);
                        return BROOK_ERR_CONF_INVALID;
                }
                break;
        case BROOK__PT_BOOL:
                if (brook__parse_bool(value, &bv)) {
                        brook__errstr(errstr, errstr_size,
                                      "%s: \"%s\" is not a boolean "
                                      "(allowed: true, false)",
                                      p->name, value);
                        return BROOK_ERR_CONF_INVALID;
                }
                break;
        case BROOK__PT_ENUM:
                if (enum_value(p->words, value) < 0) {
                        brook__errstr(
                            errstr, errstr_size,
                            "%s: \"%s\" is not allowed (allowed: %s)", p->name,
                            value, enum_list(p->words, words, sizeof(words)));
                        return BROOK_ERR_CONF_INVALID;
                }
                break;
        case BROOK__PT_STR:
                break;
        }
        return p->check ? p->check(p->name, value, errstr, errstr_size)
                        : BROOK_OK;
}

/* Validate a "kafka." value with librdkafka itself. */
static brook_err_t kafka_validate(const char *name, const char *value,
                                  char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        char rerr[512];
        rd_kafka_conf_res_t res;

        if (!rkc)
                return BROOK_ERR_NO_MEM;
        res = rd_kafka_conf_set(rkc, name + 6, value, rerr, sizeof(rerr));
        rd_kafka_conf_destroy(rkc);
        if (res == RD_KAFKA_CONF_OK)
                return BROOK_OK;
        brook__errstr(errstr, errstr_size, "%s: %s", name, rerr);
        return res == RD_KAFKA_CONF_UNKNOWN ? BROOK_ERR_CONF_UNKNOWN
                                            : BROOK_ERR_CONF_INVALID;
}

/* The managed-property row of "kafka.<name>" refused for @p comps. */
static const brook__kmanaged_t *kafka_managed(const char *name, int comps)
{
        const brook__kmanaged_t *m;

        for (m = brook__kafka_managed; m->name; m++)
                if ((m->comps & comps) == comps && !strcmp(m->name, name))
                        return m;
        return NULL;
}

/* Set a "kafka." or "rocksdb." key. */
static brook_err_t pass_through_set(brook_conf_t *conf, const char *name,
                                    const char *value, char *errstr,
                                    size_t errstr_size)
{
        int kafka = name[0] == 'k';
        const char *bare = name + (kafka ? 6 : 8);
        const brook__kmanaged_t *m;
        brook_err_t err;

        if (!*bare) {
                brook__errstr(errstr, errstr_size,
                              "%s: a property name must follow the prefix",
                              name);
                return BROOK_ERR_CONF_UNKNOWN;
        }
        if (value && kafka && (m = kafka_managed(bare, BROOK__PF_ALL))) {
                brook__errstr(errstr, errstr_size,
                              "%s: brook manages this librdkafka property: "
                              "%s",
                              name, m->instead);
                return BROOK_ERR_CONF_INVALID;
        }
        if (value && kafka &&
            (err = kafka_validate(name, value, errstr, errstr_size)))
                return err;
        if ((err = pass_set(conf, name, value)))
                brook__errstr(errstr, errstr_size, "%s: %s", name,
                              brook_err2str(err));
        return err;
}

brook_err_t brook_conf_set(brook_conf_t *conf, const char *name,
                           const char *value, char *errstr, size_t errstr_size)
{
        const brook__prop_t *p;
        brook_err_t err;
        char *v;
        size_t idx;

        if (!conf || !name) {
                brook__errstr(errstr, errstr_size,
                              "brook_conf_set: conf and name are required");
                return BROOK_ERR_INVALID_ARG;
        }
        if (!strncmp(name, "kafka.", 6) || !strncmp(name, "rocksdb.", 8))
                return pass_through_set(conf, name, value, errstr, errstr_size);
        if (!(p = brook__prop_find(name))) {
                brook__errstr(errstr, errstr_size,
                              "%s: unknown property (brook properties are "
                              "listed in docs/CONFIGURATION.md; prefix "
                              "librdkafka properties with \"kafka.\" and "
                              "RocksDB options with \"rocksdb.\")",
                              name);
                return BROOK_ERR_CONF_UNKNOWN;
        }
        idx = (size_t)(p - brook__props);
        if (!value) {
                free(conf->vals[idx]);
                conf->vals[idx] = NULL;
                return BROOK_OK;
        }
        if ((err = brook__prop_validate(p, value, errstr, errstr_size)))
                return err;
        if (!(v = xstrdup(value)))
                return BROOK_ERR_NO_MEM;
        free(conf->vals[idx]);
        conf->vals[idx] = v;
        return BROOK_OK;
}

/* The effective text value of property @p p for component @p comp. */
static const char *prop_value(const brook_conf_t *conf, const brook__prop_t *p,
                              int comp)
{
        const char *v = conf->vals[p - brook__props];

        if (v)
                return v;
        if (comp == BROOK__COMP_STREAMS && p->def_streams)
                return p->def_streams;
        return p->def;
}

brook_err_t brook_conf_get(const brook_conf_t *conf, const char *name,
                           char *dest, size_t *sizep)
{
        const brook__prop_t *p;
        const char *v = NULL;
        size_t i, need;

        if (!conf || !name || !sizep)
                return BROOK_ERR_INVALID_ARG;
        if (!strncmp(name, "kafka.", 6) || !strncmp(name, "rocksdb.", 8)) {
                for (i = 0; i < conf->pass_cnt; i++)
                        if (!strcmp(conf->pass[i].name, name))
                                v = conf->pass[i].value;
                if (!v)
                        return BROOK_ERR_CONF_UNKNOWN;
        } else {
                if (!(p = brook__prop_find(name)))
                        return BROOK_ERR_CONF_UNKNOWN;
                v = prop_value(conf, p, BROOK__COMP_CONSUMER);
        }
        need = strlen(v) + 1;
        if (dest && *sizep >= need) {
                memcpy(dest, v, need);
                *sizep = need;
                return BROOK_OK;
        }
        *sizep = need;
        return dest ? BROOK_ERR_INVALID_ARG : BROOK_OK;
}

int brook__conf_is_secret(const char *name)
{
        static const char *pats[] = {
            "password", "secret", "sasl.oauthbearer", "ssl.key.pem",
            "ssl_key",  "token",  "credential"};
        size_t i;

        for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
                if (strstr(name, pats[i]))
                        return 1;
        return 0;
}

static const char *redacted(const char *name, const char *value, int flags)
{
        if ((flags & BROOK__PF_SECRET) || brook__conf_is_secret(name))
                return *value ? "[redacted]" : "";
        return value;
}

const char **brook_conf_dump(const brook_conf_t *conf, size_t *cntp)
{
        size_t n, i, j = 0;
        const char **arr;

        if (!conf || !cntp)
                return NULL;
        n = (BROOK__P__CNT + conf->pass_cnt) * 2;
        if (!(arr = calloc(n ? n : 1, sizeof(*arr))))
                return NULL;
        for (i = 0; i < BROOK__P__CNT; i++) {
                const brook__prop_t *p = &brook__props[i];

                arr[j++] = xstrdup(p->name);
                arr[j++] = xstrdup(
                    redacted(p->name, prop_value(conf, p, BROOK__COMP_CONSUMER),
                             p->flags));
        }
        for (i = 0; i < conf->pass_cnt; i++) {
                arr[j++] = xstrdup(conf->pass[i].name);
                arr[j++] = xstrdup(
                    redacted(conf->pass[i].name, conf->pass[i].value, 0));
        }
        for (i = 0; i < j; i++) {
                if (!arr[i]) {
                        brook_conf_dump_free(arr, j);
                        return NULL;
                }
        }
        *cntp = j;
        return arr;
}

void brook_conf_dump_free(const char **arr, size_t cnt)
{
        size_t i;

        if (!arr)
                return;
        for (i = 0; i < cnt; i++)
                free((char *)arr[i]);
        free(arr);
}

static const char *type_name(const brook__prop_t *p)
{
        switch (p->type) {
        case BROOK__PT_INT:
                return "integer";
        case BROOK__PT_BOOL:
                return "boolean";
        case BROOK__PT_ENUM:
                return "enum";
        case BROOK__PT_STR:
                return "string";
        }
        return "?";
}

void brook_conf_properties_show(FILE *fp)
{
        const brook__kmanaged_t *m;
        size_t i;

        fprintf(fp, "# brook configuration properties\n\n"
                    "Generated from the property table in "
                    "`src/conf_table.c` by `brook-conf-doc`; do not edit.\n\n"
                    "Set with `brook_conf_set(conf, name, value, errstr, "
                    "sizeof(errstr))`. Names prefixed `kafka.` pass through "
                    "to librdkafka (validated by it when set); names "
                    "prefixed `rocksdb.` go to the RocksDB state store. "
                    "Secrets are redacted in dumps and logs.\n\n"
                    "Component: C = batch consumer, S = streams runtime. "
                    "R = can change at run time "
                    "(`brook_consumer_update_batch_config`).\n\n"
                    "| Property | Component | Type | Range / values | Default "
                    "| Description |\n"
                    "|---|---|---|---|---|---|\n");
        for (i = 0; i < BROOK__P__CNT; i++) {
                const brook__prop_t *p = &brook__props[i];
                char range[128] = "";
                char def[128];

                if (p->type == BROOK__PT_INT)
                        snprintf(range, sizeof(range), "%lld .. %lld",
                                 (long long)p->min, (long long)p->max);
                else if (p->type == BROOK__PT_ENUM)
                        enum_list(p->words, range, sizeof(range));
                else if (p->type == BROOK__PT_BOOL)
                        snprintf(range, sizeof(range), "true, false");
                if (p->def_streams)
                        snprintf(def, sizeof(def), "%s (S: %s)", p->def,
                                 p->def_streams);
                else
                        snprintf(def, sizeof(def), "%s", p->def);
                fprintf(fp, "| `%s` | %s%s%s | %s | %s | %s | %s |\n", p->name,
                        (p->flags & BROOK__PF_CONSUMER) ? "C" : "",
                        (p->flags & BROOK__PF_STREAMS) ? "S" : "",
                        (p->flags & BROOK__PF_RUNTIME) ? " R" : "",
                        type_name(p), range, *def ? def : "(empty)", p->doc);
        }
        fprintf(fp, "\n## Who reads a property\n\n"
                    "A configuration is parsed once, when the consumer or the "
                    "streams runtime is created. Setting a property that the "
                    "component being created does not read (a C property for "
                    "streams, an S property or a `rocksdb.` key for the "
                    "consumer) fails `brook_consumer_new()` / "
                    "`brook_streams_new()` with a message naming the component "
                    "that reads it: use one configuration per component. "
                    "`kafka.` keys reach each librdkafka client brook creates "
                    "when librdkafka's own scope of the property fits the "
                    "client (consumer-only properties never reach a producer, "
                    "and the reverse).\n\n"
                    "## librdkafka properties brook manages\n\n"
                    "Setting these as `kafka.<name>` is refused (C/S: by both "
                    "components when set; S: by the streams runtime when "
                    "created), because brook's guarantees depend on them:\n\n"
                    "| Property | Refused by | Instead |\n|---|---|---|\n");
        for (m = brook__kafka_managed; m->name; m++)
                fprintf(fp, "| `kafka.%s` | %s%s | %s |\n", m->name,
                        (m->comps & BROOK__PF_CONSUMER) ? "C" : "",
                        (m->comps & BROOK__PF_STREAMS) ? "S" : "", m->instead);
}

void brook_conf_set_log_cb(brook_conf_t *conf, brook_log_cb_t *log_cb)
{
        if (conf)
                conf->log_cb = log_cb;
}

void brook_conf_set_opaque(brook_conf_t *conf, void *opaque)
{
        if (conf)
                conf->opaque = opaque;
}

const char *brook__prop_word(brook__prop_id_t id, int value)
{
        const brook__enum_t *w = brook__props[id].words;

        for (; w && w->name; w++)
                if (w->value == value)
                        return w->name;
        return "?";
}

const char *brook__comp_name(int comp)
{
        switch (comp) {
        case BROOK__COMP_CONSUMER:
                return "the batch consumer";
        case BROOK__COMP_STREAMS:
                return "the streams runtime";
        case BROOK__COMP_HELPER:
                return "a helper";
        }
        return "?";
}

/* "the batch consumer and the streams runtime" for a row's readers. */
static const char *readers(int flags, char *buf, size_t size)
{
        int comps[] = {BROOK__COMP_CONSUMER, BROOK__COMP_STREAMS};
        size_t o = 0, i;

        buf[0] = '\0';
        for (i = 0; i < 2 && o < size; i++)
                if (flags & comps[i])
                        o += (size_t)snprintf(buf + o, size - o, "%s%s",
                                              o ? " and " : "",
                                              brook__comp_name(comps[i]));
        return buf;
}

/* Store @p v (already validated) at the row's field of @p st. */
static void settings_put(brook__settings_t *st, const brook__prop_t *p,
                         const char *v)
{
        char *field = (char *)st + p->off;
        int64_t iv = 0;
        int bv = 0;

        switch (p->type) {
        case BROOK__PT_INT:
                brook__parse_int(v, &iv);
                memcpy(field, &iv, sizeof(iv));
                break;
        case BROOK__PT_BOOL:
                brook__parse_bool(v, &bv);
                memcpy(field, &bv, sizeof(bv));
                break;
        case BROOK__PT_ENUM:
                bv = enum_value(p->words, v);
                assert(bv >= 0);
                memcpy(field, &bv, sizeof(bv));
                break;
        case BROOK__PT_STR:
                memcpy(field, &v, sizeof(v));
                break;
        }
}

brook_err_t brook__settings_load(brook__settings_t *st,
                                 const brook_conf_t *conf, brook__comp_t comp,
                                 char *errstr, size_t errstr_size)
{
        const brook__kmanaged_t *m;
        char who[96];
        size_t i;

        memset(st, 0, sizeof(*st));
        st->comp = comp;
        st->conf = conf;
        st->log_cb = conf->log_cb;
        st->opaque = conf->opaque;
        for (i = 0; i < BROOK__P__CNT; i++) {
                const brook__prop_t *p = &brook__props[i];

                st->set[i] = conf->vals[i] != NULL;
                if (comp != BROOK__COMP_HELPER && !(p->flags & (int)comp)) {
                        if (st->set[i]) {
                                brook__errstr(
                                    errstr, errstr_size,
                                    "%s: not read by %s; it is read by %s "
                                    "(remove it from this configuration, or "
                                    "use one configuration per component)%s",
                                    p->name, brook__comp_name(comp),
                                    readers(p->flags, who, sizeof(who)),
                                    i == BROOK__P_GROUP_ID
                                        ? "; the streams runtime's group is "
                                          "application.id"
                                    : i == BROOK__P_APPLICATION_ID
                                        ? "; the batch consumer's group is "
                                          "group.id"
                                        : "");
                                return BROOK_ERR_CONF_INVALID;
                        }
                        continue;
                }
                settings_put(st, p, prop_value(conf, p, comp));
        }
        if (comp == BROOK__COMP_HELPER)
                return BROOK_OK;
        for (i = 0; i < conf->pass_cnt; i++) {
                const char *n = conf->pass[i].name;

                if (comp == BROOK__COMP_CONSUMER &&
                    !strncmp(n, "rocksdb.", 8)) {
                        brook__errstr(errstr, errstr_size,
                                      "%s: not read by %s; RocksDB options "
                                      "are read by the streams runtime's "
                                      "state stores",
                                      n, brook__comp_name(comp));
                        return BROOK_ERR_CONF_INVALID;
                }
                if (!strncmp(n, "kafka.", 6) &&
                    (m = kafka_managed(n + 6, (int)comp))) {
                        brook__errstr(errstr, errstr_size,
                                      "%s: %s manages this librdkafka "
                                      "property: %s",
                                      n, brook__comp_name(comp), m->instead);
                        return BROOK_ERR_CONF_INVALID;
                }
        }
        return BROOK_OK;
}

brook_err_t brook__conf_foreach(const brook_conf_t *conf, const char *prefix,
                                brook_err_t (*cb)(const char *name,
                                                  const char *value, void *arg),
                                void *arg)
{
        size_t i, pl = strlen(prefix);
        brook_err_t err;

        for (i = 0; i < conf->pass_cnt; i++) {
                if (strncmp(conf->pass[i].name, prefix, pl))
                        continue;
                if ((err =
                         cb(conf->pass[i].name + pl, conf->pass[i].value, arg)))
                        return err;
        }
        return BROOK_OK;
}
