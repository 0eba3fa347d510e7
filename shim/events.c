#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "any.pb-c.h"
#include "common/fdio.h"

struct event {
	struct event *next;
	char topic[64];
	uint8_t *any; /* packed google.protobuf.Any */
	size_t len;
};

struct shim_events {
	char *binary, *address, *ns;
	pthread_t thread;
	pthread_mutex_t m;
	pthread_cond_t cv;
	struct event *head, **tail;
	size_t n;
	bool stopping;
};

/* Run the publisher for one event; its exit status, or -errno. */
static int run_publish(struct shim_events *e, const struct event *ev)
{
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int rc = -errno;
		close(in[0]);
		close(in[1]);
		return rc;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		char *argv[] = {e->binary,	   "--address",	  e->address, "publish", "--topic",
				(char *)ev->topic, "--namespace", e->ns,      NULL};
		execv(e->binary, argv);
		_exit(127);
	}
	close(in[0]);
	(void)fdio_write_all(in[1], ev->any, ev->len);
	close(in[1]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void *publisher(void *arg)
{
	struct shim_events *e = arg;
	pthread_mutex_lock(&e->m);
	for (;;) {
		while (!e->head && !e->stopping)
			pthread_cond_wait(&e->cv, &e->m);
		struct event *ev = e->head;
		if (!ev)
			break;
		e->head = ev->next;
		if (!e->head)
			e->tail = &e->head;
		e->n--;
		pthread_mutex_unlock(&e->m);
		int rc = run_publish(e, ev);
		if (rc != 0)
			fprintf(stderr, "containerd-shim-hull-v2: publishing %s failed (%s %d)\n",
				ev->topic, rc < 0 ? "error" : "status", rc < 0 ? -rc : rc);
		free(ev->any);
		free(ev);
		pthread_mutex_lock(&e->m);
	}
	pthread_mutex_unlock(&e->m);
	return NULL;
}

int shim_events_start(const char *publish_binary, const char *address, const char *ns,
		      struct shim_events **out, struct errmsg *err)
{
	struct shim_events *e = calloc(1, sizeof(*e));
	if (!e)
		return errmsg_set(err, -ENOMEM, "events: out of memory");
	e->tail = &e->head;
	pthread_mutex_init(&e->m, NULL);
	pthread_cond_init(&e->cv, NULL);
	if (publish_binary && publish_binary[0]) {
		e->binary = strdup(publish_binary);
		e->address = strdup(address ? address : "");
		e->ns = strdup(ns ? ns : "");
		if (!e->binary || !e->address || !e->ns) {
			shim_events_stop(e);
			return errmsg_set(err, -ENOMEM, "events: out of memory");
		}
		int rc = pthread_create(&e->thread, NULL, publisher, e);
		if (rc) {
			free(e->binary);
			e->binary = NULL;
			shim_events_stop(e);
			return errmsg_set(err, -rc, "events: cannot start the publisher thread");
		}
	}
	*out = e;
	return 0;
}

void shim_events_publish(void *events, const char *topic, const char *type, const uint8_t *ev,
			 size_t len)
{
	struct shim_events *e = events;
	if (!e->binary)
		return;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	any.type_url = (char *)type;
	any.value.data = (uint8_t *)ev;
	any.value.len = len;
	struct event *q = calloc(1, sizeof(*q));
	size_t n = google__protobuf__any__get_packed_size(&any);
	if (q)
		q->any = malloc(n);
	if (!q || !q->any) {
		free(q);
		fprintf(stderr, "containerd-shim-hull-v2: no memory to publish %s\n", topic);
		return;
	}
	q->len = google__protobuf__any__pack(&any, q->any);
	snprintf(q->topic, sizeof(q->topic), "%s", topic);
	pthread_mutex_lock(&e->m);
	bool full = e->n >= SHIM_EVENTS_MAX || e->stopping;
	if (!full) {
		*e->tail = q;
		e->tail = &q->next;
		e->n++;
		pthread_cond_signal(&e->cv);
	}
	pthread_mutex_unlock(&e->m);
	if (full) {
		fprintf(stderr, "containerd-shim-hull-v2: event queue full, %s dropped\n", topic);
		free(q->any);
		free(q);
	}
}

void shim_events_stop(struct shim_events *e)
{
	if (!e)
		return;
	if (e->binary) {
		pthread_mutex_lock(&e->m);
		e->stopping = true;
		pthread_cond_signal(&e->cv);
		pthread_mutex_unlock(&e->m);
		pthread_join(e->thread, NULL);
	}
	free(e->binary);
	free(e->address);
	free(e->ns);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->m);
	free(e);
}
