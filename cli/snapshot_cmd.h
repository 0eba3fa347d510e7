/* snapshot_cmd: `hull snapshot ls|rm|prune` — manage templates (pre-booted
 * VMs, see runtime/template.h). Returns the process exit status. */
#ifndef HULL_CLI_SNAPSHOT_CMD_H
#define HULL_CLI_SNAPSHOT_CMD_H

int snapshot_main(int argc, char **argv);

#endif
