/* hostile_driver: a virtio driver that does whatever the fuzzer says, in
 * front of one virtio-mmio device (the virtio-* harnesses share it).
 *
 * Guest RAM is HD_RAM bytes of host memory (guest_mem_wrap), zeroed for
 * every input. Queue q's rings have a home the SETUP op uses (HD_QUEUE(q):
 * descriptors, then the available ring at +0x1000, the used ring at +0x2000)
 * but the registers can point them anywhere; buffers usually live from
 * HD_DATA on. The input is a sequence of operations, an op byte each:
 *   SETUP      features (u64), queue mask (u8), log2 queue size (u8):
 *              reset, negotiate, program queues at home, DRIVER_OK
 *   MMIO_W     offset (u16), width (u8), value (u64): a register write
 *   MMIO_R     offset (u16), width (u8): a register read
 *   RAM        gpa (u32), length (u8), bytes: guest RAM write
 *   DESC       queue, index (u8s), addr (u32), len (u32), flags, next (u16s)
 *   AVAIL      queue (u8), head (u16): post a chain
 *   AVAIL_IDX  queue (u8), index (u16): set avail->idx outright
 *   NOTIFY     queue (u8): as an ioeventfd would (or an MMIO write, odd q)
 *   RESET      Status = 0
 *   SAVE       save the transport and restore it, some bytes flipped
 *   DEVICE     handed to the device's op() (its own events: a frame from
 *              the network, a host socket, ...)
 * Ops are taken modulo their count; missing bytes read as zero. After the
 * sequence every queue is notified once more and the device freed:
 * ASan/UBSan (and LeakSanitizer) catch what it did wrong; a device's own
 * harness may check more in its op() and destroy(). */
#ifndef HULL_FUZZ_HOSTILE_DRIVER_H
#define HULL_FUZZ_HOSTILE_DRIVER_H

#include "fuzz/fuzz.h"
#include "vmm/virtio/virtio_mmio.h"

#define HD_RAM (256u * 1024u)
#define HD_QUEUE(q) (0x1000u + (q)*0x3000u)
#define HD_MAX_QUEUES 3u
#define HD_DATA 0x10000u

enum hd_op {
	HD_SETUP,
	HD_MMIO_W,
	HD_MMIO_R,
	HD_RAM_W,
	HD_DESC,
	HD_AVAIL,
	HD_AVAIL_IDX,
	HD_NOTIFY,
	HD_RESET,
	HD_SAVE,
	HD_DEVICE,
	HD_NOPS
};

struct hd_device {
	/* Make the device over mem: returns the harness's context (the `dev`
	 * of the calls below), fills *ops and *tdev (the transport's dev). */
	void *(*create)(const struct guest_mem *mem, const struct virtio_dev_ops **ops,
			void **tdev);
	/* The transport exists (once, before the first op; may be NULL). */
	void (*connect)(void *dev, struct virtio_mmio *t);
	/* A DEVICE op: read its arguments from in (may be NULL). */
	void (*op)(void *dev, struct virtio_mmio *t, struct fz *in);
	void (*destroy)(void *dev);
};

/* Run one input against a fresh device. */
void hd_run(const struct hd_device *d, const uint8_t *data, size_t size);

#endif
