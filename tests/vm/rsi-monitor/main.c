/*
 * Boot at EL2, set up the trap configuration and stage-2, enter Linux at
 * EL1, then dispatch the guest's trapped SMCs: PSCI (forwarded to QEMU's
 * PSCI with our own smc), SMCCC, the RSI and CSM calls and the extension
 * calls, with fault injection in front of them all.
 */
#include "mon.h"

#define HCR_VM   (1ull << 0)
#define HCR_SWIO (1ull << 1)
#define HCR_TSC  (1ull << 19)
#define HCR_RW   (1ull << 31)

#define SMCCC_VERSION        0x80000000u
#define SMCCC_ARCH_FEATURES  0x80000001u
#define PSCI_SYSTEM_OFF      0x84000008u
#define PSCI_SYSTEM_RESET    0x84000009u
#define PSCI_FEATURES        0x8400000au
#define PSCI_NOT_SUPPORTED   ((uint64_t)-1)
#define CSM_EXT_INJECT       0xc7000004u

void enter_el1(uint64_t entry, uint64_t dtb) __attribute__((noreturn));

struct inject {
	uint32_t fid;
	uint32_t count;
	uint64_t status;
};
static struct inject injections[16];

uint64_t smc_forward(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fid;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;

	__asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
	return x0;
}

void mon_power_off(void)
{
	for (;;)
		smc_forward(PSCI_SYSTEM_OFF, 0, 0, 0);
}

void mon_unexpected(struct frame *f, uint64_t kind)
{
	mon_printf("csm-test-monitor: unexpected exception %u: esr %lx elr %lx far %lx "
		   "x0 %lx; powering off\n", (unsigned int)kind, read_sysreg(esr_el2),
		   read_sysreg(elr_el2), read_sysreg(far_el2), f->x[0]);
	mon_power_off();
}

/*
 * A stage-2 fault (an unmapped or read-only window page) becomes a
 * synchronous external abort at the guest's EL1, so a user access ends in
 * SIGBUS and a kernel access in an oops, as on real hardware.
 */
static void inject_sea(uint64_t esr2, int is_data)
{
	uint64_t spsr = read_sysreg(spsr_el2), vbar = read_sysreg(vbar_el1);
	uint64_t mode = spsr & 0xf, off, ec, esr1;

	if (mode == 0x0)
		off = 0x400;            /* from EL0 AArch64 */
	else if (mode == 0x5)
		off = 0x200;            /* EL1h */
	else
		off = 0x000;            /* EL1t */
	ec = is_data ? (mode == 0 ? 0x24 : 0x25) : (mode == 0 ? 0x20 : 0x21);
	esr1 = (ec << 26) | (1ull << 25) | 0x10;
	if (is_data)
		esr1 |= esr2 & (1ull << 6);    /* WnR */
	write_sysreg(esr_el1, esr1);
	write_sysreg(far_el1, read_sysreg(far_el2));
	write_sysreg(elr_el1, read_sysreg(elr_el2));
	write_sysreg(spsr_el1, spsr);
	write_sysreg(elr_el2, vbar + off);
	write_sysreg(spsr_el2, 0x3c5);
}

static int injected(uint32_t fid, struct frame *f)
{
	unsigned int i;

	for (i = 0; i < sizeof(injections) / sizeof(injections[0]); i++) {
		if (injections[i].count && injections[i].fid == fid) {
			injections[i].count--;
			dbg("mon: injected status %lx for %x\n", injections[i].status, fid);
			f->x[0] = injections[i].status;
			f->x[1] = f->x[2] = f->x[3] = 0;
			return 1;
		}
	}
	return 0;
}

static void set_injection(struct frame *f)
{
	uint32_t fid = (uint32_t)f->x[1];
	uint64_t st = f->x[2];
	unsigned int i, free_slot = ~0u;

	if (fid == CSM_EXT_INJECT || f->x[3] > 0xffffffffull ||
	    !((st >= 1 && st <= 4) || st == SMC_UNKNOWN)) {
		f->x[0] = RSI_ERROR_INPUT;
		return;
	}
	for (i = 0; i < sizeof(injections) / sizeof(injections[0]); i++) {
		if (injections[i].fid == fid || !injections[i].count) {
			if (injections[i].fid == fid) {
				free_slot = i;
				break;
			}
			if (free_slot == ~0u)
				free_slot = i;
		}
	}
	if (free_slot == ~0u) {
		f->x[0] = RSI_ERROR_STATE;
		return;
	}
	injections[free_slot].fid = fid;
	injections[free_slot].status = st;
	injections[free_slot].count = (uint32_t)f->x[3];
	f->x[0] = RSI_SUCCESS;
}

/*
 * Calls with an entry point (CPU_ON, CPU_SUSPEND, SYSTEM_SUSPEND): QEMU would
 * resume the CPU at EL2 at a guest address, so they are refused (the VMs
 * have one CPU and no idle states).
 */
static int is_psci(uint32_t fid)
{
	return (fid >= 0x84000000u && fid <= 0x8400001fu) ||
	       (fid >= 0xc4000000u && fid <= 0xc400001fu);
}

static int psci_takes_entry(uint32_t fid)
{
	uint32_t n = fid & 0x1f;

	return n == 0x01 || n == 0x03 || n == 0x0e;
}

static void handle_psci(uint32_t fid, struct frame *f)
{
	if (fid == PSCI_FEATURES && (uint32_t)f->x[1] == SMCCC_VERSION) {
		f->x[0] = 0;
		return;
	}
	if (psci_takes_entry(fid) ||
	    (fid == PSCI_FEATURES && is_psci((uint32_t)f->x[1]) &&
	     psci_takes_entry((uint32_t)f->x[1]))) {
		f->x[0] = PSCI_NOT_SUPPORTED;
		return;
	}
	if (fid == PSCI_SYSTEM_OFF || fid == PSCI_SYSTEM_RESET) {
		dbg("mon: realm %u powers off\n", my_tag);
		csm_realm_dies();
	}
	f->x[0] = smc_forward(fid, f->x[1], f->x[2], f->x[3]);
}

static void handle_smc(struct frame *f)
{
	uint32_t fid = (uint32_t)f->x[0];

	csm_sweep();
	if (fid == CSM_EXT_INJECT) {
		set_injection(f);
		return;
	}
	if (injected(fid, f))
		return;
	if (fid == SMCCC_VERSION) {
		f->x[0] = 0x10001;
	} else if (fid == SMCCC_ARCH_FEATURES) {
		f->x[0] = SMC_UNKNOWN;
	} else if (is_psci(fid)) {
		handle_psci(fid, f);
	} else if ((fid >= 0xc400019au && fid <= 0xc40001a0u) ||
		   (fid >= 0xc700019au && fid <= 0xc70001a0u)) {
		csm_call(fid & 0xfff, f);
	} else if (fid >= 0xc7000001u && fid <= 0xc7000005u) {
		csm_ext_call(fid & 0xff, f);
	} else if (!rsi_call(fid, f)) {
		f->x[0] = SMC_UNKNOWN;
	}
}

void mon_guest_sync(struct frame *f)
{
	uint64_t esr = read_sysreg(esr_el2), ec = esr >> 26;

	switch (ec) {
	case 0x17:      /* SMC64 trapped by HCR_EL2.TSC: ELR is the smc itself */
		write_sysreg(elr_el2, read_sysreg(elr_el2) + 4);
		handle_smc(f);
		break;
	case 0x16:      /* HVC64: not our conduit */
		f->x[0] = SMC_UNKNOWN;
		break;
	case 0x24:      /* stage-2 data abort */
	case 0x20:      /* stage-2 instruction abort */
		dbg("mon: stage-2 fault ipa %lx far %lx esr %lx\n",
		    (read_sysreg(hpfar_el2) >> 4) << 12, read_sysreg(far_el2), esr);
		inject_sea(esr, ec == 0x24);
		break;
	default:
		mon_unexpected(f, 100 + ec);
	}
}

void mon_main(void)
{
	const volatile uint32_t *image_magic = (const uint32_t *)(uintptr_t)(MON_IMAGE_ADDR + 0x38);
	const volatile uint32_t *dtb_magic = (const uint32_t *)(uintptr_t)MON_DTB_ADDR;

	write_sysreg(hcr_el2, HCR_RW | HCR_TSC | HCR_VM | HCR_SWIO);
	write_sysreg(cnthctl_el2, 3);          /* EL1 may use the physical counter/timer */
	write_sysreg(cntvoff_el2, 0);
	write_sysreg(cptr_el2, 0x33ff);        /* no FP/SIMD or trace traps */
	write_sysreg(mdcr_el2, (read_sysreg(pmcr_el0) >> 11) & 0x1f);
	write_sysreg(vpidr_el2, read_sysreg(midr_el1));
	write_sysreg(vmpidr_el2, read_sysreg(mpidr_el1));
	write_sysreg(sctlr_el1, 0x30d00800);   /* EL1 MMU and caches off */
	write_sysreg(spsr_el2, 0x3c5);         /* EL1h, DAIF masked */
	s2_init();
	my_tag = sh_register();
	rsi_init();
	if (*image_magic != 0x644d5241u || *dtb_magic != 0xedfe0dd0u) {
		mon_printf("csm-test-monitor: no Linux Image at %lx or no dtb at %lx\n",
			   (uint64_t)MON_IMAGE_ADDR, (uint64_t)MON_DTB_ADDR);
		mon_power_off();
	}
	mon_printf("csm-test-monitor: EL2 up, realm tag %u, stage-2 on, entering Linux at EL1 "
		   "(test double: NO CONFIDENTIALITY)\n", my_tag);
	enter_el1(MON_IMAGE_ADDR, MON_DTB_ADDR);
}
