/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RSI backend: /dev/csm over the CSM calls of a CSM-capable RMM (CAEC).
 *
 * The RMM keeps the CSM state machine for every realm; this kernel keeps
 * what the core needs and the RMM does not return (its regions and shares,
 * its attachments, the IPA window they live in). Cross-realm changes
 * (attach, detach, revoke, doorbells) are learnt by polling
 * CSM_EXT_SHARE_STATUS: an RMM has no upcalls.
 */
#ifndef CSM_RSI_H
#define CSM_RSI_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "../rmm.h"

struct crypto_shash;
struct dentry;

/* Every call the backend issues; the ABI table gives each its FID. */
enum csm_rsi_fn {
	CSM_RSI_ABI_VERSION,
	CSM_RSI_FEATURES,
	CSM_RSI_MEASUREMENT_READ,
	CSM_RSI_ATTEST_INIT,
	CSM_RSI_ATTEST_CONTINUE,
	CSM_RSI_REALM_CONFIG,
	CSM_RSI_CSM_CREATE,
	CSM_RSI_CSM_SHARE,
	CSM_RSI_CSM_RESERVE,
	CSM_RSI_CSM_ATTACH,
	CSM_RSI_CSM_DETACH,
	CSM_RSI_CSM_REVOKE,
	CSM_RSI_CSM_DESTROY,
	CSM_RSI_EXT_REALM_TAG,
	CSM_RSI_EXT_SHARE_STATUS,
	CSM_RSI_EXT_DOORBELL,
	CSM_RSI_EXT_INJECT,
	CSM_RSI_EXT_REGION_STATUS,
	CSM_RSI_NR_FN,
};

/* RSI return codes (x0), and what an RMM answers an unknown FID. */
#define CSM_RSI_SUCCESS		0UL
#define CSM_RSI_ERROR_INPUT	1UL
#define CSM_RSI_ERROR_STATE	2UL
#define CSM_RSI_INCOMPLETE	3UL
#define CSM_RSI_ERROR_UNKNOWN	4UL
#define CSM_RSI_UNKNOWN_FID	(~0UL)

#define CSM_RSI_ABI_1_0		0x10000UL
#define CSM_RSI_GRANULE		4096UL

/* CSM_SHARE permissions and CSM_EXT_SHARE_STATUS states (RMM side). */
#define CSM_RSI_PERM_RO		2
#define CSM_RSI_PERM_RW		3
#define CSM_RSI_ST_GRANTED	1
#define CSM_RSI_ST_RESERVED	2
#define CSM_RSI_ST_ATTACHED	3
#define CSM_RSI_ST_REVOKED	4
#define CSM_RSI_ST_DESTROYED	5
#define CSM_RSI_ST_LIVE		1	/* CSM_EXT_REGION_STATUS */

/* One numbering of the calls; a FID of 0 means "this table has none". */
struct csm_rsi_abi {
	const char *name;
	u32 fid[CSM_RSI_NR_FN];
};

/* x0..x10 in, x0..x8 out (x0: FID in, status out). */
struct csm_rsi_regs {
	unsigned long x[11];
};

/* A region this realm provides. */
struct csm_rsi_region {
	struct list_head link;
	u64 id;			/* UAPI ID: realm tag << 8 | RMM region ID */
	u64 base;		/* IPA in the window */
	u64 size;
	u8 rid;			/* RMM region ID */
	bool zombie;		/* the core let go, CSM_DESTROY still owed */
};

/* A share of one of our regions. */
struct csm_rsi_share {
	struct list_head link;
	u64 id;			/* the RMM sharing ID */
	u64 region_id;
	u64 consumer;
	u32 perm;		/* CSM_PERM_* */
	u32 last_state;		/* CSM_RSI_ST_*, as last polled */
	u32 last_rings;		/* rings_to_provider, as last polled */
};

/* A share this realm reserved (and normally attached). */
struct csm_rsi_attach {
	struct list_head link;
	u64 share_id;
	u64 region_id;
	u64 provider;
	u64 base;		/* IPA in the window */
	u64 size;
	u64 index;		/* consumer region index from CSM_RESERVE */
	u32 perm;
	u32 last_state;
	u32 last_rings;		/* rings_to_consumer, as last polled */
	bool attached;
	bool detach_owed;	/* CSM_DETACH_AND_FREE failed: retried by the poll */
};

#define CSM_RSI_ENDED_IDS	64

struct csm_rsi {
	struct csm_rmm rmm;
	const struct csm_rsi_abi *abi;
	u64 realm_tag;
	u64 ipa_bits;
	u8 hash_algo;
	char rpv[64];
	bool test_monitor;		/* RPV says the csm test monitor */
	u64 features;			/* RSI_FEATURES index 0 */

	/* The CSM IPA window: 4 KiB granules, one bit each. */
	u64 win_base;
	u64 win_size;
	unsigned long *win_map;
	unsigned long win_bits;

	struct mutex lock;		/* the lists, the window map, ended[] */
	struct list_head regions;	/* struct csm_rsi_region */
	struct list_head shares;	/* struct csm_rsi_share */
	struct list_head attachments;	/* struct csm_rsi_attach */
	struct {
		u64 id;
		int why;		/* positive errno */
	} ended[CSM_RSI_ENDED_IDS];
	unsigned int ended_next;

	struct delayed_work poll;
	bool stopping;

	struct mutex attest_lock;	/* one token at a time, one bounce granule */
	void *bounce;			/* CSM_RSI_GRANULE bytes of guest RAM */
	struct crypto_shash *sha512;

	struct dentry *debugfs;
	atomic64_t calls[CSM_RSI_NR_FN];
	atomic64_t status_count[CSM_RSI_NR_FN][6];	/* 0..4, 5 = other/-1 */
	atomic64_t incomplete_retries;
};

/* abi.c */
extern const char *const csm_rsi_fn_name[CSM_RSI_NR_FN];
const struct csm_rsi_abi *csm_rsi_abi_select(const char *name);
const char *csm_rsi_status_name(unsigned long status);

/* call.c */
#define CSM_RSI_QUIET		BIT(0)	/* log failures only (polls) */
#define CSM_RSI_NO_RETRY	BIT(1)	/* INCOMPLETE goes to the caller */
int csm_rsi_call(struct csm_rsi *rsi, enum csm_rsi_fn fn,
		 struct csm_rsi_regs *r, unsigned int flags);
void csm_rsi_smc(struct csm_rsi_regs *r);
bool csm_rsi_smc_possible(void);

/* detect.c */
int csm_rsi_probe_rmm(struct csm_rsi *rsi);

/* window.c */
int csm_rsi_window_find(struct csm_rsi *rsi);
int csm_rsi_window_alloc(struct csm_rsi *rsi, u64 size, u64 *base);
void csm_rsi_window_free(struct csm_rsi *rsi, u64 base, u64 size);

/* ops.c */
extern const struct csm_rmm_ops csm_rsi_ops;
void csm_rsi_ended(struct csm_rsi *rsi, u64 id, int why);
int csm_rsi_ended_errno(struct csm_rsi *rsi, u64 id);
int csm_rsi_share_state(struct csm_rsi *rsi, u64 share_id, u32 *state,
			u32 *perm, u32 *rings_c, u32 *rings_p);
void csm_rsi_retry_owed(struct csm_rsi *rsi);

/* attest.c */
int csm_rsi_attest(struct csm_rmm *rmm, u64 region_id, const u8 *challenge,
		   u32 challenge_len, void *buf, u32 *len, u32 *format);

/* poll.c */
void csm_rsi_poll_work(struct work_struct *work);
void csm_rsi_poll_kick(struct csm_rsi *rsi);

/* debugfs.c */
void csm_rsi_debugfs_init(struct csm_rsi *rsi);
void csm_rsi_debugfs_exit(struct csm_rsi *rsi);

static inline struct csm_rsi *to_rsi(struct csm_rmm *rmm)
{
	return container_of(rmm, struct csm_rsi, rmm);
}

/* Sharing IDs: region << 16 | provider tag << 8 | consumer tag. */
static inline u8 csm_rsi_share_rid(u64 id) { return (id >> 16) & 0xff; }
static inline u8 csm_rsi_share_ptag(u64 id) { return (id >> 8) & 0xff; }
static inline u8 csm_rsi_share_ctag(u64 id) { return id & 0xff; }

/* No RMM hands out an ID with a zero field or bits above them: ENOENT. */
static inline bool csm_rsi_share_id_ok(u64 id)
{
	return csm_rsi_share_rid(id) && csm_rsi_share_ptag(id) &&
	       csm_rsi_share_ctag(id) && !(id >> 24);
}

#endif /* CSM_RSI_H */
