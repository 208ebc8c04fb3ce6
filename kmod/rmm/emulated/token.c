// SPDX-License-Identifier: GPL-2.0
/*
 * Emulated RMM: attestation "tokens". There is no hardware root of trust
 * here, so the token is a plain, unsigned claims record (format
 * CSM_TOKEN_EMULATED, struct csm_emu_token in the UAPI header); a verifier
 * can check the binding of challenge, realm and region, and nothing more.
 */
#include <linux/string.h>

#include <csm/uapi/csm.h>
#include "emu.h"

/* The layout is UAPI (include/csm/uapi/csm.h); libcsm parses it. */
static_assert(sizeof(struct csm_emu_token) == 128);
static_assert(sizeof(struct csm_emu_token_consumer) == 16);

int csm_emu_attest(struct csm_rmm *rmm, u64 region_id, const u8 *challenge,
		   u32 challenge_len, void *buf, u32 *len, u32 *format)
{
	struct csm_emu *e = container_of(rmm, struct csm_emu, rmm);
	struct csm_emu_token_consumer *c = buf + sizeof(struct csm_emu_token);
	struct csm_emu_token *t = buf;
	struct csm_emu_region r;
	struct csm_emu_share s;
	u32 n = 0, max;
	unsigned int i;
	int ret;

	if (*len < sizeof(*t))
		return -ENOSPC;
	max = (*len - sizeof(*t)) / sizeof(*c);
	ret = csm_emu_lock(e);
	if (ret)
		return ret;
	if (csm_emu_find_region(e, region_id, &r) < 0) {
		csm_emu_unlock(e);
		return -ENOENT;
	}
	for (i = 0; i < CSM_EMU_MAX_SHARES && n < max; i++) {
		if (!csm_emu_read_share(e, i, &s) || s.region_id != region_id)
			continue;
		c[n].realm_id = cpu_to_le64(s.consumer);
		c[n].perm = cpu_to_le32(s.perm);
		c[n].state = cpu_to_le32(s.state == CSM_EMU_SHARE_ATTACHED ?
					 CSM_SHARE_ATTACHED :
					 CSM_SHARE_GRANTED);
		n++;
	}
	csm_emu_unlock(e);

	memset(t, 0, sizeof(*t));
	strscpy(t->magic, CSM_EMU_TOKEN_MAGIC, sizeof(t->magic));
	t->version = cpu_to_le32(CSM_EMU_TOKEN_VERSION);
	t->nr_consumers = cpu_to_le32(n);
	t->caller_realm_id = cpu_to_le64(e->realm_id);
	t->region_id = cpu_to_le64(r.id);
	t->size = cpu_to_le64(r.size);
	t->provider_realm_id = cpu_to_le64(r.provider);
	t->challenge_len = cpu_to_le32(challenge_len);
	memcpy(t->challenge, challenge, challenge_len);
	*len = sizeof(*t) + n * sizeof(*c);
	*format = CSM_TOKEN_EMULATED;
	return 0;
}
