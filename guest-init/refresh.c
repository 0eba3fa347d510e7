#include "refresh.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

int refresh_clock(uint64_t realtime_ns, struct errmsg *err)
{
	struct timespec ts = {.tv_sec = (time_t)(realtime_ns / 1000000000ull),
			      .tv_nsec = (long)(realtime_ns % 1000000000ull)};
	if (clock_settime(CLOCK_REALTIME, &ts) < 0)
		return errmsg_set(err, -errno, "set the clock: %s", strerror(errno));
	return 0;
}

int refresh_rng(const uint8_t seed[HCP_SEED_LEN], struct errmsg *err)
{
	struct {
		struct rand_pool_info info;
		uint8_t buf[HCP_SEED_LEN];
	} e;
	e.info.entropy_count = HCP_SEED_LEN * 8;
	e.info.buf_size = HCP_SEED_LEN;
	memcpy(e.buf, seed, HCP_SEED_LEN);
	int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errmsg_set(err, -errno, "open /dev/urandom: %s", strerror(errno));
	int rc = 0;
	if (ioctl(fd, RNDADDENTROPY, &e) < 0)
		rc = errmsg_set(err, -errno, "RNDADDENTROPY: %s", strerror(errno));
	/* Credited entropy alone does not replace the CRNG key a restored VM
	 * inherited; RNDRESEEDCRNG does, at once. */
	else if (ioctl(fd, RNDRESEEDCRNG) < 0)
		rc = errmsg_set(err, -errno, "RNDRESEEDCRNG: %s", strerror(errno));
	close(fd);
	memset(&e, 0, sizeof(e));
	return rc;
}
