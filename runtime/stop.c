#include "stop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int stop_signal_parse(const char *s, int *signo)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] >= '0' && s[0] <= '9') {
		long v = strtol(s, &end, 10);
		if (*end || v < 1 || v >= _NSIG)
			return -EINVAL;
		*signo = (int)v;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int i = 1; i < _NSIG; i++) {
		const char *name = sigabbrev_np(i); /* "TERM"; NULL for real-time ones */
		if (name && strcasecmp(name, s) == 0) {
			*signo = i;
			return 0;
		}
	}
	return -EINVAL;
}

int stop_timeout_parse(const char *s, unsigned *seconds)
{
	char *end;
	if (!s || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v > STOP_MAX_TIMEOUT_S)
		return -EINVAL;
	*seconds = (unsigned)v;
	return 0;
}

int stop_signal_pick(const char *cli_value, const char *image_value, int *signo)
{
	if (cli_value)
		return stop_signal_parse(cli_value, signo);
	/* an image's odd StopSignal is the image's problem, not a reason to fail */
	if (image_value && stop_signal_parse(image_value, signo) == 0)
		return 0;
	*signo = SIGTERM;
	return 0;
}

void stop_arm(struct stop_seq *q, uint64_t now_ns, unsigned timeout_s)
{
	if (q->armed)
		return;
	q->armed = true;
	q->deadline_ns = now_ns + (uint64_t)timeout_s * 1000000000ull;
}

int stop_timeout_ms(const struct stop_seq *q, uint64_t now_ns)
{
	if (!q->armed || q->killed)
		return -1;
	if (now_ns >= q->deadline_ns)
		return 0;
	return (int)((q->deadline_ns - now_ns + 999999) / 1000000);
}

bool stop_kill_due(struct stop_seq *q, uint64_t now_ns)
{
	if (!q->armed || q->killed || now_ns < q->deadline_ns)
		return false;
	q->killed = true;
	return true;
}

int stop_run(const struct stop_ops *ops, void *ctx, int signo, unsigned timeout_s)
{
	int rc = ops->signal(ctx, signo);
	if (rc < 0)
		return rc;
	rc = ops->wait_exit(ctx, (int)(timeout_s * 1000u));
	if (rc != -ETIMEDOUT)
		return rc;
	rc = ops->signal(ctx, SIGKILL);
	if (rc < 0)
		return rc;
	/* SIGKILL cannot be caught; a minute is for a guest that is stuck */
	rc = ops->wait_exit(ctx, 60 * 1000);
	return rc < 0 ? rc : 1;
}
