/* SPDX-License-Identifier: (GPL-2.0-only WITH Linux-syscall-note) OR MIT */
/*
 * attestation_cca.h - the evidence CSM_IOC_ATTEST returns with token_format
 * CSM_TOKEN_CCA (the RSI backend), shared verbatim by kmod/ and libcsm/.
 *
 * Layout of the attest buffer (all integers little-endian):
 *
 *   struct csm_cca_evidence      header, CSM_CCA_EVIDENCE_HDR_SIZE bytes
 *   struct csm_cca_region_desc   the region as this realm's kernel saw it
 *   token_len bytes              the CCA attestation token collection
 *                                (CBOR tag 399: platform + realm token)
 *
 * Binding: the realm token's challenge claim (key 10) is
 *   SHA-512(struct csm_cca_region_desc as bytes || challenge[0..challenge_len))
 * so a verifier that trusts the platform key learns that the realm whose
 * token it is described this region to this challenge. The descriptor is
 * the kernel's word (the RMM does not vouch for sizes or consumers); the
 * realm's identity and measurements are the RMM's.
 */
#ifndef _UAPI_LINUX_CSM_ATTESTATION_CCA_H
#define _UAPI_LINUX_CSM_ATTESTATION_CCA_H

#include <linux/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CSM_CCA_EVIDENCE_MAGIC		"CSM-CCA-EVID-1"	/* + NUL, in 16 bytes */
#define CSM_CCA_EVIDENCE_VERSION	1u
#define CSM_CCA_EVIDENCE_HDR_SIZE	128u
#define CSM_CCA_REGION_DESC_SIZE	256u
#define CSM_CCA_DESC_VERSION		1u
#define CSM_CCA_MAX_CONSUMERS		8u	/* listed in one descriptor */
#define CSM_CCA_HASH_SHA512		1u	/* struct csm_cca_evidence.binding */

/**
 * struct csm_cca_evidence - header of a CSM_TOKEN_CCA attest buffer.
 * @magic: CSM_CCA_EVIDENCE_MAGIC, NUL padded.
 * @version: CSM_CCA_EVIDENCE_VERSION.
 * @header_size: CSM_CCA_EVIDENCE_HDR_SIZE.
 * @desc_size: CSM_CCA_REGION_DESC_SIZE.
 * @token_len: bytes of CCA token after the descriptor.
 * @challenge_len: the caller's challenge length (32..64).
 * @binding: CSM_CCA_HASH_SHA512: how the realm challenge was derived.
 * @__pad: zero.
 * @challenge: the caller's challenge, zero past @challenge_len.
 * @reserved: zero.
 */
struct csm_cca_evidence {
	char magic[16];
	__le32 version;
	__le32 header_size;
	__le32 desc_size;
	__le32 token_len;
	__le32 challenge_len;
	__le32 binding;
	__le64 __pad;
	__u8 challenge[64];
	__le64 reserved[2];
};

/**
 * struct csm_cca_consumer - one share of the region, as the provider knows it.
 * @realm_id: the consumer realm (its RMM realm tag).
 * @share_id: the sharing ID.
 * @perm: CSM_PERM_RO or CSM_PERM_RW.
 * @state: enum csm_share_state (as last seen).
 */
struct csm_cca_consumer {
	__le64 realm_id;
	__le64 share_id;
	__le32 perm;
	__le32 state;
};

/**
 * struct csm_cca_region_desc - the region an attestation is about.
 * @version: CSM_CCA_DESC_VERSION.
 * @desc_size: CSM_CCA_REGION_DESC_SIZE.
 * @caller_realm_id: the attesting realm (its realm tag).
 * @region_id: the region (provider tag << 8 | RMM region id).
 * @region_size: bytes.
 * @provider_realm_id: the provider's realm tag.
 * @share_id: consumer: the share it attached through; provider: 0.
 * @caller_role: enum csm_role of the caller for this region.
 * @caller_perm: CSM_PERM_RO or CSM_PERM_RW.
 * @nr_consumers: valid entries in @consumers (provider: its live shares, at
 *	most CSM_CCA_MAX_CONSUMERS; consumer: 1, itself).
 * @consumers_total: live shares in all (may exceed @nr_consumers).
 * @consumers: see struct csm_cca_consumer; unused entries zero.
 */
struct csm_cca_region_desc {
	__le32 version;
	__le32 desc_size;
	__le64 caller_realm_id;
	__le64 region_id;
	__le64 region_size;
	__le64 provider_realm_id;
	__le64 share_id;
	__le32 caller_role;
	__le32 caller_perm;
	__le32 nr_consumers;
	__le32 consumers_total;
	struct csm_cca_consumer consumers[CSM_CCA_MAX_CONSUMERS];
};

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* _UAPI_LINUX_CSM_ATTESTATION_CCA_H */
