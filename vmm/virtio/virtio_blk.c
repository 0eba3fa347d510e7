#include "virtio_blk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "common/clock.h"
#include "vmm/evloop.h"
#include "vmm/ratelimit_timer.h"

#define SECTOR_SIZE 512u

struct virtio_blk {
	/* Guards fd, capacity and cfg against virtio_blk_set_backing(). Taken
	 * inside the transport lock (queue_notify, config_read), never around
	 * a transport call: the lock order is transport -> blk. */
	pthread_mutex_t lock;
	int fd;
	bool read_only;
	uint64_t capacity;		  /* sectors */
	char serial[VIRTIO_BLK_ID_BYTES]; /* NUL-padded, not NUL-terminated */
	struct virtio_blk_config cfg;	  /* little-endian, as the guest sees it */
	struct virtio_dev_ops ops;
	/* scratch for the request being served (the transport serialises) */
	struct virtq_chain chain;
	struct iovec data[VIRTQ_MAX_SEGS];
	/* I/O limits (virtio_blk_set_limits): a request the buckets refuse is
	 * given back to the ring (virtq_unpop) and the timer set for when it
	 * may pass; the timer's handler serves the queue again. */
	struct ratelimit rl_read, rl_write;
	bool limited, waiting;
	struct ratelimit_timer timer;
	struct virtio_mmio *t;
	struct virtio_blk_stats st; /* atomic adds */
};

/* The file's name for messages: what /proc says the fd is. */
static const char *fd_name(int fd, char *buf, size_t size)
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, size - 1);
	if (n <= 0) {
		snprintf(buf, size, "fd %d", fd);
		return buf;
	}
	buf[n] = '\0';
	return buf;
}

/* Full-length positioned I/O; the iovecs are consumed. 0 or -errno (-EIO on
 * an unexpected end of file). */
static int rw_full(int fd, struct iovec *iov, unsigned cnt, uint64_t off, bool write)
{
	while (cnt > 0) {
		int n_iov = cnt > IOV_MAX ? IOV_MAX : (int)cnt;
		ssize_t n = write ? pwritev(fd, iov, n_iov, (off_t)off)
				  : preadv(fd, iov, n_iov, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		off += (uint64_t)n;
		size_t left = (size_t)n;
		while (cnt > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

static uint8_t do_rw(struct virtio_blk *b, const struct virtq_chain *c, uint64_t sector, bool write,
		     uint32_t data_len)
{
	if (write && b->read_only)
		return VIRTIO_BLK_S_IOERR;
	if (data_len % SECTOR_SIZE)
		return VIRTIO_BLK_S_IOERR;
	uint64_t nsec = data_len / SECTOR_SIZE;
	if (sector > b->capacity || nsec > b->capacity - sector)
		return VIRTIO_BLK_S_IOERR;
	if (data_len == 0)
		return VIRTIO_BLK_S_OK;

	unsigned n;
	if (write)
		n = virtq_iov_slice(c->iov, c->n_out, sizeof(struct virtio_blk_outhdr), data_len,
				    b->data, VIRTQ_MAX_SEGS);
	else
		n = virtq_iov_slice(c->iov + c->n_out, c->n_in, 0, data_len, b->data,
				    VIRTQ_MAX_SEGS);
	if (rw_full(b->fd, b->data, n, sector * SECTOR_SIZE, write) < 0)
		return VIRTIO_BLK_S_IOERR;
	/* data_len was checked against the capacity above */
	__atomic_add_fetch(write ? &b->st.write_bytes : &b->st.read_bytes, data_len,
			   __ATOMIC_RELAXED);
	__atomic_add_fetch(write ? &b->st.writes : &b->st.reads, 1, __ATOMIC_RELAXED);
	return VIRTIO_BLK_S_OK;
}

void virtio_blk_get_stats(struct virtio_blk *b, struct virtio_blk_stats *out)
{
	out->read_bytes = __atomic_load_n(&b->st.read_bytes, __ATOMIC_RELAXED);
	out->write_bytes = __atomic_load_n(&b->st.write_bytes, __ATOMIC_RELAXED);
	out->reads = __atomic_load_n(&b->st.reads, __ATOMIC_RELAXED);
	out->writes = __atomic_load_n(&b->st.writes, __ATOMIC_RELAXED);
}

static uint8_t process(struct virtio_blk *b, const struct virtq_chain *c)
{
	struct virtio_blk_outhdr h;
	if (virtq_chain_read(c, 0, &h, sizeof(h)) < sizeof(h))
		return VIRTIO_BLK_S_IOERR;
	uint32_t type = le32toh(h.type);
	uint64_t sector = le64toh(h.sector);
	uint32_t in_data = c->in_len - 1; /* writable bytes before the status */

	switch (type) {
	case VIRTIO_BLK_T_IN:
		return do_rw(b, c, sector, false, in_data);
	case VIRTIO_BLK_T_OUT:
		return do_rw(b, c, sector, true, c->out_len - (uint32_t)sizeof(h));
	case VIRTIO_BLK_T_FLUSH:
		if (!b->read_only && fdatasync(b->fd) < 0)
			return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		size_t n = in_data < sizeof(b->serial) ? in_data : sizeof(b->serial);
		virtq_chain_write(c, 0, b->serial, n);
		return VIRTIO_BLK_S_OK;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* With limits: true when the request may be served now; else the timer is
 * armed for when it may (the caller gives the chain back). FLUSH counts as
 * a write of no bytes, GET_ID and malformed requests cost nothing. */
static bool admit(struct virtio_blk *b, const struct virtq_chain *c)
{
	struct virtio_blk_outhdr h;
	if (!b->limited || virtq_chain_read(c, 0, &h, sizeof(h)) < sizeof(h))
		return true;
	uint32_t type = le32toh(h.type);
	struct ratelimit *rl = type == VIRTIO_BLK_T_IN ? &b->rl_read
			       : type == VIRTIO_BLK_T_OUT || type == VIRTIO_BLK_T_FLUSH
				   ? &b->rl_write
				   : NULL;
	if (!rl)
		return true;
	uint64_t n = type == VIRTIO_BLK_T_IN	? c->in_len - 1u
		     : type == VIRTIO_BLK_T_OUT ? c->out_len - (uint32_t)sizeof(h)
						: 0;
	if (ratelimit_timer_admit(&b->timer, rl, n))
		return true;
	b->waiting = true;
	return false;
}

static void serve(struct virtio_blk *b, struct virtq *q)
{
	struct virtq_chain *c = &b->chain;
	pthread_mutex_lock(&b->lock);
	while (!b->waiting && virtq_pop(q, c) > 0) {
		if (c->in_len == 0) {
			/* No status byte: the request cannot be answered. */
			virtq_set_broken(q);
			break;
		}
		if (!admit(b, c)) {
			virtq_unpop(q);
			break;
		}
		uint8_t st = process(b, c);
		const struct iovec *last = &c->iov[c->n_out + c->n_in - 1];
		uint8_t *status = (uint8_t *)last->iov_base + last->iov_len - 1;
		__atomic_store_n(status, st, __ATOMIC_RELAXED);
		virtq_push(q, c->head, c->in_len);
	}
	pthread_mutex_unlock(&b->lock);
}

static void blk_queue_notify(void *dev, struct virtq *q, unsigned qidx)
{
	(void)qidx;
	serve(dev, q); /* while the timer runs, the guest's kicks wait for it */
}

/* Transport lock held (virtio_mmio_run_locked). */
static void resume_locked(void *dev, void *ctx)
{
	struct virtio_blk *b = dev;
	(void)ctx;
	struct virtq *q = virtio_mmio_queue_locked(b->t, 0);
	pthread_mutex_lock(&b->lock);
	b->waiting = false;
	pthread_mutex_unlock(&b->lock);
	if (q)
		serve(b, q);
}

static void on_timer(void *ctx, int fd, uint32_t events)
{
	struct virtio_blk *b = ctx;
	(void)events;
	if (ratelimit_timer_ack(fd))
		virtio_mmio_run_locked(b->t, resume_locked, NULL);
}

static void blk_reset(void *dev)
{
	struct virtio_blk *b = dev;
	pthread_mutex_lock(&b->lock);
	b->waiting = false; /* the chain went back to a ring that is gone */
	pthread_mutex_unlock(&b->lock);
}

static void blk_config_read(void *dev, uint32_t off, void *data, uint32_t len)
{
	struct virtio_blk *b = dev;
	pthread_mutex_lock(&b->lock);
	memcpy(data, (const uint8_t *)&b->cfg + off, len);
	pthread_mutex_unlock(&b->lock);
}

static void blk_config_write(void *dev, uint32_t off, const void *data, uint32_t len)
{
	/* Nothing is writable (no VIRTIO_BLK_F_CONFIG_WCE). */
	(void)dev;
	(void)off;
	(void)data;
	(void)len;
}

/* Check a backing fd the way the device will use it and return its size in
 * bytes: a regular file or block device, a multiple of the sector size,
 * open for writing unless read_only. */
static int backing_size(int fd, bool read_only, uint64_t *out, struct errmsg *err)
{
	char name[512];
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		return errmsg_set(err, -e, "disk %s: %s", fd_name(fd, name, sizeof(name)),
				  strerror(e));
	}
	uint64_t size;
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
			int e = errno;
			return errmsg_set(err, -e, "disk %s: cannot get size: %s",
					  fd_name(fd, name, sizeof(name)), strerror(e));
		}
	} else {
		return errmsg_set(err, -EINVAL, "disk %s: not a regular file or block device",
				  fd_name(fd, name, sizeof(name)));
	}
	if (size % SECTOR_SIZE)
		return errmsg_set(err, -EINVAL, "disk %s: size %llu is not a multiple of %u bytes",
				  fd_name(fd, name, sizeof(name)), (unsigned long long)size,
				  SECTOR_SIZE);

	int fl = fcntl(fd, F_GETFL);
	if (fl < 0) {
		int e = errno;
		return errmsg_set(err, -e, "disk %s: %s", fd_name(fd, name, sizeof(name)),
				  strerror(e));
	}
	if (!read_only && (fl & O_ACCMODE) == O_RDONLY)
		return errmsg_set(err, -EINVAL,
				  "disk %s: opened read-only but the disk is read-write",
				  fd_name(fd, name, sizeof(name)));

	*out = size;
	return 0;
}

int virtio_blk_init(struct virtio_blk **out, int fd, bool read_only, const char *serial,
		    struct errmsg *err)
{
	char name[512];
	*out = NULL;

	if (serial && strlen(serial) > VIRTIO_BLK_ID_BYTES)
		return errmsg_set(err, -EINVAL, "disk %s: serial \"%s\" is longer than %d bytes",
				  fd_name(fd, name, sizeof(name)), serial, VIRTIO_BLK_ID_BYTES);

	uint64_t size;
	int rc = backing_size(fd, read_only, &size, err);
	if (rc)
		return rc;

	struct virtio_blk *b = calloc(1, sizeof(*b));
	if (!b)
		return errmsg_set(err, -ENOMEM, "disk %s: out of memory",
				  fd_name(fd, name, sizeof(name)));
	if (pthread_mutex_init(&b->lock, NULL)) {
		free(b);
		return errmsg_set(err, -ENOMEM, "disk %s: out of memory",
				  fd_name(fd, name, sizeof(name)));
	}
	b->fd = fd;
	ratelimit_timer_init(&b->timer);
	b->read_only = read_only;
	b->capacity = size / SECTOR_SIZE;
	if (serial)
		memcpy(b->serial, serial, strlen(serial));

	b->cfg.capacity = htole64(b->capacity);
	b->cfg.seg_max = htole32(VIRTQ_MAX_SEGS - 2); /* plus header and status */

	b->ops = (struct virtio_dev_ops){
	    .device_id = VIRTIO_ID_BLOCK,
	    .features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_FLUSH) |
			(read_only ? 1ull << VIRTIO_BLK_F_RO : 0),
	    .num_queues = 1,
	    .queue_max = VIRTIO_BLK_QUEUE_MAX,
	    .config_read = blk_config_read,
	    .config_write = blk_config_write,
	    .config_len = sizeof(struct virtio_blk_config),
	    .queue_notify = blk_queue_notify,
	    .reset = blk_reset, /* no state outlives a request but a wait */
	};
	*out = b;
	return 0;
}

void virtio_blk_free(struct virtio_blk *b)
{
	if (!b)
		return;
	ratelimit_timer_close(&b->timer);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

int virtio_blk_set_backing(struct virtio_blk *b, int fd, bool read_only, struct errmsg *err)
{
	char name[512];
	/* The guest negotiated VIRTIO_BLK_F_RO (or its absence) with the old
	 * backing; it cannot learn about a change short of a device reset. */
	if (read_only != b->read_only)
		return errmsg_set(err, -EINVAL, "disk %s: the device is %s, the new backing %s",
				  fd_name(fd, name, sizeof(name)),
				  b->read_only ? "read-only" : "read-write",
				  read_only ? "read-only" : "read-write");
	uint64_t size;
	int rc = backing_size(fd, read_only, &size, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&b->lock);
	b->fd = fd;
	__atomic_store_n(&b->capacity, size / SECTOR_SIZE, __ATOMIC_RELAXED);
	b->cfg.capacity = htole64(b->capacity);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int virtio_blk_set_limits(struct virtio_blk *b, const struct virtio_blk_limits *l,
			  struct evloop *loop, struct virtio_mmio *t, struct errmsg *err)
{
	if (!l->read_bps && !l->write_bps && !l->read_iops && !l->write_iops)
		return 0;
	int rc = ratelimit_timer_open(&b->timer, loop, on_timer, b, "disk", err);
	if (rc)
		return rc;
	uint64_t now = clock_now_ns();
	pthread_mutex_lock(&b->lock);
	b->t = t;
	ratelimit_init(&b->rl_read, l->read_bps, l->read_iops, now);
	ratelimit_init(&b->rl_write, l->write_bps, l->write_iops, now);
	b->limited = true;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

const struct virtio_dev_ops *virtio_blk_ops(const struct virtio_blk *b)
{
	return &b->ops;
}

uint64_t virtio_blk_capacity(const struct virtio_blk *b)
{
	/* atomic: virtio_blk_set_backing() may change it concurrently */
	return __atomic_load_n(&b->capacity, __ATOMIC_RELAXED);
}
