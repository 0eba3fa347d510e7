/* boot: direct boot of an uncompressed Linux vmlinux through its PVH entry.
 *
 * Contract
 * - boot_elf_load() checks the ELF image (a 64-bit x86-64 executable whose
 *   PT_LOAD segments all fit in guest RAM) and copies the segments to their
 *   physical addresses; it finds the PVH entry point in the Xen ELF note
 *   XEN_ELFNOTE_PHYS32_ENTRY. Every offset and size in the file is checked
 *   against the file length before use. A kernel without a PVH note is refused
 *   (-ENOEXEC, with a reason).
 * - boot_pvh_setup() writes the hvm_start_info block, the memory map, the
 *   command line and the initramfs module entry, and returns the guest
 *   physical address of the start info (the entry wants it in EBX).
 * - The guest-physical layout is fixed (boot_layout below) so the pieces
 *   cannot overlap; boot_pvh_setup() checks that the kernel, the initramfs and
 *   the fixed areas do not collide.
 */
#ifndef HULL_BOOT_H
#define HULL_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "common/errmsg.h"
#include "vmm/guest_mem.h"

/* Fixed guest-physical layout, all below 1 MiB. */
#define BOOT_GDT_ADDR 0x500ull
#define BOOT_START_INFO_ADDR 0x6000ull
#define BOOT_MEMMAP_ADDR 0x6100ull /* up to 32 entries */
#define BOOT_MODLIST_ADDR 0x6500ull
#define BOOT_CMDLINE_ADDR 0x20000ull
#define BOOT_CMDLINE_MAX 2048 /* x86 COMMAND_LINE_SIZE */
#define BOOT_MPTABLE_ADDR 0x9fc00ull
#define BOOT_LOW_RAM_END 0x9fc00ull /* RAM below 1 MiB ends where the MP table starts */
#define BOOT_HIGH_RAM_START 0x100000ull

#define PVH_START_MAGIC 0x336ec578u

/* The PVH boot ABI (Xen's public start_info.h): fixed little-endian layout. */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

#define E820_RAM 1
#define E820_RESERVED 2

struct boot_kernel {
	uint32_t pvh_entry; /* guest-physical, 32-bit protected mode entry */
	uint64_t load_lo;   /* lowest and highest guest-physical byte loaded */
	uint64_t load_hi;
};

int boot_elf_load(const uint8_t *img, size_t len, struct guest_mem *mem, struct boot_kernel *k,
		  struct errmsg *err);

/* Fill map[] with the guest's memory map; returns the number of entries. */
unsigned boot_memmap(const struct guest_mem *mem, struct hvm_memmap_table_entry *map, unsigned max);

/* initrd may be NULL/0. Returns 0 and *start_info_gpa, or -errno with a reason. */
int boot_pvh_setup(struct guest_mem *mem, const struct boot_kernel *k, const char *cmdline,
		   const uint8_t *initrd, size_t initrd_len, uint64_t *start_info_gpa,
		   struct errmsg *err);

#endif
