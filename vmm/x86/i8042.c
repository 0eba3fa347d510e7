#include "i8042.h"

#include <string.h>

#define I8042_CMD_OFF 4 /* port 0x64 */
#define I8042_CMD_RESET 0xfe

void i8042_io(void *dev, uint64_t off, void *data, uint32_t len, bool write)
{
	struct i8042 *k = dev;
	if (!write) {
		memset(data, 0, len);
		return;
	}
	if (off == I8042_CMD_OFF && len == 1 && *(uint8_t *)data == I8042_CMD_RESET && k->reset)
		k->reset(k->ctx);
}
