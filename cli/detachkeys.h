/* detachkeys: docker's --detach-keys, the key sequence that detaches hull
 * attach from a TTY container and leaves it running.
 *
 * Contract
 * - detach_keys_parse() takes docker's format: comma-separated keys, each a
 *   single character (taken as is, e.g. "q") or ctrl-X (case-insensitive),
 *   X one of a-z @ [ \ ] ^ _ (ctrl-a is 0x01 ... ctrl-z 0x1a, ctrl-@ 0x00,
 *   ctrl-[ 0x1b, ctrl-\ 0x1c, ctrl-] 0x1d, ctrl-^ 0x1e, ctrl-_ 0x1f). NULL or
 *   "" is the default, DETACH_KEYS_DEFAULT. At most DETACH_KEYS_MAX keys. An
 *   empty key or anything else is -EINVAL with err naming the key (docker's
 *   "unknown character").
 * - detach_keys_scan() follows the input as docker's escape proxy does: a
 *   byte that continues the sequence is held back; one that breaks it sends
 *   the held bytes and itself on (it does not start a new match); the last
 *   key of the sequence detaches (returns true), and the bytes after it in
 *   that chunk are dropped. Held bytes wait across chunks; at the end of
 *   the input detach_keys_flush() gives them back.
 * - No global state; a struct detach_keys per input stream.
 */
#ifndef HULL_CLI_DETACHKEYS_H
#define HULL_CLI_DETACHKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"

#define DETACH_KEYS_DEFAULT "ctrl-p,ctrl-q"
#define DETACH_KEYS_MAX 16

struct detach_keys {
	uint8_t seq[DETACH_KEYS_MAX];
	size_t len;
	size_t pos; /* keys matched so far (held back) */
};

int detach_keys_parse(const char *spec, struct detach_keys *k, struct errmsg *err);
/* in[0, n) -> out (room for n + DETACH_KEYS_MAX bytes), *out_n bytes to send
 * on; true when the sequence was read. */
bool detach_keys_scan(struct detach_keys *k, const uint8_t *in, size_t n, uint8_t *out,
		      size_t *out_n);
/* The held bytes (out: room for DETACH_KEYS_MAX); their count. */
size_t detach_keys_flush(struct detach_keys *k, uint8_t *out);

#endif
