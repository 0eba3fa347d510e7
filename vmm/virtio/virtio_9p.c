/* virtio_9p: virtio transport glue for the p9 server (see virtio_9p.h).
 * Hand-written like the other virtio devices: no Debian library offers a
 * virtio device model. */
#include "virtio_9p.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_9p.h>
#include <linux/virtio_ids.h>

struct virtio_9p {
	struct p9_server *srv;
	uint8_t cfg[2 + VIRTIO_9P_TAG_MAX]; /* le16 tag_len, tag */
	struct virtio_dev_ops ops;
	/* scratch for the request being served (the transport serialises) */
	struct virtq_chain chain;
	uint8_t *in, *out;
};

static void p9_queue_notify(void *dev, struct virtq *q, unsigned qidx)
{
	struct virtio_9p *d = dev;
	struct virtq_chain *c = &d->chain;
	(void)qidx;
	while (virtq_pop(q, c) > 0) {
		if (c->out_len < P9_HDR_LEN || c->in_len < P9_ERR_LEN) {
			virtq_set_broken(q); /* nothing to answer, or no room to */
			break;
		}
		size_t cap = c->in_len < P9_MSIZE_MAX ? c->in_len : P9_MSIZE_MAX;
		long n;
		if (c->out_len > P9_MSIZE_MAX) {
			uint8_t hdr[P9_HDR_LEN];
			virtq_chain_read(c, 0, hdr, sizeof(hdr));
			p9_error_reply(d->out, (uint16_t)(hdr[5] | hdr[6] << 8), EMSGSIZE);
			n = P9_ERR_LEN;
		} else {
			size_t len = virtq_chain_read(c, 0, d->in, c->out_len);
			n = p9_server_handle(d->srv, d->in, len, d->out, cap);
		}
		if (n < 0) {
			virtq_set_broken(q);
			break;
		}
		virtq_chain_write(c, 0, d->out, (size_t)n);
		virtq_push(q, c->head, (uint32_t)n);
	}
}

static void p9_config_read(void *dev, uint32_t off, void *data, uint32_t len)
{
	struct virtio_9p *d = dev;
	memcpy(data, d->cfg + off, len);
}

static void p9_config_write(void *dev, uint32_t off, const void *data, uint32_t len)
{
	/* the tag is read-only */
	(void)dev;
	(void)off;
	(void)data;
	(void)len;
}

static void p9_reset(void *dev)
{
	struct virtio_9p *d = dev;
	p9_server_reset(d->srv);
}

int virtio_9p_init(struct virtio_9p **out, struct p9_server *srv, const char *tag,
		   struct errmsg *err)
{
	*out = NULL;
	size_t n = tag ? strlen(tag) : 0;
	if (n == 0 || n > VIRTIO_9P_TAG_MAX)
		return errmsg_set(err, -EINVAL, "9p mount tag \"%s\": must be 1 to %u bytes",
				  tag ? tag : "", VIRTIO_9P_TAG_MAX);
	struct virtio_9p *d = calloc(1, sizeof(*d));
	if (d) {
		d->in = malloc(P9_MSIZE_MAX);
		d->out = malloc(P9_MSIZE_MAX);
	}
	if (!d || !d->in || !d->out) {
		virtio_9p_free(d);
		return errmsg_set(err, -ENOMEM, "out of memory");
	}
	d->srv = srv;
	uint16_t le = htole16((uint16_t)n);
	memcpy(d->cfg, &le, 2);
	memcpy(d->cfg + 2, tag, n);
	d->ops = (struct virtio_dev_ops){
	    .device_id = VIRTIO_ID_9P,
	    .features = 1ull << VIRTIO_9P_MOUNT_TAG,
	    .num_queues = 1,
	    .queue_max = VIRTIO_9P_QUEUE_MAX,
	    .config_read = p9_config_read,
	    .config_write = p9_config_write,
	    .config_len = (uint32_t)(2 + n),
	    .queue_notify = p9_queue_notify,
	    .reset = p9_reset,
	};
	*out = d;
	return 0;
}

void virtio_9p_free(struct virtio_9p *d)
{
	if (!d)
		return;
	free(d->in);
	free(d->out);
	free(d);
}

const struct virtio_dev_ops *virtio_9p_ops(const struct virtio_9p *d)
{
	return &d->ops;
}
