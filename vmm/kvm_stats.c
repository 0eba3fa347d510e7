#include "kvm_stats.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/fdio.h"

int kvm_stats_open(struct kvm_stats *s, int obj_fd, struct errmsg *err)
{
	*s = (struct kvm_stats){.fd = -1};
	int fd = ioctl(obj_fd, KVM_GET_STATS_FD, 0);
	if (fd < 0) {
		int e = errno;
		return errmsg_set(err, -e, "KVM_GET_STATS_FD: %s", strerror(e));
	}
	return kvm_stats_load(s, fd, err);
}

/* A plain u64 count: one value, cumulative/instant/peak (no histogram). */
static bool plain_count(const struct kvm_stats_desc *d)
{
	uint32_t type = d->flags & KVM_STATS_TYPE_MASK;
	return d->size == 1 && (type == KVM_STATS_TYPE_CUMULATIVE ||
				type == KVM_STATS_TYPE_INSTANT || type == KVM_STATS_TYPE_PEAK);
}

static int load_descs(struct kvm_stats *s, const struct kvm_stats_header *h, const uint8_t *blk,
		      size_t each, struct errmsg *err)
{
	s->s = calloc(h->num_desc ? h->num_desc : 1, sizeof(*s->s));
	if (!s->s)
		return errmsg_set(err, -ENOMEM, "KVM stats: out of memory");
	for (uint32_t i = 0; i < h->num_desc; i++) {
		struct kvm_stats_desc d;
		const uint8_t *p = blk + (size_t)i * each;
		memcpy(&d, p, sizeof(d));
		const char *name = (const char *)p + sizeof(d);
		size_t len = strnlen(name, h->name_size);
		/* the value's offset is from data_offset, in bytes */
		if (!plain_count(&d) || len == 0 || len == h->name_size ||
		    (uint64_t)d.offset + 8 > KVM_STATS_SPAN_LIMIT)
			continue;
		struct kvm_stat_ref *r = &s->s[s->n];
		r->name = strndup(name, len);
		if (!r->name)
			return errmsg_set(err, -ENOMEM, "KVM stats: out of memory");
		r->off = (uint64_t)h->data_offset + d.offset;
		s->n++;
	}
	return 0;
}

int kvm_stats_load(struct kvm_stats *s, int fd, struct errmsg *err)
{
	*s = (struct kvm_stats){.fd = fd};
	struct kvm_stats_header h;
	int rc = fdio_pread_all(fd, &h, sizeof(h), 0);
	if (rc) {
		kvm_stats_free(s);
		return errmsg_set(err, rc == -ENODATA ? -EBADMSG : rc, "KVM stats: header: %s",
				  rc == -ENODATA ? "short" : strerror(-rc));
	}
	const char *bad = NULL;
	size_t each = sizeof(struct kvm_stats_desc) + (size_t)h.name_size;
	uint64_t span = (uint64_t)each * h.num_desc;
	if (h.name_size == 0 || h.name_size > KVM_STATS_NAME_LIMIT)
		bad = "name_size";
	else if (h.num_desc > KVM_STATS_DESC_LIMIT)
		bad = "num_desc";
	else if ((uint64_t)h.desc_offset + span > KVM_STATS_SPAN_LIMIT)
		bad = "desc_offset";
	else if (h.data_offset > KVM_STATS_SPAN_LIMIT)
		bad = "data_offset";
	if (bad) {
		kvm_stats_free(s);
		return errmsg_set(err, -EBADMSG, "KVM stats: header: %s out of range", bad);
	}
	uint8_t *blk = malloc(span ? span : 1);
	if (!blk) {
		kvm_stats_free(s);
		return errmsg_set(err, -ENOMEM, "KVM stats: out of memory");
	}
	rc = fdio_pread_all(fd, blk, span, h.desc_offset);
	if (rc == -ENODATA)
		rc = errmsg_set(err, -EBADMSG, "KVM stats: descriptors: short");
	else if (rc)
		errmsg_set(err, rc, "KVM stats: descriptors: %s", strerror(-rc));
	else
		rc = load_descs(s, &h, blk, each, err);
	free(blk);
	if (rc)
		kvm_stats_free(s);
	return rc;
}

int kvm_stats_get(const struct kvm_stats *s, const char *name, uint64_t *val)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (strcmp(s->s[i].name, name))
			continue;
		int rc = fdio_pread_all(s->fd, val, sizeof(*val), s->s[i].off);
		return rc == -ENODATA ? -EIO : rc;
	}
	return -ENOENT;
}

void kvm_stats_free(struct kvm_stats *s)
{
	for (unsigned i = 0; i < s->n; i++)
		free(s->s[i].name);
	free(s->s);
	if (s->fd >= 0)
		close(s->fd);
	*s = (struct kvm_stats){.fd = -1};
}
