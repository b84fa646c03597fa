#include <signal.h>
#include <stdio.h>
#include <brook/brook.h>

static brook_consumer_t *consumer;
static void on_signal(int sig) { (void)sig; brook_consumer_stop(consumer); }

/* One partition, offset order. Fail single messages or the whole batch. */
static brook_err_t on_batch(brook_batch_t *batch, void *opaque) {
    (void)opaque;
    for (size_t i = 0; i < brook_batch_count(batch); i++) {
        size_t len;
        const char *v = brook_msg_value(brook_batch_msg(batch, i), &len);
        if (!v) brook_batch_fail(batch, i, "null value");
        else printf("%.*s\n", (int)len, v);
    }
    return BROOK_OK; /* offsets are committed once the batch is done */
}

int main(void) {
    char err[512];
    const char *topics[] = {"orders"};
    brook_conf_t *conf = brook_conf_new();
    brook_conf_set(conf, "bootstrap.servers", "localhost:9092", err, sizeof err);
    brook_conf_set(conf, "group.id", "order-printer", err, sizeof err);
    brook_conf_set(conf, "batch.size", "500", err, sizeof err);
    brook_conf_set(conf, "dead.letter.topic", "{topic}.dlq", err, sizeof err);
    brook_handlers_t *h = brook_handlers_new();
    brook_handlers_set_batch(h, on_batch);
    consumer = brook_consumer_new(conf, h, NULL, err, sizeof err);
    if (!consumer || brook_consumer_subscribe(consumer, topics, 1, err, sizeof err))
        return fprintf(stderr, "%s\n", err), 1;
    signal(SIGINT, on_signal);
    brook_error_t *e = brook_consumer_run(consumer);  /* until SIGINT */
    if (e) fprintf(stderr, "%s\n", brook_error_string(e));
    brook_error_destroy(e);
    brook_consumer_destroy(consumer);
    brook_handlers_destroy(h);
    brook_conf_destroy(conf);
}
