/* template: where hull keeps its VM templates.
 *
 * A template is a VM saved right after guest-init said READY, before any
 * container was attached (vmm/snapshot/snapshot.h has the files). Which template
 * fits a run is decided by the VM monitor from the VM's config
 * (vmm_template_key, vmm/vmm.h): the front end only names the root.
 * - Templates live in $HULL_TEMPLATE_DIR if set, else <store root>/templates,
 *   one directory per key (vmm_template_dir).
 * Returns a malloc'd string, NULL without memory. */
#ifndef HULL_RUNTIME_TEMPLATE_H
#define HULL_RUNTIME_TEMPLATE_H

char *template_root(const char *store_root);

#endif
