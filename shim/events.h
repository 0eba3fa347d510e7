/* events: publish task events to containerd the way its own 1.6 shims can,
 * by running `<publish-binary> --address <address> publish --topic T
 * --namespace NS` with a google.protobuf.Any (type_url
 * "containerd.events.<Name>", value the packed event) on its stdin.
 *
 * Contract
 * - shim_events_publish() queues and returns at once (handlers must not wait
 *   ~20 ms per event); one thread publishes in queue order, so containerd
 *   sees TaskCreate before TaskStart before TaskExit before TaskDelete.
 * - A failed publish is written to stderr (the shim's log FIFO) with the
 *   topic and the publisher's exit status; events are not retried.
 * - At most SHIM_EVENTS_MAX queued; more are dropped with a message.
 * - shim_events_stop() publishes what is queued, then joins the thread.
 * - With publish_binary NULL or "" events are dropped silently (tests).
 */
#ifndef HULL_SHIM_EVENTS_H
#define HULL_SHIM_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"

#define SHIM_EVENTS_MAX 256

struct shim_events;

int shim_events_start(const char *publish_binary, const char *address, const char *ns,
		      struct shim_events **out, struct errmsg *err);
/* Signature of shim_task_config.publish (task.h). */
void shim_events_publish(void *events, const char *topic, const char *type, const uint8_t *ev,
			 size_t len);
void shim_events_stop(struct shim_events *e);

#endif
