/*
 * Shared declarations of the bare-metal test monitor (EL2, aarch64).
 * The monitor is a test double for the driver's RSI path: it gives NO
 * confidentiality (the host sees and can change every page).
 */
#ifndef CSM_MON_H
#define CSM_MON_H

#include <stdint.h>
#include <stddef.h>
#include "layout.h"

#define read_sysreg(r) ({ uint64_t __v; __asm__ volatile("mrs %0, " #r : "=r"(__v)); __v; })
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" : : "r"((uint64_t)(v)))
#define isb() __asm__ volatile("isb" ::: "memory")
#define dsb_ish() __asm__ volatile("dsb ish" ::: "memory")

/* Guest registers saved by the vectors (x0..x30). */
struct frame {
	uint64_t x[31];
	uint64_t pad;
};

/* RSI statuses. */
#define RSI_SUCCESS       0ull
#define RSI_ERROR_INPUT   1ull
#define RSI_ERROR_STATE   2ull
#define RSI_INCOMPLETE    3ull
#define RSI_ERROR_UNKNOWN 4ull
#define SMC_UNKNOWN       ((uint64_t)-1)

/* lib.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void uart_puts(const char *s);
void mon_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t counter_ms(void);
extern int mon_debug;
#define dbg(...) do { if (mon_debug) mon_printf(__VA_ARGS__); } while (0)

/* stage2.c */
void s2_init(void);
void s2_map_page(uint64_t ipa, uint64_t pa, int writable);
void s2_unmap_page(uint64_t ipa);
void s2_flush(void);

/* shared.c: node 1 state, lock, realm registration */
struct sh_header *sh(void);
void sh_lock(void);
void sh_unlock(void);
uint32_t sh_register(void);   /* returns this realm's tag (0: no slot) */
extern uint32_t my_tag;

/* csm.c */
void csm_call(uint32_t call, struct frame *f);  /* call = 0x9a..0xa0 */
void csm_ext_call(uint32_t n, struct frame *f);
void csm_sweep(void);          /* apply peers' revokes/destroys to our stage-2 */
void csm_realm_dies(void);

/* rsi.c */
void rsi_init(void);
int rsi_call(uint32_t fid, struct frame *f);   /* 1 if handled */
int guest_ram_range(uint64_t base, uint64_t size);

/* psci forwarding (smc.c) */
uint64_t smc_forward(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3);
void mon_power_off(void) __attribute__((noreturn));

#endif
