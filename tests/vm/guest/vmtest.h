/*
 * Helpers shared by the guest-side VM test programs: result lines, ioctl
 * wrappers, fault probes in child processes, counters from debugfs, and
 * the serial link and common steps of the two-VM suites.
 * Plain C against the UAPI header, linked statically into the initramfs.
 */
#ifndef CSM_VMTEST_H
#define CSM_VMTEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <csm/uapi/csm.h>

extern int vt_failures;

/* Prints "RESULT <name> PASS|FAIL <detail>"; the host harness parses it. */
void vt_result(const char *name, int ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* CHECK: record one failed expectation with its line (summarised later). */
#define VT_EXPECT(cond, ...) vt_expect((cond), #cond, __LINE__, __VA_ARGS__)
int vt_expect(int cond, const char *what, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

int vt_open(void);
/* ioctl returning 0 or -errno. */
int vt_ioctl(int fd, unsigned long cmd, void *arg);
uint64_t vt_realm(int fd);
int vt_create(int fd, uint64_t size, uint64_t *region, uint64_t *off);

/* How a child touching @p ends: 0 clean, else the signal number. */
int vt_probe(volatile uint8_t *p, int write);
/* Value of a /sys/kernel/debug/csm/counters line, or -1. */
long vt_counter(const char *name);
/* 0 when every live-object counter is 0; prints the offenders. */
int vt_counters_zero(void);
/* Wait up to @ms for an event of @type on @efd; fills @ev. */
int vt_wait_event(int efd, uint32_t type, int ms, struct csm_event *ev);
uint64_t vt_now_ns(void);

/*
 * Attach/detach replay (pair a_held_cycles*, single rescan_backwards and
 * rescan_jump): debugfs rescan_hold 1 defers the provider's share rescans,
 * 0 releases and runs them; 1 when the knob was written.
 */
#define VT_HOLD_KNOB	"/sys/kernel/debug/csm/rescan_hold"
int vt_rescan_hold(int on);
/* Events of @efd into @ev until @want arrived and 500 ms pass quietly, or @ms. */
int vt_read_events(int efd, struct csm_event *ev, int max, int want, int ms);
const char *vt_event_name(uint32_t type);
/*
 * Checks @n events against @want edges of share @sh to realm @peer
 * (@first, CSM_EVENT_ATTACHED or _DETACHED, then alternating), the first
 * with seq @seq0 and flags @flags0, the rest consecutive and unflagged;
 * describes them in @desc.
 */
int vt_check_cycle_events(const struct csm_event *ev, int n, int want, uint32_t first,
			  uint64_t seq0, uint32_t flags0, uint64_t region, uint64_t sh,
			  uint64_t peer, char *desc, size_t len);

/* More ioctl wrappers: an fd or a result, -1 or -errno on failure. */
int vt_event_fd(int fd);
int vt_doorbell_fd(int fd, uint64_t region, uint64_t realm);
int vt_attach(int fd, uint64_t share, uint64_t size, struct csm_attach *a);
int vt_destroy(int fd, uint64_t region, uint32_t flags);
/* A new region of @size shared RW with @peer: 0, or -errno of the failed call. */
int vt_create_shared(int fd, uint64_t size, uint64_t peer, uint64_t *region,
		     struct csm_share *sh);
/* CSM_IOC_ATTEST of @region for @chal into @buf; fills @at. */
int vt_attest(int fd, uint64_t region, const uint8_t *chal, uint32_t chal_len,
	      uint8_t *buf, uint32_t cap, struct csm_attest *at);
/* "VMTEST TOKEN <label> <challenge hex> <evidence hex>" for the host verifier. */
void vt_print_token(const char *label, const uint8_t *chal, uint32_t chal_len,
		    const uint8_t *ev, uint32_t len);

/*
 * The two-VM suites (pair.c over the emulated RMM, rsi_pair.c over RSI):
 * VM A "provider", VM B "consumer", meeting on a serial link (the
 * out-of-band channel realm owners would use). The steps below are the
 * tests both suites run; each suite gives its own counts and waits (RSI
 * learns of a peer's actions only by polling) and adds its own tests.
 */
extern int vt_link_fd;
void vt_link_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Next link line containing @prefix within @ms, from @prefix on; others are skipped. */
int vt_link_expect(const char *prefix, int ms, char *out, size_t outlen);
/* main() of a pair program: PROG provider|consumer LINK_TTY. */
int vt_pair_main(int argc, char **argv, const char *prog, void (*provider)(void),
		 void (*consumer)(void));

#define VT_R1_SIZE	(1u << 20)	/* stream + ping, RW */
#define VT_R2_SIZE	(64u << 10)	/* read-only share */
#define VT_R3_SIZE	(64u << 10)	/* dies with its provider process */

/* What differs between the pair suites' common steps: counts and waits (ms). */
struct vt_pair_waits {
	int ping_doorbell, ping_spin;	/* a_ping's round trips */
	int hello_tries;	/* A: hellos, 200 ms apart, until B answers */
	int hello_ms;		/* B: for A's hello */
	int news_ms;		/* for the peer's attaches, detaches, stream, replies */
	int stall_ms;		/* A: for a free stream slot */
	int ro_mapped_ms;	/* A: for B to map R2 before the revoke */
	int revoked_ms;		/* B: for A's revoke of R2 */
	int revoke_event_ms;	/* B: for the REVOKED event after it */
	int done_ms;		/* B: for A's teardown */
	const char *revoke_note;	/* A: what a revoke returning means here */
	const char *revoke_event;	/* B: how REVOKED comes (b_revoke_zaps) */
};

/* A's side: R1 (rw, stream and ping) and R2 (ro) shared with the peer. */
struct vt_pair_a {
	int fd, efd;
	uint64_t self, peer, r1, r2, s1, s2;
	uint8_t *m1, *m2;
	int db_own, db_peer;	/* R1's doorbells */
};

/* B's side: the shares A named, R2 attached read-only. */
struct vt_pair_b {
	int fd, efd;
	uint64_t self, peer, s1, s2;
	struct csm_attach a2;
	uint8_t *m2;
	pid_t child;		/* the stream process on R1 */
};

/*
 * A: a_link, a_share (with @share_check, if given, folded in), a_attach_events,
 * a_stream, a_ping. -1 when there is no peer or no regions to go on with.
 */
int vt_pair_a_start(struct vt_pair_a *a, const struct vt_pair_waits *w,
		    int (*share_check)(const struct vt_pair_a *a));
/* A: a_revoke, a_sees_detach, a_provider_exit, a_destroy, a_counters_zero. */
void vt_pair_a_finish(struct vt_pair_a *a, const struct vt_pair_waits *w);
/*
 * B: b_link, the stream process (b_attach_rw, b_stream), then R2 attached
 * read-only: returns whether its read-only rules held (the caller reports
 * b_read_only), or -1 when there is no link or stream process.
 */
int vt_pair_b_start(struct vt_pair_b *b, const struct vt_pair_waits *w);
/* B: share, revoke and destroy of A's R2 refused with EPERM. */
int vt_pair_consumer_rules(const struct vt_pair_b *b);
/* B: tells A R2 is mapped, then b_revoke_zaps, b_provider_exit, b_counters_zero. */
void vt_pair_b_finish(struct vt_pair_b *b, const struct vt_pair_waits *w);
/*
 * A: one more region, shared with B, which maps it and keeps it while its
 * VM powers off; 1 once B said it mapped it (within @ms). Opens l->fd and
 * l->efd for the caller to watch and close.
 */
struct vt_pair_last {
	int fd, efd;
	uint64_t region;
	struct csm_share sh;
};
int vt_pair_share_last(struct vt_pair_last *l, uint64_t peer, int ms);
/* B: maps A's last share and keeps it while this VM powers off (test.sh). */
void vt_pair_attach_before_dying(void);

#endif
