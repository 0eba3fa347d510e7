/* boot: ELF/PVH loading and the PVH start info, against fake guest RAM. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/x86/boot.h"

#define RAM (32u << 20)
#define KBASE 0x1000000u

struct img {
	uint8_t buf[4096];
	size_t len;
};

/* A minimal vmlinux: one PT_LOAD of 256 bytes at 16 MiB and a Xen PVH note. */
static void make_elf(struct img *im, uint32_t entry, int with_note, int descsz)
{
	memset(im, 0, sizeof(*im));
	Elf64_Ehdr *eh = (Elf64_Ehdr *)im->buf;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;
	Elf64_Phdr *ph = (Elf64_Phdr *)(im->buf + eh->e_phoff);
	size_t data = 1024, note = 2048;
	ph[0] = (Elf64_Phdr){
	    .p_type = PT_LOAD, .p_offset = data, .p_paddr = KBASE, .p_filesz = 256, .p_memsz = 512};
	memset(im->buf + data, 0xab, 256);
	Elf64_Nhdr nh = {.n_namesz = 4, .n_descsz = (Elf64_Word)descsz, .n_type = 18};
	memcpy(im->buf + note, &nh, sizeof(nh));
	memcpy(im->buf + note + sizeof(nh), "Xen", 4);
	uint64_t e = entry;
	memcpy(im->buf + note + sizeof(nh) + 4, &e, (size_t)descsz);
	ph[1] = (Elf64_Phdr){.p_type = with_note ? PT_NOTE : PT_NULL,
			     .p_offset = note,
			     .p_filesz = sizeof(nh) + 4 + (((size_t)descsz + 3) & ~3u)};
	im->len = sizeof(im->buf);
}

static uint8_t *ram;
static struct guest_mem mem;

static int setup(void **st)
{
	(void)st;
	ram = calloc(1, RAM);
	guest_mem_wrap(&mem, ram, RAM);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	free(ram);
	return 0;
}

static void test_load_ok(void **st)
{
	(void)st;
	struct img im;
	struct boot_kernel k;
	struct errmsg err;
	for (int d = 4; d <= 8; d += 4) {
		make_elf(&im, KBASE + 0x10, 1, d);
		memset(ram + KBASE + 256, 0x77, 256); /* must be zeroed (bss) */
		assert_int_equal(boot_elf_load(im.buf, im.len, &mem, &k, &err), 0);
		assert_int_equal(k.pvh_entry, KBASE + 0x10);
		assert_int_equal(k.load_lo, KBASE);
		assert_int_equal(k.load_hi, KBASE + 512);
		assert_int_equal(ram[KBASE], 0xab);
		assert_int_equal(ram[KBASE + 255], 0xab);
		assert_int_equal(ram[KBASE + 256], 0);
		assert_int_equal(ram[KBASE + 511], 0);
	}
}

static void test_load_rejects(void **st)
{
	(void)st;
	struct img im;
	struct boot_kernel k;
	struct errmsg err;

	make_elf(&im, KBASE + 0x10, 0, 8); /* no PVH note */
	assert_int_equal(boot_elf_load(im.buf, im.len, &mem, &k, &err), -ENOEXEC);
	assert_non_null(strstr(err.text, "PVH"));

	make_elf(&im, KBASE + 0x10, 1, 8);
	im.buf[0] = 0x1f; /* gzip, i.e. not ELF */
	assert_int_equal(boot_elf_load(im.buf, im.len, &mem, &k, &err), -ENOEXEC);

	make_elf(&im, 0x5000, 1, 8); /* entry outside the kernel */
	assert_int_equal(boot_elf_load(im.buf, im.len, &mem, &k, &err), -ENOEXEC);

	make_elf(&im, KBASE, 1, 8);
	Elf64_Phdr *ph = (Elf64_Phdr *)(im.buf + sizeof(Elf64_Ehdr));
	ph[0].p_offset = 4000; /* segment runs past the end of the file */
	assert_int_equal(boot_elf_load(im.buf, im.len, &mem, &k, &err), -ENOEXEC);

	make_elf(&im, KBASE, 1, 8);
	ph[0].p_paddr = RAM - 100; /* past guest RAM */
	assert_int_equal(boot_elf_load(im.buf, im.len, &mem, &k, &err), -ENOMEM);

	make_elf(&im, KBASE, 1, 8);
	ph[0].p_paddr = UINT64_MAX - 10; /* wraps */
	assert_int_equal(boot_elf_load(im.buf, im.len, &mem, &k, &err), -ENOMEM);

	make_elf(&im, KBASE, 1, 8);
	ph[0].p_filesz = 1024; /* filesz > memsz */
	assert_int_equal(boot_elf_load(im.buf, im.len, &mem, &k, &err), -ENOEXEC);

	make_elf(&im, KBASE, 1, 8);
	ph[1].p_filesz = 8; /* note header cut short, name past segment */
	Elf64_Nhdr nh = {.n_namesz = 4000, .n_descsz = 8, .n_type = 18};
	memcpy(im.buf + 2048, &nh, sizeof(nh));
	ph[1].p_filesz = sizeof(nh) + 8;
	assert_int_equal(boot_elf_load(im.buf, im.len, &mem, &k, &err), -ENOEXEC);

	make_elf(&im, KBASE, 1, 8);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)im.buf;
	eh->e_phnum = 200; /* table past the end */
	assert_int_equal(boot_elf_load(im.buf, im.len, &mem, &k, &err), -ENOEXEC);

	/* every truncation is refused without reading past the buffer */
	make_elf(&im, KBASE + 0x10, 1, 8);
	for (size_t cut = 0; cut < 2048 + 12 + 8; cut += 7) { /* the note ends at 2068 */
		uint8_t *t = malloc(cut ? cut : 1);
		memcpy(t, im.buf, cut);
		assert_int_not_equal(boot_elf_load(t, cut, &mem, &k, &err), 0);
		free(t);
	}
}

static void test_memmap(void **st)
{
	(void)st;
	struct hvm_memmap_table_entry m[8];
	unsigned n = boot_memmap(&mem, m, 8);
	assert_int_equal(n, 3);
	assert_int_equal(m[0].addr, 0);
	assert_int_equal(m[0].size, BOOT_LOW_RAM_END);
	assert_int_equal(m[0].type, E820_RAM);
	assert_int_equal(m[1].type, E820_RESERVED);
	assert_int_equal(m[1].addr + m[1].size, BOOT_HIGH_RAM_START);
	assert_int_equal(m[2].addr, BOOT_HIGH_RAM_START);
	assert_int_equal(m[2].addr + m[2].size, RAM);
	assert_int_equal(m[2].type, E820_RAM);

	/* a high region above 4 GiB is reported too */
	struct guest_mem two = mem;
	two.r[1] =
	    (struct guest_mem_region){.gpa = GUEST_MEM_HIGH_BASE, .size = 1u << 20, .host = ram};
	two.nr = 2;
	n = boot_memmap(&two, m, 8);
	assert_int_equal(n, 4);
	assert_int_equal(m[3].addr, GUEST_MEM_HIGH_BASE);
	/* and the table never overflows */
	assert_int_equal(boot_memmap(&two, m, 2), 2);
}

static void test_pvh_setup(void **st)
{
	(void)st;
	struct img im;
	struct boot_kernel k;
	struct errmsg err;
	make_elf(&im, KBASE + 0x10, 1, 8);
	assert_int_equal(boot_elf_load(im.buf, im.len, &mem, &k, &err), 0);
	uint8_t initrd[5000];
	memset(initrd, 0x42, sizeof(initrd));
	uint64_t si_gpa;
	assert_int_equal(
	    boot_pvh_setup(&mem, &k, "console=ttyS0 quiet", initrd, sizeof(initrd), &si_gpa, &err),
	    0);
	struct hvm_start_info *si = guest_mem_ptr(&mem, si_gpa, sizeof(*si));
	assert_non_null(si);
	assert_int_equal(si->magic, PVH_START_MAGIC);
	assert_int_equal(si->version, 1);
	assert_string_equal((char *)ram + si->cmdline_paddr, "console=ttyS0 quiet");
	assert_int_equal(si->nr_modules, 1);
	struct hvm_modlist_entry *mod = guest_mem_ptr(&mem, si->modlist_paddr, sizeof(*mod));
	assert_int_equal(mod->size, sizeof(initrd));
	assert_int_equal(mod->paddr & 0xfff, 0);
	assert_true(mod->paddr >= k.load_hi);
	assert_true(mod->paddr + mod->size <= RAM);
	assert_memory_equal(ram + mod->paddr, initrd, sizeof(initrd));
	assert_int_equal(si->memmap_entries, 3);

	/* command line too long */
	char big[BOOT_CMDLINE_MAX + 1];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(boot_pvh_setup(&mem, &k, big, NULL, 0, &si_gpa, &err), -E2BIG);

	/* initramfs that would overlap the kernel */
	size_t huge = RAM - KBASE;
	uint8_t *h = calloc(1, huge);
	assert_int_equal(boot_pvh_setup(&mem, &k, "x", h, huge, &si_gpa, &err), -ENOMEM);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_ok),
	    cmocka_unit_test(test_load_rejects),
	    cmocka_unit_test(test_memmap),
	    cmocka_unit_test(test_pvh_setup),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
