/* paths: where hull finds its bundled guest kernel and init, and where it
 * keeps state.
 *
 * - Data (vmlinux, initramfs.cpio): $HULL_DATADIR if set, else
 *   <directory of the hull executable>/../share/hull — which is
 *   build/share/hull in a build tree and <prefix>/share/hull when installed.
 * - Store (images, templates under templates/): a command's --root, else
 *   $HULL_ROOT (which the global `hull --root DIR` sets), else /var/lib/hull
 *   for root, else $XDG_DATA_HOME/hull (~/.local/share/hull). Containers'
 *   state lives elsewhere: runtime/state.h (runtime_root).
 * Functions return malloc'd strings, or NULL on allocation failure. */
#ifndef HULL_RUNTIME_PATHS_H
#define HULL_RUNTIME_PATHS_H

char *paths_data_file(const char *name);
char *paths_store_root(const char *cli_root);

#endif
