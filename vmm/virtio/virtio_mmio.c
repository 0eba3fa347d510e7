#include "virtio_mmio.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>

/* Feature bits 24..49 belong to the transport or are reserved: the device
 * does not get to offer them; the transport adds the ones it implements. */
#define TRANSPORT_BITS_MASK (((1ull << 50) - 1) & ~((1ull << 24) - 1))
#define TRANSPORT_OFFERED                                                                          \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |                    \
	 (1ull << VIRTIO_RING_F_EVENT_IDX))

struct mmio_queue {
	/* staged by the driver, applied on QueueReady=1 */
	uint32_t num;
	uint64_t desc, driver, device;
	struct virtq vq;
};

struct virtio_mmio {
	pthread_mutex_t lock;
	uint64_t base;
	const struct guest_mem *mem;
	const struct virtio_dev_ops *ops;
	void *dev;
	void (*irq)(void *ctx);
	void *irq_ctx;

	uint64_t dev_features;
	uint32_t dev_features_sel;
	uint64_t drv_features;
	uint32_t drv_features_sel;
	bool features_ok; /* FEATURES_OK accepted since the last reset */
	uint32_t status;
	uint32_t isr; /* InterruptStatus */
	uint32_t config_gen;
	uint32_t queue_sel;
	struct mmio_queue *queues;
};

int virtio_mmio_init(struct virtio_mmio **out, uint64_t base, const struct guest_mem *mem,
		     const struct virtio_dev_ops *ops, void *dev, void (*irq)(void *ctx),
		     void *irq_ctx)
{
	*out = NULL;
	if (!mem || !ops || !irq || !ops->queue_notify || ops->num_queues == 0 ||
	    ops->num_queues > VIRTIO_MMIO_MAX_QUEUES || ops->queue_max == 0 ||
	    ops->queue_max > VIRTQ_MAX_SIZE || (ops->queue_max & (ops->queue_max - 1)) ||
	    ops->config_len > VIRTIO_MMIO_SIZE - VIRTIO_MMIO_CONFIG ||
	    (ops->config_len && !ops->config_read))
		return -EINVAL;

	struct virtio_mmio *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->queues = calloc(ops->num_queues, sizeof(*t->queues));
	if (!t->queues) {
		free(t);
		return -ENOMEM;
	}
	if (pthread_mutex_init(&t->lock, NULL)) {
		free(t->queues);
		free(t);
		return -ENOMEM;
	}
	t->base = base;
	t->mem = mem;
	t->ops = ops;
	t->dev = dev;
	t->irq = irq;
	t->irq_ctx = irq_ctx;
	t->dev_features = (ops->features & ~TRANSPORT_BITS_MASK) | TRANSPORT_OFFERED;
	for (unsigned i = 0; i < ops->num_queues; i++)
		virtq_init(&t->queues[i].vq, mem);
	*out = t;
	return 0;
}

void virtio_mmio_free(struct virtio_mmio *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->queues);
	free(t);
}

uint64_t virtio_mmio_base(const struct virtio_mmio *t)
{
	return t->base;
}

/* ---- helpers, called with the lock held ---- */

static void raise_irq(struct virtio_mmio *t, uint32_t why)
{
	t->isr |= why;
	t->irq(t->irq_ctx);
}

static void set_needs_reset(struct virtio_mmio *t)
{
	if (t->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	t->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	/* Only tell a driver that is up; otherwise it reads Status itself. */
	if (t->status & VIRTIO_CONFIG_S_DRIVER_OK)
		raise_irq(t, VIRTIO_MMIO_INT_CONFIG);
}

static bool operational(const struct virtio_mmio *t)
{
	return t->features_ok && (t->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(t->status & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED));
}

static void device_reset(struct virtio_mmio *t)
{
	for (unsigned i = 0; i < t->ops->num_queues; i++) {
		struct mmio_queue *mq = &t->queues[i];
		mq->num = 0;
		mq->desc = mq->driver = mq->device = 0;
		virtq_disable(&mq->vq);
	}
	t->dev_features_sel = 0;
	t->drv_features = 0;
	t->drv_features_sel = 0;
	t->features_ok = false;
	t->status = 0;
	t->isr = 0;
	t->queue_sel = 0;
	if (t->ops->reset)
		t->ops->reset(t->dev);
}

static struct mmio_queue *sel_queue(struct virtio_mmio *t)
{
	return t->queue_sel < t->ops->num_queues ? &t->queues[t->queue_sel] : NULL;
}

static bool features_acceptable(const struct virtio_mmio *t)
{
	return (t->drv_features & (1ull << VIRTIO_F_VERSION_1)) &&
	       !(t->drv_features & ~t->dev_features);
}

static void write_status(struct virtio_mmio *t, uint32_t val)
{
	if (val == 0) {
		device_reset(t);
		return;
	}
	/* NEEDS_RESET is the device's bit: the driver can neither set nor
	 * clear it. */
	uint32_t st =
	    (val & 0xff & ~VIRTIO_CONFIG_S_NEEDS_RESET) | (t->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	if ((st & VIRTIO_CONFIG_S_FEATURES_OK) && !t->features_ok) {
		if (features_acceptable(t))
			t->features_ok = true;
		else
			st &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	/* A driver coming up on a device that already needs a reset is told
	 * so at once (spec: NEEDS_RESET + DRIVER_OK => config notification). */
	bool now_ok = (st & VIRTIO_CONFIG_S_DRIVER_OK) && !(t->status & VIRTIO_CONFIG_S_DRIVER_OK);
	t->status = st;
	if (now_ok && (st & VIRTIO_CONFIG_S_NEEDS_RESET))
		raise_irq(t, VIRTIO_MMIO_INT_CONFIG);
}

static void write_queue_ready(struct virtio_mmio *t, struct mmio_queue *mq, uint32_t val)
{
	if (val == 0) {
		virtq_disable(&mq->vq);
		return;
	}
	if (mq->vq.ready)
		return;
	int rc = -EINVAL;
	if (t->features_ok)
		rc = virtq_configure(&mq->vq, mq->num, t->ops->queue_max, mq->desc, mq->driver,
				     mq->device, t->drv_features);
	if (rc < 0)
		set_needs_reset(t);
}

static void set_lo(uint64_t *v, uint32_t lo)
{
	*v = (*v & ~0xffffffffull) | lo;
}

static void set_hi(uint64_t *v, uint32_t hi)
{
	*v = (*v & 0xffffffffull) | ((uint64_t)hi << 32);
}

/* Process queue qidx; returns true if the budget ran out with work left. */
static bool notify_locked(struct virtio_mmio *t, unsigned qidx)
{
	if (qidx >= t->ops->num_queues || !operational(t))
		return false;
	struct virtq *q = &t->queues[qidx].vq;
	if (!q->ready || q->broken)
		return false;

	virtq_set_budget(q, VIRTIO_MMIO_NOTIFY_BUDGET);
	t->ops->queue_notify(t->dev, q, qidx);
	bool more = q->budget_hit && !q->broken;
	virtq_set_budget(q, UINT_MAX);

	if (virtq_need_signal(q))
		raise_irq(t, VIRTIO_MMIO_INT_VRING);
	if (q->broken)
		set_needs_reset(t);
	return more;
}

/* ---- register file ---- */

static uint32_t read_reg(struct virtio_mmio *t, uint64_t off)
{
	struct mmio_queue *mq = sel_queue(t);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return t->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (t->dev_features_sel > 1)
			return 0;
		return (uint32_t)(t->dev_features >> (32 * t->dev_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return mq ? t->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return mq ? mq->vq.ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return t->isr;
	case VIRTIO_MMIO_STATUS:
		return t->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		return 0xffffffffu; /* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return t->config_gen;
	default:
		return 0;
	}
}

static void write_reg(struct virtio_mmio *t, uint64_t off, uint32_t val)
{
	struct mmio_queue *mq = sel_queue(t);
	/* Queue layout registers are ignored while the queue is live. */
	struct mmio_queue *stage = mq && !mq->vq.ready ? mq : NULL;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->dev_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (t->features_ok || t->drv_features_sel > 1)
			break;
		if (t->drv_features_sel == 0)
			set_lo(&t->drv_features, val);
		else
			set_hi(&t->drv_features, val);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->drv_features_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (stage)
			stage->num = val;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (mq)
			write_queue_ready(t, mq, val);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* handled in virtio_mmio_write, outside the lock */
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		t->isr &= ~val;
		break;
	case VIRTIO_MMIO_STATUS:
		write_status(t, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		if (stage)
			set_lo(&stage->desc, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (stage)
			set_hi(&stage->desc, val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		if (stage)
			set_lo(&stage->driver, val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		if (stage)
			set_hi(&stage->driver, val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		if (stage)
			set_lo(&stage->device, val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if (stage)
			set_hi(&stage->device, val);
		break;
	default:
		break;
	}
}

/* Config space access check: width 1/2/4/8, naturally aligned, inside. */
static bool config_access_ok(const struct virtio_mmio *t, uint64_t off, uint32_t len)
{
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return false;
	if (off < VIRTIO_MMIO_CONFIG || off >= VIRTIO_MMIO_SIZE)
		return false;
	uint64_t coff = off - VIRTIO_MMIO_CONFIG;
	return coff % len == 0 && coff + len <= t->ops->config_len;
}

void virtio_mmio_read(struct virtio_mmio *t, uint64_t off, void *data, uint32_t len)
{
	memset(data, 0, len);
	pthread_mutex_lock(&t->lock);
	if (off < VIRTIO_MMIO_CONFIG) {
		if (len == 4 && off % 4 == 0) {
			uint32_t v = htole32(read_reg(t, off));
			memcpy(data, &v, 4);
		}
	} else if (config_access_ok(t, off, len)) {
		t->ops->config_read(t->dev, (uint32_t)(off - VIRTIO_MMIO_CONFIG), data, len);
	}
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_write(struct virtio_mmio *t, uint64_t off, const void *data, uint32_t len)
{
	if (off == VIRTIO_MMIO_QUEUE_NOTIFY && len == 4) {
		/* No ioeventfd: there is no event loop to call us again, so
		 * keep going a bounded number of rounds, letting other users
		 * of the lock in between. */
		uint32_t v;
		memcpy(&v, data, 4);
		for (unsigned i = 0; i < VIRTIO_MMIO_NOTIFY_MMIO_ROUNDS; i++)
			if (!virtio_mmio_notify(t, le32toh(v)))
				break;
		return;
	}
	pthread_mutex_lock(&t->lock);
	if (off < VIRTIO_MMIO_CONFIG) {
		if (len == 4 && off % 4 == 0) {
			uint32_t v;
			memcpy(&v, data, 4);
			write_reg(t, off, le32toh(v));
		}
	} else if (config_access_ok(t, off, len) && t->ops->config_write) {
		t->ops->config_write(t->dev, (uint32_t)(off - VIRTIO_MMIO_CONFIG), data, len);
	}
	pthread_mutex_unlock(&t->lock);
}

bool virtio_mmio_notify(struct virtio_mmio *t, unsigned qidx)
{
	pthread_mutex_lock(&t->lock);
	bool more = notify_locked(t, qidx);
	pthread_mutex_unlock(&t->lock);
	return more;
}

void virtio_mmio_signal_used(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
	bool any = false;
	for (unsigned i = 0; i < t->ops->num_queues; i++)
		if (virtq_need_signal(&t->queues[i].vq))
			any = true;
	if (any)
		raise_irq(t, VIRTIO_MMIO_INT_VRING);
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_run_locked(struct virtio_mmio *t, void (*fn)(void *dev, void *ctx), void *ctx)
{
	pthread_mutex_lock(&t->lock);
	fn(t->dev, ctx);
	bool any = false, broken = false;
	for (unsigned i = 0; i < t->ops->num_queues; i++) {
		if (virtq_need_signal(&t->queues[i].vq))
			any = true;
		broken |= t->queues[i].vq.broken;
	}
	if (any)
		raise_irq(t, VIRTIO_MMIO_INT_VRING);
	if (broken)
		set_needs_reset(t);
	pthread_mutex_unlock(&t->lock);
}

struct virtq *virtio_mmio_queue_locked(struct virtio_mmio *t, unsigned qidx)
{
	if (qidx >= t->ops->num_queues || !operational(t))
		return NULL;
	struct virtq *q = &t->queues[qidx].vq;
	return q->ready && !q->broken ? q : NULL;
}

uint64_t virtio_mmio_features_locked(const struct virtio_mmio *t)
{
	return t->features_ok ? t->drv_features : 0;
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
	t->config_gen++;
	if (t->status & VIRTIO_CONFIG_S_DRIVER_OK)
		raise_irq(t, VIRTIO_MMIO_INT_CONFIG);
	pthread_mutex_unlock(&t->lock);
}

/* ---- snapshot state ---- */

#define TAG_MMIO VMSTATE_TAG('V', 'M', 'I', 'O')
#define TAG_MMIO_QUEUE VMSTATE_TAG('V', 'M', 'Q', 'U')
/* num_queues, device_id, dev_features, dev_features_sel, drv_features,
 * drv_features_sel, features_ok, status, isr, config_gen, queue_sel */
#define MMIO_STATE_LEN (4 + 4 + 8 + 4 + 8 + 4 + 4 + 4 + 4 + 4 + 4)
/* index, num, desc, driver, device, flags, last_avail, used_idx,
 * signalled_used, pad */
#define QUEUE_STATE_LEN (4 + 4 + 8 + 8 + 8 + 4 + 2 + 2 + 2 + 2)
#define QF_READY 0x1u
#define QF_BROKEN 0x2u

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	vmstate_st32(p, v);
	return p + 4;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	vmstate_st64(p, v);
	return p + 8;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int virtio_mmio_save(struct virtio_mmio *t, struct vmstate_buf *out)
{
	pthread_mutex_lock(&t->lock);
	uint8_t h[MMIO_STATE_LEN], *p = h;
	p = put32(p, t->ops->num_queues);
	p = put32(p, t->ops->device_id);
	p = put64(p, t->dev_features);
	p = put32(p, t->dev_features_sel);
	p = put64(p, t->drv_features);
	p = put32(p, t->drv_features_sel);
	p = put32(p, t->features_ok);
	p = put32(p, t->status);
	p = put32(p, t->isr);
	p = put32(p, t->config_gen);
	put32(p, t->queue_sel);
	int rc = vmstate_put(out, TAG_MMIO, h, sizeof(h));
	for (unsigned i = 0; !rc && i < t->ops->num_queues; i++) {
		const struct mmio_queue *mq = &t->queues[i];
		uint8_t q[QUEUE_STATE_LEN];
		p = q;
		p = put32(p, i);
		p = put32(p, mq->num);
		p = put64(p, mq->desc);
		p = put64(p, mq->driver);
		p = put64(p, mq->device);
		p = put32(p, (mq->vq.ready ? QF_READY : 0) | (mq->vq.broken ? QF_BROKEN : 0));
		p = put16(p, mq->vq.last_avail);
		p = put16(p, mq->vq.used_idx);
		p = put16(p, mq->vq.signalled_used);
		put16(p, 0);
		rc = vmstate_put(out, TAG_MMIO_QUEUE, q, sizeof(q));
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* Decode and check one queue into *mq (configured against features). */
static int restore_queue(struct virtio_mmio *t, const uint8_t *p, bool features_ok,
			 uint64_t features, struct mmio_queue *mq, struct errmsg *err)
{
	unsigned i = vmstate_le32(p);
	mq->num = vmstate_le32(p + 4);
	mq->desc = vmstate_le64(p + 8);
	mq->driver = vmstate_le64(p + 16);
	mq->device = vmstate_le64(p + 24);
	uint32_t flags = vmstate_le32(p + 32);
	uint16_t last_avail = le16(p + 36);
	uint16_t used_idx = le16(p + 38);
	uint16_t signalled = le16(p + 40);
	virtq_init(&mq->vq, t->mem);

	if (flags & ~(QF_READY | QF_BROKEN) || le16(p + 42))
		return errmsg_set(err, -EINVAL, "virtio state: queue %u: invalid flags", i);
	if (!(flags & QF_READY)) {
		/* a disabled queue keeps no ring state (virtq_disable) */
		if ((flags & QF_BROKEN) || last_avail || used_idx || signalled)
			return errmsg_set(err, -EINVAL,
					  "virtio state: queue %u: disabled queue with ring state",
					  i);
		return 0;
	}
	/* the same path as the guest's QueueReady=1 write */
	if (!features_ok || virtq_configure(&mq->vq, mq->num, t->ops->queue_max, mq->desc,
					    mq->driver, mq->device, features) < 0)
		return errmsg_set(err, -EINVAL,
				  "virtio state: queue %u: invalid layout (size %u, desc 0x%llx, "
				  "avail 0x%llx, used 0x%llx)",
				  i, mq->num, (unsigned long long)mq->desc,
				  (unsigned long long)mq->driver, (unsigned long long)mq->device);
	mq->vq.last_avail = last_avail;
	mq->vq.used_idx = used_idx;
	mq->vq.signalled_used = signalled;
	if (flags & QF_BROKEN)
		virtq_set_broken(&mq->vq);
	return 0;
}

int virtio_mmio_restore(struct virtio_mmio *t, const uint8_t *buf, size_t len, struct errmsg *err)
{
	unsigned nq = t->ops->num_queues;
	const uint8_t *h = NULL;
	const uint8_t *qs[VIRTIO_MMIO_MAX_QUEUES] = {0};
	struct vmstate_reader r;
	vmstate_reader_init(&r, buf, len);
	uint32_t tag, plen;
	const uint8_t *p;
	int rc;
	char tn[12];
	while ((rc = vmstate_next(&r, &tag, &p, &plen)) > 0) {
		if (tag == TAG_MMIO && plen == MMIO_STATE_LEN && !h) {
			h = p;
		} else if (tag == TAG_MMIO_QUEUE && plen == QUEUE_STATE_LEN) {
			uint32_t i = vmstate_le32(p);
			if (i >= nq || qs[i])
				return errmsg_set(err, -EINVAL, "virtio state: queue %u unexpected",
						  i);
			qs[i] = p;
		} else {
			return errmsg_set(err, -EINVAL,
					  "virtio state: unexpected section %s (%u bytes)",
					  vmstate_tag_name(tag, tn), plen);
		}
	}
	if (rc < 0)
		return errmsg_set(err, -EINVAL, "virtio state: truncated");
	if (!h)
		return errmsg_set(err, -EINVAL, "virtio state: no transport section");
	if (vmstate_le32(h) != nq || vmstate_le32(h + 4) != t->ops->device_id)
		return errmsg_set(
		    err, -EINVAL,
		    "virtio state: saved for device %u with %u queues, this is device "
		    "%u with %u",
		    vmstate_le32(h + 4), vmstate_le32(h), t->ops->device_id, nq);
	for (unsigned i = 0; i < nq; i++)
		if (!qs[i])
			return errmsg_set(err, -EINVAL, "virtio state: queue %u missing", i);

	struct virtio_mmio n = {0};
	n.dev_features = vmstate_le64(h + 8);
	n.dev_features_sel = vmstate_le32(h + 16);
	n.drv_features = vmstate_le64(h + 20);
	n.drv_features_sel = vmstate_le32(h + 28);
	uint32_t fok = vmstate_le32(h + 32);
	n.status = vmstate_le32(h + 36);
	n.isr = vmstate_le32(h + 40);
	n.config_gen = vmstate_le32(h + 44);
	n.queue_sel = vmstate_le32(h + 48);
	n.features_ok = fok == 1;

	/* The device must offer exactly what it offered when the guest
	 * negotiated (a read-only disk stays read-only, and the reverse). */
	if (n.dev_features != t->dev_features)
		return errmsg_set(
		    err, -EINVAL, "virtio state: device features 0x%llx, this device offers 0x%llx",
		    (unsigned long long)n.dev_features, (unsigned long long)t->dev_features);
	n.ops = t->ops;
	if (fok > 1 || (n.features_ok && !features_acceptable(&n)) ||
	    ((n.status & VIRTIO_CONFIG_S_FEATURES_OK) && !n.features_ok))
		return errmsg_set(err, -EINVAL, "virtio state: features 0x%llx not acceptable",
				  (unsigned long long)n.drv_features);
	if (n.status & ~0xffu)
		return errmsg_set(err, -EINVAL, "virtio state: invalid status 0x%x", n.status);
	if (n.isr & ~(uint32_t)(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG))
		return errmsg_set(err, -EINVAL, "virtio state: invalid interrupt status 0x%x",
				  n.isr);

	struct mmio_queue *q = calloc(nq, sizeof(*q));
	if (!q)
		return errmsg_set(err, -ENOMEM, "virtio state: out of memory");
	for (unsigned i = 0; i < nq; i++) {
		rc = restore_queue(t, qs[i], n.features_ok, n.drv_features, &q[i], err);
		if (rc) {
			free(q);
			return rc;
		}
	}

	pthread_mutex_lock(&t->lock);
	t->dev_features_sel = n.dev_features_sel;
	t->drv_features = n.drv_features;
	t->drv_features_sel = n.drv_features_sel;
	t->features_ok = n.features_ok;
	t->status = n.status;
	t->isr = n.isr;
	t->config_gen = n.config_gen;
	t->queue_sel = n.queue_sel;
	memcpy(t->queues, q, nq * sizeof(*q));
	pthread_mutex_unlock(&t->lock);
	free(q);
	return 0;
}
