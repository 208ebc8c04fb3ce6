/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Emulated RMM: the CSM state machine kept in an ivshmem BAR shared by
 * several VMs. No confidentiality: the host sees all of it.
 */
#ifndef CSM_EMU_H
#define CSM_EMU_H

#include <linux/pci.h>
#include <linux/workqueue.h>

#include "../rmm.h"
#include "layout.h"

struct csm_emu {
	struct csm_rmm rmm;
	struct pci_dev *pdev;
	void __iomem *regs;		/* BAR0: ivshmem registers */
	struct csm_emu_header *hdr;	/* BAR2, cacheable */
	void *pool;
	phys_addr_t pool_phys;
	u64 pool_size;
	u32 ivposition;
	u64 realm_id;
	struct work_struct state_work;
	struct delayed_work hb_work;		/* liveness.c */
	u64 peer_hb[CSM_EMU_MAX_REALMS];	/* last heartbeat seen */
	unsigned long peer_seen[CSM_EMU_MAX_REALMS];	/* jiffies it changed */
	atomic64_t lock_timeouts;
	atomic64_t bad_entries;		/* malformed entries seen and skipped */
};

/* ivshmem BAR0 registers */
/*
 * Largest region: the core gives each region a 4 GiB window of mmap
 * offsets, so an entry claiming more (a peer's write) is malformed.
 */
#define CSM_EMU_MAX_REGION_SIZE	(1ULL << 31)

#define IVSHMEM_INTR_MASK	0x00
#define IVSHMEM_INTR_STATUS	0x04
#define IVSHMEM_IVPOSITION	0x08
#define IVSHMEM_DOORBELL	0x0c

extern const struct csm_rmm_ops csm_emu_ops;

int csm_emu_state_init(struct csm_emu *e);
void csm_emu_state_exit(struct csm_emu *e);
void csm_emu_reap(struct csm_emu *e);
void csm_emu_signal(struct csm_emu *e, u64 realm_id, u32 vector);
int csm_emu_attest(struct csm_rmm *rmm, u64 region_id, const u8 *challenge,
		   u32 challenge_len, void *buf, u32 *len, u32 *format);

/* Private copies of shared entries, validated by the readers in state.c. */
bool csm_emu_read_region(struct csm_emu *e, unsigned int i,
			 struct csm_emu_region *out);
bool csm_emu_read_share(struct csm_emu *e, unsigned int i,
			struct csm_emu_share *out);
int csm_emu_lock(struct csm_emu *e);
void csm_emu_unlock(struct csm_emu *e);
int csm_emu_find_region(struct csm_emu *e, u64 id, struct csm_emu_region *out);
bool csm_emu_realm_live(struct csm_emu *e, u64 realm);
/* Locked helpers shared with liveness.c. */
void csm_emu_free_share(struct csm_emu *e, unsigned int i, int why);
void csm_emu_teardown_locked(struct csm_emu *e, int slot, u64 region_id,
			     int why, u32 *notify);
void csm_emu_signal_mask(struct csm_emu *e, u32 mask, u32 vector);

/* Bit of @realm in a mask of realms to signal (0 for a bogus ID). */
static inline u32 csm_emu_realm_bit(u64 realm)
{
	return (realm >= CSM_EMU_REALM_ID_BASE &&
		realm < CSM_EMU_REALM_ID_BASE + CSM_EMU_MAX_REALMS) ?
	       BIT(realm - CSM_EMU_REALM_ID_BASE) : 0;
}
void csm_emu_reap_locked(struct csm_emu *e);
void csm_emu_liveness_start(struct csm_emu *e);
void csm_emu_liveness_stop(struct csm_emu *e);

#endif /* CSM_EMU_H */
