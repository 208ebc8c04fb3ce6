/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layout of the emulated RMM's state in the shared ivshmem BAR.
 *
 * Every VM attached to the same ivshmem server sees this memory, so it plays
 * the part of the RMM's private tables. Any peer may scribble over it: every
 * field is read once into a private copy and validated before use, and no
 * value read here is ever used as a pointer or unchecked index.
 * All peers run the same module build on the same (little-endian)
 * architecture, so fields are native u32/u64.
 *
 * BAR2: [header: lock, id allocator, realm/region/share tables][pool]
 * Regions are carved from the pool by first fit; offsets are pool-relative.
 *
 * tests/vm/guest/single.c mirrors these tables to play a hostile peer
 * (rescan_backwards, rescan_jump): change both together, and bump
 * CSM_EMU_LAYOUT_VERSION, which that test checks before writing.
 */
#ifndef CSM_EMU_LAYOUT_H
#define CSM_EMU_LAYOUT_H

#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/types.h>

#define CSM_EMU_MAGIC		0x31554d454d5343ULL	/* "CSMEMU1" */
#define CSM_EMU_LAYOUT_VERSION	2	/* 2: shares count attaches */
#define CSM_EMU_MAX_REALMS	16	/* ivshmem peer IDs 0..15 */
#define CSM_EMU_MAX_REGIONS	64
#define CSM_EMU_MAX_SHARES	128
#define CSM_EMU_POOL_OFFSET	0x10000	/* header fits in 64 KiB */
#define CSM_EMU_REALM_ID_BASE	0x100	/* realm ID = base + IVPosition */

/* MSI-X vectors: state changes and doorbells are separate wakeups. */
#define CSM_EMU_VEC_STATE	0
#define CSM_EMU_VEC_DOORBELL	1
#define CSM_EMU_NR_VECTORS	2

enum csm_emu_init { CSM_EMU_UNINIT = 0, CSM_EMU_INITIALIZING, CSM_EMU_READY };
enum csm_emu_realm_state { CSM_EMU_REALM_FREE = 0, CSM_EMU_REALM_LIVE };
enum csm_emu_region_state {
	CSM_EMU_REGION_FREE = 0,
	CSM_EMU_REGION_LIVE,
	CSM_EMU_REGION_DYING,	/* destroyed; memory held until consumers unmap */
};
enum csm_emu_share_state {
	CSM_EMU_SHARE_FREE = 0,
	CSM_EMU_SHARE_GRANTED,
	CSM_EMU_SHARE_ATTACHED,
	CSM_EMU_SHARE_REVOKING,	/* consumer must unmap and acknowledge */
};

/*
 * A freed slot keeps its ID and why it ended (EKEYREVOKED, EIDRM, ENOLINK)
 * until reused, so a stale ID gets the errno that says what happened.
 */

struct csm_emu_realm {
	u64 realm_id;
	u32 state;
	u32 ivposition;
	u64 boots;		/* bumped on every bind, for introspection */
	u64 heartbeat;		/* bumped by the live realm, watched by peers */
};

struct csm_emu_region {
	u64 id;
	u64 provider;		/* realm ID */
	u64 offset;		/* pool-relative, page aligned */
	u64 size;
	u32 state;
	u32 ended;		/* errno once FREE */
};

struct csm_emu_share {
	u64 id;
	u64 region_id;
	u64 provider;		/* realm ID */
	u64 consumer;		/* realm ID */
	u32 perm;		/* CSM_PERM_* */
	u32 state;
	u32 rings_to_consumer;	/* free-running doorbell counters */
	u32 rings_to_provider;
	u32 ended;		/* errno once FREE */
	/*
	 * Free-running count of the consumer's attaches, bumped under the
	 * lock after @state: a provider that rescans late still learns how
	 * many attach/detach cycles it missed. Kept when the slot is freed.
	 */
	u32 attaches;
};

struct csm_emu_header {
	u64 magic;
	u32 layout_version;
	u32 init;		/* enum csm_emu_init, claimed by cmpxchg */
	u32 lock;		/* 0, or holder's IVPosition + 1 */
	u32 __pad;
	u64 next_id;		/* region and share IDs, never reused */
	struct csm_emu_realm realms[CSM_EMU_MAX_REALMS];
	struct csm_emu_region regions[CSM_EMU_MAX_REGIONS];
	struct csm_emu_share shares[CSM_EMU_MAX_SHARES];
};

static_assert(sizeof(struct csm_emu_header) <= CSM_EMU_POOL_OFFSET);
/* tests/vm/run-suite.sh scribbles over [next_id, end of tables) as a hostile peer. */
static_assert(offsetof(struct csm_emu_header, next_id) == 24);
static_assert(sizeof(struct csm_emu_header) == 10272);
static_assert(sizeof(struct csm_emu_share) == 56);
static_assert(offsetof(struct csm_emu_share, attaches) == 52);
static_assert(sizeof(struct csm_emu_region) == 40);

#endif /* CSM_EMU_LAYOUT_H */
