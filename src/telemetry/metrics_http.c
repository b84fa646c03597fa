/*
 * telemetry/metrics_http.c: the Prometheus scrape endpoint (`metrics.listen`),
 * served by libmicrohttpd on its own internal thread. GET /metrics
 * renders the registry (read-only); everything else is 404 / 405.
 */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "core/util.h"
#include "telemetry/telemetry.h"

struct brook__http_s {
        brook__tel_t *tel;
        struct MHD_Daemon *d;
        char address[300]; /* bound host:port */
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
                             const char *type, char *body, size_t len)
{
        struct MHD_Response *r =
            MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        enum MHD_Result ret;

        if (!r) {
                free(body);
                return MHD_NO;
        }
        MHD_add_response_header(r, "Content-Type", type);
        ret = MHD_queue_response(conn, status, r);
        MHD_destroy_response(r);
        return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
        brook__http_t *h = cls;
        char *body;
        size_t len;

        (void)version;
        (void)upload;
        (void)con_cls;
        if (*upload_size)
                return MHD_NO;
        if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
                body = strdup("method not allowed\n");
                return body ? reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                                    "text/plain", body, strlen(body))
                            : MHD_NO;
        }
        if (strcmp(url, "/metrics") && strcmp(url, "/")) {
                body = strdup("not found: try /metrics\n");
                return body ? reply(conn, MHD_HTTP_NOT_FOUND, "text/plain",
                                    body, strlen(body))
                            : MHD_NO;
        }
        if (!(body = brook__metrics_render(h->tel->metrics, &len)))
                return MHD_NO;
        return reply(conn, MHD_HTTP_OK,
                     "text/plain; version=0.0.4; charset=utf-8", body, len);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        brook__http_t *h = cls;
        char msg[512], rq[600];
        size_t n;

        vsnprintf(msg, sizeof(msg), fmt, ap);
        n = strlen(msg);
        while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
                msg[--n] = '\0';
        brook__log(&h->tel->log, BROOK_LOG_WARN, "metrics.http", "message=%s",
                   brook__logq(rq, sizeof(rq), msg));
}

brook__http_t *brook__http_new(brook__tel_t *tel, const char *listen,
                               char *errstr, size_t errstr_size)
{
        brook__http_t *h;
        struct addrinfo *ai;
        char host[256], port[32];
        const union MHD_DaemonInfo *info;
        unsigned flags =
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;

        if (brook__resolve("metrics.listen", listen, SOCK_STREAM, 1,
                           "127.0.0.1:9464, [::1]:9464, :9464", &ai, errstr,
                           errstr_size))
                return NULL;
        brook__split_hostport(listen, host, sizeof(host), port, sizeof(port));
        if (!(h = calloc(1, sizeof(*h)))) {
                freeaddrinfo(ai);
                brook__errstr(errstr, errstr_size, "out of memory");
                return NULL;
        }
        h->tel = tel;
        if (ai->ai_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        /* The logger first, so that every message goes through it. */
        h->d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
            mhd_log, h, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
        freeaddrinfo(ai);
        if (!h->d) {
                brook__errstr(errstr, errstr_size,
                              "metrics.listen: cannot listen on %s (address "
                              "in use or not local?)",
                              listen);
                free(h);
                return NULL;
        }
        info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
        snprintf(h->address, sizeof(h->address), "%s%s%s:%u",
                 strchr(host, ':') ? "[" : "", *host ? host : "0.0.0.0",
                 strchr(host, ':') ? "]" : "",
                 info ? (unsigned)info->port : (unsigned)atoi(port));
        brook__log(&tel->log, BROOK_LOG_INFO, "metrics.listening",
                   "address=%s path=/metrics", h->address);
        return h;
}

const char *brook__http_address(const brook__http_t *h)
{
        return h->address;
}

void brook__http_destroy(brook__http_t *h)
{
        if (!h)
                return;
        /* Joins the listener thread: no scrape reads the registry after. */
        MHD_stop_daemon(h->d);
        free(h);
}
