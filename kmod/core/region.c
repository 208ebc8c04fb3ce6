// SPDX-License-Identifier: GPL-2.0
/*
 * Driver core: this realm's regions (provided or attached), their lifetime
 * and the rescan that turns shared-state changes into events.
 */
#include <linux/slab.h>

#include "internal.h"

static void csm_region_release(struct kref *ref)
{
	struct csm_region *r = container_of(ref, struct csm_region, ref);
	struct csm_share_shadow *s, *tmp;

	list_for_each_entry_safe(s, tmp, &r->shares, link) {
		list_del(&s->link);
		kfree(s);
	}
	atomic_dec(&r->dev->cnt.regions);
	csm_dev_put(r->dev);
	kfree(r);
}

void csm_region_get(struct csm_region *r)
{
	kref_get(&r->ref);
}

void csm_region_put(struct csm_region *r)
{
	kref_put(&r->ref, csm_region_release);
}

/* Called with dev->lock held. */
struct csm_region *csm_region_alloc(struct csm_dev *dev, struct csm_file *owner,
				    u32 role, const struct csm_rmm_region *desc)
{
	struct csm_region *r;

	lockdep_assert_held(&dev->lock);
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return NULL;
	kref_init(&r->ref);
	kref_get(&dev->ref);
	r->dev = dev;
	r->owner = owner;
	r->desc = *desc;
	r->role = role;
	r->state = CSM_REGION_ACTIVE;
	r->cookie = ++dev->next_cookie << CSM_MMAP_COOKIE_SHIFT;
	INIT_LIST_HEAD(&r->shares);
	mutex_init(&r->map_lock);
	mutex_init(&r->node_lock);
	r->mappable = true;
	spin_lock_init(&r->db_lock);
	init_waitqueue_head(&r->db_wq);
	list_add_tail(&r->dev_link, &dev->regions);
	list_add_tail(&r->file_link, &owner->regions);
	atomic_inc(&dev->cnt.regions);
	atomic_inc(role == CSM_ROLE_PROVIDER ? &dev->cnt.provided :
					       &dev->cnt.attached);
	return r;
}

struct csm_region *csm_region_find(struct csm_file *f, u64 region_id)
{
	struct csm_region *r;

	list_for_each_entry(r, &f->regions, file_link)
		if (r->desc.region_id == region_id)
			return r;
	return NULL;
}

struct csm_region *csm_region_find_share(struct csm_file *f, u64 share_id)
{
	struct csm_region *r;

	list_for_each_entry(r, &f->regions, file_link)
		if (r->role == CSM_ROLE_CONSUMER && r->share_id == share_id)
			return r;
	return NULL;
}

struct csm_region *csm_region_find_any(struct csm_dev *dev, u64 region_id)
{
	struct csm_region *r;

	list_for_each_entry(r, &dev->regions, dev_link)
		if (r->desc.region_id == region_id)
			return r;
	return NULL;
}

/*
 * The region can no longer be used by this realm: remove every mapping
 * (later accesses fault) and wake doorbell waiters. Called with dev->lock.
 */
void csm_region_end(struct csm_region *r, u32 state)
{
	if (r->state == CSM_REGION_ACTIVE)
		r->state = state;
	csm_mmap_zap(r);
	wake_up_all(&r->db_wq);
}

/*
 * Drop the region from its owner and from the device. The caller holds
 * dev->lock and must call csm_region_finish() after unlocking it.
 */
static void csm_region_unlink(struct csm_region *r)
{
	struct csm_dev *dev = r->dev;

	lockdep_assert_held(&dev->lock);
	list_del_init(&r->file_link);
	list_del_init(&r->dev_link);
	r->owner = NULL;
	atomic_dec(r->role == CSM_ROLE_PROVIDER ? &dev->cnt.provided :
						  &dev->cnt.attached);
}

/* Remove the path node (takes misc_mtx, so never under dev->lock). */
static void csm_region_finish(struct csm_region *r)
{
	csm_node_remove(r);
	csm_region_put(r);
}

static void csm_rescan_shares(struct csm_dev *dev, struct csm_region *r);

/**
 * csm_region_destroy() - provider: destroy a region this file provides.
 * @f: the owner.
 * @r: the region (found under dev->lock, which the caller holds).
 * @force: revoke live shares first.
 *
 * Drops and retakes dev->lock around the RMM call, which may wait for
 * consumers in other realms to unmap.
 *
 * Return: 0, or the RMM's error (-EBUSY with live shares, ...).
 */
int csm_region_destroy(struct csm_file *f, struct csm_region *r, bool force)
{
	struct csm_dev *dev = f->dev;
	struct csm_rmm *rmm = dev->rmm;
	bool gone;
	int ret;

	csm_region_get(r);
	/*
	 * Unmap our own mappings first: once the RMM has destroyed the region
	 * its memory may back another one. Touching it meanwhile faults, even
	 * if the destroy is then refused (and the pages map again).
	 */
	csm_mmap_zap(r);
	mutex_unlock(&dev->lock);
	ret = rmm->ops->destroy(rmm, r->desc.region_id, force);
	mutex_lock(&dev->lock);
	gone = ret == 0 || ret == -EIDRM || ret == -ENOENT || ret == -ENOLINK;
	if (!gone && r->state == CSM_REGION_ACTIVE)
		csm_mmap_allow(r);
	/* Gone from the RMM one way or another: drop our record too. */
	if (gone) {
		if (r->owner == f) {
			/* Report what consumers did before the end. */
			csm_rescan_shares(dev, r);
			csm_region_end(r, CSM_REGION_DESTROYED);
			csm_region_unlink(r);
			mutex_unlock(&dev->lock);
			csm_region_finish(r);
			mutex_lock(&dev->lock);
		}
		ret = 0;
	}
	csm_region_put(r);
	return ret;
}

/**
 * csm_region_detach() - consumer: drop an attachment.
 * @f: the owner.
 * @r: the attachment (caller holds dev->lock).
 *
 * Unmaps first, then tells the RMM, so the memory is never reachable from
 * this realm after the provider has seen the detach.
 *
 * Return: 0 (detaching is idempotent from the caller's view).
 */
int csm_region_detach(struct csm_file *f, struct csm_region *r)
{
	struct csm_dev *dev = f->dev;

	csm_region_end(r, CSM_REGION_REVOKED);
	if (dev->rmm)
		dev->rmm->ops->detach(dev->rmm, r->share_id);
	csm_region_unlink(r);
	mutex_unlock(&dev->lock);
	csm_region_finish(r);
	mutex_lock(&dev->lock);
	return 0;
}

/* Closing the last reference to a /dev/csm open releases all it holds. */
void csm_file_release_regions(struct csm_file *f)
{
	struct csm_dev *dev = f->dev;
	struct csm_region *r;

	mutex_lock(&dev->lock);
	while ((r = list_first_entry_or_null(&f->regions, struct csm_region,
					     file_link))) {
		if (!dev->rmm) {
			csm_region_end(r, CSM_REGION_GONE);
			csm_region_unlink(r);
			mutex_unlock(&dev->lock);
			csm_region_finish(r);
			mutex_lock(&dev->lock);
		} else if (r->role == CSM_ROLE_PROVIDER) {
			if (csm_region_destroy(f, r, true) && r->owner == f) {
				/* The RMM refused: forget it locally anyway. */
				pr_warn_ratelimited("csm: region %llu: destroy on close failed\n",
						    r->desc.region_id);
				csm_region_end(r, CSM_REGION_DESTROYED);
				csm_region_unlink(r);
				mutex_unlock(&dev->lock);
				csm_region_finish(r);
				mutex_lock(&dev->lock);
			}
		} else {
			csm_region_detach(f, r);
		}
	}
	mutex_unlock(&dev->lock);
}

/*
 * At most this many attach/detach cycles of one share are replayed per
 * rescan: the count comes from memory a hostile peer may write.
 */
#define CSM_RESCAN_MAX_CYCLES	4

static bool csm_share_attached(u32 state)
{
	return state == CSM_RMM_SHARE_ATTACHED ||
	       state == CSM_RMM_SHARE_REVOKING;
}

static bool csm_share_ended(u32 state)
{
	return state == CSM_RMM_SHARE_REVOKED ||
	       state == CSM_RMM_SHARE_DESTROYED ||
	       state == CSM_RMM_SHARE_GONE;
}

/*
 * Post the last @n edges of the alternating ATTACHED/DETACHED sequence
 * that leaves the consumer attached (@now) or detached.
 */
static void csm_post_edges(struct csm_region *r, struct csm_share_shadow *s,
			   u64 n, bool now)
{
	u32 type = now ? CSM_EVENT_ATTACHED : CSM_EVENT_DETACHED;

	if (!(n & 1))
		type = now ? CSM_EVENT_DETACHED : CSM_EVENT_ATTACHED;
	for (; n; n--) {
		csm_event_post(r->owner, type, r->desc.region_id, s->share_id,
			       s->consumer);
		type = type == CSM_EVENT_ATTACHED ? CSM_EVENT_DETACHED :
						    CSM_EVENT_ATTACHED;
	}
}

/*
 * Bring share @s of provided region @r up to date: post the ATTACHED and
 * DETACHED edges since the last rescan, in order, then GONE if the
 * consumer's realm died. Called with dev->lock held.
 *
 * With the backend's attach count, the cycles that fell between two
 * rescans are replayed (edges alternate, so their number and the state
 * now fix the sequence); without it only the snapshots' difference shows.
 * A count that went backwards or jumped by more than the cap posts what
 * fits and flags the loss (CSM_EVENT_F_LOST, seq gap, rescan_lost). A
 * share that ended keeps its last attachment to the end: the table no
 * longer says whether the consumer detached first.
 *
 * Return: true once the share has ended (the caller drops @s).
 */
static bool csm_rescan_share(struct csm_dev *dev, struct csm_region *r,
			     struct csm_share_shadow *s)
{
	struct csm_rmm *rmm = dev->rmm;
	struct csm_rmm_share_status st;
	bool was, now, ended;
	u64 edges, lost = 0;
	u32 cycles = 0;

	if (rmm->ops->share_status(rmm, s->share_id, s->slot, &st))
		return false;
	ended = csm_share_ended(st.state);
	was = csm_share_attached(s->last_state);
	if (st.attaches_known) {
		cycles = st.attaches - s->attaches_seen;
		if ((s32)cycles < 0) {
			lost = 1;	/* went backwards: how many is unknown */
			cycles = 0;
		}
	}
	now = ended ? was || cycles : csm_share_attached(st.state);
	/* The attach shows before its count: its writer signals again. */
	if (st.attaches_known && !lost && !was && now && !cycles)
		return false;
	if (!st.attaches_known || lost)
		edges = was != now;
	else
		edges = 2 * (u64)cycles + was - now;
	if (edges > 2 * CSM_RESCAN_MAX_CYCLES) {
		lost = edges - 2 * CSM_RESCAN_MAX_CYCLES;
		edges = 2 * CSM_RESCAN_MAX_CYCLES;
	}
	if (lost) {
		csm_event_lost(r->owner, lost);
		atomic64_inc(&dev->cnt.rescan_lost);
		pr_info_ratelimited("csm: share %llu: attach count moved by %u, replayed %llu events\n",
				    s->share_id, st.attaches - s->attaches_seen,
				    edges);
	}
	csm_post_edges(r, s, edges, now);
	if (st.state == CSM_RMM_SHARE_GONE)
		csm_event_post(r->owner, CSM_EVENT_GONE, r->desc.region_id,
			       s->share_id, s->consumer);
	s->last_state = st.state;
	if (st.attaches_known)
		s->attaches_seen = st.attaches;
	return ended;
}

static void csm_rescan_shares(struct csm_dev *dev, struct csm_region *r)
{
	struct csm_share_shadow *s, *tmp;

	list_for_each_entry_safe(s, tmp, &r->shares, link) {
		if (csm_rescan_share(dev, r, s)) {
			list_del(&s->link);
			kfree(s);
		}
	}
}

/*
 * @stalled: set once the backend timed out (a peer holding the emulated
 * state lock): later regions of this pass skip the call that would wait
 * for it again, so one pass holds dev->lock for one timeout, not one per
 * region; the pass is then queued again.
 */
static void csm_rescan_provider(struct csm_dev *dev, struct csm_region *r,
				bool *stalled)
{
	struct csm_rmm *rmm = dev->rmm;
	int ret;

	/* Our realm was declared gone and its regions torn down. */
	if (r->state == CSM_REGION_ACTIVE && !*stalled) {
		ret = rmm->ops->region_party(rmm, r->desc.region_id);
		if (ret == -ENOLINK)
			csm_region_end(r, CSM_REGION_GONE);
		else if (ret == -ETIMEDOUT)
			*stalled = true;
	}
	csm_rescan_shares(dev, r);
}

/**
 * csm_share_forget() - the provider revoked a share: drop its record.
 * @dev: the device (dev->lock held, backend present).
 * @r: the region it belongs to.
 * @s: the share.
 *
 * Posts what the consumer did since the last rescan first, so revoking
 * never swallows an attach or detach.
 */
void csm_share_forget(struct csm_dev *dev, struct csm_region *r,
		      struct csm_share_shadow *s)
{
	lockdep_assert_held(&dev->lock);
	csm_rescan_share(dev, r, s);
	list_del(&s->link);
	kfree(s);
}

static void csm_rescan_consumer(struct csm_dev *dev, struct csm_region *r)
{
	struct csm_rmm *rmm = dev->rmm;
	struct csm_rmm_share_status st;
	u32 type, state;

	if (r->state != CSM_REGION_ACTIVE)
		return;
	if (rmm->ops->share_status(rmm, r->share_id, r->desc.share_slot, &st))
		return;
	switch (st.state) {
	case CSM_RMM_SHARE_REVOKING:
	case CSM_RMM_SHARE_REVOKED:
		type = CSM_EVENT_REVOKED;
		state = CSM_REGION_REVOKED;
		break;
	case CSM_RMM_SHARE_DESTROYED:
		type = CSM_EVENT_DESTROYED;
		state = CSM_REGION_DESTROYED;
		break;
	case CSM_RMM_SHARE_GONE:
		type = CSM_EVENT_GONE;
		state = CSM_REGION_GONE;
		break;
	default:
		return;
	}
	/* Unmap before acknowledging, so the provider may reuse the memory. */
	csm_region_end(r, state);
	rmm->ops->detach(rmm, r->share_id);
	csm_event_post(r->owner, type, r->desc.region_id, r->share_id,
		       r->desc.provider_realm_id);
}

void csm_rescan_work(struct work_struct *work)
{
	struct csm_dev *dev = container_of(work, struct csm_dev, rescan_work);
	struct csm_region *r;
	bool stalled = false;

	mutex_lock(&dev->lock);
	/* Held: debugfs rescan_hold queues us again on release. */
	if (dev->rmm && !dev->rescan_hold) {
		list_for_each_entry(r, &dev->regions, dev_link) {
			if (r->role == CSM_ROLE_PROVIDER)
				csm_rescan_provider(dev, r, &stalled);
			else
				csm_rescan_consumer(dev, r);
		}
	}
	mutex_unlock(&dev->lock);
	/* Retry what the timeout skipped (unregister cancels a requeue too). */
	if (stalled)
		queue_work(system_wq, &dev->rescan_work);
}
