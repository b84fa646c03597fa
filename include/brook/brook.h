/*
 * brook - batch-first Kafka stream processing in C.
 *
 * brook.h: the umbrella header. Include this one.
 */
#ifndef BROOK_BROOK_H
#define BROOK_BROOK_H

#include "brook/common.h"
#include "brook/conf.h"
#include "brook/msg.h"
#include "brook/consumer.h"
#include "brook/serde.h"
#include "brook/store.h"
#include "brook/streams.h"
#include "brook/telemetry.h"

#endif /* BROOK_BROOK_H */
