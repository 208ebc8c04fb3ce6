/* SPDX-License-Identifier: (GPL-2.0-only WITH Linux-syscall-note) OR MIT */
/*
 * csm.h - userspace API of the confidential shared memory (CSM) device.
 */
/* CSM_UAPI_READY */
/*
 * This header is the single contract between libcsm and every CSM backend:
 * the /dev/csm kernel module (RSI and emulated-RMM backends) and libcsm's
 * in-process simulator, which implements these exact ioctls and structs
 * without a kernel. It is shared verbatim by kmod/ and libcsm/.
 *
 * Model (CAEC): every party is a realm with a system-wide realm ID. A
 * provider realm creates a region, shares it with a peer realm read-only or
 * read-write (getting a share ID), may revoke a share and destroy the region
 * (refused while shares are live unless forced). A consumer realm attaches
 * by share ID (reserve + attach in one call) and maps the region; detach
 * unmaps it. Doorbells are hints only; correctness comes from sequence words
 * inside the region.
 *
 * General rules, for every ioctl:
 *  - Every struct has a fixed size, explicit padding and trailing reserved
 *    words. Input padding, reserved words and unknown flag bits must be zero,
 *    otherwise the call fails with -EINVAL. Output-only fields are ignored
 *    on input and fully written (zeroed where unused) on success. The _IOR
 *    commands (VERSION, REALM) take no input at all.
 *  - IDs (realm, region, share) are opaque, nonzero __u64 values, never
 *    reused while the device is up. 0 means "none". A region ID is unique
 *    system-wide (a backend with per-provider region numbers folds the
 *    provider's realm tag into it).
 *  - Sizes are multiples of CSM_GRANULE_SIZE (4096) and nonzero.
 *  - Pointers are passed as __u64 (use (__u64)(uintptr_t)ptr), so 32-bit
 *    and 64-bit userspace share one layout; no compat ioctl is needed.
 *
 * Errors (negative errno from ioctl, errno from libc):
 *  EINVAL       malformed argument: nonzero reserved/padding, unknown flag,
 *               bad size or permission, challenge length out of range.
 *  ENOTTY       unknown ioctl number.
 *  ENOENT       no such region/share ID (never existed, or forgotten).
 *  EKEYREVOKED  the share was revoked by its provider.
 *  EIDRM        the region was destroyed (explicitly or by force).
 *  ENOLINK      the share or region ended because a party's realm is gone.
 *  ESRCH        no live realm has the given peer realm ID.
 *  EACCES       the caller is not a party allowed to do this (e.g. attaching
 *               a share granted to another realm, revoking someone else's
 *               share, mapping a read-only share writable).
 *  EPERM        the caller's role does not allow it (a consumer sharing or
 *               destroying, a provider attaching its own region).
 *  EBUSY        destroy without CSM_DESTROY_FORCE while shares are live.
 *  EEXIST       already attached to this share.
 *  EALREADY     share already revoked / region already being destroyed.
 *  ENOSPC       a table is full (regions, shares, realms), or the attest
 *               token buffer is too small (token_len then holds the size
 *               needed).
 *  ENOMEM       out of memory for the region itself.
 *  E2BIG        size above max_region_size.
 *  ETIMEDOUT    revoke (sim and emulated-RMM backends): the consumer did
 *               not confirm unmapping in time; the share is revoked in the
 *               state table regardless. Emulated RMM, any call that changes
 *               state: another VM held the shared table lock too long.
 *  EFAULT       a user pointer is bad.
 *  EOPNOTSUPP   the backend lacks the feature (see CSM_FEAT_*).
 */
#ifndef _UAPI_LINUX_CSM_H
#define _UAPI_LINUX_CSM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this header: major << 16 | minor. Minor bumps are additive. */
#define CSM_UAPI_VERSION_MAJOR	1
#define CSM_UAPI_VERSION_MINOR	0
#define CSM_UAPI_VERSION	((CSM_UAPI_VERSION_MAJOR << 16) | \
				 CSM_UAPI_VERSION_MINOR)

#define CSM_DEVICE_PATH		"/dev/csm"
#define CSM_GRANULE_SIZE	4096u	/* region size unit, RMM granule */
#define CSM_CHALLENGE_MIN	32u	/* RSI attestation challenge bounds */
#define CSM_CHALLENGE_MAX	64u
#define CSM_BACKEND_NAME_LEN	48u

/* Which implementation answers the ioctls (struct csm_version.backend). */
enum csm_backend {
	CSM_BACKEND_NONE = 0,
	CSM_BACKEND_RSI = 1,		/* real Arm CCA RMM: confidential */
	CSM_BACKEND_EMULATED_RMM = 2,	/* module over ivshmem: NOT confidential */
	CSM_BACKEND_SIM = 3,		/* libcsm simulator: NOT confidential */
};

/* struct csm_version.features */
#define CSM_FEAT_CONFIDENTIAL	(1ULL << 0) /* memory hidden from host/hyp */
#define CSM_FEAT_READ_ONLY	(1ULL << 1) /* RO shares enforced by mapping */
#define CSM_FEAT_REVOKE_ZAP	(1ULL << 2) /* revoke removes live mappings */
#define CSM_FEAT_FORCE_DESTROY	(1ULL << 3)
#define CSM_FEAT_ATTEST		(1ULL << 4)
#define CSM_FEAT_DOORBELL	(1ULL << 5)
#define CSM_FEAT_EVENTS		(1ULL << 6)
#define CSM_FEAT_LIST		(1ULL << 7)

/* Share permissions (struct csm_share.perm and friends). */
#define CSM_PERM_READ		(1u << 0)
#define CSM_PERM_WRITE		(1u << 1)
#define CSM_PERM_RO		CSM_PERM_READ
#define CSM_PERM_RW		(CSM_PERM_READ | CSM_PERM_WRITE)

/* The caller's role for a region (struct csm_region_info.role). */
enum csm_role {
	CSM_ROLE_NONE = 0,
	CSM_ROLE_PROVIDER = 1,
	CSM_ROLE_CONSUMER = 2,
};

/* Region state as seen by the caller (struct csm_region_info.state). */
enum csm_region_state {
	CSM_REGION_ACTIVE = 1,		/* mapped or mappable */
	CSM_REGION_REVOKED = 2,		/* consumer: share revoked, mapping gone */
	CSM_REGION_DESTROYED = 3,	/* consumer: provider destroyed it */
	CSM_REGION_GONE = 4,		/* consumer: provider realm died */
};

/* Share state (struct csm_share_info.state). */
enum csm_share_state {
	CSM_SHARE_GRANTED = 1,		/* live, consumer not attached */
	CSM_SHARE_ATTACHED = 2,		/* live, consumer attached */
	CSM_SHARE_REVOKING = 3,		/* revoke in progress */
};

/**
 * struct csm_version - CSM_IOC_VERSION: what this device is.
 * @uapi_version: out: CSM_UAPI_VERSION the backend implements. Userspace
 *	must refuse a different major.
 * @backend: out: enum csm_backend.
 * @features: out: CSM_FEAT_* bits. Without CSM_FEAT_CONFIDENTIAL the memory
 *	is visible to the host: tools must say so.
 * @max_region_size: out: largest size accepted by CSM_IOC_CREATE.
 * @granule_size: out: CSM_GRANULE_SIZE.
 * @max_regions: out: regions the backend can hold system-wide.
 * @max_shares: out: shares the backend can hold system-wide.
 * @__pad: must be zero.
 * @backend_name: out: NUL-terminated human-readable description, e.g.
 *	"sim (no confidentiality)".
 * @reserved: must be zero.
 */
struct csm_version {
	__u32 uapi_version;
	__u32 backend;
	__u64 features;
	__u64 max_region_size;
	__u32 granule_size;
	__u32 max_regions;
	__u32 max_shares;
	__u32 __pad;
	char backend_name[CSM_BACKEND_NAME_LEN];
	__u64 reserved[4];
};

/**
 * struct csm_realm - CSM_IOC_REALM: the caller's own realm.
 * @realm_id: out: the caller's realm ID, the value peers share with.
 * @reserved: must be zero.
 */
struct csm_realm {
	__u64 realm_id;
	__u64 reserved[3];
};

/**
 * struct csm_create - CSM_IOC_CREATE: create a region as its provider.
 * @size: in: bytes, a nonzero multiple of CSM_GRANULE_SIZE.
 * @flags: in: must be zero.
 * @__pad: must be zero.
 * @region_id: out: the new region.
 * @mmap_offset: out: pass to mmap() to map the region (see "Mapping").
 * @reserved: must be zero.
 *
 * The region's content starts zeroed. The provider maps it read-write.
 */
struct csm_create {
	__u64 size;
	__u32 flags;
	__u32 __pad;
	__u64 region_id;
	__u64 mmap_offset;
	__u64 reserved[4];
};

/**
 * struct csm_share - CSM_IOC_SHARE: grant a peer realm access to a region.
 * @region_id: in: a region the caller provides.
 * @peer_realm_id: in: the consumer realm; must be live and not the caller.
 * @perm: in: CSM_PERM_RO or CSM_PERM_RW.
 * @flags: in: must be zero.
 * @share_id: out: the ID the consumer attaches with.
 * @reserved: must be zero.
 *
 * A region may be shared with the same peer only once at a time (EEXIST).
 */
struct csm_share {
	__u64 region_id;
	__u64 peer_realm_id;
	__u32 perm;
	__u32 flags;
	__u64 share_id;
	__u64 reserved[4];
};

/**
 * struct csm_revoke - CSM_IOC_REVOKE: end a share.
 * @share_id: in: a share of a region the caller provides.
 * @flags: in: must be zero.
 * @__pad: must be zero.
 * @reserved: must be zero.
 *
 * When the call returns 0, the consumer's mapping is gone (any access
 * faults; it can never read later contents) and the consumer has been sent
 * CSM_EVENT_REVOKED. The share ID stays stale afterwards (EKEYREVOKED).
 */
struct csm_revoke {
	__u64 share_id;
	__u32 flags;
	__u32 __pad;
	__u64 reserved[2];
};

#define CSM_DESTROY_FORCE	(1u << 0) /* revoke live shares first */

/**
 * struct csm_destroy - CSM_IOC_DESTROY: tear a region down.
 * @region_id: in: a region the caller provides.
 * @flags: in: 0 (fails with EBUSY while any share is live) or
 *	CSM_DESTROY_FORCE (revokes every share, unmapping every consumer,
 *	who get CSM_EVENT_DESTROYED).
 * @__pad: must be zero.
 * @reserved: must be zero.
 *
 * The caller's own mappings of the region fault after this returns.
 */
struct csm_destroy {
	__u64 region_id;
	__u32 flags;
	__u32 __pad;
	__u64 reserved[2];
};

/**
 * struct csm_attach - CSM_IOC_ATTACH: reserve a window and attach a share.
 * @share_id: in: a share granted to the caller's realm.
 * @size: in: the size the caller expects (CSM_RESERVE's rule: a consumer
 *	reserves exactly the provider's size), or 0 to accept any;
 *	a mismatch fails with EINVAL. out: the region's size.
 * @flags: in: must be zero.
 * @perm: out: CSM_PERM_RO or CSM_PERM_RW, as granted.
 * @region_id: out: the region.
 * @provider_realm_id: out: the provider's realm ID.
 * @mmap_offset: out: pass to mmap() to map the region.
 * @reserved: must be zero.
 */
struct csm_attach {
	__u64 share_id;
	__u64 size;
	__u32 flags;
	__u32 perm;
	__u64 region_id;
	__u64 provider_realm_id;
	__u64 mmap_offset;
	__u64 reserved[4];
};

/**
 * struct csm_detach - CSM_IOC_DETACH: drop an attachment.
 * @share_id: in: a share the caller attached.
 * @reserved: must be zero.
 *
 * Unmaps the region from the caller (later accesses fault) and tells the
 * provider (CSM_EVENT_DETACHED). Detaching after the share was revoked or
 * its region destroyed succeeds: it releases the caller's leftover record.
 */
struct csm_detach {
	__u64 share_id;
	__u64 reserved[3];
};

/**
 * struct csm_region_info - one region as seen by the caller.
 * @region_id: in (CSM_IOC_REGION_INFO): the region to describe;
 *	out (CSM_IOC_LIST_REGIONS).
 * @size: out: bytes.
 * @provider_realm_id: out.
 * @share_id: out: consumer: the share it attached through; provider: 0.
 * @mmap_offset: out: as returned by create/attach.
 * @role: out: enum csm_role.
 * @state: out: enum csm_region_state.
 * @perm: out: the caller's access, CSM_PERM_RO or CSM_PERM_RW.
 * @nr_shares: out: provider: live shares; consumer: 0.
 * @reserved: must be zero.
 */
struct csm_region_info {
	__u64 region_id;
	__u64 size;
	__u64 provider_realm_id;
	__u64 share_id;
	__u64 mmap_offset;
	__u32 role;
	__u32 state;
	__u32 perm;
	__u32 nr_shares;
	__u64 reserved[4];
};

/**
 * struct csm_share_info - one share of a region the caller provides.
 * @share_id: out.
 * @region_id: out.
 * @peer_realm_id: out: the consumer realm.
 * @perm: out: CSM_PERM_RO or CSM_PERM_RW.
 * @state: out: enum csm_share_state.
 * @reserved: out: zero.
 */
struct csm_share_info {
	__u64 share_id;
	__u64 region_id;
	__u64 peer_realm_id;
	__u32 perm;
	__u32 state;
	__u64 reserved[2];
};

/**
 * struct csm_list - CSM_IOC_LIST_REGIONS / CSM_IOC_LIST_SHARES.
 * @entries_ptr: in: user pointer to an array of struct csm_region_info
 *	(LIST_REGIONS) or struct csm_share_info (LIST_SHARES); may be 0 when
 *	@capacity is 0.
 * @capacity: in: number of array entries.
 * @count: out: number of entries that exist. The first min(@capacity,
 *	@count) are written. Call with @capacity 0 to size the array; the set
 *	may change between calls, so retry while @count > @capacity.
 * @region_id: in: LIST_SHARES: the region (must be provided by the caller);
 *	LIST_REGIONS: must be zero.
 * @entry_size: in: sizeof the entry struct the caller was built with; must
 *	equal this header's size (lets a later minor version grow entries).
 * @flags: in: must be zero.
 * @reserved: must be zero.
 */
struct csm_list {
	__u64 entries_ptr;
	__u32 capacity;
	__u32 count;
	__u64 region_id;
	__u32 entry_size;
	__u32 flags;
	__u64 reserved[2];
};

/* Who vouches for an attestation token (struct csm_attest.token_format). */
enum csm_token_format {
	CSM_TOKEN_NONE = 0,
	CSM_TOKEN_CCA = 1,	/* CCA token (CBOR, COSE_Sign1) from the RMM */
	CSM_TOKEN_EMULATED = 2,	/* emulated-RMM claims: no hardware root */
	CSM_TOKEN_SIM = 3,	/* simulator claims signed by the sim host key */
};

/**
 * struct csm_attest - CSM_IOC_ATTEST: a token about a region.
 * @region_id: in: a region the caller provides or is attached to.
 * @token_ptr: in: user buffer for the token; may be 0 when @token_len is 0
 *	(EFAULT otherwise).
 * @token_len: in: buffer capacity; out: token length. On ENOSPC it holds
 *	the length needed and nothing was written.
 * @challenge_len: in: CSM_CHALLENGE_MIN..CSM_CHALLENGE_MAX.
 * @challenge: in: the verifier's nonce; bytes past @challenge_len must be
 *	zero.
 * @token_format: out: enum csm_token_format.
 * @flags: in: must be zero.
 * @reserved: must be zero.
 *
 * The token binds the caller's realm ID, the region (ID, size, provider,
 * each consumer with its permission) and the challenge.
 */
struct csm_attest {
	__u64 region_id;
	__u64 token_ptr;
	__u32 token_len;
	__u32 challenge_len;
	__u8 challenge[CSM_CHALLENGE_MAX];
	__u32 token_format;
	__u32 flags;
	__u64 reserved[4];
};

/*
 * CSM_TOKEN_EMULATED: the emulated RMM's token. An UNSIGNED claims record:
 * there is no hardware root of trust and no key, so it proves nothing to a
 * remote verifier; it only lets a caller check what the emulated RMM's
 * tables say (challenge, caller, region, provider, consumers). Little-endian
 * throughout. Layout: struct csm_emu_token, then @nr_consumers x struct
 * csm_emu_token_consumer; the token length is exactly that.
 */
#define CSM_EMU_TOKEN_MAGIC	"CSM-EMU-TOKEN-1"	/* 15 chars + NUL */
#define CSM_EMU_TOKEN_VERSION	1u

/**
 * struct csm_emu_token - header of a CSM_TOKEN_EMULATED token.
 * @magic: CSM_EMU_TOKEN_MAGIC, NUL-padded.
 * @version: CSM_EMU_TOKEN_VERSION.
 * @nr_consumers: consumer records that follow the header.
 * @caller_realm_id: the realm that asked for the token.
 * @region_id: the region.
 * @size: the region's size in bytes.
 * @provider_realm_id: the region's provider.
 * @challenge_len: CSM_CHALLENGE_MIN..CSM_CHALLENGE_MAX.
 * @__pad: zero.
 * @challenge: the verifier's nonce; bytes past @challenge_len are zero.
 */
struct csm_emu_token {
	char magic[16];
	__le32 version;
	__le32 nr_consumers;
	__le64 caller_realm_id;
	__le64 region_id;
	__le64 size;
	__le64 provider_realm_id;
	__le32 challenge_len;
	__le32 __pad;
	__u8 challenge[CSM_CHALLENGE_MAX];
};

/**
 * struct csm_emu_token_consumer - one live share of the attested region.
 * @realm_id: the consumer realm.
 * @perm: CSM_PERM_RO or CSM_PERM_RW.
 * @state: enum csm_share_state (GRANTED or ATTACHED).
 */
struct csm_emu_token_consumer {
	__le64 realm_id;
	__le32 perm;
	__le32 state;
};

#define CSM_FD_CLOEXEC		(1u << 0) /* new fd gets O_CLOEXEC */

/**
 * struct csm_doorbell_fd - CSM_IOC_DOORBELL_FD: a doorbell as a file.
 * @region_id: in: a region the caller provides or is attached to.
 * @realm_id: in: whose doorbell: the caller's own realm ID (or 0 for the
 *	caller) gives the doorbell the caller waits on; a peer's realm ID (the
 *	provider, or a consumer attached to the region) gives the one the
 *	caller rings to wake that peer.
 * @flags: in: CSM_FD_CLOEXEC or 0.
 * @fd: out: the new file descriptor, always O_NONBLOCK.
 * @reserved: must be zero.
 *
 * Doorbell fds follow eventfd's conventions, so one code path serves every
 * backend: write() of an 8-byte __u64 rings (hint only; EAGAIN when the
 * doorbell is saturated means the peer already has a ring pending);
 * the caller's own doorbell polls readable (POLLIN) once rung, and read()
 * with a buffer of at least 8 bytes consumes pending rings (EAGAIN when
 * none; read until EAGAIN to consume them all). A doorbell is per
 * (region, realm): one per direction per peer.
 * Spurious wakeups are allowed; pair it with sequence words in the region.
 */
struct csm_doorbell_fd {
	__u64 region_id;
	__u64 realm_id;
	__u32 flags;
	__s32 fd;
	__u64 reserved[2];
};

/**
 * struct csm_ring - CSM_IOC_RING: ring a peer's doorbell without an fd.
 * @region_id: in: a region the caller provides or is attached to.
 * @peer_realm_id: in: the provider or an attached consumer of it.
 * @flags: in: must be zero.
 * @__pad: must be zero.
 * @reserved: must be zero.
 *
 * Equivalent to writing 1 to the peer's doorbell fd; never blocks. A ring
 * that cannot be delivered is dropped and counted, not reported.
 */
struct csm_ring {
	__u64 region_id;
	__u64 peer_realm_id;
	__u32 flags;
	__u32 __pad;
	__u64 reserved[2];
};

/**
 * struct csm_event_fd - CSM_IOC_EVENT_FD: the caller's event stream.
 * @flags: in: CSM_FD_CLOEXEC or 0.
 * @fd: out: a pollable, O_NONBLOCK fd; read() returns whole struct
 *	csm_event records (a buffer smaller than one record gets EINVAL).
 * @reserved: must be zero.
 *
 * All event fds of one open device share one queue.
 */
struct csm_event_fd {
	__u32 flags;
	__s32 fd;
	__u64 reserved[3];
};

/* struct csm_event.type */
enum csm_event_type {
	CSM_EVENT_ATTACHED = 1,	 /* provider: @realm_id attached @share_id */
	CSM_EVENT_DETACHED = 2,	 /* provider: @realm_id detached @share_id */
	CSM_EVENT_REVOKED = 3,	 /* consumer: @share_id revoked, unmapped */
	CSM_EVENT_DESTROYED = 4, /* consumer: provider destroyed @region_id */
	CSM_EVENT_GONE = 5,	 /* peer @realm_id died; its ties are gone */
};

/* struct csm_event.flags */
#define CSM_EVENT_F_LOST	(1u << 0) /* events were dropped before this */

/**
 * struct csm_event - one record read from an event fd.
 * @type: enum csm_event_type.
 * @flags: CSM_EVENT_F_*.
 * @seq: per-queue sequence number; a gap also means events were lost.
 * @region_id: the region concerned.
 * @share_id: the share concerned, or 0.
 * @realm_id: the peer realm concerned.
 * @reserved: zero.
 */
struct csm_event {
	__u32 type;
	__u32 flags;
	__u64 seq;
	__u64 region_id;
	__u64 share_id;
	__u64 realm_id;
	__u64 reserved[3];
};

/*
 * Mapping: mmap(NULL, size, prot, MAP_SHARED, dev_fd, mmap_offset) maps a
 * region whole. mmap_offset is an opaque, page-aligned cookie returned by
 * CSM_IOC_CREATE / CSM_IOC_ATTACH / CSM_IOC_REGION_INFO that selects the
 * region among those the caller holds; never compute it. The length must
 * equal the region size, MAP_PRIVATE is refused (EINVAL), and PROT_WRITE on
 * a read-only share is refused (EACCES) and cannot be added by mprotect().
 * Revoke, destroy, detach and a provider's death remove the pages: later
 * accesses fault (SIGBUS or SIGSEGV) instead of reading stale data.
 */

#define CSM_IOC_MAGIC		0xC5	/* 'CSM'; numbers 0x00-0x3f */

#define CSM_IOC_VERSION		_IOR(CSM_IOC_MAGIC, 0x00, struct csm_version)
#define CSM_IOC_REALM		_IOR(CSM_IOC_MAGIC, 0x01, struct csm_realm)
#define CSM_IOC_CREATE		_IOWR(CSM_IOC_MAGIC, 0x02, struct csm_create)
#define CSM_IOC_SHARE		_IOWR(CSM_IOC_MAGIC, 0x03, struct csm_share)
#define CSM_IOC_REVOKE		_IOW(CSM_IOC_MAGIC, 0x04, struct csm_revoke)
#define CSM_IOC_DESTROY		_IOW(CSM_IOC_MAGIC, 0x05, struct csm_destroy)
#define CSM_IOC_ATTACH		_IOWR(CSM_IOC_MAGIC, 0x06, struct csm_attach)
#define CSM_IOC_DETACH		_IOW(CSM_IOC_MAGIC, 0x07, struct csm_detach)
#define CSM_IOC_REGION_INFO	_IOWR(CSM_IOC_MAGIC, 0x08, \
				      struct csm_region_info)
#define CSM_IOC_LIST_REGIONS	_IOWR(CSM_IOC_MAGIC, 0x09, struct csm_list)
#define CSM_IOC_LIST_SHARES	_IOWR(CSM_IOC_MAGIC, 0x0a, struct csm_list)
#define CSM_IOC_ATTEST		_IOWR(CSM_IOC_MAGIC, 0x0b, struct csm_attest)
#define CSM_IOC_DOORBELL_FD	_IOWR(CSM_IOC_MAGIC, 0x0c, \
				      struct csm_doorbell_fd)
#define CSM_IOC_RING		_IOW(CSM_IOC_MAGIC, 0x0d, struct csm_ring)
#define CSM_IOC_EVENT_FD	_IOWR(CSM_IOC_MAGIC, 0x0e, struct csm_event_fd)

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* _UAPI_LINUX_CSM_H */
