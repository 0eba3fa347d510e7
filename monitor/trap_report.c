/* trap_report: see trap_report.h. */
#include "monitor/trap_report.h"

#include <stdint.h>
#include <unistd.h>

#include "proto/vmmapi.h"
#include "seccomp/filter.h"

void monitor_trap_report(void *ctx, const char *text)
{
	const int *api = ctx;
	struct vmmapi_msg s = {.type = VMMAPI_STOPPED};
	s.stopped.reason = VMMAPI_STOP_ERROR;
	s.stopped.why = text;
	uint8_t buf[HSC_REPORT_MAX + 64];
	int n = vmmapi_encode(&s, buf, sizeof(buf), NULL);
	if (n > 0) {
		ssize_t w = write(*api, buf, (size_t)n);
		(void)w;
	}
}
