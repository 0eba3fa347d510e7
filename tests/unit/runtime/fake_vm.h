/* fake_vm: a VM process for the runtime's unit tests (runtime/vmhost.h):
 * spawn() forks a child that speaks hcp exactly as guest-init does over the
 * VM's vsock Unix sockets (it connects to <U>_1024, says READY, takes the
 * SPEC, runs a scripted "process"; it serves exec connections on U with
 * "CONNECT 1025" -> "OK"). The process is chosen by argv[0]:
 *   echo ARGS...   prints ARGS, exits 0
 *   exit N         exits N
 *   cat            copies stdin to stdout, exits 0 at STDIN_EOF
 *   sleep          runs until a signal: exits 128+N
 *   stubborn       prints "got N" for each signal; only SIGKILL ends it (137)
 *   env            prints its environment, then "cwd=", "user=", "host=", "tty="
 *   fail           ERROR "fake: no such command", exits 127
 *   crash          started, then the VM dies (no EXIT)
 * After the container's EXIT the child exits (guest-init reboots the VM).
 * fake_vm_last records what the runtime asked for, for the assertions. */
#ifndef HULL_TEST_FAKE_VM_H
#define HULL_TEST_FAKE_VM_H

#include <stdbool.h>

#include "runtime/vmhost.h"

struct fake_vm_record {
	char uds[128];
	unsigned cpus;
	unsigned long long mem;
	unsigned nvolumes;
	bool template_root; /* templates were on */
	int templates_saved;
	char disk[256]; /* what attach_disk attached */
	int stops;	/* stop() calls */
};

extern const struct vmhost_ops fake_vm_ops;
extern struct fake_vm_record fake_vm_last;
/* the next spawn finds a fitting template (CREATED says restored) */
extern bool fake_vm_template_fits;
/* the next guest never says READY (guest-init never comes up) */
extern bool fake_vm_never_ready;

#endif
