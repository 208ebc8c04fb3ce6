// SPDX-License-Identifier: GPL-2.0
/*
 * RSI backend: attestation (CSM_TOKEN_CCA, include/csm/uapi/attestation_cca.h).
 *
 * The realm challenge is SHA-512(region descriptor || caller's challenge),
 * so the token binds what this kernel says about the region to the
 * verifier's nonce. RSI_ATTESTATION_TOKEN_INIT and every CONTINUE run on one
 * CPU (the RMM keeps the token in progress per REC): migrate_disable()
 * around the whole exchange. The token comes back through one granule of
 * guest RAM, and the RMM never gets to return more than INIT announced.
 */
#include <crypto/hash.h>
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/preempt.h>
#include <linux/sched/signal.h>
#include <linux/string.h>

#include <csm/uapi/csm.h>
#include <csm/uapi/attestation_cca.h>
#include "rsi.h"

#define CSM_RSI_TOKEN_WAIT_MS	10000	/* the signer may take a while */
#define CSM_RSI_TOKEN_BOUND_MAX	(64 * 1024)	/* larger INIT bounds are refused */

static_assert(sizeof(struct csm_cca_evidence) == CSM_CCA_EVIDENCE_HDR_SIZE);
static_assert(sizeof(struct csm_cca_region_desc) == CSM_CCA_REGION_DESC_SIZE);

/* The region as this realm holds it (locked). Little-endian fields. */
static int csm_rsi_describe(struct csm_rsi *rsi, u64 region_id,
			    struct csm_cca_region_desc *d)
{
	struct csm_rsi_region *reg;
	struct csm_rsi_attach *a;
	struct csm_rsi_share *s;
	u32 n = 0, total = 0;

	memset(d, 0, sizeof(*d));
	d->version = cpu_to_le32(CSM_CCA_DESC_VERSION);
	d->desc_size = cpu_to_le32(sizeof(*d));
	d->caller_realm_id = cpu_to_le64(rsi->realm_tag);
	d->region_id = cpu_to_le64(region_id);
	list_for_each_entry(reg, &rsi->regions, link) {
		if (reg->id != region_id || reg->zombie)
			continue;
		d->region_size = cpu_to_le64(reg->size);
		d->provider_realm_id = cpu_to_le64(rsi->realm_tag);
		d->caller_role = cpu_to_le32(CSM_ROLE_PROVIDER);
		d->caller_perm = cpu_to_le32(CSM_PERM_RW);
		list_for_each_entry(s, &rsi->shares, link) {
			struct csm_cca_consumer *c;

			if (s->region_id != region_id)
				continue;
			if (n < CSM_CCA_MAX_CONSUMERS) {
				c = &d->consumers[n++];
				c->realm_id = cpu_to_le64(s->consumer);
				c->share_id = cpu_to_le64(s->id);
				c->perm = cpu_to_le32(s->perm);
				c->state = cpu_to_le32(s->last_state == CSM_RSI_ST_ATTACHED ?
						       CSM_SHARE_ATTACHED : CSM_SHARE_GRANTED);
			}
			total++;
		}
		d->nr_consumers = cpu_to_le32(n);
		d->consumers_total = cpu_to_le32(total);
		return 0;
	}
	list_for_each_entry(a, &rsi->attachments, link) {
		if (a->region_id != region_id || !a->attached)
			continue;
		d->region_size = cpu_to_le64(a->size);
		d->provider_realm_id = cpu_to_le64(a->provider);
		d->share_id = cpu_to_le64(a->share_id);
		d->caller_role = cpu_to_le32(CSM_ROLE_CONSUMER);
		d->caller_perm = cpu_to_le32(a->perm);
		d->nr_consumers = cpu_to_le32(1);
		d->consumers_total = cpu_to_le32(1);
		d->consumers[0].realm_id = cpu_to_le64(rsi->realm_tag);
		d->consumers[0].share_id = cpu_to_le64(a->share_id);
		d->consumers[0].perm = cpu_to_le32(a->perm);
		d->consumers[0].state = cpu_to_le32(CSM_SHARE_ATTACHED);
		return 0;
	}
	return -ENOENT;
}

static int csm_rsi_challenge(struct csm_rsi *rsi,
			     const struct csm_cca_region_desc *d,
			     const u8 *challenge, u32 len, u8 out[64])
{
	SHASH_DESC_ON_STACK(h, rsi->sha512);
	int err;

	h->tfm = rsi->sha512;
	err = crypto_shash_init(h);
	if (!err)
		err = crypto_shash_update(h, (const u8 *)d, sizeof(*d));
	if (!err)
		err = crypto_shash_finup(h, challenge, len, out);
	shash_desc_zero(h);
	return err;
}

/*
 * INIT + CONTINUE into a buffer of INIT's upper bound (*@token, for the
 * caller to kvfree). Called with attest_lock held and migration disabled.
 */
static int csm_rsi_token(struct csm_rsi *rsi, const u8 chal[64], u8 **token,
			 u32 *token_len)
{
	ktime_t deadline = ktime_add_ms(ktime_get(), CSM_RSI_TOKEN_WAIT_MS);
	struct csm_rsi_regs r = {};
	unsigned long bound, n, off, total = 0, calls = 0;
	bool done = false;
	int i, err;

	for (i = 0; i < 8; i++) {
		__le64 w;

		memcpy(&w, chal + 8 * i, sizeof(w));
		r.x[1 + i] = le64_to_cpu(w);
	}
	err = csm_rsi_call(rsi, CSM_RSI_ATTEST_INIT, &r, 0);
	if (err)
		return err;
	bound = r.x[1];
	if (!bound || bound > CSM_RSI_TOKEN_BOUND_MAX) {
		pr_info_ratelimited("csm: rsi: RSI_ATTESTATION_TOKEN_INIT announces %lu bytes (1..%u accepted): refused\n",
				    bound, CSM_RSI_TOKEN_BOUND_MAX);
		return -EPROTO;
	}
	*token = kvzalloc(bound, GFP_KERNEL);
	if (!*token)
		return -ENOMEM;
	while (!done) {
		off = 0;
		while (off < CSM_RSI_GRANULE) {
			memset(&r, 0, sizeof(r));
			r.x[1] = virt_to_phys(rsi->bounce);
			r.x[2] = off;
			r.x[3] = CSM_RSI_GRANULE - off;
			err = csm_rsi_call(rsi, CSM_RSI_ATTEST_CONTINUE, &r,
					   CSM_RSI_QUIET | CSM_RSI_NO_RETRY);
			calls++;
			if (err && err != -EAGAIN)
				return err;
			n = r.x[1];
			if (n > CSM_RSI_GRANULE - off || n > bound - total - off) {
				pr_err("csm: rsi: RSI_ATTESTATION_TOKEN_CONTINUE returned %lu bytes at %lu: more than the granule or than the %lu INIT announced\n",
				       n, total + off, bound);
				return -EPROTO;
			}
			off += n;
			if (!err) {
				done = true;
				break;
			}
			if (n)
				continue;
			/* INCOMPLETE with nothing yet: the token is being made. */
			if (ktime_after(ktime_get(), deadline)) {
				pr_info_ratelimited("csm: rsi: no attestation token after %d ms\n",
						    CSM_RSI_TOKEN_WAIT_MS);
				return -ETIMEDOUT;
			}
			if (fatal_signal_pending(current))
				return -EINTR;
			usleep_range(200, 500);
		}
		memcpy(*token + total, rsi->bounce, off);
		total += off;
	}
	pr_info_ratelimited("csm: rsi: attestation token of %lu bytes (INIT announced %lu) in %lu CONTINUE calls\n",
			    total, bound, calls);
	*token_len = total;
	return 0;
}

int csm_rsi_attest(struct csm_rmm *rmm, u64 region_id, const u8 *challenge,
		   u32 challenge_len, void *buf, u32 *len, u32 *format)
{
	struct csm_rsi *rsi = to_rsi(rmm);
	struct csm_cca_evidence *ev = buf;
	struct csm_cca_region_desc *d = buf + sizeof(*ev);
	u32 room, token_len = 0;
	u8 *token = NULL;
	u8 chal[64];
	int err;

	if (!rsi->sha512)
		return -EOPNOTSUPP;
	if (*len < sizeof(*ev) + sizeof(*d) || challenge_len > 64)
		return -ENOSPC;
	room = *len - sizeof(*ev) - sizeof(*d);
	mutex_lock(&rsi->lock);
	err = csm_rsi_describe(rsi, region_id, d);
	mutex_unlock(&rsi->lock);
	if (err)
		return err;
	err = csm_rsi_challenge(rsi, d, challenge, challenge_len, chal);
	if (err)
		return err;

	mutex_lock(&rsi->attest_lock);
	migrate_disable();
	err = csm_rsi_token(rsi, chal, &token, &token_len);
	migrate_enable();
	mutex_unlock(&rsi->attest_lock);
	memzero_explicit(chal, sizeof(chal));
	if (!err && token_len > room) {
		pr_info_ratelimited("csm: rsi: attestation token of %u bytes does not fit the %u the ioctl allows\n",
				    token_len, room);
		err = -E2BIG;
	}
	if (!err)
		memcpy(buf + sizeof(*ev) + sizeof(*d), token, token_len);
	kvfree(token);
	if (err)
		return err;

	memset(ev, 0, sizeof(*ev));
	strscpy(ev->magic, CSM_CCA_EVIDENCE_MAGIC, sizeof(ev->magic));
	ev->version = cpu_to_le32(CSM_CCA_EVIDENCE_VERSION);
	ev->header_size = cpu_to_le32(sizeof(*ev));
	ev->desc_size = cpu_to_le32(sizeof(*d));
	ev->token_len = cpu_to_le32(token_len);
	ev->challenge_len = cpu_to_le32(challenge_len);
	ev->binding = cpu_to_le32(CSM_CCA_HASH_SHA512);
	memcpy(ev->challenge, challenge, challenge_len);
	*len = sizeof(*ev) + sizeof(*d) + token_len;
	*format = CSM_TOKEN_CCA;
	return 0;
}
