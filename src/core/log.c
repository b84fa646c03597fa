/*
 * core/log.c: structured log lines. Fields are written in logfmt by the callers
 * and converted to JSON here when log.format=json, so every line has one
 * shape: ts, level, component, event, then the event's fields.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"

void brook__logger_init(brook__logger_t *lg, const brook__settings_t *st,
                        const char *component)
{
        memset(lg, 0, sizeof(*lg));
        lg->level = (brook_log_level_t)st->log_level;
        lg->json = st->log_format == BROOK__LOGFMT_JSON;
        lg->cb = st->log_cb;
        lg->opaque = st->opaque;
        snprintf(lg->component, sizeof(lg->component), "%s", component);
}

static const char *level_name(brook_log_level_t level)
{
        switch (level) {
        case BROOK_LOG_ERROR:
                return "error";
        case BROOK_LOG_WARN:
                return "warn";
        case BROOK_LOG_INFO:
                return "info";
        default:
                return "debug";
        }
}

const char *brook__logq(char *buf, size_t size, const char *s)
{
        size_t o = 0;
        int quote = !*s || strpbrk(s, " \"=\t\n\\") != NULL;

        if (!size)
                return buf;
        if (quote && o + 1 < size)
                buf[o++] = '"';
        for (; *s && o + 3 < size; s++) {
                unsigned char ch = (unsigned char)*s;

                if (ch == '"' || ch == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = (char)ch;
                } else if (ch == '\n') {
                        buf[o++] = '\\';
                        buf[o++] = 'n';
                } else if (ch < 0x20) {
                        buf[o++] = ' ';
                } else {
                        buf[o++] = (char)ch;
                }
        }
        if (quote && o + 1 < size)
                buf[o++] = '"';
        buf[o] = '\0';
        return buf;
}

/* Append @p s to @p out at *@p op as a JSON string body. */
static void json_put(char *out, size_t size, size_t *op, const char *s,
                     size_t len)
{
        size_t o = *op, i;

        for (i = 0; i < len && o + 3 < size; i++) {
                unsigned char ch = (unsigned char)s[i];

                if (ch == '"' || ch == '\\') {
                        out[o++] = '\\';
                        out[o++] = (char)ch;
                } else if (ch < 0x20) {
                        out[o++] = ' ';
                } else {
                        out[o++] = (char)ch;
                }
        }
        out[o] = '\0';
        *op = o;
}

/* Convert a logfmt line to a JSON object. Values stay strings. */
static void logfmt_to_json(const char *in, char *out, size_t size)
{
        size_t o = 0;
        const char *p = in;
        int first = 1;
        char val[2048];

        if (size < 3)
                return;
        out[o++] = '{';
        while (*p && o + 8 < size) {
                const char *k, *eq;
                size_t vl = 0;

                while (*p == ' ')
                        p++;
                if (!*p)
                        break;
                k = p;
                eq = strchr(p, '=');
                if (!eq)
                        break;
                p = eq + 1;
                if (*p == '"') {
                        p++;
                        while (*p && *p != '"' && vl + 1 < sizeof(val)) {
                                if (*p == '\\' && p[1]) {
                                        p++;
                                        val[vl++] = *p == 'n' ? '\n' : *p;
                                } else {
                                        val[vl++] = *p;
                                }
                                p++;
                        }
                        if (*p == '"')
                                p++;
                } else {
                        while (*p && *p != ' ' && vl + 1 < sizeof(val))
                                val[vl++] = *p++;
                }
                if (!first)
                        out[o++] = ',';
                first = 0;
                out[o++] = '"';
                json_put(out, size, &o, k, (size_t)(eq - k));
                if (o + 4 >= size)
                        break;
                out[o++] = '"';
                out[o++] = ':';
                out[o++] = '"';
                json_put(out, size, &o, val, vl);
                if (o + 3 >= size)
                        break;
                out[o++] = '"';
        }
        out[o++] = '}';
        out[o] = '\0';
}

void brook__log(const brook__logger_t *lg, brook_log_level_t level,
                const char *event, const char *fmt, ...)
{
        char fields[2048], line[3072], json[4096], ts[64];
        va_list ap;
        struct timespec now;
        struct tm tm;
        const char *out = line;

        if (!brook__log_enabled(lg, level))
                return;
        va_start(ap, fmt);
        vsnprintf(fields, sizeof(fields), fmt, ap);
        va_end(ap);

        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (long)(now.tv_nsec / 1000000) % 1000);
        snprintf(line, sizeof(line),
                 "ts=%s level=%s component=%s event=%s%s%s%s%s", ts,
                 level_name(level), lg->component, event, *lg->ident ? " " : "",
                 lg->ident, *fields ? " " : "", fields);
        if (lg->json) {
                logfmt_to_json(line, json, sizeof(json));
                out = json;
        }
        if (lg->cb)
                lg->cb(level, event, out, lg->opaque);
        else
                fprintf(stderr, "%s\n", out);
}
