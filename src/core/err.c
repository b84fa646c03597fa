/*
 * core/err.c: error codes and error objects.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static const struct {
        const char *name;
        const char *desc;
} errs[BROOK_ERR__END] = {
    [BROOK_OK] = {"BROOK_OK", "Success"},
    [BROOK_ERR_INVALID_ARG] = {"BROOK_ERR_INVALID_ARG", "Invalid argument"},
    [BROOK_ERR_CONF_UNKNOWN] = {"BROOK_ERR_CONF_UNKNOWN",
                                "Unknown configuration property"},
    [BROOK_ERR_CONF_INVALID] = {"BROOK_ERR_CONF_INVALID",
                                "Invalid configuration value"},
    [BROOK_ERR_NO_MEM] = {"BROOK_ERR_NO_MEM", "Out of memory"},
    [BROOK_ERR_KAFKA] = {"BROOK_ERR_KAFKA", "Kafka error"},
    [BROOK_ERR_STATE] = {"BROOK_ERR_STATE", "Operation not valid in state"},
    [BROOK_ERR_HANDLER] = {"BROOK_ERR_HANDLER", "Handler failed"},
    [BROOK_ERR_TIMED_OUT] = {"BROOK_ERR_TIMED_OUT", "Timed out"},
    [BROOK_ERR_DEAD_LETTER] = {"BROOK_ERR_DEAD_LETTER",
                               "Dead-letter delivery failed or disabled"},
    [BROOK_ERR_DECODE] = {"BROOK_ERR_DECODE", "Record could not be decoded"},
    [BROOK_ERR_STORE] = {"BROOK_ERR_STORE", "State store error"},
    [BROOK_ERR_NOT_FOUND] = {"BROOK_ERR_NOT_FOUND", "Not found"},
    [BROOK_ERR_TOPOLOGY] = {"BROOK_ERR_TOPOLOGY", "Invalid topology"},
    [BROOK_ERR_UNKNOWN_TOPIC] = {"BROOK_ERR_UNKNOWN_TOPIC", "Unknown topic"},
    [BROOK_ERR_TRANSPORT] = {"BROOK_ERR_TRANSPORT", "Brokers unreachable"},
    [BROOK_ERR_FATAL] = {"BROOK_ERR_FATAL", "Fatal error"},
    [BROOK_ERR_IO] = {"BROOK_ERR_IO", "I/O error"},
    [BROOK_ERR_LOCKED] = {"BROOK_ERR_LOCKED", "Locked by another owner"},
    [BROOK_ERR_CORRUPT] = {"BROOK_ERR_CORRUPT", "Corrupt data"},
};

struct brook_error_s {
        brook_err_t code;
        int retriable;
        int fatal;
        char str[];
};

int brook_version(void)
{
        return BROOK_VERSION;
}

const char *brook_version_str(void)
{
        return BROOK_VERSION_STR;
}

const char *brook_err2str(brook_err_t err)
{
        if ((unsigned)err >= BROOK_ERR__END || !errs[err].desc)
                return "Unknown error";
        return errs[err].desc;
}

const char *brook_err2name(brook_err_t err)
{
        if ((unsigned)err >= BROOK_ERR__END || !errs[err].name)
                return "BROOK_ERR_UNKNOWN";
        return errs[err].name;
}

brook_error_t *brook__error_new(brook_err_t code, int fatal, int retriable,
                                const char *fmt, ...)
{
        va_list ap;
        char buf[1024];
        brook_error_t *e;
        size_t len;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        len = strlen(buf);
        e = malloc(sizeof(*e) + len + 1);
        if (!e)
                return NULL;
        e->code = code;
        e->fatal = fatal;
        e->retriable = retriable;
        memcpy(e->str, buf, len + 1);
        return e;
}

brook_err_t brook_error_code(const brook_error_t *error)
{
        return error ? error->code : BROOK_OK;
}

const char *brook_error_string(const brook_error_t *error)
{
        return error ? error->str : "";
}

int brook_error_is_retriable(const brook_error_t *error)
{
        return error ? error->retriable : 0;
}

int brook_error_is_fatal(const brook_error_t *error)
{
        return error ? error->fatal : 0;
}

void brook_error_destroy(brook_error_t *error)
{
        free(error);
}

void brook__errstr(char *errstr, size_t size, const char *fmt, ...)
{
        va_list ap;

        if (!errstr || !size)
                return;
        va_start(ap, fmt);
        vsnprintf(errstr, size, fmt, ap);
        va_end(ap);
}
