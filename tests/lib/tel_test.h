/*
 * tel_test.h: helpers of the telemetry tests (tests/unit/05NN,
 * tests/mock/15NN): a plain HTTP GET client for scraping, a UDP listener
 * standing in for a DogStatsD agent, a reader of Prometheus sample values,
 * and `promtool check metrics` as an independent exposition parser.
 * Header-only (static functions) so that only the tests using it carry it.
 */
#ifndef BROOK_TEL_TEST_H
#define BROOK_TEL_TEST_H

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

/* GET http://<hostport><path> (HTTP/1.0); returns the body (malloc'd) and
 * the status in *statusp, or NULL when the connection failed. */
static inline char *tel_http_get(const char *hostport, const char *path,
                                 int *statusp)
{
        char host[256], port[32], req[512];
        const char *colon = strrchr(hostport, ':');
        struct addrinfo hints, *ai;
        char *buf = NULL, *body;
        size_t len = 0, cap = 0;
        int fd;

        *statusp = 0;
        if (!colon)
                return NULL;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
        snprintf(port, sizeof(port), "%s", colon + 1);
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(host, port, &hints, &ai))
                return NULL;
        fd = socket(ai->ai_family, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
                if (fd >= 0)
                        close(fd);
                freeaddrinfo(ai);
                return NULL;
        }
        freeaddrinfo(ai);
        snprintf(req, sizeof(req),
                 "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n",
                 path, hostport);
        if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
                close(fd);
                return NULL;
        }
        for (;;) {
                ssize_t n;

                if (len + 4097 > cap) {
                        cap = cap ? cap * 2 : 65536;
                        buf = realloc(buf, cap);
                        TEST_ASSERT(buf, "out of memory");
                }
                n = read(fd, buf + len, cap - len - 1);
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        if (!buf)
                return NULL;
        buf[len] = '\0';
        if (sscanf(buf, "HTTP/1.%*d %d", statusp) != 1 ||
            !(body = strstr(buf, "\r\n\r\n"))) {
                free(buf);
                return NULL;
        }
        body = strdup(body + 4);
        free(buf);
        return body;
}

/* A UDP socket on 127.0.0.1, any free port (*portp). */
static inline int tel_udp_listen(int *portp)
{
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        int fd = socket(AF_INET, SOCK_DGRAM, 0);

        TEST_ASSERT(fd >= 0, "socket");
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        TEST_ASSERT(!bind(fd, (struct sockaddr *)&sa, sizeof(sa)), "bind");
        TEST_ASSERT(!getsockname(fd, (struct sockaddr *)&sa, &sl), "name");
        *portp = ntohs(sa.sin_port);
        return fd;
}

/* Append every datagram that arrives within @p wait_ms to *bufp (lines
 * separated by '\n'); returns the number of datagrams. */
static inline int tel_udp_drain(int fd, int wait_ms, char **bufp, size_t *lenp)
{
        struct pollfd pfd = {fd, POLLIN, 0};
        char d[65536];
        int n = 0;

        while (poll(&pfd, 1, wait_ms) > 0) {
                ssize_t r = recv(fd, d, sizeof(d), 0);

                if (r <= 0)
                        break;
                *bufp = realloc(*bufp, *lenp + (size_t)r + 2);
                TEST_ASSERT(*bufp, "out of memory");
                memcpy(*bufp + *lenp, d, (size_t)r);
                *lenp += (size_t)r;
                (*bufp)[(*lenp)++] = '\n';
                (*bufp)[*lenp] = '\0';
                n++;
        }
        return n;
}

/*
 * Sum of the sample values of metric @p name (exact name) whose label set
 * contains every `k="v"` of @p labels (comma separated, may be "" or
 * NULL); -1 when no sample matches.
 */
static inline double tel_metric(const char *text, const char *name,
                                const char *labels)
{
        const char *p = text;
        double sum = 0;
        int found = 0;
        size_t nl = strlen(name);

        while (p && *p) {
                const char *eol = strchr(p, '\n');
                size_t ll = eol ? (size_t)(eol - p) : strlen(p);
                char line[2048];

                snprintf(line, sizeof(line), "%.*s", (int)ll, p);
                p = eol ? eol + 1 : NULL;
                if (line[0] == '#' || strncmp(line, name, nl) ||
                    (line[nl] != '{' && line[nl] != ' '))
                        continue;
                if (labels && *labels) {
                        char want[512], *save = NULL, *tok;
                        const char *close = strchr(line, '}');
                        int ok = 1;

                        snprintf(want, sizeof(want), "%s", labels);
                        for (tok = strtok_r(want, ",", &save); tok && ok;
                             tok = strtok_r(NULL, ",", &save)) {
                                const char *hit = strstr(line, tok);

                                ok = hit && close && hit < close &&
                                     (hit[-1] == '{' || hit[-1] == ',');
                        }
                        if (!ok)
                                continue;
                }
                {
                        const char *v = strrchr(line, ' ');

                        sum += v ? atof(v + 1) : 0;
                        found = 1;
                }
        }
        return found ? sum : -1;
}

/* `promtool check metrics` on @p text; returns its exit status (0: valid,
 * 3: promtool missing) and its output in @p out. */
static inline int tel_promtool(const char *text, char *out, size_t outsize)
{
        char path[] = "/tmp/brook-tel-XXXXXX", cmd[256];
        int fd = mkstemp(path), rc;
        FILE *f;
        size_t n = 0;

        TEST_ASSERT(fd >= 0, "mkstemp");
        TEST_ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text),
                    "write");
        close(fd);
        if (access("/usr/bin/promtool", X_OK) && system("command -v promtool "
                                                        ">/dev/null 2>&1")) {
                unlink(path);
                snprintf(out, outsize,
                         "promtool not installed (Debian "
                         "package prometheus)");
                return 3;
        }
        snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
        f = popen(cmd, "r");
        TEST_ASSERT(f, "popen promtool");
        out[0] = '\0';
        while (n + 1 < outsize && fgets(out + n, (int)(outsize - n), f))
                n = strlen(out);
        rc = pclose(f);
        unlink(path);
        return WIFEXITED(rc) ? WEXITSTATUS(rc) : 1;
}

#endif /* BROOK_TEL_TEST_H */
