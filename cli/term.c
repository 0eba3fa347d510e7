#include "term.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

int term_raw(struct term *t, int fd)
{
	struct termios raw;

	t->fd = fd;
	t->raw = false;
	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &t->saved) < 0)
		return -errno;
	raw = t->saved;
	cfmakeraw(&raw);
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return -errno;
	t->raw = true;
	return 0;
}

void term_restore(struct term *t)
{
	/* TCSADRAIN: the container's last output is on screen in raw mode. */
	if (t->raw && tcsetattr(t->fd, TCSADRAIN, &t->saved) == 0)
		t->raw = false;
}

int term_winsize(int fd, uint16_t *rows, uint16_t *cols)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
		return -errno;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return 0;
}
