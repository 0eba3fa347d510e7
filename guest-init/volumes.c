#include "volumes.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mount.h>

#include "fsutil.h"

int volumes_mount(const struct hcp_volume *v, size_t n, const struct log *l, struct errmsg *err)
{
	for (size_t i = 0; i < n; i++) {
		char opts[160];
		snprintf(opts, sizeof(opts),
			 "trans=virtio,version=9p2000.L,msize=%d,cache=mmap,access=client",
			 VOLUMES_MSIZE);
		int rc = fsutil_mkdir_p(v[i].path, 0755);
		if (rc < 0)
			return log_syserr(err, rc, "volume %s (%s): mkdir", v[i].path, v[i].tag);
		unsigned long fl = MS_NODEV | (v[i].read_only ? MS_RDONLY : 0);
		if (mount(v[i].tag, v[i].path, "9p", fl, opts) < 0)
			return log_syserr(err, errno, "volume %s (%s): mount 9p", v[i].path,
					  v[i].tag);
		log_debug(l, "volume %s mounted (%s, %s)", v[i].path, v[i].tag,
			  v[i].read_only ? "ro" : "rw");
	}
	return 0;
}
