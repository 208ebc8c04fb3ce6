/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The seam between the driver core and an RMM backend.
 *
 * The core owns everything local to this kernel (files, mappings, event
 * queues, doorbell fds); a backend owns the CSM state machine. The calls
 * mirror the published CSM RSI calls (CSM_CREATE, CSM_SHARE, CSM_RESERVE,
 * CSM_ATTACH, CSM_DETACH_AND_FREE, CSM_REVOKE, CSM_DESTROY) plus what a
 * guest needs around them: its realm ID, attestation, doorbells and a way to
 * poll the state of a share (the RMM has no upcalls, so the core asks).
 *
 * Every call returns 0 or a negative errno from the list in
 * include/csm/uapi/csm.h; the core passes it to userspace unchanged. The
 * core serialises control calls per device but drops its lock around
 * revoke() and destroy(), which may wait for a peer realm.
 */
#ifndef CSM_RMM_H
#define CSM_RMM_H

#include <linux/types.h>

struct csm_rmm;
struct csm_dev;

/* A region as the RMM describes it to one realm. */
struct csm_rmm_region {
	u64 region_id;
	u64 size;
	u64 provider_realm_id;
	u32 perm;		/* CSM_PERM_* this realm may map with */
	u32 share_slot;		/* backend cookie for share_status()/ring() */
	phys_addr_t phys;	/* base of the (contiguous) memory */
};

/* The state of one share as seen by a party, for the core's rescans. */
enum csm_rmm_share_state {
	CSM_RMM_SHARE_GRANTED = 1,
	CSM_RMM_SHARE_ATTACHED,
	CSM_RMM_SHARE_REVOKING,	/* consumer must unmap, then detach() */
	CSM_RMM_SHARE_REVOKED,	/* ended by revoke */
	CSM_RMM_SHARE_DESTROYED, /* ended (or ending) with its region */
	CSM_RMM_SHARE_GONE,	/* ended because a party's realm died */
};

struct csm_rmm_share_status {
	u32 state;			/* enum csm_rmm_share_state */
	u32 perm;
	u64 consumer_realm_id;
	u32 rings_to_consumer;		/* free-running doorbell counters */
	u32 rings_to_provider;
	/*
	 * Free-running count of the consumer's attaches, valid if
	 * @attaches_known: the core replays the attach/detach cycles that
	 * happened between two rescans from it. Without it the core sees
	 * snapshots only, and a cycle between two rescans goes unseen.
	 * The count may lag the state by one attach (the core waits for
	 * it), never lead it; it may be garbage from a hostile peer.
	 */
	u32 attaches;
	bool attaches_known;
};

struct csm_rmm_ops {
	/* Realm of this kernel. */
	u64 (*realm_id)(struct csm_rmm *rmm);
	/* CSM_CREATE: carve a zeroed region of @size bytes. */
	int (*create)(struct csm_rmm *rmm, u64 size, struct csm_rmm_region *out);
	/* CSM_SHARE: grant @peer access with @perm. */
	int (*share)(struct csm_rmm *rmm, u64 region_id, u64 peer, u32 perm,
		     u64 *share_id, u32 *share_slot);
	/* CSM_REVOKE: returns once the consumer has unmapped (or -ETIMEDOUT). */
	int (*revoke)(struct csm_rmm *rmm, u64 share_id);
	/* CSM_DESTROY: -EBUSY with live shares unless @force. */
	int (*destroy)(struct csm_rmm *rmm, u64 region_id, bool force);
	/* CSM_RESERVE: check a share for this realm, describe its region. */
	int (*reserve)(struct csm_rmm *rmm, u64 share_id, u64 size,
		       struct csm_rmm_region *out);
	/* CSM_ATTACH: mark the reserved share attached. */
	int (*attach)(struct csm_rmm *rmm, u64 share_id);
	/*
	 * CSM_DETACH_AND_FREE: the consumer no longer maps the share; also
	 * gives back a reservation that was never attached.
	 */
	int (*detach)(struct csm_rmm *rmm, u64 share_id);
	/* Attestation token about a region into @buf (*@len in/out). */
	int (*attest)(struct csm_rmm *rmm, u64 region_id, const u8 *challenge,
		      u32 challenge_len, void *buf, u32 *len, u32 *format);
	/* Doorbell towards the other party of a share (hint only). */
	int (*ring)(struct csm_rmm *rmm, u64 share_id, u32 share_slot,
		    bool to_consumer);
	/* Where a share stands now, for event and doorbell rescans. */
	int (*share_status)(struct csm_rmm *rmm, u64 share_id, u32 share_slot,
			    struct csm_rmm_share_status *st);
	/*
	 * For IDs this kernel holds no record of: 0 if this realm provides
	 * the region (consumes the share), -EPERM if it is the other party,
	 * -EACCES if it is no party, else why the ID ended (-ENOENT,
	 * -EIDRM, -EKEYREVOKED, -ENOLINK).
	 */
	int (*region_party)(struct csm_rmm *rmm, u64 region_id);
	int (*share_party)(struct csm_rmm *rmm, u64 share_id);
};

/* What a backend tells the core when it binds. */
struct csm_rmm_info {
	u32 backend;			/* enum csm_backend */
	u64 features;			/* CSM_FEAT_* */
	u64 max_region_size;
	u32 max_regions;
	u32 max_shares;
	const char *name;		/* goes into struct csm_version */
};

struct csm_rmm {
	const struct csm_rmm_ops *ops;
	struct csm_rmm_info info;
	struct device *parent;		/* for sysfs/log context */
	struct csm_dev *core;		/* set by csm_core_register() */
};

/* Core entry points for backends (kmod/core/). */
int csm_core_register(struct csm_rmm *rmm);
void csm_core_unregister(struct csm_rmm *rmm);
/* Shared state changed: rescan shares (process context or IRQ). */
void csm_core_notify(struct csm_rmm *rmm);
/* A doorbell arrived: rescan doorbell counters (IRQ safe). */
void csm_core_doorbell(struct csm_rmm *rmm);
/*
 * Every region and share of this realm is gone at once (process context,
 * no backend lock held): ends and unmaps them all before returning.
 */
void csm_core_lost(struct csm_rmm *rmm);

#endif /* CSM_RMM_H */
