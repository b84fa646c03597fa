/*
 * consumer/consumer.c: the batch consumer's public API, its construction
 * and the run loop.
 *
 * One thread (the caller of brook_consumer_run()) fetches from librdkafka's
 * consumer queue, accumulates messages per partition, closes batches by
 * size, bytes and time, runs them (inline, or on the worker pool when
 * batch.async=true) and acknowledges them (consumer/work.c,
 * consumer/ack.c), commits what is done (consumer/commit.c), pauses
 * fetching under back-pressure, and handles rebalances
 * (consumer/rebalance.c). The files it uses are listed in
 * consumer/consumer.h.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/consumer.h"

#define POLL_MAX_MSGS 1024

/* ------------------------------------------------------------------ */
/* handlers                                                            */

brook_handlers_t *brook_handlers_new(void)
{
        return calloc(1, sizeof(brook_handlers_t));
}

void brook_handlers_destroy(brook_handlers_t *h)
{
        free(h);
}

void brook_handlers_set_message(brook_handlers_t *h,
                                brook_message_handler_t *fn)
{
        if (h)
                h->message = fn;
}

void brook_handlers_set_batch(brook_handlers_t *h, brook_batch_handler_t *fn)
{
        if (h)
                h->batch = fn;
}

void brook_handlers_set_dead_letter(brook_handlers_t *h,
                                    brook_dead_letter_cb_t *fn)
{
        if (h)
                h->dead_letter = fn;
}

void brook_handlers_set_result(brook_handlers_t *h, brook_result_cb_t *fn)
{
        if (h)
                h->result = fn;
}

void brook_handlers_set_decoder(brook_handlers_t *h, brook_decoder_t *decode,
                                brook_decoded_free_t *free_fn)
{
        if (h) {
                h->decode = decode;
                h->decoded_free = free_fn;
        }
}

void brook_handlers_set_partitions(brook_handlers_t *h,
                                   brook_partitions_cb_t *fn)
{
        if (h)
                h->partitions = fn;
}

/* ------------------------------------------------------------------ */
/* construction                                                        */

/* librdkafka's statistics (served on the run() thread): consumer lag. */
static void on_stats(void *owner, const char *json, size_t len)
{
        brook__tel_stats(((brook_consumer_t *)owner)->tel, 0, json, len);
}

static void read_settings(brook_consumer_t *c)
{
        const brook__settings_t *st = &c->st;

        c->lim.size = (size_t)st->batch_size;
        c->lim.timeout_us = st->batch_timeout_ms * 1000;
        c->lim.max_bytes = (size_t)st->batch_max_bytes;
        c->async = st->batch_async;
        c->ordered = st->batch_ordered;
        c->max_conc = (int)st->batch_max_concurrency;
        c->max_inflight = (int)st->max_in_flight_batches;
        c->handler_timeout_us = st->batch_handler_timeout_ms * 1000;
        c->ack = st->ack_strategy;
        c->backoff_us = st->retry_backoff_ms * 1000;
        c->backoff_max_us = st->retry_backoff_max_ms * 1000;
        c->max_retries = (int)st->dead_letter_max_retries;
        c->dlq_skip = st->dead_letter_policy == BROOK__DLP_SKIP;
        c->commit_interval_us = st->commit_interval_ms * 1000;
        c->shutdown_timeout_us = st->shutdown_timeout_ms * 1000;
        c->unavailable_timeout_us = st->broker_unavailable_timeout_ms * 1000;
        /* Single-message mode: a message handler alone, no batch settings. */
        c->single = !c->h.batch && !c->async && !st->set[BROOK__P_BATCH_SIZE];
        if (c->single) {
                c->lim.size = 1;
                c->lim.timeout_us = 0;
        }
        if (!c->async)
                c->max_inflight = 1;
        c->budget = c->lim.max_bytes * (size_t)c->max_inflight;
        c->upd_lim = c->lim;
}

brook_consumer_t *brook_consumer_new(const brook_conf_t *conf,
                                     const brook_handlers_t *handlers,
                                     void *opaque, char *errstr,
                                     size_t errstr_size)
{
        brook_consumer_t *c;
        brook__kopts_t ko = {NULL, NULL, NULL, 0};
        rd_kafka_conf_t *rkc;

        if (!conf || !handlers) {
                brook__errstr(errstr, errstr_size,
                              "brook_consumer_new: conf and handlers are "
                              "required");
                return NULL;
        }
        if (!handlers->message && !handlers->batch) {
                brook__errstr(errstr, errstr_size,
                              "brook_consumer_new: set a message handler "
                              "(brook_handlers_set_message) or a batch "
                              "handler (brook_handlers_set_batch)");
                return NULL;
        }
        if (!(c = calloc(1, sizeof(*c))) || !(c->conf = brook_conf_dup(conf)) ||
            !(c->buckets = calloc(BROOK__NBUCKETS, sizeof(*c->buckets)))) {
                brook__errstr(errstr, errstr_size, "out of memory");
                if (c)
                        brook_conf_destroy(c->conf);
                free(c);
                return NULL;
        }
        pthread_mutex_init(&c->upd_lock, NULL);
        brook__list_init(&c->ready);
        brook__list_init(&c->orphans);
        if (brook__settings_load(&c->st, c->conf, BROOK__COMP_CONSUMER, errstr,
                                 errstr_size))
                goto fail;
        if (!*c->st.bootstrap_servers) {
                brook__errstr(errstr, errstr_size,
                              "bootstrap.servers: required (host:port[,...])");
                goto fail;
        }
        if (!*c->st.group_id) {
                brook__errstr(errstr, errstr_size,
                              "group.id: \"\" is not a valid group id "
                              "(required; 1..249 characters of "
                              "[a-zA-Z0-9._-])");
                goto fail;
        }
        c->h = *handlers;
        c->opaque = opaque;
        c->group = c->st.group_id;
        ko.group_id = c->group;
        read_settings(c);
        brook__logger_init(&c->log, &c->st, "consumer");
        snprintf(c->log.ident, sizeof(c->log.ident), "group=%s", c->group);
        if (!(c->tel = brook__tel_new(&c->st, "consumer", c->group, &c->log,
                                      BROOK__TEL_F_SINGLE_WRITER, errstr,
                                      errstr_size)))
                goto fail;
        c->kc.log = &c->log;
        c->kc.name = "consumer";
        c->kc.owner = c;
        c->kc.on_error = brook__health_error;
        c->kc.on_stats = on_stats;
        if (!(rkc = brook__kafka_conf(BROOK__KROLE_CONSUMER, &c->st, &ko,
                                      &c->kc, errstr, errstr_size)))
                goto fail;
        rd_kafka_conf_set_rebalance_cb(rkc, brook__rebalance_cb);
        if (!(c->rk = brook__kafka_new(BROOK__KROLE_CONSUMER, rkc, errstr,
                                       errstr_size)))
                goto fail;
        c->rkqu = rd_kafka_queue_get_consumer(c->rk);
        c->commit_q = rd_kafka_queue_new(c->rk);
        if (brook__dlq_open(c, errstr, errstr_size))
                goto fail;
        if (c->async && !(c->pool = brook__pool_new(c, errstr, errstr_size)))
                goto fail;
        return c;
fail:
        brook_consumer_destroy(c);
        return NULL;
}

brook_err_t brook_consumer_subscribe(brook_consumer_t *c,
                                     const char *const *topics,
                                     size_t topic_cnt, char *errstr,
                                     size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_resp_err_t err;
        size_t i;

        if (!c || !topics || !topic_cnt) {
                brook__errstr(errstr, errstr_size,
                              "brook_consumer_subscribe: at least one topic "
                              "is required");
                return BROOK_ERR_INVALID_ARG;
        }
        l = rd_kafka_topic_partition_list_new((int)topic_cnt);
        for (i = 0; i < topic_cnt; i++) {
                if (!topics[i] || !*topics[i]) {
                        rd_kafka_topic_partition_list_destroy(l);
                        brook__errstr(errstr, errstr_size,
                                      "brook_consumer_subscribe: topic %zu "
                                      "is empty",
                                      i);
                        return BROOK_ERR_INVALID_ARG;
                }
                rd_kafka_topic_partition_list_add(l, topics[i],
                                                  RD_KAFKA_PARTITION_UA);
        }
        err = rd_kafka_subscribe(c->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (err) {
                brook__errstr(errstr, errstr_size, "subscribe: %s",
                              rd_kafka_err2str(err));
                return BROOK_ERR_KAFKA;
        }
        return BROOK_OK;
}

/* ------------------------------------------------------------------ */
/* run                                                                 */

static void apply_updates(brook_consumer_t *c)
{
        if (!atomic_load(&c->upd_dirty))
                return;
        pthread_mutex_lock(&c->upd_lock);
        c->lim = c->upd_lim;
        atomic_store(&c->upd_dirty, 0);
        pthread_mutex_unlock(&c->upd_lock);
        c->budget = c->lim.max_bytes * (size_t)c->max_inflight;
        brook__log(&c->log, BROOK_LOG_INFO, "batch.config_updated",
                   "batch_size=%zu batch_timeout_ms=%lld "
                   "batch_max_bytes=%zu",
                   c->lim.size, (long long)(c->lim.timeout_us / 1000),
                   c->lim.max_bytes);
}

/* After a connection error and while all brokers are down: probe, and
 * give up after the timeout. */
static void ingest(brook_consumer_t *c, rd_kafka_message_t *rkm, int64_t now)
{
        brook__part_t *p;

        if (rkm->err) {
                brook__health_msg_error(c, rkm);
                rd_kafka_message_destroy(rkm);
                return;
        }
        p = brook__part_find(c, rd_kafka_topic_name(rkm->rkt), rkm->partition);
        if (!p || !p->owned) {
                rd_kafka_message_destroy(rkm); /* stale: not ours any more */
                return;
        }
        if (brook__acc_push(&p->acc, rkm, now)) {
                rd_kafka_message_destroy(rkm);
                brook__consumer_set_fatal(
                    c, brook__error_new(BROOK_ERR_NO_MEM, 1, 0,
                                        "out of memory accumulating"));
                return;
        }
        c->held_bytes += brook__rkm_bytes(rkm);
        c->n_msgs++;
        brook__maybe_close(c, p, now, 0);
}

static int poll_timeout_ms(brook_consumer_t *c, int64_t now)
{
        int64_t d, t;

        if (!brook__list_empty(&c->ready) &&
            (!c->pool || c->inflight < c->max_inflight))
                return 0;
        d = brook__work_next_deadline(c);
        t = d == INT64_MAX ? 100000 : d - now;
        if (c->dlq_outstanding)
                t = BROOK__MIN(t, 5000);
        t = BROOK__MIN(t, 100000); /* check the stop flag every 100 ms */
        return t <= 0 ? 0 : (int)((t + 999) / 1000);
}

static void loop_once(brook_consumer_t *c, rd_kafka_message_t **msgs)
{
        int64_t now = brook__now_us();
        ssize_t n, i;

        apply_updates(c);
        brook__work_timers(c, now);
        brook__work_collect(c);
        brook__work_dispatch(c);
        brook__dlq_poll(c, 0);
        now = brook__now_us();
        brook__commit_maybe(c, now);
        brook__work_update_pause(c);
        brook__health_check(c, now);
        brook__tel_tick(c->tel, now);
        if (c->fatal || atomic_load(&c->stop_req))
                return;
        brook__grave_flush(c);
        n = rd_kafka_consume_batch_queue(c->rkqu, poll_timeout_ms(c, now), msgs,
                                         POLL_MAX_MSGS);
        now = brook__now_us();
        if (n < 0) {
                brook__log(&c->log, BROOK_LOG_WARN, "consume.error", "error=%s",
                           rd_kafka_err2name(rd_kafka_last_error()));
                return;
        }
        for (i = 0; i < n; i++)
                ingest(c, msgs[i], now);
        if (n > 0 && c->down_since_us) {
                brook__log(&c->log, BROOK_LOG_INFO, "brokers.up",
                           "down_ms=%lld",
                           (long long)((now - c->down_since_us) / 1000));
                c->down_since_us = 0;
        }
}

/*
 * Leave the group (revocation callbacks run here, on this thread) within
 * @p deadline_us; past it, the consumer is destroyed without the final
 * group handshake (the group then expires the member by its session
 * timeout).
 */
static void close_bounded(brook_consumer_t *c, int64_t deadline_us)
{
        rd_kafka_message_t *msgs[64];
        rd_kafka_error_t *error;

        error = rd_kafka_consumer_close_queue(c->rk, c->rkqu);
        if (error) {
                brook__log(&c->log, BROOK_LOG_WARN, "close.failed", "error=%s",
                           rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
                c->unclean_close = 1;
                return;
        }
        while (!rd_kafka_consumer_closed(c->rk) &&
               brook__now_us() < deadline_us) {
                ssize_t n = rd_kafka_consume_batch_queue(c->rkqu, 100, msgs,
                                                         64),
                        i;

                for (i = 0; i < n; i++)
                        rd_kafka_message_destroy(msgs[i]);
        }
        if (!rd_kafka_consumer_closed(c->rk)) {
                c->unclean_close = 1;
                brook__log(&c->log, BROOK_LOG_WARN, "close.timed_out",
                           "next=leave_without_group_handshake");
        }
}

/* Stop: finish what runs, commit what is done, leave the group. */
static void shutdown_consumer(brook_consumer_t *c)
{
        size_t i;

        c->stopping = 1;
        /* Batches not started stay uncommitted for the next owner. */
        for (i = 0; i < c->nparts; i++) {
                brook__part_t *p = c->parts[i];

                if (p->unit && p->unit->state == BROOK__U_READY) {
                        brook__unqueue(c, p->unit);
                        p->unit->state = BROOK__U_BACKOFF;
                        p->unit->retry_at_us = 0;
                }
        }
        brook__drain(c, NULL);
        brook__commit_sync(c, NULL, brook__broker_deadline(c));
        brook__commit_wait(c, brook__broker_deadline(c));
        brook__grave_flush(c);
        close_bounded(c, brook__broker_deadline(c));
        for (i = 0; i < c->nparts; i++)
                if (c->parts[i]->owned)
                        brook__part_release(c, c->parts[i]);
        brook__grave_flush(c);
        brook__tel_flush(c->tel); /* last StatsD send and summary */
        brook__log(
            &c->log, BROOK_LOG_INFO, "consumer.stopped",
            "messages=%llu batches=%llu failed=%llu dead=%llu",
            (unsigned long long)c->n_msgs, (unsigned long long)c->n_batches,
            (unsigned long long)c->n_failed, (unsigned long long)c->n_dead);
}

brook_error_t *brook_consumer_run(brook_consumer_t *c)
{
        rd_kafka_message_t **msgs;
        brook_error_t *err;

        if (!c)
                return brook__error_new(BROOK_ERR_INVALID_ARG, 0, 0,
                                        "brook_consumer_run: NULL consumer");
        if (c->running)
                return brook__error_new(BROOK_ERR_STATE, 0, 0,
                                        "brook_consumer_run: called twice");
        c->running = 1;
        if (!(msgs = malloc(POLL_MAX_MSGS * sizeof(*msgs))))
                return brook__error_new(BROOK_ERR_NO_MEM, 1, 0,
                                        "out of memory");
        brook__log(&c->log, BROOK_LOG_INFO, "consumer.started",
                   "batch_size=%zu batch_timeout_ms=%lld batch_max_bytes=%zu "
                   "mode=%s ack_strategy=%s max_in_flight=%d",
                   c->lim.size, (long long)(c->lim.timeout_us / 1000),
                   c->lim.max_bytes,
                   c->single  ? "single"
                   : c->async ? "async"
                              : "sync",
                   brook__prop_word(BROOK__P_ACK_STRATEGY, c->ack),
                   c->max_inflight);
        while (!c->fatal && !atomic_load(&c->stop_req))
                loop_once(c, msgs);
        free(msgs);
        shutdown_consumer(c);
        err = c->fatal;
        c->fatal = NULL;
        return err;
}

void brook_consumer_stop(brook_consumer_t *c)
{
        /* A lock-free atomic store: safe from signal handlers. */
        if (c)
                atomic_store(&c->stop_req, 1);
}

brook_err_t brook_consumer_update_batch_config(brook_consumer_t *c,
                                               const char *name,
                                               const char *value, char *errstr,
                                               size_t errstr_size)
{
        const brook__prop_t *p;
        brook_err_t err;
        int64_t v;

        if (!c || !name || !value) {
                brook__errstr(errstr, errstr_size,
                              "brook_consumer_update_batch_config: consumer, "
                              "name and value are required");
                return BROOK_ERR_INVALID_ARG;
        }
        if (!(p = brook__prop_find(name))) {
                brook__errstr(errstr, errstr_size, "%s: unknown property",
                              name);
                return BROOK_ERR_CONF_UNKNOWN;
        }
        if (!(p->flags & BROOK__PF_RUNTIME)) {
                brook__errstr(errstr, errstr_size,
                              "%s: cannot change at run time (allowed: "
                              "batch.size, batch.timeout.ms, "
                              "batch.max.bytes)",
                              name);
                return BROOK_ERR_CONF_INVALID;
        }
        if ((err = brook__prop_validate(p, value, errstr, errstr_size)))
                return err;
        brook__parse_int(value, &v);
        pthread_mutex_lock(&c->upd_lock);
        switch ((brook__prop_id_t)(p - brook__props)) {
        case BROOK__P_BATCH_SIZE:
                c->upd_lim.size = (size_t)v;
                break;
        case BROOK__P_BATCH_TIMEOUT_MS:
                c->upd_lim.timeout_us = v * 1000;
                break;
        default:
                assert(p == &brook__props[BROOK__P_BATCH_MAX_BYTES]);
                c->upd_lim.max_bytes = (size_t)v;
                break;
        }
        atomic_store(&c->upd_dirty, 1);
        pthread_mutex_unlock(&c->upd_lock);
        return BROOK_OK;
}

void brook_consumer_destroy(brook_consumer_t *c)
{
        size_t i;

        if (!c)
                return;
        /* Never run: leave the group it may have joined by subscribing. */
        if (c->rk && c->rkqu && !c->running) {
                c->stopping = 1;
                close_bounded(c, brook__broker_deadline(c));
        }
        /* Joins the workers. Units still in the pool are reachable from
         * their partition or the orphan list and freed below. */
        brook__pool_destroy(c->pool);
        c->pool = NULL;
        brook__dlq_close(c);
        for (i = 0; i < c->nparts; i++) {
                brook__part_t *p = c->parts[i];

                if (p->unit) {
                        brook__unqueue(c, p->unit);
                        brook__unit_drop_msgs(c, p->unit);
                        brook__unit_free(p->unit);
                }
                brook__part_reset(c, p);
                brook__acc_free(&p->acc);
                brook__unit_free(p->spare);
                free(p->topic);
                free(p);
        }
        while (!brook__list_empty(&c->orphans)) {
                brook__unit_t *u = BROOK__UNIT_O(brook__list_pop(&c->orphans));

                brook__unit_drop_msgs(c, u);
                brook__unit_free(u);
        }
        brook__grave_flush(c); /* before librdkafka goes */
        if (c->commit_q)
                rd_kafka_queue_destroy(c->commit_q);
        if (c->rkqu)
                rd_kafka_queue_destroy(c->rkqu);
        if (c->rk) {
                rd_kafka_destroy_flags(
                    c->rk, c->unclean_close
                               ? RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE
                               : 0);
        }
        brook__tel_destroy(c->tel); /* after librdkafka: no stats_cb left */
        brook_error_destroy(c->fatal);
        free(c->parts);
        free(c->buckets);
        pthread_mutex_destroy(&c->upd_lock);
        brook_conf_destroy(c->conf);
        free(c);
}
