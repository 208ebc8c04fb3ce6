// SPDX-License-Identifier: GPL-2.0
/*
 * Emulated RMM: the CSM calls, applied to the tables in the shared BAR.
 *
 * Cross-VM mutual exclusion is a spinlock word in the BAR taken with
 * cmpxchg (QEMU makes that a host atomic with KVM, and with multi-threaded
 * TCG on a machine that may have two CPUs). A peer can hold it forever, so
 * taking it is bounded and fails with -ETIMEDOUT. Every entry is copied out
 * with READ_ONCE and validated before use; malformed entries are skipped
 * and counted, never trusted.
 */
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/string.h>

#include <csm/uapi/csm.h>
#include "emu.h"

#define CSM_EMU_LOCK_TIMEOUT_MS		1000
#define CSM_EMU_ACK_TIMEOUT_MS		3000

int csm_emu_lock(struct csm_emu *e)
{
	ktime_t deadline = ktime_add_ms(ktime_get(), CSM_EMU_LOCK_TIMEOUT_MS);
	u32 me = e->ivposition + 1;

	for (;;) {
		preempt_disable();	/* hold times stay short for peers */
		if (cmpxchg(&e->hdr->lock, 0, me) == 0)
			return 0;
		preempt_enable();
		if (ktime_after(ktime_get(), deadline)) {
			atomic64_inc(&e->lock_timeouts);
			dev_warn_ratelimited(&e->pdev->dev,
					     "shared state lock held by peer %u for over %d ms\n",
					     READ_ONCE(e->hdr->lock) - 1,
					     CSM_EMU_LOCK_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		if (need_resched())
			cond_resched();
		else
			udelay(2);
	}
}

void csm_emu_unlock(struct csm_emu *e)
{
	/* Release: our table writes are visible before the lock is free. */
	smp_store_release(&e->hdr->lock, 0);
	preempt_enable();
}

static bool csm_emu_realm_ok(u64 realm)
{
	return realm >= CSM_EMU_REALM_ID_BASE &&
	       realm < CSM_EMU_REALM_ID_BASE + CSM_EMU_MAX_REALMS;
}

bool csm_emu_read_region(struct csm_emu *e, unsigned int i,
			 struct csm_emu_region *out)
{
	struct csm_emu_region *s = &e->hdr->regions[i];

	out->id = READ_ONCE(s->id);
	out->provider = READ_ONCE(s->provider);
	out->offset = READ_ONCE(s->offset);
	out->size = READ_ONCE(s->size);
	out->state = READ_ONCE(s->state);
	out->ended = READ_ONCE(s->ended);
	if (out->state == CSM_EMU_REGION_FREE)
		return false;
	if (out->state > CSM_EMU_REGION_DYING || !out->id ||
	    !csm_emu_realm_ok(out->provider) ||
	    !PAGE_ALIGNED(out->offset) || !PAGE_ALIGNED(out->size) ||
	    !out->size || out->size > e->pool_size ||
	    out->size > CSM_EMU_MAX_REGION_SIZE ||
	    out->offset > e->pool_size - out->size) {
		atomic64_inc(&e->bad_entries);
		return false;
	}
	return true;
}

bool csm_emu_read_share(struct csm_emu *e, unsigned int i,
			struct csm_emu_share *out)
{
	struct csm_emu_share *s = &e->hdr->shares[i];

	out->id = READ_ONCE(s->id);
	out->region_id = READ_ONCE(s->region_id);
	out->provider = READ_ONCE(s->provider);
	out->consumer = READ_ONCE(s->consumer);
	out->perm = READ_ONCE(s->perm);
	out->state = READ_ONCE(s->state);
	out->rings_to_consumer = READ_ONCE(s->rings_to_consumer);
	out->rings_to_provider = READ_ONCE(s->rings_to_provider);
	out->ended = READ_ONCE(s->ended);
	if (out->state == CSM_EMU_SHARE_FREE)
		return false;
	if (out->state > CSM_EMU_SHARE_REVOKING || !out->id ||
	    !out->region_id || !csm_emu_realm_ok(out->consumer) ||
	    !csm_emu_realm_ok(out->provider) ||
	    (out->perm != CSM_PERM_RO && out->perm != CSM_PERM_RW)) {
		atomic64_inc(&e->bad_entries);
		return false;
	}
	return true;
}

/* Slot of live region @id, or -ENOENT. */
int csm_emu_find_region(struct csm_emu *e, u64 id, struct csm_emu_region *out)
{
	unsigned int i;

	for (i = 0; id && i < CSM_EMU_MAX_REGIONS; i++)
		if (csm_emu_read_region(e, i, out) && out->id == id)
			return i;
	return -ENOENT;
}

static int csm_emu_find_share(struct csm_emu *e, u64 id,
			      struct csm_emu_share *out)
{
	unsigned int i;

	for (i = 0; id && i < CSM_EMU_MAX_SHARES; i++)
		if (csm_emu_read_share(e, i, out) && out->id == id)
			return i;
	return -ENOENT;
}

/* Only errnos a stale ID may legitimately carry. */
static int csm_emu_ended_errno(u32 ended)
{
	return (ended == EKEYREVOKED || ended == EIDRM || ended == ENOLINK) ?
	       -(int)ended : -ENOENT;
}

/* Why region @id is not live: -EIDRM, -ENOLINK or -ENOENT. */
static int csm_emu_region_ended(struct csm_emu *e, u64 id)
{
	struct csm_emu_region *s;
	unsigned int i;

	for (i = 0; id && i < CSM_EMU_MAX_REGIONS; i++) {
		s = &e->hdr->regions[i];
		if (READ_ONCE(s->id) == id)
			return READ_ONCE(s->state) == CSM_EMU_REGION_DYING ?
			       -EIDRM : csm_emu_ended_errno(READ_ONCE(s->ended));
	}
	return -ENOENT;
}

/* Why share @id is not live: -EKEYREVOKED, -EIDRM, -ENOLINK or -ENOENT. */
static int csm_emu_share_ended(struct csm_emu *e, u64 id)
{
	struct csm_emu_share *s;
	unsigned int i;

	for (i = 0; id && i < CSM_EMU_MAX_SHARES; i++) {
		s = &e->hdr->shares[i];
		if (READ_ONCE(s->id) == id &&
		    READ_ONCE(s->state) == CSM_EMU_SHARE_FREE)
			return csm_emu_ended_errno(READ_ONCE(s->ended));
	}
	return -ENOENT;
}

void csm_emu_free_share(struct csm_emu *e, unsigned int i, int why)
{
	WRITE_ONCE(e->hdr->shares[i].ended, why);
	WRITE_ONCE(e->hdr->shares[i].state, CSM_EMU_SHARE_FREE);
}

/*
 * A peer may have rewound next_id: skip IDs some slot holds. Every slot
 * holds one ID, so an honest table frees one within MAX_REGIONS +
 * MAX_SHARES + 1 candidates. next_id is read and written once, and the
 * tries are bounded: a peer rewriting it (or the slots) while we hold the
 * lock with preemption off must not keep us here. Past the bound we take
 * the candidate anyway; only a hostile peer gets there, and every later
 * lookup validates what it finds.
 */
static u64 csm_emu_new_id(struct csm_emu *e)
{
	u64 id = READ_ONCE(e->hdr->next_id);
	unsigned int tries;

	for (tries = 0; tries <= CSM_EMU_MAX_REGIONS + CSM_EMU_MAX_SHARES + 1; tries++) {
		id++;
		if (id && csm_emu_region_ended(e, id) == -ENOENT &&
		    csm_emu_find_region(e, id, &(struct csm_emu_region){}) < 0 &&
		    csm_emu_share_ended(e, id) == -ENOENT &&
		    csm_emu_find_share(e, id, &(struct csm_emu_share){}) < 0)
			break;
	}
	if (!id)
		id = 1;
	WRITE_ONCE(e->hdr->next_id, id);
	return id;
}

/* Ring @realm's @vector through the ivshmem doorbell register. */
void csm_emu_signal(struct csm_emu *e, u64 realm_id, u32 vector)
{
	if (!csm_emu_realm_ok(realm_id))
		return;
	iowrite32((u32)(realm_id - CSM_EMU_REALM_ID_BASE) << 16 | vector,
		  e->regs + IVSHMEM_DOORBELL);
}

void csm_emu_signal_mask(struct csm_emu *e, u32 mask, u32 vector)
{
	unsigned int i;

	for (i = 0; i < CSM_EMU_MAX_REALMS; i++)
		if (mask & BIT(i))
			csm_emu_signal(e, CSM_EMU_REALM_ID_BASE + i, vector);
}

static u64 csm_emu_realm_id(struct csm_rmm *rmm)
{
	return container_of(rmm, struct csm_emu, rmm)->realm_id;
}

bool csm_emu_realm_live(struct csm_emu *e, u64 realm)
{
	struct csm_emu_realm *slot;

	if (!csm_emu_realm_ok(realm))
		return false;
	slot = &e->hdr->realms[realm - CSM_EMU_REALM_ID_BASE];
	return READ_ONCE(slot->state) == CSM_EMU_REALM_LIVE &&
	       READ_ONCE(slot->realm_id) == realm;
}

/* Does a live share of region @region_id go to realm @realm? Locked. */
static bool csm_emu_shared_with(struct csm_emu *e, u64 region_id, u64 realm)
{
	struct csm_emu_share s;
	unsigned int i;

	for (i = 0; i < CSM_EMU_MAX_SHARES; i++)
		if (csm_emu_read_share(e, i, &s) && s.region_id == region_id &&
		    s.consumer == realm)
			return true;
	return false;
}

/* First fit in the pool among live and dying regions. Called locked. */
static int csm_emu_alloc(struct csm_emu *e, u64 size, u64 *offset)
{
	struct csm_emu_region r;
	u64 cand = 0;
	unsigned int i, tries;

	for (tries = 0; tries <= CSM_EMU_MAX_REGIONS; tries++) {
		bool moved = false;

		if (size > e->pool_size || cand > e->pool_size - size)
			return -ENOMEM;
		for (i = 0; i < CSM_EMU_MAX_REGIONS; i++) {
			if (!csm_emu_read_region(e, i, &r))
				continue;
			if (cand < r.offset + r.size && r.offset < cand + size) {
				cand = r.offset + r.size;
				moved = true;
			}
		}
		if (!moved) {
			*offset = cand;
			return 0;
		}
	}
	return -ENOMEM;
}

static int csm_emu_create(struct csm_rmm *rmm, u64 size,
			  struct csm_rmm_region *out)
{
	struct csm_emu *e = container_of(rmm, struct csm_emu, rmm);
	struct csm_emu_region *slot = NULL;
	unsigned int i;
	u64 offset, id;
	int ret;

	ret = csm_emu_lock(e);
	if (ret)
		return ret;
	for (i = 0; i < CSM_EMU_MAX_REGIONS && !slot; i++)
		if (READ_ONCE(e->hdr->regions[i].state) == CSM_EMU_REGION_FREE)
			slot = &e->hdr->regions[i];
	ret = slot ? csm_emu_alloc(e, size, &offset) : -ENOSPC;
	if (!ret) {
		id = csm_emu_new_id(e);
		WRITE_ONCE(slot->id, id);
		WRITE_ONCE(slot->provider, e->realm_id);
		WRITE_ONCE(slot->offset, offset);
		WRITE_ONCE(slot->size, size);
		WRITE_ONCE(slot->ended, 0);
		WRITE_ONCE(slot->state, CSM_EMU_REGION_LIVE);
	}
	csm_emu_unlock(e);
	if (ret)
		return ret;
	/* Nobody else can reach it before the provider shares it. */
	memset(e->pool + offset, 0, size);
	out->region_id = id;
	out->size = size;
	out->provider_realm_id = e->realm_id;
	out->perm = CSM_PERM_RW;
	out->share_slot = 0;
	out->phys = e->pool_phys + offset;
	return 0;
}

static int csm_emu_share(struct csm_rmm *rmm, u64 region_id, u64 peer,
			 u32 perm, u64 *share_id, u32 *share_slot)
{
	struct csm_emu *e = container_of(rmm, struct csm_emu, rmm);
	struct csm_emu_region r;
	struct csm_emu_share s;
	int free_slot = -1, i, ret;

	ret = csm_emu_lock(e);
	if (ret)
		return ret;
	if (csm_emu_find_region(e, region_id, &r) < 0)
		ret = csm_emu_region_ended(e, region_id);
	else if (r.provider != e->realm_id)
		ret = csm_emu_shared_with(e, region_id, e->realm_id) ?
		      -EPERM : -EACCES;
	else if (r.state != CSM_EMU_REGION_LIVE)
		ret = -EIDRM;
	else if (!csm_emu_realm_live(e, peer))
		ret = -ESRCH;
	for (i = 0; !ret && i < CSM_EMU_MAX_SHARES; i++) {
		if (!csm_emu_read_share(e, i, &s)) {
			if (free_slot < 0 &&
			    READ_ONCE(e->hdr->shares[i].state) == CSM_EMU_SHARE_FREE)
				free_slot = i;
			continue;
		}
		if (s.region_id == region_id && s.consumer == peer)
			ret = -EEXIST;
	}
	if (!ret && free_slot < 0)
		ret = -ENOSPC;
	if (!ret) {
		struct csm_emu_share *slot = &e->hdr->shares[free_slot];

		*share_id = csm_emu_new_id(e);
		*share_slot = free_slot;
		WRITE_ONCE(slot->id, *share_id);
		/* A reader that sees the new count also sees the new ID. */
		smp_wmb();
		WRITE_ONCE(slot->attaches, 0);
		WRITE_ONCE(slot->region_id, region_id);
		WRITE_ONCE(slot->provider, e->realm_id);
		WRITE_ONCE(slot->consumer, peer);
		WRITE_ONCE(slot->perm, perm);
		WRITE_ONCE(slot->rings_to_consumer, 0);
		WRITE_ONCE(slot->rings_to_provider, 0);
		WRITE_ONCE(slot->ended, 0);
		WRITE_ONCE(slot->state, CSM_EMU_SHARE_GRANTED);
	}
	csm_emu_unlock(e);
	return ret;
}

/* Wait until no share of @region_id (or share @share_id) is REVOKING. */
static int csm_emu_wait_acks(struct csm_emu *e, u64 region_id, u64 share_id)
{
	ktime_t deadline = ktime_add_ms(ktime_get(), CSM_EMU_ACK_TIMEOUT_MS);
	struct csm_emu_share s;
	unsigned int i;
	bool pending;

	for (;;) {
		pending = false;
		for (i = 0; i < CSM_EMU_MAX_SHARES; i++) {
			if (!csm_emu_read_share(e, i, &s) ||
			    s.state != CSM_EMU_SHARE_REVOKING)
				continue;
			if (s.id == share_id || s.region_id == region_id)
				pending = true;
		}
		if (!pending)
			return 0;
		if (ktime_after(ktime_get(), deadline))
			return -ETIMEDOUT;
		usleep_range(200, 1000);
	}
}

static int csm_emu_revoke(struct csm_rmm *rmm, u64 share_id)
{
	struct csm_emu *e = container_of(rmm, struct csm_emu, rmm);
	struct csm_emu_share s;
	bool wait = false;
	int i, ret;

	ret = csm_emu_lock(e);
	if (ret)
		return ret;
	i = csm_emu_find_share(e, share_id, &s);
	if (i < 0) {
		ret = csm_emu_share_ended(e, share_id);
		if (ret == -EKEYREVOKED)
			ret = -EALREADY;
	} else if (s.provider != e->realm_id) {
		ret = s.consumer == e->realm_id ? -EPERM : -EACCES;
	} else if (s.state == CSM_EMU_SHARE_REVOKING) {
		ret = -EALREADY;
	} else if (s.state == CSM_EMU_SHARE_ATTACHED) {
		wait = true;
		WRITE_ONCE(e->hdr->shares[i].state, CSM_EMU_SHARE_REVOKING);
	} else {
		csm_emu_free_share(e, i, EKEYREVOKED);	/* nobody maps it */
	}
	csm_emu_unlock(e);
	if (ret)
		return ret;
	csm_emu_signal(e, s.consumer, CSM_EMU_VEC_STATE);
	if (!wait)
		return 0;
	ret = csm_emu_wait_acks(e, 0, share_id);
	if (ret)
		dev_warn(&e->pdev->dev, "share %llu: realm 0x%llx did not confirm unmapping\n",
			 share_id, s.consumer);
	return ret;
}

/*
 * Free dying regions that no consumer maps any more: ours, and those of
 * realms that are gone (nobody else will). Called locked.
 */
void csm_emu_reap_locked(struct csm_emu *e)
{
	struct csm_emu_region r;
	struct csm_emu_share s;
	unsigned int i, j;
	bool busy;

	for (i = 0; i < CSM_EMU_MAX_REGIONS; i++) {
		if (!csm_emu_read_region(e, i, &r) ||
		    r.state != CSM_EMU_REGION_DYING ||
		    (r.provider != e->realm_id &&
		     csm_emu_realm_live(e, r.provider)))
			continue;
		busy = false;
		for (j = 0; j < CSM_EMU_MAX_SHARES; j++)
			if (csm_emu_read_share(e, j, &s) && s.region_id == r.id &&
			    s.state != CSM_EMU_SHARE_GRANTED)
				busy = true;
		if (busy)
			continue;
		for (j = 0; j < CSM_EMU_MAX_SHARES; j++)
			if (csm_emu_read_share(e, j, &s) && s.region_id == r.id)
				csm_emu_free_share(e, j, r.ended ?: EIDRM);
		WRITE_ONCE(e->hdr->regions[i].ended, r.ended ?: EIDRM);
		WRITE_ONCE(e->hdr->regions[i].state, CSM_EMU_REGION_FREE);
	}
}

void csm_emu_reap(struct csm_emu *e)
{
	if (csm_emu_lock(e))
		return;
	csm_emu_reap_locked(e);
	csm_emu_unlock(e);
}

/*
 * Start tearing region @slot down (locked): consumers that map it must
 * unmap and acknowledge, the others lose their share at once. @why is the
 * errno stale IDs will get. Adds the consumers to signal to @notify.
 */
void csm_emu_teardown_locked(struct csm_emu *e, int slot, u64 region_id,
			     int why, u32 *notify)
{
	struct csm_emu_share s;
	unsigned int i;

	WRITE_ONCE(e->hdr->regions[slot].ended, why);
	WRITE_ONCE(e->hdr->regions[slot].state, CSM_EMU_REGION_DYING);
	for (i = 0; i < CSM_EMU_MAX_SHARES; i++) {
		if (!csm_emu_read_share(e, i, &s) || s.region_id != region_id)
			continue;
		if (s.state == CSM_EMU_SHARE_GRANTED)
			csm_emu_free_share(e, i, why);
		else
			WRITE_ONCE(e->hdr->shares[i].state,
				   CSM_EMU_SHARE_REVOKING);
		*notify |= csm_emu_realm_bit(s.consumer);
	}
}

static int csm_emu_destroy(struct csm_rmm *rmm, u64 region_id, bool force)
{
	struct csm_emu *e = container_of(rmm, struct csm_emu, rmm);
	unsigned int live = 0;
	struct csm_emu_region r;
	u32 notify = 0;
	struct csm_emu_share s;
	int slot, i, ret;

	ret = csm_emu_lock(e);
	if (ret)
		return ret;
	slot = csm_emu_find_region(e, region_id, &r);
	if (slot < 0)
		ret = csm_emu_region_ended(e, region_id);
	else if (r.provider != e->realm_id)
		ret = csm_emu_shared_with(e, region_id, e->realm_id) ?
		      -EPERM : -EACCES;
	else if (r.state == CSM_EMU_REGION_DYING)
		ret = -EIDRM;
	for (i = 0; !ret && i < CSM_EMU_MAX_SHARES; i++)
		if (csm_emu_read_share(e, i, &s) && s.region_id == region_id)
			live++;
	if (!ret && live && !force)
		ret = -EBUSY;
	if (!ret)
		csm_emu_teardown_locked(e, slot, region_id, EIDRM, &notify);
	csm_emu_unlock(e);
	if (ret)
		return ret;
	csm_emu_signal_mask(e, notify, CSM_EMU_VEC_STATE);
	if (notify && csm_emu_wait_acks(e, region_id, 0))
		dev_warn(&e->pdev->dev, "region %llu: a consumer did not confirm unmapping; memory held until it does\n",
			 region_id);
	csm_emu_reap(e);
	return 0;
}

/* Consumer-side checks shared by reserve and attach. Locked. */
static int csm_emu_check_attach(struct csm_emu *e, u64 share_id,
				struct csm_emu_share *s,
				struct csm_emu_region *r)
{
	int i = csm_emu_find_share(e, share_id, s);

	if (i < 0)
		return csm_emu_share_ended(e, share_id);
	if (s->consumer != e->realm_id)
		return s->provider == e->realm_id ? -EPERM : -EACCES;
	if (s->state == CSM_EMU_SHARE_ATTACHED)
		return -EEXIST;
	if (s->state == CSM_EMU_SHARE_REVOKING)
		return -EKEYREVOKED;
	if (csm_emu_find_region(e, s->region_id, r) < 0)
		return csm_emu_region_ended(e, s->region_id);
	if (r->state != CSM_EMU_REGION_LIVE)
		return -EIDRM;
	if (!csm_emu_realm_live(e, r->provider))
		return -ENOLINK;
	return i;
}

static int csm_emu_reserve(struct csm_rmm *rmm, u64 share_id, u64 size,
			   struct csm_rmm_region *out)
{
	struct csm_emu *e = container_of(rmm, struct csm_emu, rmm);
	struct csm_emu_region r;
	struct csm_emu_share s;
	int i, ret;

	ret = csm_emu_lock(e);
	if (ret)
		return ret;
	i = csm_emu_check_attach(e, share_id, &s, &r);
	csm_emu_unlock(e);
	if (i < 0)
		return i;
	if (size && size != r.size)
		return -EINVAL;
	out->region_id = r.id;
	out->size = r.size;
	out->provider_realm_id = r.provider;
	out->perm = s.perm;
	out->share_slot = i;
	out->phys = e->pool_phys + r.offset;
	return 0;
}

static int csm_emu_attach(struct csm_rmm *rmm, u64 share_id)
{
	struct csm_emu *e = container_of(rmm, struct csm_emu, rmm);
	struct csm_emu_region r;
	struct csm_emu_share s;
	int i, ret;

	ret = csm_emu_lock(e);
	if (ret)
		return ret;
	i = csm_emu_check_attach(e, share_id, &s, &r);
	if (i >= 0) {
		struct csm_emu_share *slot = &e->hdr->shares[i];

		WRITE_ONCE(slot->state, CSM_EMU_SHARE_ATTACHED);
		/*
		 * Count after the state: share_status() loads the count
		 * first, so the state it sees is never behind the count.
		 */
		smp_wmb();
		WRITE_ONCE(slot->attaches, READ_ONCE(slot->attaches) + 1);
	}
	csm_emu_unlock(e);
	if (i < 0)
		return i;
	csm_emu_signal(e, r.provider, CSM_EMU_VEC_STATE);
	return 0;
}

static int csm_emu_detach(struct csm_rmm *rmm, u64 share_id)
{
	struct csm_emu *e = container_of(rmm, struct csm_emu, rmm);
	struct csm_emu_region r;
	struct csm_emu_share s;
	u64 provider = 0;
	int i, ret;

	ret = csm_emu_lock(e);
	if (ret)
		return ret;
	i = csm_emu_find_share(e, share_id, &s);
	if (i >= 0 && s.consumer == e->realm_id) {
		provider = s.provider;
		if (s.state == CSM_EMU_SHARE_ATTACHED) {
			WRITE_ONCE(e->hdr->shares[i].state, CSM_EMU_SHARE_GRANTED);
		} else if (s.state == CSM_EMU_SHARE_REVOKING) {
			/*
			 * Our unmap is the revoker's acknowledgement. Why the
			 * region went, if it did, comes from its own slot (r
			 * is unset when the lookup fails).
			 */
			int why = EKEYREVOKED;

			if (csm_emu_find_region(e, s.region_id, &r) < 0)
				why = csm_emu_region_ended(e, s.region_id) ==
				      -ENOLINK ? ENOLINK : EIDRM;
			else if (r.state != CSM_EMU_REGION_LIVE)
				why = r.ended ?: EIDRM;
			csm_emu_free_share(e, i, why);
		}
	}
	csm_emu_reap_locked(e);
	csm_emu_unlock(e);
	if (provider)
		csm_emu_signal(e, provider, CSM_EMU_VEC_STATE);
	return 0;
}

static int csm_emu_ring(struct csm_rmm *rmm, u64 share_id, u32 slot,
			bool to_consumer)
{
	struct csm_emu *e = container_of(rmm, struct csm_emu, rmm);
	struct csm_emu_share s;
	u32 *ctr, old;
	int tries;

	if (slot >= CSM_EMU_MAX_SHARES || !csm_emu_read_share(e, slot, &s) ||
	    s.id != share_id || s.state != CSM_EMU_SHARE_ATTACHED)
		return -ENOLINK;
	ctr = to_consumer ? &e->hdr->shares[slot].rings_to_consumer :
			    &e->hdr->shares[slot].rings_to_provider;
	/* Bounded: a peer rewriting the counter cannot keep us here. */
	for (tries = 0; tries < 16; tries++) {
		old = READ_ONCE(*ctr);
		if (cmpxchg(ctr, old, old + 1) == old)
			break;
	}
	csm_emu_signal(e, to_consumer ? s.consumer : s.provider,
		       CSM_EMU_VEC_DOORBELL);
	return 0;
}

static int csm_emu_share_status(struct csm_rmm *rmm, u64 share_id, u32 slot,
				struct csm_rmm_share_status *st)
{
	struct csm_emu *e = container_of(rmm, struct csm_emu, rmm);
	struct csm_emu_share *sh, s;
	struct csm_emu_region r;
	u32 attaches;
	int ended;

	memset(st, 0, sizeof(*st));
	if (slot >= CSM_EMU_MAX_SHARES) {
		st->state = CSM_RMM_SHARE_GONE;
		return 0;
	}
	sh = &e->hdr->shares[slot];
	attaches = READ_ONCE(sh->attaches);
	/*
	 * The count before the entry (pairs with the smp_wmb() in share and
	 * attach): if the ID still matches, the count is this share's, and
	 * the state may be one attach ahead of it but never behind.
	 */
	smp_rmb();
	if (!csm_emu_read_share(e, slot, &s)) {
		if (s.id != share_id)
			goto reused;
		ended = csm_emu_ended_errno(s.ended);
		st->state = ended == -EKEYREVOKED ? CSM_RMM_SHARE_REVOKED :
			    ended == -ENOLINK ? CSM_RMM_SHARE_GONE :
			    CSM_RMM_SHARE_DESTROYED;
		goto final_count;
	}
	if (s.id != share_id)
		goto reused;
	st->perm = s.perm;
	st->consumer_realm_id = s.consumer;
	st->rings_to_consumer = s.rings_to_consumer;
	st->rings_to_provider = s.rings_to_provider;
	if (csm_emu_find_region(e, s.region_id, &r) < 0) {
		/* Its region is gone: its freed slot may still say why. */
		st->state = csm_emu_region_ended(e, s.region_id) == -ENOLINK ?
			    CSM_RMM_SHARE_GONE : CSM_RMM_SHARE_DESTROYED;
		goto final_count;
	}
	if (r.state != CSM_EMU_REGION_LIVE) {
		/* Its region is going: say why (destroyed, or realm gone). */
		st->state = (r.ended == ENOLINK) ? CSM_RMM_SHARE_GONE :
			    CSM_RMM_SHARE_DESTROYED;
		goto final_count;
	}
	switch (s.state) {
	case CSM_EMU_SHARE_GRANTED:
		st->state = CSM_RMM_SHARE_GRANTED;
		break;
	case CSM_EMU_SHARE_ATTACHED:
		st->state = CSM_RMM_SHARE_ATTACHED;
		break;
	default:
		st->state = CSM_RMM_SHARE_REVOKING;
		break;
	}
	st->attaches = attaches;
	st->attaches_known = true;
	return 0;

final_count:
	/*
	 * Ended (or its region dying): no attach can follow, so a count read
	 * after the end is final, including an attach just before it.
	 */
	smp_rmb();
	attaches = READ_ONCE(sh->attaches);
	/* The ID after the count, as above: a reused slot reads as such. */
	smp_rmb();
	if (READ_ONCE(sh->id) == share_id) {
		st->attaches = attaches;
		st->attaches_known = true;
	}
	return 0;

reused:
	/* The slot holds another share now: this one ended long ago. */
	st->state = CSM_RMM_SHARE_GONE;
	return 0;
}

static int csm_emu_region_party(struct csm_rmm *rmm, u64 region_id)
{
	struct csm_emu *e = container_of(rmm, struct csm_emu, rmm);
	struct csm_emu_region r;
	int ret;

	ret = csm_emu_lock(e);
	if (ret)
		return ret;
	if (csm_emu_find_region(e, region_id, &r) < 0)
		ret = csm_emu_region_ended(e, region_id);
	else if (r.provider != e->realm_id)
		ret = csm_emu_shared_with(e, region_id, e->realm_id) ?
		      -EPERM : -EACCES;
	csm_emu_unlock(e);
	return ret;
}

static int csm_emu_share_party(struct csm_rmm *rmm, u64 share_id)
{
	struct csm_emu *e = container_of(rmm, struct csm_emu, rmm);
	struct csm_emu_share s;
	int ret;

	ret = csm_emu_lock(e);
	if (ret)
		return ret;
	if (csm_emu_find_share(e, share_id, &s) < 0)
		ret = csm_emu_share_ended(e, share_id);
	else if (s.consumer != e->realm_id)
		ret = s.provider == e->realm_id ? -EPERM : -EACCES;
	csm_emu_unlock(e);
	return ret;
}

const struct csm_rmm_ops csm_emu_ops = {
	.realm_id = csm_emu_realm_id,
	.create = csm_emu_create,
	.share = csm_emu_share,
	.revoke = csm_emu_revoke,
	.destroy = csm_emu_destroy,
	.reserve = csm_emu_reserve,
	.attach = csm_emu_attach,
	.detach = csm_emu_detach,
	.attest = csm_emu_attest,
	.ring = csm_emu_ring,
	.share_status = csm_emu_share_status,
	.region_party = csm_emu_region_party,
	.share_party = csm_emu_share_party,
};

/*
 * Join the shared state: initialise it if we are first, then register our
 * realm and drop whatever a previous boot of this VM left behind.
 */
int csm_emu_state_init(struct csm_emu *e)
{
	struct csm_emu_header *h = e->hdr;
	struct csm_emu_region r;
	u32 notify = 0;
	struct csm_emu_share s;
	struct csm_emu_realm *me;
	unsigned int i;
	int tries, ret;

	if (cmpxchg(&h->init, CSM_EMU_UNINIT, CSM_EMU_INITIALIZING) ==
	    CSM_EMU_UNINIT) {
		memset(&h->realms, 0, sizeof(h->realms));
		memset(&h->regions, 0, sizeof(h->regions));
		memset(&h->shares, 0, sizeof(h->shares));
		WRITE_ONCE(h->next_id, 0);
		WRITE_ONCE(h->lock, 0);
		WRITE_ONCE(h->layout_version, CSM_EMU_LAYOUT_VERSION);
		WRITE_ONCE(h->magic, CSM_EMU_MAGIC);
		/* Peers that see READY also see the zeroed tables. */
		smp_store_release(&h->init, CSM_EMU_READY);
	}
	/* Acquire pairs with the initialiser's release of READY. */
	for (tries = 0; smp_load_acquire(&h->init) != CSM_EMU_READY; tries++) {
		if (tries > 2000)
			return -ETIMEDOUT;
		usleep_range(500, 1000);
	}
	if (READ_ONCE(h->magic) != CSM_EMU_MAGIC ||
	    READ_ONCE(h->layout_version) != CSM_EMU_LAYOUT_VERSION) {
		dev_err(&e->pdev->dev, "shared memory holds an unknown layout (magic %llx version %u)\n",
			READ_ONCE(h->magic), READ_ONCE(h->layout_version));
		return -EPROTO;
	}
	/* A lock left by this VM's previous life can never be released. */
	cmpxchg(&h->lock, e->ivposition + 1, 0);

	ret = csm_emu_lock(e);
	if (ret)
		return ret;
	for (i = 0; i < CSM_EMU_MAX_SHARES; i++) {
		if (csm_emu_read_share(e, i, &s) && s.consumer == e->realm_id)
			csm_emu_free_share(e, i, ENOLINK);
	}
	for (i = 0; i < CSM_EMU_MAX_REGIONS; i++)
		if (csm_emu_read_region(e, i, &r) && r.provider == e->realm_id)
			csm_emu_teardown_locked(e, i, r.id, ENOLINK, &notify);
	csm_emu_reap_locked(e);
	me = &h->realms[e->ivposition];
	WRITE_ONCE(me->realm_id, e->realm_id);
	WRITE_ONCE(me->ivposition, e->ivposition);
	WRITE_ONCE(me->boots, READ_ONCE(me->boots) + 1);
	WRITE_ONCE(me->state, CSM_EMU_REALM_LIVE);
	csm_emu_unlock(e);
	return 0;
}

/*
 * Leave: our regions die with us (consumers unmap and the survivors reap
 * them), our attachments are dropped, and stale IDs say ENOLINK.
 */
void csm_emu_state_exit(struct csm_emu *e)
{
	struct csm_emu_region r;
	struct csm_emu_share s;
	unsigned int i;
	u32 notify = 0;

	if (csm_emu_lock(e))
		return;
	for (i = 0; i < CSM_EMU_MAX_SHARES; i++)
		if (csm_emu_read_share(e, i, &s) && s.consumer == e->realm_id) {
			csm_emu_free_share(e, i, ENOLINK);
			notify |= csm_emu_realm_bit(s.provider);
		}
	for (i = 0; i < CSM_EMU_MAX_REGIONS; i++)
		if (csm_emu_read_region(e, i, &r) && r.provider == e->realm_id &&
		    r.state == CSM_EMU_REGION_LIVE)
			csm_emu_teardown_locked(e, i, r.id, ENOLINK, &notify);
	WRITE_ONCE(e->hdr->realms[e->ivposition].state, CSM_EMU_REALM_FREE);
	csm_emu_reap_locked(e);
	csm_emu_unlock(e);
	csm_emu_signal_mask(e, notify, CSM_EMU_VEC_STATE);
}
