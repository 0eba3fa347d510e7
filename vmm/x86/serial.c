#include "serial.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum {
	REG_RBR_THR = 0,
	REG_IER = 1,
	REG_IIR_FCR = 2,
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_MSI 0x08
#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

struct serial {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, msr, scr, dll, dlm, fcr;
	bool thri_pending;
	bool irq_pending; /* last computed state, for edge detection */
	uint8_t *rx;	  /* ring buffer */
	size_t rx_cap, rx_head, rx_len;
	serial_out_fn out;
	void *out_ctx;
	void (*irq)(void *);
	void *irq_ctx;
};

int serial_init(struct serial **out, serial_out_fn out_fn, void *out_ctx, void (*irq)(void *),
		void *irq_ctx)
{
	struct serial *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	s->mcr = MCR_OUT2;
	s->dll = 12; /* 9600 baud, what firmware would leave */
	s->out = out_fn;
	s->out_ctx = out_ctx;
	s->irq = irq;
	s->irq_ctx = irq_ctx;
	*out = s;
	return 0;
}

void serial_free(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->rx);
	free(s);
}

static uint8_t iir_locked(const struct serial *s)
{
	if ((s->ier & IER_RDI) && s->rx_len)
		return IIR_RDI;
	if ((s->ier & IER_THRI) && s->thri_pending)
		return IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & (MSR_DCTS | MSR_DDSR | MSR_TERI | MSR_DDCD)))
		return IIR_MSI;
	return IIR_NONE;
}

/* Returns true when the line must be pulsed (none -> pending). */
static bool update_irq_locked(struct serial *s)
{
	bool pending = iir_locked(s) != IIR_NONE;
	bool edge = pending && !s->irq_pending;
	s->irq_pending = pending;
	return edge;
}

static int rx_push_locked(struct serial *s, const uint8_t *buf, size_t n)
{
	if (n > SERIAL_RX_MAX - s->rx_len)
		return -ENOBUFS;
	if (s->rx_len + n > s->rx_cap) {
		size_t cap = s->rx_cap ? s->rx_cap : 4096;
		while (cap < s->rx_len + n)
			cap *= 2;
		uint8_t *nb = malloc(cap);
		if (!nb)
			return -ENOMEM;
		for (size_t i = 0; i < s->rx_len; i++)
			nb[i] = s->rx[(s->rx_head + i) % s->rx_cap];
		free(s->rx);
		s->rx = nb;
		s->rx_cap = cap;
		s->rx_head = 0;
	}
	for (size_t i = 0; i < n; i++)
		s->rx[(s->rx_head + s->rx_len + i) % s->rx_cap] = buf[i];
	s->rx_len += n;
	return 0;
}

int serial_input(struct serial *s, const uint8_t *buf, size_t n)
{
	pthread_mutex_lock(&s->lock);
	int rc = rx_push_locked(s, buf, n);
	bool edge = update_irq_locked(s);
	pthread_mutex_unlock(&s->lock);
	if (edge && s->irq)
		s->irq(s->irq_ctx);
	return rc;
}

static uint8_t loopback_msr(uint8_t mcr)
{
	uint8_t m = 0;
	if (mcr & MCR_RTS)
		m |= MSR_CTS;
	if (mcr & MCR_DTR)
		m |= MSR_DSR;
	if (mcr & MCR_OUT1)
		m |= MSR_RI;
	if (mcr & MCR_OUT2)
		m |= MSR_DCD;
	return m;
}

void serial_io(void *opaque, uint64_t off, void *data, uint32_t len, bool write)
{
	struct serial *s = opaque;
	uint8_t *d = data;
	if (len != 1) {
		/* 8250 registers are byte-wide; wider accesses read as zero */
		if (!write)
			memset(data, 0, len);
		return;
	}
	uint8_t tx = 0;
	bool have_tx = false;
	pthread_mutex_lock(&s->lock);
	bool dlab = s->lcr & LCR_DLAB;
	if (write) {
		uint8_t v = *d;
		switch (off) {
		case REG_RBR_THR:
			if (dlab) {
				s->dll = v;
			} else if (s->mcr & MCR_LOOP) {
				rx_push_locked(s, &v, 1);
				s->thri_pending = true;
			} else {
				tx = v;
				have_tx = true;
				s->thri_pending = true;
			}
			break;
		case REG_IER:
			if (dlab) {
				s->dlm = v;
			} else {
				/* Enabling THRI with an empty THR raises it at once;
				 * Linux tests for exactly this at startup. */
				if ((v & IER_THRI) && !(s->ier & IER_THRI))
					s->thri_pending = true;
				s->ier = v & 0x0f;
			}
			break;
		case REG_IIR_FCR:
			s->fcr = v & (FCR_ENABLE | 0xc0);
			if (v & FCR_CLEAR_RX)
				s->rx_len = 0;
			break;
		case REG_LCR:
			s->lcr = v;
			break;
		case REG_MCR: {
			uint8_t old_msr = s->msr;
			s->mcr = v & 0x1f;
			uint8_t lines = (s->mcr & MCR_LOOP) ? loopback_msr(s->mcr)
							    : (MSR_DCD | MSR_DSR | MSR_CTS);
			uint8_t delta = (uint8_t)((lines ^ (old_msr & 0xf0)) >> 4);
			s->msr =
			    lines | (old_msr & 0x0f) | (delta & (MSR_DCTS | MSR_DDSR | MSR_DDCD));
			break;
		}
		case REG_SCR:
			s->scr = v;
			break;
		default: /* LSR, MSR are read-only */
			break;
		}
	} else {
		uint8_t v = 0;
		switch (off) {
		case REG_RBR_THR:
			if (dlab) {
				v = s->dll;
			} else if (s->rx_len) {
				v = s->rx[s->rx_head];
				s->rx_head = (s->rx_head + 1) % s->rx_cap;
				s->rx_len--;
			}
			break;
		case REG_IER:
			v = dlab ? s->dlm : s->ier;
			break;
		case REG_IIR_FCR:
			v = iir_locked(s);
			/* reading IIR acknowledges a THRE interrupt */
			if (v == IIR_THRI)
				s->thri_pending = false;
			if (s->fcr & FCR_ENABLE)
				v |= IIR_FIFO;
			break;
		case REG_LCR:
			v = s->lcr;
			break;
		case REG_MCR:
			v = s->mcr;
			break;
		case REG_LSR:
			v = LSR_THRE | LSR_TEMT | (s->rx_len ? LSR_DR : 0);
			break;
		case REG_MSR:
			v = s->msr;
			s->msr &= 0xf0; /* reading clears the delta bits */
			break;
		case REG_SCR:
			v = s->scr;
			break;
		}
		*d = v;
	}
	bool edge = update_irq_locked(s);
	pthread_mutex_unlock(&s->lock);
	if (have_tx && s->out)
		s->out(s->out_ctx, &tx, 1);
	if (edge && s->irq)
		s->irq(s->irq_ctx);
}

/* ---- snapshot state ---- */

#define TAG_SERIAL_REGS VMSTATE_TAG('U', 'A', 'R', 'T')
#define TAG_SERIAL_RX VMSTATE_TAG('U', 'R', 'X', 'Q')
enum {
	SREG_IER,
	SREG_LCR,
	SREG_MCR,
	SREG_MSR,
	SREG_SCR,
	SREG_DLL,
	SREG_DLM,
	SREG_FCR,
	SREG_FLAGS,
	SREG_LEN
};
#define SFLAG_THRI 0x01
#define SFLAG_IRQ 0x02

int serial_save(struct serial *s, struct vmstate_buf *out)
{
	pthread_mutex_lock(&s->lock);
	uint8_t r[SREG_LEN] = {
	    [SREG_IER] = s->ier,
	    [SREG_LCR] = s->lcr,
	    [SREG_MCR] = s->mcr,
	    [SREG_MSR] = s->msr,
	    [SREG_SCR] = s->scr,
	    [SREG_DLL] = s->dll,
	    [SREG_DLM] = s->dlm,
	    [SREG_FCR] = s->fcr,
	    [SREG_FLAGS] = (s->thri_pending ? SFLAG_THRI : 0) | (s->irq_pending ? SFLAG_IRQ : 0),
	};
	int rc = vmstate_put(out, TAG_SERIAL_REGS, r, sizeof(r));
	/* the rx ring may wrap: linearise it */
	uint8_t *rx = malloc(s->rx_len ? s->rx_len : 1);
	if (!rx)
		rc = -ENOMEM;
	for (size_t i = 0; rx && i < s->rx_len; i++)
		rx[i] = s->rx[(s->rx_head + i) % s->rx_cap];
	if (!rc)
		rc = vmstate_put(out, TAG_SERIAL_RX, rx, s->rx_len);
	pthread_mutex_unlock(&s->lock);
	free(rx);
	return rc;
}

int serial_restore(struct serial *s, const uint8_t *buf, size_t len, struct errmsg *err)
{
	const uint8_t *regs = NULL, *rx = NULL;
	uint32_t rx_len = 0;
	struct vmstate_reader rd;
	vmstate_reader_init(&rd, buf, len);
	uint32_t tag, plen;
	const uint8_t *p;
	int rc;
	char tn[12];
	while ((rc = vmstate_next(&rd, &tag, &p, &plen)) > 0) {
		if (tag == TAG_SERIAL_REGS && !regs && plen == SREG_LEN) {
			regs = p;
		} else if (tag == TAG_SERIAL_RX && !rx && plen <= SERIAL_RX_MAX) {
			rx = p;
			rx_len = plen;
		} else {
			return errmsg_set(err, -EINVAL,
					  "UART state: unexpected section %s (%u bytes)",
					  vmstate_tag_name(tag, tn), plen);
		}
	}
	if (rc < 0)
		return errmsg_set(err, -EINVAL, "UART state: truncated");
	if (!regs || !rx)
		return errmsg_set(err, -EINVAL, "UART state: incomplete");
	/* the same bits the register writes can produce */
	if ((regs[SREG_IER] & ~0x0f) || (regs[SREG_MCR] & ~0x1f) ||
	    (regs[SREG_FCR] & ~(FCR_ENABLE | 0xc0)) ||
	    (regs[SREG_FLAGS] & ~(SFLAG_THRI | SFLAG_IRQ)))
		return errmsg_set(err, -EINVAL, "UART state: invalid register values");

	uint8_t *nb = NULL;
	if (rx_len && !(nb = malloc(rx_len)))
		return errmsg_set(err, -ENOMEM, "UART state: out of memory");
	if (rx_len)
		memcpy(nb, rx, rx_len);
	pthread_mutex_lock(&s->lock);
	s->ier = regs[SREG_IER];
	s->lcr = regs[SREG_LCR];
	s->mcr = regs[SREG_MCR];
	s->msr = regs[SREG_MSR];
	s->scr = regs[SREG_SCR];
	s->dll = regs[SREG_DLL];
	s->dlm = regs[SREG_DLM];
	s->fcr = regs[SREG_FCR];
	s->thri_pending = regs[SREG_FLAGS] & SFLAG_THRI;
	s->irq_pending = regs[SREG_FLAGS] & SFLAG_IRQ;
	free(s->rx);
	s->rx = nb;
	s->rx_cap = rx_len;
	s->rx_head = 0;
	s->rx_len = rx_len;
	pthread_mutex_unlock(&s->lock);
	return 0;
}
