/* A test guest "kernel" that triple-faults at once: the fault-path test of
 * hull-vmm's KVM_EXIT_SHUTDOWN handling (tests/e2e/faults2.sh). A real guest
 * kernel triple-faults only when it is broken (a bug, damaged memory): the
 * container cannot make hull's kernel do it (no /dev/mem, modules, kexec or
 * sysrq in it), so the test boots this instead, through the same PVH entry
 * as Linux (XEN_ELFNOTE_PHYS32_ENTRY, 32-bit protected mode, paging off).
 *
 * It loads an empty IDT (limit 0) and executes UD2: the #UD cannot be
 * delivered (#GP), nor can that (#DF), and the CPU shuts down. */
	.section .note.Xen, "a"
	.balign 4
	.long 4			/* namesz: "Xen\0" */
	.long 4			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long _start

	.text
	.code32
	.globl _start
_start:
	cli
	lidt empty_idt
	ud2
1:	hlt			/* never reached */
	jmp 1b

	.balign 8
empty_idt:
	.word 0			/* limit */
	.long 0			/* base */
