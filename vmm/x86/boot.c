#include "boot.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18

static int check_range(size_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

/* Walk the notes of one PT_NOTE segment looking for the PVH entry. */
static int find_pvh_note(const uint8_t *p, uint64_t size, uint32_t *entry)
{
	uint64_t off = 0;
	while (size - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		memcpy(&nh, p + off, sizeof(nh));
		off += sizeof(nh);
		uint64_t namesz = ((uint64_t)nh.n_namesz + 3) & ~3ull;
		uint64_t descsz = ((uint64_t)nh.n_descsz + 3) & ~3ull;
		if (namesz > size - off || descsz > size - off - namesz)
			return -ENOEXEC;
		const uint8_t *name = p + off, *desc = p + off + namesz;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    memcmp(name, "Xen", 4) == 0) {
			/* Linux emits it as a pointer-sized value; the entry
			 * itself is a 32-bit physical address. */
			if (nh.n_descsz == 4) {
				uint32_t v;
				memcpy(&v, desc, 4);
				*entry = v;
				return 0;
			}
			if (nh.n_descsz == 8) {
				uint64_t v;
				memcpy(&v, desc, 8);
				if (v >> 32)
					return -ENOEXEC;
				*entry = (uint32_t)v;
				return 0;
			}
			return -ENOEXEC;
		}
		off += namesz + descsz;
	}
	return -ENOENT;
}

int boot_elf_load(const uint8_t *img, size_t len, struct guest_mem *mem, struct boot_kernel *k,
		  struct errmsg *err)
{
	memset(k, 0, sizeof(*k));
	Elf64_Ehdr eh;
	if (len < sizeof(eh))
		return errmsg_set(err, -ENOEXEC, "too short for an ELF header");
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return errmsg_set(
		    err, -ENOEXEC,
		    "not an ELF file (hull boots an uncompressed vmlinux, not a bzImage)");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64 || eh.e_type != ET_EXEC)
		return errmsg_set(err, -ENOEXEC, "not an x86-64 executable ELF image");
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    !check_range(len, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
		return errmsg_set(err, -ENOEXEC, "bad ELF program header table");

	int have_entry = 0, loaded = 0;
	k->load_lo = UINT64_MAX;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_NOTE && !have_entry) {
			if (!check_range(len, ph.p_offset, ph.p_filesz))
				return errmsg_set(err, -ENOEXEC,
						  "ELF note segment outside the file");
			int rc = find_pvh_note(img + ph.p_offset, ph.p_filesz, &k->pvh_entry);
			if (rc == 0)
				have_entry = 1;
			else if (rc != -ENOENT)
				return errmsg_set(err, rc, "malformed ELF note");
			continue;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz || !check_range(len, ph.p_offset, ph.p_filesz))
			return errmsg_set(err, -ENOEXEC, "ELF segment %u outside the file", i);
		uint8_t *dst = guest_mem_ptr(mem, ph.p_paddr, ph.p_memsz);
		if (!dst || ph.p_paddr < BOOT_HIGH_RAM_START)
			return errmsg_set(
			    err, -ENOMEM,
			    "kernel segment %u (0x%llx+0x%llx) does not fit in guest RAM "
			    "(%llu MiB); give the VM more memory",
			    i, (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz,
			    (unsigned long long)(mem->total >> 20));
		memcpy(dst, img + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr < k->load_lo)
			k->load_lo = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > k->load_hi)
			k->load_hi = ph.p_paddr + ph.p_memsz;
		loaded++;
	}
	if (!loaded)
		return errmsg_set(err, -ENOEXEC, "ELF image has no loadable segments");
	if (!have_entry)
		return errmsg_set(err, -ENOEXEC,
				  "kernel has no PVH entry note (build it with CONFIG_PVH=y)");
	if (k->pvh_entry < k->load_lo || k->pvh_entry >= k->load_hi)
		return errmsg_set(err, -ENOEXEC, "PVH entry 0x%x is outside the loaded kernel",
				  k->pvh_entry);
	return 0;
}

unsigned boot_memmap(const struct guest_mem *mem, struct hvm_memmap_table_entry *map, unsigned max)
{
	unsigned n = 0;
#define ADD(a, s, t)                                                                               \
	do {                                                                                       \
		if (n < max)                                                                       \
			map[n++] = (struct hvm_memmap_table_entry){                                \
			    .addr = (a), .size = (s), .type = (t)};                                \
	} while (0)
	ADD(0, BOOT_LOW_RAM_END, E820_RAM);
	/* The MP table and the legacy BIOS area stay out of the allocator. */
	ADD(BOOT_LOW_RAM_END, BOOT_HIGH_RAM_START - BOOT_LOW_RAM_END, E820_RESERVED);
	for (unsigned i = 0; i < mem->nr; i++) {
		const struct guest_mem_region *r = &mem->r[i];
		uint64_t a = r->gpa, s = r->size;
		if (a < BOOT_HIGH_RAM_START) {
			if (a + s <= BOOT_HIGH_RAM_START)
				continue;
			s -= BOOT_HIGH_RAM_START - a;
			a = BOOT_HIGH_RAM_START;
		}
		ADD(a, s, E820_RAM);
	}
#undef ADD
	return n;
}

int boot_pvh_setup(struct guest_mem *mem, const struct boot_kernel *k, const char *cmdline,
		   const uint8_t *initrd, size_t initrd_len, uint64_t *start_info_gpa,
		   struct errmsg *err)
{
	size_t cl = strlen(cmdline);
	if (cl >= BOOT_CMDLINE_MAX)
		return errmsg_set(err, -E2BIG, "kernel command line is %zu bytes; the limit is %d",
				  cl, BOOT_CMDLINE_MAX - 1);
	char *c = guest_mem_ptr(mem, BOOT_CMDLINE_ADDR, BOOT_CMDLINE_MAX);
	struct hvm_start_info *si = guest_mem_ptr(mem, BOOT_START_INFO_ADDR, sizeof(*si));
	struct hvm_memmap_table_entry *mm =
	    guest_mem_ptr(mem, BOOT_MEMMAP_ADDR, 32 * sizeof(struct hvm_memmap_table_entry));
	struct hvm_modlist_entry *mod = guest_mem_ptr(mem, BOOT_MODLIST_ADDR, sizeof(*mod));
	if (!c || !si || !mm || !mod)
		return errmsg_set(err, -ENOMEM, "guest RAM too small for boot data");
	memcpy(c, cmdline, cl + 1);

	memset(si, 0, sizeof(*si));
	si->magic = PVH_START_MAGIC;
	si->version = 1;
	si->cmdline_paddr = BOOT_CMDLINE_ADDR;
	si->memmap_paddr = BOOT_MEMMAP_ADDR;
	si->memmap_entries = boot_memmap(mem, mm, 32);

	if (initrd && initrd_len) {
		/* Top of low RAM, page aligned, clear of the kernel. */
		const struct guest_mem_region *low = &mem->r[0];
		if (initrd_len > low->size)
			return errmsg_set(err, -ENOMEM,
					  "initramfs (%zu bytes) larger than guest RAM",
					  initrd_len);
		uint64_t at = (low->size - initrd_len) & ~0xfffull;
		if (at < k->load_hi)
			return errmsg_set(
			    err, -ENOMEM,
			    "initramfs (%zu KiB) does not fit above the kernel in %llu MiB "
			    "of RAM",
			    initrd_len >> 10, (unsigned long long)(mem->total >> 20));
		uint8_t *dst = guest_mem_ptr(mem, at, initrd_len);
		if (!dst)
			return errmsg_set(err, -ENOMEM, "initramfs outside guest RAM");
		memcpy(dst, initrd, initrd_len);
		memset(mod, 0, sizeof(*mod));
		mod->paddr = at;
		mod->size = initrd_len;
		si->nr_modules = 1;
		si->modlist_paddr = BOOT_MODLIST_ADDR;
	}
	*start_info_gpa = BOOT_START_INFO_ADDR;
	return 0;
}
