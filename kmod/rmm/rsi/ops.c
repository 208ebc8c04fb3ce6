// SPDX-License-Identifier: GPL-2.0
/*
 * RSI backend: the core's RMM seam over the CSM calls.
 *
 * IDs: a realm is its RMM realm tag (1..255); a region is
 * provider tag << 8 | RMM region ID (unique system-wide as the UAPI asks);
 * a share is the RMM sharing ID (region << 16 | provider tag << 8 |
 * consumer tag), so who provides and who consumes is read off the ID.
 *
 * Nothing the RMM returns is used as a pointer or an unchecked index: IDs
 * are checked against what they must encode, states against their range.
 */
#include <linux/delay.h>
#include <linux/slab.h>

#include <csm/uapi/csm.h>
#include "rsi.h"

static struct csm_rsi_region *csm_rsi_find_region(struct csm_rsi *rsi, u64 id)
{
	struct csm_rsi_region *reg;

	list_for_each_entry(reg, &rsi->regions, link)
		if (reg->id == id)
			return reg;
	return NULL;
}

static struct csm_rsi_share *csm_rsi_find_share(struct csm_rsi *rsi, u64 id)
{
	struct csm_rsi_share *s;

	list_for_each_entry(s, &rsi->shares, link)
		if (s->id == id)
			return s;
	return NULL;
}

static struct csm_rsi_attach *csm_rsi_find_attach(struct csm_rsi *rsi,
						  u64 share_id)
{
	struct csm_rsi_attach *a;

	list_for_each_entry(a, &rsi->attachments, link)
		if (a->share_id == share_id)
			return a;
	return NULL;
}

/* Remember why @id ended, for later calls with the stale ID. Locked. */
void csm_rsi_ended(struct csm_rsi *rsi, u64 id, int why)
{
	rsi->ended[rsi->ended_next].id = id;
	rsi->ended[rsi->ended_next].why = why;
	rsi->ended_next = (rsi->ended_next + 1) % CSM_RSI_ENDED_IDS;
}

/* -errno @id ended with, or 0 when it is not remembered. Locked. */
int csm_rsi_ended_errno(struct csm_rsi *rsi, u64 id)
{
	unsigned int i;

	for (i = 0; i < CSM_RSI_ENDED_IDS; i++)
		if (rsi->ended[i].id == id && id)
			return -rsi->ended[i].why;
	return 0;
}

static u32 csm_rsi_perm_uapi(unsigned long perm)
{
	return perm == CSM_RSI_PERM_RW ? CSM_PERM_RW : CSM_PERM_RO;
}

/**
 * csm_rsi_share_state() - CSM_EXT_SHARE_STATUS of @share_id.
 * @rsi: the backend.
 * @share_id: a sharing ID.
 * @state: out: CSM_RSI_ST_* (checked to be in range).
 * @perm: out: CSM_PERM_*.
 * @rings_c: out: doorbells rung towards the consumer.
 * @rings_p: out: doorbells rung towards the provider.
 *
 * Return: 0; -EINVAL when the RMM does not know the share; -EOPNOTSUPP
 * without the extension; -EPROTO for a state out of range; else the call's.
 */
int csm_rsi_share_state(struct csm_rsi *rsi, u64 share_id, u32 *state,
			u32 *perm, u32 *rings_c, u32 *rings_p)
{
	struct csm_rsi_regs r = { .x[1] = share_id };
	int err = csm_rsi_call(rsi, CSM_RSI_EXT_SHARE_STATUS, &r, CSM_RSI_QUIET);

	if (err)
		return err;
	if (r.x[1] < CSM_RSI_ST_GRANTED || r.x[1] > CSM_RSI_ST_DESTROYED) {
		pr_warn_ratelimited("csm: rsi: share %#llx: RMM reports state %lu\n",
				    share_id, r.x[1]);
		return -EPROTO;
	}
	*state = r.x[1];
	*perm = csm_rsi_perm_uapi(r.x[2]);
	*rings_c = lower_32_bits(r.x[3]);
	*rings_p = upper_32_bits(r.x[3]);
	return 0;
}

/* CSM_EXT_REGION_STATUS: 0 and *size if live, -EIDRM, -ENOENT, or error. */
static int csm_rsi_region_state(struct csm_rsi *rsi, u8 rid, u64 *size)
{
	struct csm_rsi_regs r = { .x[1] = rid };
	int err = csm_rsi_call(rsi, CSM_RSI_EXT_REGION_STATUS, &r, CSM_RSI_QUIET);

	if (err == -EINVAL)
		return -ENOENT;
	if (err)
		return err;
	if (r.x[1] != CSM_RSI_ST_LIVE)
		return -EIDRM;
	*size = r.x[2];
	return 0;
}

static u64 csm_rsi_realm_id(struct csm_rmm *rmm)
{
	return to_rsi(rmm)->realm_tag;
}

static int csm_rsi_create(struct csm_rmm *rmm, u64 size,
			  struct csm_rmm_region *out)
{
	struct csm_rsi *rsi = to_rsi(rmm);
	struct csm_rsi_region *reg;
	struct csm_rsi_regs r = {};
	u64 base;
	int err;

	reg = kzalloc(sizeof(*reg), GFP_KERNEL);
	if (!reg)
		return -ENOMEM;
	mutex_lock(&rsi->lock);
	err = csm_rsi_window_alloc(rsi, size, &base);
	if (err) {
		pr_info_ratelimited("csm: rsi: no %llu KiB free in the CSM window\n",
				    size >> 10);
		goto out_free;
	}
	r.x[2] = base;
	r.x[3] = size;
	err = csm_rsi_call(rsi, CSM_RSI_CSM_CREATE, &r, 0);
	if (err) {
		csm_rsi_window_free(rsi, base, size);
		goto out_free;
	}
	reg->rid = r.x[1];
	reg->id = rsi->realm_tag << 8 | reg->rid;
	if (!r.x[1] || r.x[1] > 255 || csm_rsi_find_region(rsi, reg->id)) {
		/* The RMM maps the range under an ID we cannot use: keep it. */
		pr_err("csm: rsi: CSM_CREATE returned region ID %lu, unusable; %llu KiB of the window stay reserved\n",
		       r.x[1], size >> 10);
		err = -EPROTO;
		goto out_free;
	}
	reg->base = base;
	reg->size = size;
	list_add_tail(&reg->link, &rsi->regions);
	mutex_unlock(&rsi->lock);
	out->region_id = reg->id;
	out->size = size;
	out->provider_realm_id = rsi->realm_tag;
	out->perm = CSM_PERM_RW;
	out->share_slot = 0;
	out->phys = base;
	return 0;

out_free:
	mutex_unlock(&rsi->lock);
	kfree(reg);
	return err;
}

static int csm_rsi_share(struct csm_rmm *rmm, u64 region_id, u64 peer,
			 u32 perm, u64 *share_id, u32 *share_slot)
{
	struct csm_rsi *rsi = to_rsi(rmm);
	struct csm_rsi_region *reg;
	struct csm_rsi_share *s;
	struct csm_rsi_regs r = {};
	int err;

	if (!peer || peer > 255)
		return -ESRCH;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	mutex_lock(&rsi->lock);
	reg = csm_rsi_find_region(rsi, region_id);
	if (!reg || reg->zombie) {
		err = -EIDRM;
		goto out_free;
	}
	r.x[1] = reg->rid;
	r.x[2] = peer;
	r.x[3] = perm == CSM_PERM_RW ? CSM_RSI_PERM_RW : CSM_RSI_PERM_RO;
	err = csm_rsi_call(rsi, CSM_RSI_CSM_SHARE, &r, 0);
	if (err)
		goto out_free;
	if (csm_rsi_share_rid(r.x[1]) != reg->rid ||
	    csm_rsi_share_ptag(r.x[1]) != rsi->realm_tag ||
	    csm_rsi_share_ctag(r.x[1]) != peer || r.x[1] >> 24) {
		pr_err("csm: rsi: CSM_SHARE returned sharing ID %#lx for region %u, provider %llu, consumer %llu\n",
		       r.x[1], reg->rid, rsi->realm_tag, peer);
		err = -EPROTO;
		goto out_free;
	}
	s->id = r.x[1];
	s->region_id = region_id;
	s->consumer = peer;
	s->perm = perm;
	s->last_state = CSM_RSI_ST_GRANTED;
	list_add_tail(&s->link, &rsi->shares);
	*share_id = s->id;
	*share_slot = 0;
	csm_rsi_poll_kick(rsi);
	mutex_unlock(&rsi->lock);
	return 0;

out_free:
	mutex_unlock(&rsi->lock);
	kfree(s);
	return err;
}

/* Who is @share_id's provider or consumer, for IDs we hold no record of. */
static int csm_rsi_not_my_share(struct csm_rsi *rsi, u64 share_id)
{
	if (!csm_rsi_share_id_ok(share_id))
		return -ENOENT;
	if (csm_rsi_share_ptag(share_id) == rsi->realm_tag)
		return 0;
	return csm_rsi_share_ctag(share_id) == rsi->realm_tag ? -EPERM : -EACCES;
}

/* Revoke one share (locked); drops its record on success or if revoked. */
static int csm_rsi_revoke_locked(struct csm_rsi *rsi, struct csm_rsi_share *s,
				 int why)
{
	struct csm_rsi_regs r = { .x[1] = s->id };
	int err = csm_rsi_call(rsi, CSM_RSI_CSM_REVOKE, &r, 0);

	if (!err || err == -EALREADY) {
		list_del(&s->link);
		csm_rsi_ended(rsi, s->id, why);
		kfree(s);
	}
	return err;
}

/*
 * The RMM revokes at once in the state it shares with the consumer's RMM;
 * the consumer realm loses the mapping at its next RMM entry and its
 * driver's poll (csm.rsi_poll_ms) zaps the user mappings. So this returns
 * before the consumer has noticed: see docs/kernel-module.md.
 */
static int csm_rsi_revoke(struct csm_rmm *rmm, u64 share_id)
{
	struct csm_rsi *rsi = to_rsi(rmm);
	struct csm_rsi_share *s;
	struct csm_rsi_regs r = { .x[1] = share_id };
	int err;

	mutex_lock(&rsi->lock);
	s = csm_rsi_find_share(rsi, share_id);
	if (s) {
		err = csm_rsi_revoke_locked(rsi, s, EKEYREVOKED);
	} else {
		err = csm_rsi_not_my_share(rsi, share_id);
		if (!err)
			err = csm_rsi_ended_errno(rsi, share_id);
		if (err == -EKEYREVOKED)
			err = -EALREADY;
		else if (!err)	/* ours but unknown here: the RMM decides */
			err = csm_rsi_call(rsi, CSM_RSI_CSM_REVOKE, &r, 0);
	}
	mutex_unlock(&rsi->lock);
	return err;
}

/* CSM_DESTROY of @reg (locked); frees it on success. */
static int csm_rsi_destroy_locked(struct csm_rsi *rsi, struct csm_rsi_region *reg)
{
	struct csm_rsi_regs r = { .x[1] = reg->rid };
	struct csm_rsi_share *s, *tmp;
	int err = csm_rsi_call(rsi, CSM_RSI_CSM_DESTROY, &r, 0);

	if (err)
		return err;
	list_for_each_entry_safe(s, tmp, &rsi->shares, link) {
		if (s->region_id != reg->id)
			continue;
		list_del(&s->link);
		csm_rsi_ended(rsi, s->id, EIDRM);
		kfree(s);
	}
	csm_rsi_window_free(rsi, reg->base, reg->size);
	csm_rsi_ended(rsi, reg->id, EIDRM);
	list_del(&reg->link);
	kfree(reg);
	return 0;
}

static int csm_rsi_destroy(struct csm_rmm *rmm, u64 region_id, bool force)
{
	struct csm_rsi *rsi = to_rsi(rmm);
	struct csm_rsi_share *s, *tmp;
	struct csm_rsi_region *reg;
	int err;

	mutex_lock(&rsi->lock);
	reg = csm_rsi_find_region(rsi, region_id);
	if (!reg) {
		err = csm_rsi_ended_errno(rsi, region_id) ?: -ENOENT;
		goto out;
	}
	if (force) {
		list_for_each_entry_safe(s, tmp, &rsi->shares, link)
			if (s->region_id == region_id)
				csm_rsi_revoke_locked(rsi, s, EIDRM);
	}
	err = csm_rsi_destroy_locked(rsi, reg);
	if (err && force) {
		/*
		 * The core forgets it (so we report success: it must stop
		 * mapping the range); the poll retries CSM_DESTROY and only
		 * then frees the window.
		 */
		if (!reg->zombie) {
			reg->zombie = true;
			pr_info("csm: rsi: region %#llx: CSM_DESTROY failed (%d); retried every poll, %llu KiB of the window held\n",
				region_id, err, reg->size >> 10);
			csm_rsi_poll_kick(rsi);
		}
		err = 0;
	}
out:
	mutex_unlock(&rsi->lock);
	return err;
}

/* Release a reservation the RMM no longer maps (locked). */
static void csm_rsi_attach_free(struct csm_rsi *rsi, struct csm_rsi_attach *a)
{
	csm_rsi_window_free(rsi, a->base, a->size);
	list_del(&a->link);
	kfree(a);
}

/*
 * CSM_DETACH_AND_FREE (locked). A share that ended (revoked, destroyed,
 * unknown to the RMM) is unmapped already, so a refusal then is fine; a
 * refusal for a live share keeps the window range and the poll retries.
 */
static void csm_rsi_detach_locked(struct csm_rsi *rsi, struct csm_rsi_attach *a)
{
	struct csm_rsi_regs r = { .x[1] = a->share_id };
	u32 state, perm, rc, rp;
	int err = csm_rsi_call(rsi, CSM_RSI_CSM_DETACH, &r,
			       a->detach_owed ? CSM_RSI_QUIET : 0);

	if (err) {
		int st = csm_rsi_share_state(rsi, a->share_id, &state, &perm,
					     &rc, &rp);

		if (st == -EINVAL || (!st && state >= CSM_RSI_ST_REVOKED))
			err = 0;
	}
	if (!err) {
		csm_rsi_attach_free(rsi, a);
		return;
	}
	if (!a->detach_owed)
		pr_info("csm: rsi: share %#llx: CSM_DETACH_AND_FREE failed (%d); retried every poll\n",
			a->share_id, err);
	a->detach_owed = true;
	a->attached = false;
	csm_rsi_poll_kick(rsi);
}

static int csm_rsi_reserve(struct csm_rmm *rmm, u64 share_id, u64 size,
			   struct csm_rmm_region *out)
{
	struct csm_rsi *rsi = to_rsi(rmm);
	u8 rid = csm_rsi_share_rid(share_id), ptag = csm_rsi_share_ptag(share_id);
	u32 state = CSM_RSI_ST_GRANTED, perm = CSM_PERM_RO, rc = 0, rp = 0;
	struct csm_rsi_regs r = {};
	struct csm_rsi_attach *a;
	u64 rsize = 0, base;
	int err;

	if (!csm_rsi_share_id_ok(share_id))
		return -ENOENT;
	if (csm_rsi_share_ctag(share_id) != rsi->realm_tag)
		return ptag == rsi->realm_tag ? -EPERM : -EACCES;
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	mutex_lock(&rsi->lock);
	if (csm_rsi_find_attach(rsi, share_id)) {
		/* Attached, or a detach still owed: not again yet. */
		err = -EEXIST;
		goto out_free;
	}
	err = csm_rsi_share_state(rsi, share_id, &state, &perm, &rc, &rp);
	if (err == -EINVAL) {
		err = csm_rsi_ended_errno(rsi, share_id) ?: -ENOENT;
		goto out_free;
	} else if (err == -EOPNOTSUPP) {
		pr_info_ratelimited("csm: rsi: no CSM_EXT_SHARE_STATUS: share %#llx attached read-only\n",
				    share_id);
	} else if (err) {
		goto out_free;
	}
	err = state == CSM_RSI_ST_REVOKED ? -EKEYREVOKED :
	      state == CSM_RSI_ST_DESTROYED ? -EIDRM :
	      state == CSM_RSI_ST_ATTACHED ? -EEXIST : 0;
	if (err)
		goto out_free;
	err = csm_rsi_region_state(rsi, rid, &rsize);
	if (err == -EOPNOTSUPP && size) {
		rsize = size;
	} else if (err == -EOPNOTSUPP) {
		pr_info_ratelimited("csm: rsi: no CSM_EXT_REGION_STATUS: attach needs the region size\n");
		err = -EINVAL;
		goto out_free;
	} else if (err) {
		goto out_free;
	}
	if (size && size != rsize) {
		err = -EINVAL;
		goto out_free;
	}
	if (!rsize || rsize % CSM_RSI_GRANULE || rsize > rsi->win_size) {
		pr_info_ratelimited("csm: rsi: region %u of realm %u has size %#llx: cannot reserve it\n",
				    rid, ptag, rsize);
		err = -ENOMEM;
		goto out_free;
	}
	err = csm_rsi_window_alloc(rsi, rsize, &base);
	if (err)
		goto out_free;
	r.x[1] = share_id;
	r.x[2] = base;
	r.x[3] = rsize;
	err = csm_rsi_call(rsi, CSM_RSI_CSM_RESERVE, &r, 0);
	if (err) {
		csm_rsi_window_free(rsi, base, rsize);
		goto out_free;
	}
	a->share_id = share_id;
	a->region_id = (u64)ptag << 8 | rid;
	a->provider = ptag;
	a->base = base;
	a->size = rsize;
	a->index = r.x[2];
	a->perm = perm;
	a->last_state = CSM_RSI_ST_RESERVED;
	a->last_rings = rc;
	list_add_tail(&a->link, &rsi->attachments);
	mutex_unlock(&rsi->lock);
	out->region_id = a->region_id;
	out->size = rsize;
	out->provider_realm_id = ptag;
	out->perm = perm;
	out->share_slot = 0;
	out->phys = base;
	return 0;

out_free:
	mutex_unlock(&rsi->lock);
	kfree(a);
	return err;
}

static int csm_rsi_attach(struct csm_rmm *rmm, u64 share_id)
{
	struct csm_rsi *rsi = to_rsi(rmm);
	struct csm_rsi_attach *a;
	struct csm_rsi_regs r = {};
	int err;

	mutex_lock(&rsi->lock);
	a = csm_rsi_find_attach(rsi, share_id);
	if (!a || a->attached || a->detach_owed) {
		err = a ? -EEXIST : -ENOENT;
		goto out;
	}
	r.x[1] = a->index;
	err = csm_rsi_call(rsi, CSM_RSI_CSM_ATTACH, &r, 0);
	if (err) {
		/* Give the reservation back; the core has no record of it. */
		csm_rsi_detach_locked(rsi, a);
		goto out;
	}
	a->attached = true;
	a->last_state = CSM_RSI_ST_ATTACHED;
	csm_rsi_poll_kick(rsi);
out:
	mutex_unlock(&rsi->lock);
	return err;
}

static int csm_rsi_detach(struct csm_rmm *rmm, u64 share_id)
{
	struct csm_rsi *rsi = to_rsi(rmm);
	struct csm_rsi_attach *a;

	mutex_lock(&rsi->lock);
	a = csm_rsi_find_attach(rsi, share_id);
	if (a && !a->detach_owed)
		csm_rsi_detach_locked(rsi, a);
	mutex_unlock(&rsi->lock);
	return 0;
}

static int csm_rsi_ring(struct csm_rmm *rmm, u64 share_id, u32 share_slot,
			bool to_consumer)
{
	struct csm_rsi_regs r = { .x[1] = share_id, .x[2] = to_consumer ? 0 : 1 };

	return csm_rsi_call(to_rsi(rmm), CSM_RSI_EXT_DOORBELL, &r, CSM_RSI_QUIET);
}

/*
 * A consumer that sees its share revoked asks whether the region is gone
 * too: a provider's forced destroy revokes, then destroys, and the consumer
 * should hear DESTROYED. One re-check a millisecond later covers the gap
 * between the provider's two calls.
 */
static u32 csm_rsi_revoked_or_destroyed(struct csm_rsi *rsi, u64 share_id)
{
	u64 size;
	int i;

	for (i = 0; i < 2; i++) {
		if (csm_rsi_region_state(rsi, csm_rsi_share_rid(share_id), &size))
			return CSM_RMM_SHARE_DESTROYED;
		if (!i)
			usleep_range(1000, 1500);
	}
	return CSM_RMM_SHARE_REVOKED;
}

static int csm_rsi_share_status(struct csm_rmm *rmm, u64 share_id,
				u32 share_slot, struct csm_rmm_share_status *st)
{
	struct csm_rsi *rsi = to_rsi(rmm);
	bool consumer = csm_rsi_share_ctag(share_id) == rsi->realm_tag;
	u32 state, perm, rc, rp;
	int err;

	/*
	 * The RSI reports no attach count (attaches_known stays false): the
	 * core keeps snapshot semantics, so a consumer that attaches and
	 * detaches between two polls raises no event on this backend.
	 */
	memset(st, 0, sizeof(*st));
	st->consumer_realm_id = csm_rsi_share_ctag(share_id);
	err = csm_rsi_share_state(rsi, share_id, &state, &perm, &rc, &rp);
	if (err == -EOPNOTSUPP) {
		/* No way to learn about the peer: what we did ourselves. */
		st->state = consumer ? CSM_RMM_SHARE_ATTACHED : CSM_RMM_SHARE_GRANTED;
		return 0;
	}
	if (err == -EINVAL) {
		st->state = CSM_RMM_SHARE_DESTROYED;
		return 0;
	}
	if (err)
		return err;
	st->perm = perm;
	st->rings_to_consumer = rc;
	st->rings_to_provider = rp;
	switch (state) {
	case CSM_RSI_ST_ATTACHED:
		st->state = CSM_RMM_SHARE_ATTACHED;
		break;
	case CSM_RSI_ST_REVOKED:
		st->state = consumer ? csm_rsi_revoked_or_destroyed(rsi, share_id) :
				       CSM_RMM_SHARE_REVOKED;
		break;
	case CSM_RSI_ST_DESTROYED:
		st->state = CSM_RMM_SHARE_DESTROYED;
		break;
	default:
		st->state = CSM_RMM_SHARE_GRANTED;
		break;
	}
	return 0;
}

static int csm_rsi_region_party(struct csm_rmm *rmm, u64 region_id)
{
	struct csm_rsi *rsi = to_rsi(rmm);
	u8 rid = region_id & 0xff;
	struct csm_rsi_attach *a;
	u64 size;
	int err;

	if (!rid || !(region_id >> 8) || region_id >> 16)
		return -ENOENT;
	mutex_lock(&rsi->lock);
	if (region_id >> 8 == rsi->realm_tag) {
		err = csm_rsi_find_region(rsi, region_id) ? 0 :
		      csm_rsi_ended_errno(rsi, region_id) ?: -ENOENT;
		goto out;
	}
	err = csm_rsi_ended_errno(rsi, region_id);
	list_for_each_entry(a, &rsi->attachments, link)
		if (a->region_id == region_id)
			err = -EPERM;
	if (!err) {
		err = csm_rsi_region_state(rsi, rid, &size);
		if (!err || err == -EOPNOTSUPP)
			err = -EACCES;
	}
out:
	mutex_unlock(&rsi->lock);
	return err;
}

static int csm_rsi_share_party(struct csm_rmm *rmm, u64 share_id)
{
	struct csm_rsi *rsi = to_rsi(rmm);
	u32 state, perm, rc, rp;
	int err;

	if (!csm_rsi_share_id_ok(share_id))
		return -ENOENT;
	if (csm_rsi_share_ctag(share_id) != rsi->realm_tag)
		return csm_rsi_share_ptag(share_id) == rsi->realm_tag ? -EPERM : -EACCES;
	err = csm_rsi_share_state(rsi, share_id, &state, &perm, &rc, &rp);
	if (err == -EINVAL || err == -EOPNOTSUPP) {
		mutex_lock(&rsi->lock);
		err = csm_rsi_ended_errno(rsi, share_id) ?: -ENOENT;
		mutex_unlock(&rsi->lock);
		return err;
	}
	if (err)
		return err;
	return state == CSM_RSI_ST_REVOKED ? -EKEYREVOKED :
	       state == CSM_RSI_ST_DESTROYED ? -EIDRM : 0;
}

/* What failed earlier and is owed to the RMM: retried by the poll. Locked. */
void csm_rsi_retry_owed(struct csm_rsi *rsi)
{
	struct csm_rsi_region *reg, *rtmp;
	struct csm_rsi_attach *a, *atmp;

	list_for_each_entry_safe(reg, rtmp, &rsi->regions, link)
		if (reg->zombie && !csm_rsi_destroy_locked(rsi, reg))
			pr_info("csm: rsi: owed CSM_DESTROY done\n");
	list_for_each_entry_safe(a, atmp, &rsi->attachments, link)
		if (a->detach_owed)
			csm_rsi_detach_locked(rsi, a);
}

const struct csm_rmm_ops csm_rsi_ops = {
	.realm_id = csm_rsi_realm_id,
	.create = csm_rsi_create,
	.share = csm_rsi_share,
	.revoke = csm_rsi_revoke,
	.destroy = csm_rsi_destroy,
	.reserve = csm_rsi_reserve,
	.attach = csm_rsi_attach,
	.detach = csm_rsi_detach,
	.attest = csm_rsi_attest,
	.ring = csm_rsi_ring,
	.share_status = csm_rsi_share_status,
	.region_party = csm_rsi_region_party,
	.share_party = csm_rsi_share_party,
};
