/* trap_report: hull-vmm's last words when its seccomp filter stops it
 * (seccomp/filter.h calls it from the SIGSYS handler).
 *
 * Contract: monitor_trap_report(ctx, text) sends one STOPPED message
 * (VMMAPI_STOP_ERROR, why = text) on the API socket ctx points to (an int
 * fd), so the runtime records the syscall and the thread role. Only
 * async-signal-safe work: the vmmapi codec writes into a stack buffer and
 * write() on the SOCK_SEQPACKET socket sends one message; a peer that is
 * gone loses it (SIGPIPE must be ignored). A separate file so the runtime's
 * tests run the same code in a stand-in monitor. */
#ifndef HULL_MONITOR_TRAP_REPORT_H
#define HULL_MONITOR_TRAP_REPORT_H

void monitor_trap_report(void *ctx, const char *text);

#endif
