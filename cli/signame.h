/* signame: signal names as docker takes them.
 *
 * Contract: signame_parse() accepts "TERM", "SIGTERM", "sigterm", "15",
 * and "RTMIN+3"-style real-time signals; returns the number, or -EINVAL. */
#ifndef HULL_CLI_SIGNAME_H
#define HULL_CLI_SIGNAME_H

int signame_parse(const char *s);

#endif
