/* Fuzz the vmmapi codec (proto/vmmapi.c) on both of its readers: the
 * runtime decodes what hull-vmm sends (the monitor faces the guest, so a
 * taken-over monitor writes these bytes), and hull-vmm decodes the
 * runtime's CONFIG. Beyond memory safety: a packet that decodes encodes
 * back to exactly the same bytes (the format has one spelling per message,
 * so nothing the decoder accepted was skipped or misread), and every
 * decoded string is NUL-terminated within VMMAPI_STR_MAX.
 *
 * Input: one packet, as vmmapi_recv() would pass it to vmmapi_decode(). */
#include <string.h>

#include "fuzz/fuzz.h"
#include "proto/vmmapi.h"

static void check_str(const char *s)
{
	if (s)
		FZ_CHECK(strnlen(s, VMMAPI_STR_MAX) < VMMAPI_STR_MAX);
}

static void check_strings(const struct vmmapi_msg *m)
{
	switch (m->type) {
	case VMMAPI_CONFIG: {
		const struct vmmapi_config *c = &m->config;
		check_str(c->kvm_dev);
		check_str(c->kernel);
		check_str(c->initrd);
		check_str(c->cmdline_extra);
		check_str(c->vsock_uds);
		check_str(c->net_tap);
		check_str(c->template_root);
		FZ_CHECK(c->ndisks <= VMMAPI_MAX_DISKS && c->nvolumes <= VMMAPI_MAX_VOLUMES &&
			 c->nports <= VMMAPI_MAX_PORTFWD);
		for (uint32_t i = 0; i < c->ndisks; i++)
			check_str(c->disks[i].path);
		for (uint32_t i = 0; i < c->nvolumes; i++)
			check_str(c->volumes[i].host_dir);
		break;
	}
	case VMMAPI_ATTACH_DISK:
		check_str(m->attach.path);
		break;
	case VMMAPI_CREATED:
		check_str(m->created.why);
		break;
	case VMMAPI_RESULT:
		check_str(m->result.text);
		break;
	case VMMAPI_STOPPED:
		check_str(m->stopped.why);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > VMMAPI_MAX_MSG)
		return 0; /* vmmapi_recv() refuses a longer packet before decoding */
	struct vmmapi_msg m;
	struct errmsg err = {0};
	if (vmmapi_decode(data, size, &m, &err) != 0)
		return 0;
	check_strings(&m);
	static uint8_t again[VMMAPI_MAX_MSG];
	int n = vmmapi_encode(&m, again, sizeof(again), &err);
	FZ_CHECK(n >= 0);
	FZ_CHECK((size_t)n == size && memcmp(again, data, size) == 0);
	return 0;
}
