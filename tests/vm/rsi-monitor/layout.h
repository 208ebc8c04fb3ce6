/*
 * Physical layout of the test monitor's VMs and of node 1, the memory both
 * VMs' monitors and the host signer share (a memory-backend-file both QEMUs
 * map). Included by the bare-metal monitor and by the host signer, so it is
 * plain C with fixed-size, explicitly padded little-endian structs.
 * The monitor gives NO confidentiality: it is a test double for the driver's
 * RSI path.
 */
#ifndef CSM_MON_LAYOUT_H
#define CSM_MON_LAYOUT_H

#include <stdint.h>

/* Guest physical (and intermediate physical) map, -M virt,highmem=off. */
#define MON_MMIO_TOP       0x40000000ull   /* 0..1 GiB: devices, identity */
#define MON_RAM_BASE       0x40000000ull   /* Linux RAM (node 0 start) */
#define MON_DTB_ADDR       0x40000000ull   /* QEMU puts -dtb here for ELF -kernel */
#define MON_IMAGE_ADDR     0x40200000ull   /* Linux Image (2 MiB aligned) */
#define MON_INITRD_ADDR    0x48000000ull
#define MON_RAM_TOP        0x5c000000ull   /* end of what Linux may use */
#define MON_WIN_BASE       0x5c000000ull   /* CSM window (reserved, no-map) */
#define MON_WIN_TOP        0x5fe00000ull
#define MON_SELF_BASE      0x5fe00000ull   /* this monitor (reserved, no-map) */
#define MON_NODE0_TOP      0x60000000ull
#define MON_NODE1_BASE     0x60000000ull   /* node 1: shared with the peer VM */
#define MON_NODE1_SIZE     0x04000000ull   /* 64 MiB */

#define MON_PAGE           4096ull
#define MON_RAM_PAGES      ((MON_RAM_TOP - MON_RAM_BASE) / MON_PAGE)
#define MON_WIN_PAGES      ((MON_WIN_TOP - MON_WIN_BASE) / MON_PAGE)

/* Node 1 layout (offsets from MON_NODE1_BASE). */
#define SH_MAGIC           0x314e4f4d4d534331ull   /* "1CSMMON1" */
#define SH_VERSION         1u
#define SH_MAX_REALMS      8u
#define SH_MAX_REGIONS     255u
#define SH_MAX_SHARES      8u        /* consumers per region */
#define SH_MBOX_OFF        0x00010000ull
#define SH_MBOX_SIZE       0x00004000ull   /* one per realm slot */
#define SH_REGIONS_OFF     0x00040000ull
#define SH_POOL_OFF        0x00100000ull
#define SH_POOL_PAGES      ((MON_NODE1_SIZE - SH_POOL_OFF) / MON_PAGE)
#define SH_TOKEN_MAX       4096u

/* Header page at offset 0. The signer writes rim/signer_ready before VMs boot. */
struct sh_header {
	uint64_t magic;               /* SH_MAGIC once initialised */
	uint32_t version;
	uint32_t init;                /* 0 fresh, 1 initialising, 2 ready */
	uint32_t lock;                /* cross-VM spinlock (exclusive ld/st) */
	uint32_t next_tag;            /* last realm tag handed out */
	uint64_t generation;          /* bumped by REVOKE/DESTROY/realm death */
	uint32_t signer_ready;        /* SH_SIGNER_READY when the signer serves */
	uint32_t debug;               /* monitor debug prints (set by signer -v) */
	uint32_t realm_alive[SH_MAX_REALMS];  /* by slot = tag - 1 */
	uint32_t next_region;         /* round-robin region id allocator */
	uint32_t pad0;
	uint8_t rim[64];              /* realm initial measurement (signer) */
	uint8_t pool_map[SH_POOL_PAGES / 8];  /* 1 bit per pool page, 1 = used */
};
#define SH_SIGNER_READY    0x52444752u      /* "RGDR" */

/* Signer mailbox, one per realm slot at SH_MBOX_OFF + slot * SH_MBOX_SIZE. */
enum { MB_HASH_EXTEND = 1, MB_TOKEN = 2 };
enum { MB_OK = 0, MB_FAILED = 1 };
struct sh_mailbox {
	uint32_t req_seq;             /* monitor: store-release after the request */
	uint32_t done_seq;            /* signer: store-release after the answer */
	uint32_t type;
	uint32_t status;              /* MB_OK or MB_FAILED */
	uint32_t realm_tag;
	uint32_t value_len;           /* hash-extend: bytes of value used */
	uint32_t token_len;           /* token: bytes in token[] */
	uint32_t pad0;
	uint8_t rem[64];              /* hash-extend: in/out */
	uint8_t value[64];            /* hash-extend input */
	uint8_t challenge[64];        /* token inputs */
	uint8_t rim[64];
	uint8_t rems[4][64];
	uint8_t rpv[64];
	uint8_t token[SH_TOKEN_MAX];
};

/* CSM state: one entry per region id (index = id - 1). */
enum { RG_FREE = 0, RG_LIVE = 1, RG_DESTROYED = 5 };
enum { SS_NONE = 0, SS_GRANTED = 1, SS_RESERVED = 2, SS_ATTACHED = 3, SS_REVOKED = 4 };
struct sh_share {
	uint32_t consumer;            /* realm tag, 0 = slot unused */
	uint32_t state;               /* SS_* */
	uint32_t perm;                /* 2 RO, 3 RW */
	uint32_t mapped;              /* consumer's stage-2 maps the pages */
	uint64_t cons_base;           /* consumer's IPA (RESERVED/ATTACHED) */
	uint32_t reserved;            /* consumer holds cons_base */
	uint32_t rings_to_consumer;
	uint32_t rings_to_provider;
	uint32_t pad0;
};
struct sh_region {
	uint32_t state;               /* RG_* */
	uint32_t owner;               /* provider realm tag */
	uint64_t base;                /* provider's IPA */
	uint64_t size;
	uint32_t first_page;          /* pool page index */
	uint32_t owner_mapped;        /* provider's stage-2 maps the pages */
	uint32_t pages_held;          /* pool pages not yet freed */
	uint32_t pad0;
	struct sh_share shares[SH_MAX_SHARES];
};

#define SH_REGION(base, id) \
	((struct sh_region *)((uintptr_t)(base) + SH_REGIONS_OFF) + ((id) - 1))
#define SH_MBOX(base, slot) \
	((struct sh_mailbox *)((uintptr_t)(base) + SH_MBOX_OFF + (slot) * SH_MBOX_SIZE))

/* Compile-time checks (C11). */
_Static_assert(sizeof(struct sh_header) <= SH_MBOX_OFF, "header too big");
_Static_assert(sizeof(struct sh_mailbox) <= SH_MBOX_SIZE, "mailbox too big");
_Static_assert(SH_MBOX_OFF + SH_MAX_REALMS * SH_MBOX_SIZE <= SH_REGIONS_OFF, "mailboxes");
_Static_assert(SH_REGIONS_OFF + SH_MAX_REGIONS * sizeof(struct sh_region) <= SH_POOL_OFF,
	       "regions");

#endif
