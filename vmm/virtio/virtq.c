#include "virtq.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <linux/virtio_config.h>

/* Ring fields live in guest memory that the guest's vCPUs write while we
 * read: access them with atomics (single-copy atomic, no tearing) and the
 * orderings the spec asks for. Modern virtio rings are little-endian. */
static inline uint16_t load16(const __virtio16 *p, int order)
{
	return le16toh(__atomic_load_n(p, order));
}

static inline void store16(__virtio16 *p, uint16_t v, int order)
{
	__atomic_store_n(p, htole16(v), order);
}

void virtq_init(struct virtq *q, const struct guest_mem *mem)
{
	memset(q, 0, sizeof(*q));
	q->mem = mem;
}

void virtq_disable(struct virtq *q)
{
	virtq_init(q, q->mem);
}

int virtq_configure(struct virtq *q, uint32_t size, uint16_t max, uint64_t desc_gpa,
		    uint64_t avail_gpa, uint64_t used_gpa, uint64_t features)
{
	virtq_disable(q);
	if (size == 0 || size > max || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	if ((desc_gpa & 15) || (avail_gpa & 1) || (used_gpa & 3))
		return -EINVAL;

	bool event_idx = features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	uint64_t extra = event_idx ? 2 : 0; /* used_event / avail_event */
	uint64_t desc_len = 16ull * size;
	uint64_t avail_len = 4 + 2ull * size + extra;
	uint64_t used_len = 4 + 8ull * size + extra;

	void *desc = guest_mem_ptr(q->mem, desc_gpa, desc_len);
	void *avail = guest_mem_ptr(q->mem, avail_gpa, avail_len);
	void *used = guest_mem_ptr(q->mem, used_gpa, used_len);
	if (!desc || !avail || !used)
		return -EINVAL;

	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->size = (uint16_t)size;
	q->event_idx = event_idx;
	q->indirect = features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	q->budget = UINT_MAX;
	q->ready = true;
	return 0;
}

void virtq_set_broken(struct virtq *q)
{
	q->broken = true;
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail--;
	q->budget++; /* virtq_pop took one */
}

void virtq_set_budget(struct virtq *q, unsigned budget)
{
	q->budget = budget;
	q->budget_hit = false;
}

static int chain_error(struct virtq *q)
{
	q->broken = true;
	return -EIO;
}

/* Walk the chain starting at `head`, filling c. Returns 0 or -EIO. */
static int walk_chain(struct virtq *q, uint16_t head, struct virtq_chain *c)
{
	const struct vring_desc *table = q->desc;
	uint32_t table_size = q->size;
	uint32_t idx = head;
	uint32_t visited = 0;
	bool in_indirect = false;
	bool seen_writable = false;
	uint64_t out_len = 0, in_len = 0;
	unsigned nseg = 0;
	/* Readable segments are collected first; a readable one after a
	 * writable one is an error, so writable ones can follow in place. */

	for (;;) {
		if (idx >= table_size || ++visited > table_size)
			return chain_error(q);

		struct vring_desc d;
		memcpy(&d, &table[idx], sizeof(d)); /* read each descriptor once */
		uint64_t addr = le64toh(d.addr);
		uint32_t len = le32toh(d.len);
		uint16_t flags = le16toh(d.flags);

		if (flags & VRING_DESC_F_INDIRECT) {
			/* Only one level, never combined with NEXT; the WRITE
			 * flag of this descriptor is ignored (spec). */
			if (!q->indirect || in_indirect || (flags & VRING_DESC_F_NEXT))
				return chain_error(q);
			if (len == 0 || len % sizeof(struct vring_desc) ||
			    len / sizeof(struct vring_desc) > VIRTQ_MAX_SEGS)
				return chain_error(q);
			const struct vring_desc *t = guest_mem_ptr(q->mem, addr, len);
			if (!t)
				return chain_error(q);
			table = t;
			table_size = len / sizeof(struct vring_desc);
			idx = 0;
			visited = 0;
			in_indirect = true;
			continue;
		}

		bool writable = flags & VRING_DESC_F_WRITE;
		if (writable)
			seen_writable = true;
		else if (seen_writable)
			return chain_error(q);

		if (len > 0) {
			void *p = guest_mem_ptr(q->mem, addr, len);
			if (!p || nseg >= VIRTQ_MAX_SEGS)
				return chain_error(q);
			c->iov[nseg].iov_base = p;
			c->iov[nseg].iov_len = len;
			nseg++;
			if (writable) {
				in_len += len;
				c->n_in++;
			} else {
				out_len += len;
				c->n_out++;
			}
			if (out_len + in_len > UINT32_MAX)
				return chain_error(q);
		}

		if (!(flags & VRING_DESC_F_NEXT))
			break;
		idx = le16toh(d.next);
	}

	c->out_len = (uint32_t)out_len;
	c->in_len = (uint32_t)in_len;
	return 0;
}

bool virtq_has_avail(const struct virtq *q)
{
	return q->ready && !q->broken && load16(&q->avail->idx, __ATOMIC_ACQUIRE) != q->last_avail;
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	if (q->broken)
		return -EIO;
	if (!q->ready)
		return 0;

	/* Acquire: the ring entries and descriptors the driver wrote before
	 * bumping avail->idx are visible after this load. */
	uint16_t avail_idx = load16(&q->avail->idx, __ATOMIC_ACQUIRE);
	if (avail_idx == q->last_avail) {
		if (!q->event_idx)
			return 0;
		/* Ask for a notification on the next buffer, then re-check:
		 * the driver may have added one before seeing avail_event. */
		__virtio16 *avail_event = (__virtio16 *)((uint8_t *)q->used + 4 + 8u * q->size);
		store16(avail_event, q->last_avail, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = load16(&q->avail->idx, __ATOMIC_ACQUIRE);
		if (avail_idx == q->last_avail)
			return 0;
	}
	if ((uint16_t)(avail_idx - q->last_avail) > q->size)
		return chain_error(q);
	if (q->budget == 0) {
		q->budget_hit = true;
		return 0;
	}
	q->budget--;

	uint16_t head = load16(&q->avail->ring[q->last_avail & (q->size - 1)], __ATOMIC_RELAXED);
	q->last_avail++;

	c->head = head;
	c->n_out = c->n_in = 0;
	c->out_len = c->in_len = 0;
	if (walk_chain(q, head, c) < 0)
		return -EIO;
	return 1;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	if (!q->ready || q->broken || head >= q->size)
		return;
	struct vring_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];
	__atomic_store_n(&e->id, htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, htole32(len), __ATOMIC_RELAXED);
	q->used_idx++;
	/* Release: the element is visible before the new index. */
	store16(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_need_signal(struct virtq *q)
{
	if (!q->ready || q->used_idx == q->signalled_used)
		return false;
	uint16_t old = q->signalled_used;
	uint16_t new = q->used_idx;
	q->signalled_used = new;

	/* The used->idx store must be globally visible before we read the
	 * driver's suppression state, or both sides may skip the wakeup. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx) {
		uint16_t used_event = load16(&q->avail->ring[q->size], __ATOMIC_RELAXED);
		return vring_need_event(used_event, new, old);
	}
	return !(load16(&q->avail->flags, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);
}

unsigned virtq_iov_slice(const struct iovec *src, unsigned n, size_t skip, size_t len,
			 struct iovec *dst, unsigned dst_max)
{
	unsigned out = 0;
	for (unsigned i = 0; i < n && len > 0 && out < dst_max; i++) {
		size_t l = src[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		size_t take = l - skip;
		if (take > len)
			take = len;
		dst[out].iov_base = (uint8_t *)src[i].iov_base + skip;
		dst[out].iov_len = take;
		out++;
		len -= take;
		skip = 0;
	}
	return out;
}

static size_t copy_segs(const struct iovec *segs, unsigned n, size_t skip, void *buf, size_t len,
			bool to_segs)
{
	struct iovec piece[VIRTQ_MAX_SEGS];
	unsigned np = virtq_iov_slice(segs, n, skip, len, piece, VIRTQ_MAX_SEGS);
	size_t done = 0;
	for (unsigned i = 0; i < np; i++) {
		if (to_segs)
			memcpy(piece[i].iov_base, (const uint8_t *)buf + done, piece[i].iov_len);
		else
			memcpy((uint8_t *)buf + done, piece[i].iov_base, piece[i].iov_len);
		done += piece[i].iov_len;
	}
	return done;
}

size_t virtq_chain_read(const struct virtq_chain *c, size_t skip, void *dst, size_t len)
{
	return copy_segs(c->iov, c->n_out, skip, dst, len, false);
}

size_t virtq_chain_write(const struct virtq_chain *c, size_t skip, const void *src, size_t len)
{
	return copy_segs(c->iov + c->n_out, c->n_in, skip, (void *)src, len, true);
}
