/*
 * Entry at EL2 (QEMU virt, virtualization=on, ELF -kernel), EL2 exception
 * vectors and the trap frame save/restore around the C handlers.
 */
	.section .text.boot, "ax"
	.global _start
_start:
	ldr	x1, =__stack_top
	mov	sp, x1
	ldr	x1, =mon_vectors
	msr	vbar_el2, x1
	isb
	ldr	x1, =__bss_start
	ldr	x2, =__bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	bl	mon_main
3:	wfe
	b	3b

	/* enter_el1(entry, dtb): SPSR_EL2 and the EL1 state are set by C. */
	.global enter_el1
enter_el1:
	msr	elr_el2, x0
	mov	x0, x1
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	isb
	eret

	.macro	SAVE_FRAME
	sub	sp, sp, #256
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	str	x30, [sp, #240]
	.endm

	.macro	RESTORE_FRAME_ERET
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	ldr	x30, [sp, #240]
	add	sp, sp, #256
	eret
	.endm

	/* Each vector slot is 32 instructions: branch to the out-of-line bodies. */
	.macro	VEC_UNEXPECTED kind
	.balign	0x80
	sub	sp, sp, #256
	stp	x0, x1, [sp, #0]
	mov	x1, #\kind
	b	unexpected_body
	.endm

	.section .text.vectors, "ax"
	.balign	0x800
	.global mon_vectors
mon_vectors:
	VEC_UNEXPECTED 0	/* EL2 SP_EL0: sync, irq, fiq, serror */
	VEC_UNEXPECTED 1
	VEC_UNEXPECTED 2
	VEC_UNEXPECTED 3
	VEC_UNEXPECTED 4	/* EL2 SP_EL2 */
	VEC_UNEXPECTED 5
	VEC_UNEXPECTED 6
	VEC_UNEXPECTED 7
	.balign	0x80		/* lower EL, AArch64: sync = the guest's traps */
	b	guest_sync_body
	VEC_UNEXPECTED 9
	VEC_UNEXPECTED 10
	VEC_UNEXPECTED 11
	VEC_UNEXPECTED 12	/* lower EL, AArch32 */
	VEC_UNEXPECTED 13
	VEC_UNEXPECTED 14
	VEC_UNEXPECTED 15

	.text
guest_sync_body:
	SAVE_FRAME
	mov	x0, sp
	bl	mon_guest_sync
	RESTORE_FRAME_ERET

unexpected_body:		/* x0, x1 saved by the slot, x1 = kind */
	stp	x2, x3, [sp, #16]
	mov	x0, sp
	bl	mon_unexpected
	b	.
