#include "vmmapi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Encoder: bytes go to buf while they fit; `over` records that one did not,
 * so callers check once at the end. */
struct wr {
	uint8_t *buf;
	size_t cap, len;
	bool over;
	const char *bad; /* the field that could not be encoded */
};

static void put(struct wr *w, const void *p, size_t n)
{
	if (w->over || n > w->cap - w->len) {
		w->over = true;
		return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void put_u8(struct wr *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put_u16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	put(w, b, sizeof(b));
}

static void put_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, sizeof(b));
}

static void put_u64(struct wr *w, uint64_t v)
{
	put_u32(w, (uint32_t)v);
	put_u32(w, (uint32_t)(v >> 32));
}

static void put_str(struct wr *w, const char *s, const char *field)
{
	if (!s) {
		put_u32(w, 0);
		return;
	}
	size_t n = strlen(s) + 1;
	if (n > VMMAPI_STR_MAX) {
		if (!w->bad)
			w->bad = field;
		w->over = true;
		return;
	}
	put_u32(w, (uint32_t)n);
	put(w, s, n);
}

/* Decoder: a cursor that refuses to read past the end and remembers the
 * first field that was bad. */
struct rd {
	const uint8_t *p;
	size_t len, off;
	const char *bad;
	const char *why;
};

static bool fail(struct rd *r, const char *field, const char *why)
{
	if (!r->bad) {
		r->bad = field;
		r->why = why;
	}
	return false;
}

static bool take(struct rd *r, void *out, size_t n, const char *field)
{
	if (r->bad)
		return false;
	if (n > r->len - r->off)
		return fail(r, field, "truncated");
	memcpy(out, r->p + r->off, n);
	r->off += n;
	return true;
}

static uint8_t get_u8(struct rd *r, const char *field)
{
	uint8_t v = 0;
	take(r, &v, 1, field);
	return v;
}

static bool get_bool(struct rd *r, const char *field)
{
	uint8_t v = get_u8(r, field);
	if (v > 1)
		fail(r, field, "not a boolean");
	return v == 1;
}

static uint16_t get_u16(struct rd *r, const char *field)
{
	uint8_t b[2] = {0};
	take(r, b, sizeof(b), field);
	return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t get_u32(struct rd *r, const char *field)
{
	uint8_t b[4] = {0};
	take(r, b, sizeof(b), field);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get_u64(struct rd *r, const char *field)
{
	uint64_t lo = get_u32(r, field);
	return lo | (uint64_t)get_u32(r, field) << 32;
}

static const char *get_str(struct rd *r, const char *field)
{
	uint32_t n = get_u32(r, field);
	if (r->bad || n == 0)
		return NULL;
	if (n > VMMAPI_STR_MAX) {
		fail(r, field, "string too long");
		return NULL;
	}
	if (n > r->len - r->off) {
		fail(r, field, "truncated");
		return NULL;
	}
	const char *s = (const char *)r->p + r->off;
	if (s[n - 1] != '\0' || memchr(s, '\0', n - 1)) {
		fail(r, field, "string not NUL-terminated or with an inner NUL");
		return NULL;
	}
	r->off += n;
	return s;
}

static uint32_t get_count(struct rd *r, uint32_t max, const char *field)
{
	uint32_t n = get_u32(r, field);
	if (n > max) {
		fail(r, field, "count over its bound");
		return 0;
	}
	return n;
}

static void enc_config(struct wr *w, const struct vmmapi_config *c)
{
	put_str(w, c->kvm_dev, "kvm_dev");
	put_str(w, c->kernel, "kernel");
	put_str(w, c->initrd, "initrd");
	put_str(w, c->cmdline_extra, "cmdline_extra");
	put_u32(w, c->cpus);
	put_u64(w, c->mem_bytes);
	put_u32(w, (uint32_t)c->pvm);
	put_u8(w, c->debug);
	put_u32(w, c->ndisks);
	for (uint32_t i = 0; i < c->ndisks; i++) {
		put_str(w, c->disks[i].path, "disk path");
		put_u8(w, c->disks[i].read_only);
	}
	put_u32(w, c->nvolumes);
	for (uint32_t i = 0; i < c->nvolumes; i++) {
		put_str(w, c->volumes[i].host_dir, "volume directory");
		put_u8(w, c->volumes[i].read_only);
	}
	put_str(w, c->vsock_uds, "vsock_uds");
	put_u64(w, c->vsock_cid);
	put_u32(w, c->net_mode);
	put_str(w, c->net_tap, "net_tap");
	put(w, c->net_mac, sizeof(c->net_mac));
	put_u32(w, c->nports);
	for (uint32_t i = 0; i < c->nports; i++) {
		put_u8(w, c->ports[i].udp);
		put_u32(w, c->ports[i].host_ip);
		put_u16(w, c->ports[i].host_port);
		put_u16(w, c->ports[i].guest_port);
	}
	put_u8(w, c->net_no_csum);
	put_str(w, c->template_root, "template_root");
	put_u64(w, c->disk_read_bps);
	put_u64(w, c->disk_write_bps);
	put_u64(w, c->disk_read_iops);
	put_u64(w, c->disk_write_iops);
	put_u64(w, c->net_rx_bps);
	put_u64(w, c->net_tx_bps);
	put_u64(w, c->net_rx_pps);
	put_u64(w, c->net_tx_pps);
}

static void dec_config(struct rd *r, struct vmmapi_config *c)
{
	c->kvm_dev = get_str(r, "kvm_dev");
	c->kernel = get_str(r, "kernel");
	c->initrd = get_str(r, "initrd");
	c->cmdline_extra = get_str(r, "cmdline_extra");
	c->cpus = get_u32(r, "cpus");
	c->mem_bytes = get_u64(r, "mem_bytes");
	c->pvm = (int32_t)get_u32(r, "pvm");
	if (c->pvm < -1 || c->pvm > 1)
		fail(r, "pvm", "not -1, 0 or 1");
	c->debug = get_bool(r, "debug");
	c->ndisks = get_count(r, VMMAPI_MAX_DISKS, "ndisks");
	for (uint32_t i = 0; i < c->ndisks; i++) {
		c->disks[i].path = get_str(r, "disk path");
		c->disks[i].read_only = get_bool(r, "disk read_only");
	}
	c->nvolumes = get_count(r, VMMAPI_MAX_VOLUMES, "nvolumes");
	for (uint32_t i = 0; i < c->nvolumes; i++) {
		c->volumes[i].host_dir = get_str(r, "volume directory");
		c->volumes[i].read_only = get_bool(r, "volume read_only");
	}
	c->vsock_uds = get_str(r, "vsock_uds");
	c->vsock_cid = get_u64(r, "vsock_cid");
	c->net_mode = get_u32(r, "net_mode");
	if (c->net_mode > VMMAPI_NET_TAP)
		fail(r, "net_mode", "unknown mode");
	c->net_tap = get_str(r, "net_tap");
	take(r, c->net_mac, sizeof(c->net_mac), "net_mac");
	c->nports = get_count(r, VMMAPI_MAX_PORTFWD, "nports");
	for (uint32_t i = 0; i < c->nports; i++) {
		c->ports[i].udp = get_bool(r, "port udp");
		c->ports[i].host_ip = get_u32(r, "port host_ip");
		c->ports[i].host_port = get_u16(r, "port host_port");
		c->ports[i].guest_port = get_u16(r, "port guest_port");
	}
	c->net_no_csum = get_bool(r, "net_no_csum");
	c->template_root = get_str(r, "template_root");
	c->disk_read_bps = get_u64(r, "disk_read_bps");
	c->disk_write_bps = get_u64(r, "disk_write_bps");
	c->disk_read_iops = get_u64(r, "disk_read_iops");
	c->disk_write_iops = get_u64(r, "disk_write_iops");
	c->net_rx_bps = get_u64(r, "net_rx_bps");
	c->net_tx_bps = get_u64(r, "net_tx_bps");
	c->net_rx_pps = get_u64(r, "net_rx_pps");
	c->net_tx_pps = get_u64(r, "net_tx_pps");
}

int vmmapi_encode(const struct vmmapi_msg *m, uint8_t *buf, size_t cap, struct errmsg *err)
{
	struct wr w = {.buf = buf, .cap = cap};
	put_u32(&w, m->type);
	switch (m->type) {
	case VMMAPI_CONFIG: {
		const struct vmmapi_config *c = &m->config;
		if (c->ndisks > VMMAPI_MAX_DISKS || c->nvolumes > VMMAPI_MAX_VOLUMES ||
		    c->nports > VMMAPI_MAX_PORTFWD)
			return errmsg_set(err, -EINVAL,
					  "vmm API: CONFIG: more disks, volumes or "
					  "ports than the protocol carries");
		enc_config(&w, c);
		break;
	}
	case VMMAPI_SAVE_TEMPLATE:
	case VMMAPI_PAUSE:
	case VMMAPI_RESUME:
	case VMMAPI_STOP:
	case VMMAPI_GET_COUNTERS:
		break;
	case VMMAPI_COUNTERS: {
		const struct vmmapi_counters *c = &m->counters;
		const uint64_t v[] = {c->net_rx_bytes,	 c->net_rx_frames, c->net_rx_dropped,
				      c->net_tx_bytes,	 c->net_tx_frames, c->net_tx_dropped,
				      c->blk_read_bytes, c->blk_reads,	   c->blk_write_bytes,
				      c->blk_writes};
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
			put_u64(&w, v[i]);
		if (c->kvm_present >> VMMAPI_KSTATS)
			return errmsg_set(err, -EINVAL, "vmm API: COUNTERS: unknown KVM stat bits");
		put_u64(&w, c->kvm_present);
		for (unsigned i = 0; i < VMMAPI_KSTATS; i++)
			if (c->kvm_present >> i & 1)
				put_u64(&w, c->kvm[i]);
		break;
	}
	case VMMAPI_ATTACH_DISK:
		put_u32(&w, m->attach.index);
		put_str(&w, m->attach.path, "path");
		break;
	case VMMAPI_CREATED:
		put_u32(&w, m->created.boot);
		put_u64(&w, m->created.t_exec);
		put_u64(&w, m->created.t_ns);
		put_str(&w, m->created.why, "why");
		break;
	case VMMAPI_STARTED:
		put_u64(&w, m->started.t_ns);
		break;
	case VMMAPI_RESULT:
		put_u32(&w, m->result.op);
		put_u32(&w, (uint32_t)m->result.err);
		put_str(&w, m->result.text, "text");
		break;
	case VMMAPI_STOPPED:
		put_u32(&w, m->stopped.reason);
		put_u64(&w, m->stopped.t_ns);
		put_str(&w, m->stopped.why, "why");
		break;
	default:
		return errmsg_set(err, -EINVAL, "vmm API: cannot encode message type %u", m->type);
	}
	if (w.over)
		return errmsg_set(err, -EMSGSIZE, "vmm API: %s: %s too large",
				  vmmapi_type_name(m->type), w.bad ? w.bad : "message");
	return (int)w.len;
}

/* Strings are checked for length and termination only; a caller that
 * shows the peer's text to a user bounds it again where it copies it. */
int vmmapi_decode(const uint8_t *buf, size_t len, struct vmmapi_msg *m, struct errmsg *err)
{
	struct rd r = {.p = buf, .len = len};
	memset(m, 0, sizeof(*m));
	if (len > VMMAPI_MAX_MSG)
		return errmsg_set(err, -EBADMSG, "vmm API: message of %zu bytes (limit %u)", len,
				  VMMAPI_MAX_MSG);
	m->type = get_u32(&r, "type");
	/* A short read leaves r.bad set (reported below); type 0 is no
	 * message, unknown like any other number outside the enum. */
	switch (r.bad ? UINT32_MAX : m->type) {
	case UINT32_MAX:
		if (!r.bad)
			return errmsg_set(err, -EBADMSG, "vmm API: unknown message type %u",
					  m->type);
		break;
	case VMMAPI_CONFIG:
		dec_config(&r, &m->config);
		break;
	case VMMAPI_SAVE_TEMPLATE:
	case VMMAPI_PAUSE:
	case VMMAPI_RESUME:
	case VMMAPI_STOP:
	case VMMAPI_GET_COUNTERS:
		break;
	case VMMAPI_COUNTERS: {
		struct vmmapi_counters *c = &m->counters;
		c->net_rx_bytes = get_u64(&r, "net_rx_bytes");
		c->net_rx_frames = get_u64(&r, "net_rx_frames");
		c->net_rx_dropped = get_u64(&r, "net_rx_dropped");
		c->net_tx_bytes = get_u64(&r, "net_tx_bytes");
		c->net_tx_frames = get_u64(&r, "net_tx_frames");
		c->net_tx_dropped = get_u64(&r, "net_tx_dropped");
		c->blk_read_bytes = get_u64(&r, "blk_read_bytes");
		c->blk_reads = get_u64(&r, "blk_reads");
		c->blk_write_bytes = get_u64(&r, "blk_write_bytes");
		c->blk_writes = get_u64(&r, "blk_writes");
		c->kvm_present = get_u64(&r, "kvm_present");
		if (!r.bad && c->kvm_present >> VMMAPI_KSTATS)
			fail(&r, "kvm_present", "unknown KVM stat bits");
		for (unsigned i = 0; !r.bad && i < VMMAPI_KSTATS; i++)
			if (c->kvm_present >> i & 1)
				c->kvm[i] = get_u64(&r, vmmapi_kstat_name(i));
		break;
	}
	case VMMAPI_ATTACH_DISK:
		m->attach.index = get_u32(&r, "index");
		m->attach.path = get_str(&r, "path");
		if (!r.bad && !m->attach.path)
			fail(&r, "path", "missing");
		break;
	case VMMAPI_CREATED:
		m->created.boot = get_u32(&r, "boot");
		if (m->created.boot > VMMAPI_BOOT_NO_TEMPLATE)
			fail(&r, "boot", "unknown kind");
		m->created.t_exec = get_u64(&r, "t_exec");
		m->created.t_ns = get_u64(&r, "t_ns");
		m->created.why = get_str(&r, "why");
		break;
	case VMMAPI_STARTED:
		m->started.t_ns = get_u64(&r, "t_ns");
		break;
	case VMMAPI_RESULT:
		m->result.op = get_u32(&r, "op");
		m->result.err = (int32_t)get_u32(&r, "err");
		if (m->result.err > 0 || m->result.err < -4095)
			fail(&r, "err", "not 0 or -errno");
		m->result.text = get_str(&r, "text");
		break;
	case VMMAPI_STOPPED:
		m->stopped.reason = get_u32(&r, "reason");
		if (m->stopped.reason > VMMAPI_STOP_TRIPLE_FAULT)
			fail(&r, "reason", "unknown reason");
		m->stopped.t_ns = get_u64(&r, "t_ns");
		m->stopped.why = get_str(&r, "why");
		break;
	default:
		return errmsg_set(err, -EBADMSG, "vmm API: unknown message type %u", m->type);
	}
	if (r.bad)
		return errmsg_set(err, -EBADMSG, "vmm API: %s message: %s: %s",
				  vmmapi_type_name(m->type), r.bad, r.why);
	if (r.off != len)
		return errmsg_set(err, -EBADMSG, "vmm API: %s message: %zu trailing bytes",
				  vmmapi_type_name(m->type), len - r.off);
	return 0;
}

int vmmapi_send(int fd, const struct vmmapi_msg *m, struct errmsg *err)
{
	uint8_t *buf = malloc(VMMAPI_MAX_MSG);
	if (!buf)
		return errmsg_set(err, -ENOMEM, "out of memory");
	int n = vmmapi_encode(m, buf, VMMAPI_MAX_MSG, err);
	ssize_t w = 0;
	while (n >= 0 && (w = send(fd, buf, (size_t)n, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	int rc = n < 0 ? n : w < 0 ? -errno : 0;
	if (n >= 0 && w < 0)
		errmsg_set(err, rc, "vmm API: sending %s: %s", vmmapi_type_name(m->type),
			   strerror(errno));
	free(buf);
	return rc;
}

int vmmapi_recv(int fd, uint8_t buf[VMMAPI_RECV_BUF], struct vmmapi_msg *m, struct errmsg *err)
{
	ssize_t n;
	while ((n = recv(fd, buf, VMMAPI_RECV_BUF, 0)) < 0 && errno == EINTR)
		;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -EAGAIN;
	if (n < 0)
		return errmsg_set(err, -errno, "vmm API: receiving: %s", strerror(errno));
	if (n == 0)
		return errmsg_set(err, -EPIPE, "vmm API: the peer hung up");
	return vmmapi_decode(buf, (size_t)n, m, err);
}

const char *vmmapi_kstat_name(unsigned i)
{
	/* what says where a guest's kernel time goes on an emulating host:
	 * exits and their kinds, emulated instructions, page faults, injected
	 * interrupts; then the VM's page sizes */
	static const char *const names[VMMAPI_KSTATS] = {
	    "exits",
	    "io_exits",
	    "mmio_exits",
	    "halt_exits",
	    "irq_exits",
	    "signal_exits",
	    "irq_window_exits",
	    "request_irq_exits",
	    "insn_emulation",
	    "insn_emulation_fail",
	    "pf_taken",
	    "pf_guest",
	    "pf_fixed",
	    "pf_emulate",
	    "irq_injections",
	    "hypercalls",
	    "tlb_flush",
	    "halt_wait_ns",
	    "pages_4k",
	    "pages_2m",
	};
	return i < VMMAPI_KSTATS ? names[i] : NULL;
}

const char *vmmapi_type_name(uint32_t type)
{
	switch (type) {
	case VMMAPI_CONFIG:
		return "CONFIG";
	case VMMAPI_SAVE_TEMPLATE:
		return "SAVE_TEMPLATE";
	case VMMAPI_ATTACH_DISK:
		return "ATTACH_DISK";
	case VMMAPI_PAUSE:
		return "PAUSE";
	case VMMAPI_RESUME:
		return "RESUME";
	case VMMAPI_STOP:
		return "STOP";
	case VMMAPI_GET_COUNTERS:
		return "GET_COUNTERS";
	case VMMAPI_COUNTERS:
		return "COUNTERS";
	case VMMAPI_CREATED:
		return "CREATED";
	case VMMAPI_STARTED:
		return "STARTED";
	case VMMAPI_RESULT:
		return "RESULT";
	case VMMAPI_STOPPED:
		return "STOPPED";
	default:
		return "unknown";
	}
}

const char *vmmapi_stop_text(uint32_t reason)
{
	switch (reason) {
	case VMMAPI_STOP_RESET:
		return "the guest rebooted";
	case VMMAPI_STOP_SHUTDOWN:
		return "the guest shut down unexpectedly";
	case VMMAPI_STOP_ERROR:
		return "a VMM error";
	case VMMAPI_STOP_REQUESTED:
		return "hull stopped it";
	case VMMAPI_STOP_TRIPLE_FAULT:
		return "the guest triple-faulted: its kernel crashed and the VM shut down "
		       "unexpectedly";
	default:
		return "unknown";
	}
}
