/*
 * The guest's stage-2 translation (4 KiB granule, 32-bit IPA, start level 1):
 * identity for MMIO (Device-nGnRE) and Linux RAM (Normal WB) in blocks;
 * the CSM window through level-3 tables whose pages CREATE/ATTACH fill in;
 * the monitor itself and node 1 stay unmapped.
 */
#include "mon.h"

#define DESC_VALID      1ull
#define DESC_TABLE      3ull
#define DESC_PAGE       3ull
#define DESC_BLOCK      1ull
#define S2_AF           (1ull << 10)
#define S2_SH_INNER     (3ull << 8)
#define S2_AP_RO        (1ull << 6)
#define S2_AP_RW        (3ull << 6)
#define S2_ATTR_DEVICE  (1ull << 2)    /* MemAttr 0b0001: Device-nGnRE */
#define S2_ATTR_NORMAL  (0xfull << 2)  /* MemAttr 0b1111: Normal WB */

#define WIN_TABLES ((MON_WIN_TOP - MON_WIN_BASE) >> 21)

static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l2_ram[512] __attribute__((aligned(4096)));
static uint64_t l3_win[WIN_TABLES][512] __attribute__((aligned(4096)));

void s2_init(void)
{
	uint64_t i, vtcr;

	l1[0] = 0x0ull | S2_AF | S2_AP_RW | S2_ATTR_DEVICE | DESC_BLOCK;
	l1[1] = (uint64_t)(uintptr_t)l2_ram | DESC_TABLE;
	for (i = 0; i < 512; i++) {
		uint64_t ipa = MON_RAM_BASE + (i << 21);

		if (ipa < MON_RAM_TOP)
			l2_ram[i] = ipa | S2_AF | S2_SH_INNER | S2_AP_RW | S2_ATTR_NORMAL |
				    DESC_BLOCK;
		else if (ipa < MON_WIN_TOP)
			l2_ram[i] = (uint64_t)(uintptr_t)l3_win[(ipa - MON_WIN_BASE) >> 21] |
				    DESC_TABLE;
	}
	/* T0SZ=32, SL0=1 (level 1), inner/outer WB, inner shareable, 4K, PS=32 bit. */
	vtcr = 32 | (1ull << 6) | (1ull << 8) | (1ull << 10) | (3ull << 12) | (1ull << 31);
	write_sysreg(vtcr_el2, vtcr);
	write_sysreg(vttbr_el2, (uint64_t)(uintptr_t)l1 | (1ull << 48));
	isb();
	s2_flush();
}

static uint64_t *win_entry(uint64_t ipa)
{
	uint64_t off = ipa - MON_WIN_BASE;

	return &l3_win[off >> 21][(off >> 12) & 511];
}

void s2_map_page(uint64_t ipa, uint64_t pa, int writable)
{
	*win_entry(ipa) = pa | S2_AF | S2_SH_INNER | (writable ? S2_AP_RW : S2_AP_RO) |
			  S2_ATTR_NORMAL | DESC_PAGE;
}

void s2_unmap_page(uint64_t ipa)
{
	*win_entry(ipa) = 0;
}

void s2_flush(void)
{
	__asm__ volatile("dsb ishst\n\ttlbi vmalls12e1is\n\tdsb ish\n\tisb" ::: "memory");
}
