/*
 * csm-vm-rsi-pair: the two-VM suite over the RSI backend, both VMs under
 * the csm test monitor (one shared node 1). VM A runs "provider", VM B
 * "consumer"; they hand over realm tags and share IDs on a serial link, as
 * pair.c does over the emulated RMM. Cross-realm news (attach, detach,
 * revoke, doorbells) reaches each kernel by its poll of
 * CSM_EXT_SHARE_STATUS (csm.rsi_poll_ms), so waits here allow for it.
 * Attestation evidence is printed as "VMTEST TOKEN" lines for the host.
 *   csm-vm-rsi-pair provider|consumer LINK_TTY
 */
#define _GNU_SOURCE
#include "vmtest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csm/uapi/attestation_cca.h>

#define R1_SIZE		(1u << 20)	/* stream + ping, RW */
#define R2_SIZE		(64u << 10)	/* read-only share */
#define R3_SIZE		(64u << 10)	/* dies with its provider process */
#define SLOTS		64
#define SLOT_SIZE	8192
#define STREAM_MSGS	2000
#define PING_DOORBELL	100	/* doorbells are polled: ~2 poll periods each */
#define PING_SPIN	1000

struct ctl {		/* start of R1 */
	uint64_t prod, cons, ping, pong;
};

static int link_fd;
static char linebuf[512];
static size_t linelen;

static void link_send(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	buf[n++] = '\n';
	if (write(link_fd, buf, n) != n)
		printf("link write failed: %s\n", strerror(errno));
}

/* Next line starting with @prefix within @ms; others are skipped. */
static int link_expect(const char *prefix, int ms, char *out, size_t outlen)
{
	uint64_t deadline = vt_now_ns() + (uint64_t)ms * 1000000;

	for (;;) {
		char *nl = memchr(linebuf, '\n', linelen);

		if (nl) {
			size_t n = nl - linebuf;

			char *hit;

			/* Echo or noise may precede a message on the line. */
			*nl = '\0';
			hit = strstr(linebuf, prefix);
			if (hit) {
				snprintf(out, outlen, "%s", hit);
				memmove(linebuf, nl + 1, linelen - n - 1);
				linelen -= n + 1;
				return 0;
			}
			memmove(linebuf, nl + 1, linelen - n - 1);
			linelen -= n + 1;
			continue;
		}
		int64_t left = (int64_t)(deadline - vt_now_ns()) / 1000000;
		struct pollfd p = { .fd = link_fd, .events = POLLIN };

		if (left <= 0 || linelen == sizeof(linebuf)) {
			printf("link: no '%s' within %d ms\n", prefix, ms);
			return -1;
		}
		if (poll(&p, 1, (int)left) == 1) {
			ssize_t r = read(link_fd, linebuf + linelen, sizeof(linebuf) - linelen);

			if (r > 0)
				linelen += r;
		}
	}
}

static int doorbell_fd(int fd, uint64_t region, uint64_t realm)
{
	struct csm_doorbell_fd d;

	memset(&d, 0, sizeof(d));
	d.region_id = region;
	d.realm_id = realm;
	return vt_ioctl(fd, CSM_IOC_DOORBELL_FD, &d) ? -1 : d.fd;
}

static int event_fd(int fd)
{
	struct csm_event_fd e;

	memset(&e, 0, sizeof(e));
	return vt_ioctl(fd, CSM_IOC_EVENT_FD, &e) ? -1 : e.fd;
}

static void ring(int dbfd)
{
	uint64_t one = 1;

	if (write(dbfd, &one, 8) != 8)
		printf("ring failed: %s\n", strerror(errno));
}

/* Wait until *word >= want: doorbell-driven, with rechecks (hint only). */
static int wait_word(volatile uint64_t *word, uint64_t want, int own_db, int ms)
{
	uint64_t deadline = vt_now_ns() + (uint64_t)ms * 1000000, v;

	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) < want) {
		struct pollfd p = { .fd = own_db, .events = POLLIN };

		if (vt_now_ns() > deadline)
			return -1;
		if (own_db >= 0) {
			poll(&p, 1, 20);
			while (read(own_db, &v, 8) == 8)
				;
		}
	}
	return 0;
}

static uint8_t msg_byte(uint64_t i, uint32_t j)
{
	return (uint8_t)(i * 31 + j * 7 + (j >> 8));
}

static uint32_t msg_len(uint64_t i)
{
	return 16 + (uint32_t)((i * 7919) % (SLOT_SIZE - 16));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report_rtt(const char *mode, uint64_t *ns, int n)
{
	qsort(ns, n, sizeof(*ns), cmp_u64);
	printf("PERF rtt_%s n=%d p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n", mode, n,
	       ns[n / 2] / 1e3, ns[n * 9 / 10] / 1e3, ns[n * 99 / 100] / 1e3, ns[n - 1] / 1e3);
}

static void print_token(const char *label, const uint8_t *chal, uint32_t chal_len,
			const uint8_t *ev, uint32_t len)
{
	printf("VMTEST TOKEN %s ", label);
	for (uint32_t i = 0; i < chal_len; i++)
		printf("%02x", chal[i]);
	printf(" ");
	for (uint32_t i = 0; i < len; i++)
		printf("%02x", ev[i]);
	printf("\n");
	fflush(stdout);
}

/* Attest @region with @chal; fills @ev, returns its length or -errno. */
static int attest(int fd, uint64_t region, const uint8_t *chal, uint32_t chal_len,
		  uint8_t *ev, uint32_t cap)
{
	struct csm_attest at;
	int e;

	memset(&at, 0, sizeof(at));
	at.region_id = region;
	at.token_ptr = (uintptr_t)ev;
	at.token_len = cap;
	at.challenge_len = chal_len;
	memcpy(at.challenge, chal, chal_len);
	e = vt_ioctl(fd, CSM_IOC_ATTEST, &at);
	if (e)
		return e;
	return at.token_format == CSM_TOKEN_CCA ? (int)at.token_len : -EPROTO;
}

static const struct csm_cca_region_desc *desc_of(const uint8_t *ev)
{
	return (const void *)(ev + sizeof(struct csm_cca_evidence));
}

static int destroy(int fd, uint64_t region, uint32_t flags)
{
	struct csm_destroy d;

	memset(&d, 0, sizeof(d));
	d.region_id = region;
	d.flags = flags;
	return vt_ioctl(fd, CSM_IOC_DESTROY, &d);
}

/* ---------------------------------------------------------------- A ---- */
static void peer_vm_exit(uint64_t peer);

static void provider(void)
{
	static uint8_t ev[4096];
	int fd = vt_open(), efd = event_fd(fd), db_own, db_peer, ok, n;
	uint64_t self = vt_realm(fd), peer = 0, r1, r2, off1, off2, s1, s2, t;
	struct csm_share sh;
	struct csm_event ev_;
	struct csm_revoke rv;
	uint8_t chal[64];
	char line[512];
	uint64_t *rtt;
	uint8_t *m1, *m2;
	struct ctl *c;
	pid_t p3;

	for (int i = 0; i < 300 && !peer; i++) {
		link_send("hello-a %llu", (unsigned long long)self);
		if (!link_expect("hello-b", 200, line, sizeof(line)))
			peer = strtoull(line + 8, NULL, 0);
	}
	vt_result("a_link", peer != 0 && peer != self, "realm tag %llu, peer %llu",
		  (unsigned long long)self, (unsigned long long)peer);
	if (!peer)
		return;

	ok = !vt_create(fd, R1_SIZE, &r1, &off1) && !vt_create(fd, R2_SIZE, &r2, &off2);
	m1 = mmap(NULL, R1_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off1);
	m2 = mmap(NULL, R2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off2);
	ok = ok && m1 != MAP_FAILED && m2 != MAP_FAILED;
	if (!ok) {
		vt_result("a_share", 0, "create/map failed");
		return;
	}
	for (uint32_t i = 0; i < R2_SIZE; i++)
		m2[i] = (uint8_t)(i * 3);
	memset(&sh, 0, sizeof(sh));
	sh.region_id = r1; sh.peer_realm_id = peer; sh.perm = CSM_PERM_RW;
	ok = !vt_ioctl(fd, CSM_IOC_SHARE, &sh);
	s1 = sh.share_id;
	n = vt_ioctl(fd, CSM_IOC_SHARE, &sh);
	ok = VT_EXPECT(ok && n == -EEXIST, "second share %d", n);
	sh.region_id = r2; sh.perm = CSM_PERM_RO;
	ok = !vt_ioctl(fd, CSM_IOC_SHARE, &sh) && ok;
	s2 = sh.share_id;
	ok = VT_EXPECT((s1 & 0xffff) == (self << 8 | peer) && (s2 & 0xffff) == (self << 8 | peer),
		       "sharing ids %#llx %#llx", (unsigned long long)s1,
		       (unsigned long long)s2) && ok;
	vt_result("a_share", ok, "r1=%#llx s1=%#llx (rw) r2=%#llx s2=%#llx (ro), second share EEXIST",
		  (unsigned long long)r1, (unsigned long long)s1,
		  (unsigned long long)r2, (unsigned long long)s2);
	link_send("shares %llu %llu", (unsigned long long)s1, (unsigned long long)s2);

	ok = 1;
	for (int k = 0; k < 2; k++) {
		int r = vt_wait_event(efd, CSM_EVENT_ATTACHED, 30000, &ev_);

		ok = ok && !r && ev_.realm_id == peer && (ev_.share_id == s1 || ev_.share_id == s2);
	}
	vt_result("a_attach_events", ok, "ATTACHED for both shares from realm %llu (polled)",
		  (unsigned long long)peer);

	db_own = doorbell_fd(fd, r1, 0);
	db_peer = doorbell_fd(fd, r1, peer);
	c = (struct ctl *)m1;
	ok = db_own >= 0 && db_peer >= 0;
	t = vt_now_ns();
	for (uint64_t i = 0; ok && i < STREAM_MSGS; i++) {
		uint8_t *slot;

		if (i >= SLOTS && wait_word(&c->cons, i - SLOTS + 1, db_own, 20000)) {
			printf("stream: consumer stalled at %llu\n", (unsigned long long)i);
			ok = 0;
			break;
		}
		slot = m1 + 4096 + (i % SLOTS) * SLOT_SIZE;
		memcpy(slot, &i, 8);
		for (uint32_t j = 8; j < msg_len(i); j++)
			slot[j] = msg_byte(i, j);
		__atomic_store_n(&c->prod, i + 1, __ATOMIC_RELEASE);
		ring(db_peer);
	}
	ok = ok && !wait_word(&c->cons, STREAM_MSGS, db_own, 30000);
	t = vt_now_ns() - t;
	vt_result("a_stream", ok, "%d messages (16..8192 B) sent and consumed in %.1f ms",
		  STREAM_MSGS, t / 1e6);

	rtt = calloc(PING_SPIN, sizeof(*rtt));
	ok = rtt != NULL;
	for (uint64_t k = 1; ok && k <= PING_DOORBELL; k++) {
		t = vt_now_ns();
		__atomic_store_n(&c->ping, k, __ATOMIC_RELEASE);
		ring(db_peer);
		ok = !wait_word(&c->pong, k, db_own, 5000);
		rtt[k - 1] = vt_now_ns() - t;
	}
	if (ok)
		report_rtt("doorbell", rtt, PING_DOORBELL);
	for (uint64_t k = 1; ok && k <= PING_SPIN; k++) {
		uint64_t v = PING_DOORBELL + k;

		t = vt_now_ns();
		__atomic_store_n(&c->ping, v, __ATOMIC_RELEASE);
		ok = !wait_word(&c->pong, v, -1, 5000);
		rtt[k - 1] = vt_now_ns() - t;
	}
	if (ok)
		report_rtt("spin", rtt, PING_SPIN);
	vt_result("a_ping", ok, "%d doorbell and %d spin round trips", PING_DOORBELL, PING_SPIN);
	free(rtt);

	/* The provider's view: its consumer is in the descriptor. */
	for (int i = 0; i < 64; i++)
		chal[i] = (uint8_t)(0xa0 ^ i);
	n = attest(fd, r1, chal, 64, ev, sizeof(ev));
	ok = VT_EXPECT(n > 0, "attest %d", n);
	if (n > 0) {
		const struct csm_cca_region_desc *d = desc_of(ev);

		ok = VT_EXPECT(d->caller_realm_id == self && d->region_id == r1 &&
			       d->caller_role == CSM_ROLE_PROVIDER && d->nr_consumers == 1 &&
			       d->consumers[0].realm_id == peer && d->consumers[0].share_id == s1 &&
			       d->consumers[0].perm == CSM_PERM_RW,
			       "descriptor") && ok;
		print_token("a-provider-r1", chal, 64, ev, n);
	}
	vt_result("a_attest", ok, "CCA evidence for r1 lists consumer %llu (share %#llx, rw)",
		  (unsigned long long)peer, (unsigned long long)s1);

	/* revoke the read-only share while B maps it */
	ok = !link_expect("ro-mapped", 60000, line, sizeof(line));
	memset(&rv, 0, sizeof(rv));
	rv.share_id = s2;
	ok = ok && !vt_ioctl(fd, CSM_IOC_REVOKE, &rv);
	n = vt_ioctl(fd, CSM_IOC_REVOKE, &rv);
	ok = VT_EXPECT(ok && n == -EALREADY, "revoke again %d", n);
	vt_result("a_revoke", ok, "revoked s2 (takes effect at B's next RMM entry); again: EALREADY");
	link_send("revoked");

	ok = !link_expect("b-checked-revoke", 30000, line, sizeof(line));
	link_send("kill-now");
	ok = ok && !vt_wait_event(efd, CSM_EVENT_DETACHED, 30000, &ev_) && ev_.share_id == s1;
	vt_result("a_sees_detach", ok, "DETACHED for share %#llx after B's process was killed",
		  (unsigned long long)s1);

	p3 = fork();
	if (p3 == 0) {
		int fd3 = vt_open();
		uint64_t r3, off3;
		struct csm_share s3;

		memset(&s3, 0, sizeof(s3));
		if (vt_create(fd3, R3_SIZE, &r3, &off3))
			_exit(1);
		s3.region_id = r3; s3.peer_realm_id = peer; s3.perm = CSM_PERM_RW;
		if (vt_ioctl(fd3, CSM_IOC_SHARE, &s3))
			_exit(2);
		link_send("share3 %llu", (unsigned long long)s3.share_id);
		pause();
		_exit(0);
	}
	ok = !link_expect("attached3", 30000, line, sizeof(line));
	kill(p3, SIGKILL);
	waitpid(p3, NULL, 0);
	link_send("provider-killed");
	ok = ok && !link_expect("b-checked-exit", 30000, line, sizeof(line));
	vt_result("a_provider_exit", ok, "killed the provider of region 3 while B mapped it");

	munmap(m1, R1_SIZE);
	munmap(m2, R2_SIZE);
	close(db_own);
	close(db_peer);
	n = destroy(fd, r1, 0);
	ok = VT_EXPECT(n == -EBUSY, "destroy with a live share: %d", n);
	ok = VT_EXPECT(!destroy(fd, r1, CSM_DESTROY_FORCE), "forced") && ok;
	ok = VT_EXPECT(!destroy(fd, r2, 0), "revoked-only region") && ok;
	vt_result("a_destroy", ok, "EBUSY with a live share, then forced; revoked-only region destroys");
	close(efd);
	close(fd);
	usleep(200000);
	vt_result("a_counters_zero", vt_counters_zero() == 0, "after closing everything");
	link_send("done");
	peer_vm_exit(peer);
}

/* B's VM powers off with our region mapped: its attachment must end. */
static void peer_vm_exit(uint64_t peer)
{
	int fd = vt_open(), efd = event_fd(fd), ok;
	struct csm_event ev;
	struct csm_share sh;
	char line[512];
	uint64_t r4, off4, t;

	ok = !vt_create(fd, R3_SIZE, &r4, &off4);
	memset(&sh, 0, sizeof(sh));
	sh.region_id = r4; sh.peer_realm_id = peer; sh.perm = CSM_PERM_RW;
	ok = ok && !vt_ioctl(fd, CSM_IOC_SHARE, &sh);
	link_send("share4 %llu", (unsigned long long)sh.share_id);
	ok = ok && !link_expect("attached4", 30000, line, sizeof(line));
	ok = ok && !vt_wait_event(efd, CSM_EVENT_ATTACHED, 10000, &ev);
	t = vt_now_ns();
	ok = ok && (!vt_wait_event(efd, CSM_EVENT_DETACHED, 60000, &ev) ||
		    ev.type == CSM_EVENT_GONE) && ev.share_id == sh.share_id;
	t = vt_now_ns() - t;
	ok = VT_EXPECT(ok, "no DETACHED/GONE for share %#llx", (unsigned long long)sh.share_id);
	ok = VT_EXPECT(!destroy(fd, r4, CSM_DESTROY_FORCE), "destroy") && ok;
	vt_result("a_peer_vm_exit", ok, "B's VM powered off while mapping r4: event %u after %.1f s",
		  ev.type, t / 1e9);
	close(efd);
	close(fd);
}

/* ---------------------------------------------------------------- B ---- */
static int attach(int fd, uint64_t share, uint64_t size, struct csm_attach *a)
{
	memset(a, 0, sizeof(*a));
	a->share_id = share;
	a->size = size;
	return vt_ioctl(fd, CSM_IOC_ATTACH, a);
}

static void consumer_stream(uint64_t s1, int ready_pipe)
{
	int fd = vt_open(), db_own, db_peer, ok;
	uint64_t bad = 0, got = 0;
	struct csm_attach a;
	struct ctl *c;
	uint8_t *m1;

	ok = !attach(fd, s1, R1_SIZE, &a) && a.perm == CSM_PERM_RW;
	m1 = mmap(NULL, R1_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, a.mmap_offset);
	ok = ok && m1 != MAP_FAILED;
	db_own = doorbell_fd(fd, a.region_id, 0);
	db_peer = doorbell_fd(fd, a.region_id, a.provider_realm_id);
	ok = ok && db_own >= 0 && db_peer >= 0;
	vt_result("b_attach_rw", ok, "share %#llx: region %#llx size %llu provider %llu",
		  (unsigned long long)s1, (unsigned long long)a.region_id,
		  (unsigned long long)a.size, (unsigned long long)a.provider_realm_id);
	if (write(ready_pipe, "r", 1) != 1 || !ok)
		_exit(1);
	c = (struct ctl *)m1;
	for (uint64_t i = 0; i < STREAM_MSGS; i++) {
		uint8_t *slot = m1 + 4096 + (i % SLOTS) * SLOT_SIZE;
		uint64_t id;

		if (wait_word(&c->prod, i + 1, db_own, 30000))
			break;
		memcpy(&id, slot, 8);
		bad += id != i;
		for (uint32_t j = 8; j < msg_len(i); j++)
			bad += slot[j] != msg_byte(i, j);
		got++;
		__atomic_store_n(&c->cons, i + 1, __ATOMIC_RELEASE);
		ring(db_peer);
	}
	vt_result("b_stream", got == STREAM_MSGS && !bad, "%llu/%d messages, %llu bad bytes",
		  (unsigned long long)got, STREAM_MSGS, (unsigned long long)bad);
	for (uint64_t k = 1; k <= PING_DOORBELL; k++) {
		if (wait_word(&c->ping, k, db_own, 5000))
			break;
		__atomic_store_n(&c->pong, k, __ATOMIC_RELEASE);
		ring(db_peer);
	}
	for (uint64_t k = PING_DOORBELL + 1; k <= PING_DOORBELL + PING_SPIN; k++) {
		if (wait_word(&c->ping, k, -1, 5000))
			break;
		__atomic_store_n(&c->pong, k, __ATOMIC_RELEASE);
	}
	pause();
	_exit(0);
}

static void consumer(void)
{
	static uint8_t ev1[4096], ev2[4096];
	int fd = vt_open(), efd = event_fd(fd), pipefd[2], ok, sig, n1, n2;
	uint64_t self = vt_realm(fd), peer = 0, s1 = 0, s2 = 0, s3;
	struct csm_attach a2, a3;
	struct csm_detach dt;
	struct csm_event ev;
	uint8_t c1[64], c2[40];
	char line[512], ch;
	uint8_t *m2, *m3;
	pid_t child;

	if (!link_expect("hello-a", 90000, line, sizeof(line))) {
		peer = strtoull(line + 8, NULL, 0);
		link_send("hello-b %llu", (unsigned long long)self);
	}
	ok = peer && !link_expect("shares", 30000, line, sizeof(line)) &&
	     sscanf(line, "shares %llu %llu", (unsigned long long *)&s1,
		    (unsigned long long *)&s2) == 2;
	vt_result("b_link", ok, "realm tag %llu, peer %llu, s1=%#llx s2=%#llx",
		  (unsigned long long)self, (unsigned long long)peer,
		  (unsigned long long)s1, (unsigned long long)s2);
	if (!ok || pipe(pipefd))
		return;
	child = fork();
	if (child == 0)
		consumer_stream(s1, pipefd[1]);
	ok = read(pipefd[0], &ch, 1) == 1;

	/* read-only share, attached with size 0 (the RMM tells the size) */
	ok = VT_EXPECT(!attach(fd, s2, 0, &a2), "%s", strerror(errno));
	ok = VT_EXPECT(a2.perm == CSM_PERM_RO && a2.size == R2_SIZE &&
		       a2.provider_realm_id == peer && a2.region_id >> 8 == peer,
		       "perm %u size %llu region %#llx", a2.perm, (unsigned long long)a2.size,
		       (unsigned long long)a2.region_id) && ok;
	ok = VT_EXPECT(attach(fd, s2, 0, &a3) == -EEXIST, "not EEXIST") && ok;
	m2 = mmap(NULL, R2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, a2.mmap_offset);
	ok = VT_EXPECT(m2 == MAP_FAILED && errno == EACCES, "%s", strerror(errno)) && ok;
	m2 = mmap(NULL, R2_SIZE, PROT_READ, MAP_SHARED, fd, a2.mmap_offset);
	ok = VT_EXPECT(m2 != MAP_FAILED, "%s", strerror(errno)) && ok;
	if (m2 != MAP_FAILED) {
		int same = 1;

		for (uint32_t i = 0; i < R2_SIZE; i++)
			same = same && m2[i] == (uint8_t)(i * 3);
		ok = VT_EXPECT(same, "mismatch") && ok;
		ok = VT_EXPECT(mprotect(m2, R2_SIZE, PROT_READ | PROT_WRITE) != 0, "succeeded") && ok;
		sig = vt_probe(m2 + 100, 1);
		ok = VT_EXPECT(sig == SIGSEGV && m2[100] == 300 % 256, "signal %d", sig) && ok;
	}
	vt_result("b_read_only", ok, "RO share: PROT_WRITE EACCES, mprotect refused, write faults, data intact");
	{
		struct csm_share sh;
		struct csm_revoke rv;
		int r1, r2, r3;

		memset(&sh, 0, sizeof(sh));
		sh.region_id = a2.region_id; sh.peer_realm_id = peer; sh.perm = CSM_PERM_RO;
		r1 = vt_ioctl(fd, CSM_IOC_SHARE, &sh);
		memset(&rv, 0, sizeof(rv));
		rv.share_id = s2;
		r2 = vt_ioctl(fd, CSM_IOC_REVOKE, &rv);
		r3 = destroy(fd, a2.region_id, 0);
		ok = VT_EXPECT(r1 == -EPERM && r2 == -EPERM && r3 == -EPERM,
			       "share %d revoke %d destroy %d", r1, r2, r3);
		vt_result("b_consumer_rules", ok, "consumer share/revoke/destroy: EPERM");
	}
	/* The consumer's view, for two challenges: tokens must differ. */
	memset(c1, 0x5c, sizeof(c1));
	memset(c2, 0xc5, sizeof(c2));
	n1 = attest(fd, a2.region_id, c1, sizeof(c1), ev1, sizeof(ev1));
	n2 = attest(fd, a2.region_id, c2, sizeof(c2), ev2, sizeof(ev2));
	ok = VT_EXPECT(n1 > 0 && n2 > 0, "attest %d %d", n1, n2);
	if (ok) {
		const struct csm_cca_region_desc *d = desc_of(ev1);
		size_t hdr = sizeof(struct csm_cca_evidence) + sizeof(struct csm_cca_region_desc);

		ok = VT_EXPECT(d->caller_realm_id == self && d->region_id == a2.region_id &&
			       d->provider_realm_id == peer && d->share_id == s2 &&
			       d->caller_role == CSM_ROLE_CONSUMER && d->caller_perm == CSM_PERM_RO,
			       "descriptor") && ok;
		ok = VT_EXPECT(n1 - hdr != n2 - hdr || memcmp(ev1 + hdr, ev2 + hdr, n1 - hdr),
			       "same token for two challenges") && ok;
		print_token("b-consumer-c64", c1, sizeof(c1), ev1, n1);
		print_token("b-consumer-c40", c2, sizeof(c2), ev2, n2);
	}
	vt_result("b_attest", ok, "consumer evidence (%d, %d bytes) binds realm %llu, share %#llx; tokens differ",
		  n1, n2, (unsigned long long)self, (unsigned long long)s2);
	link_send("ro-mapped");

	/* revoke while mapped: the poll notices, unmaps, tells us */
	ok = !link_expect("revoked", 60000, line, sizeof(line));
	ok = ok && !vt_wait_event(efd, CSM_EVENT_REVOKED, 10000, &ev) && ev.share_id == s2;
	sig = m2 != MAP_FAILED ? vt_probe(m2, 0) : -1;
	ok = ok && (sig == SIGBUS || sig == SIGSEGV);
	vt_result("b_revoke_zaps", ok, "REVOKED event within the poll period, then a read ends with signal %d", sig);
	memset(&dt, 0, sizeof(dt));
	dt.share_id = s2;
	vt_ioctl(fd, CSM_IOC_DETACH, &dt);
	link_send("b-checked-revoke");

	link_expect("kill-now", 60000, line, sizeof(line));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	ok = !link_expect("share3", 30000, line, sizeof(line)) &&
	     sscanf(line, "share3 %llu", (unsigned long long *)&s3) == 1;
	ok = ok && !attach(fd, s3, R3_SIZE, &a3);
	m3 = ok ? mmap(NULL, R3_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, a3.mmap_offset) :
		  MAP_FAILED;
	ok = ok && m3 != MAP_FAILED;
	if (ok)
		m3[0] = 1;
	link_send("attached3");
	ok = ok && !link_expect("provider-killed", 30000, line, sizeof(line));
	ok = ok && !vt_wait_event(efd, CSM_EVENT_DESTROYED, 10000, &ev) &&
	     ev.region_id == a3.region_id;
	sig = m3 != MAP_FAILED ? vt_probe(m3, 0) : -1;
	ok = ok && (sig == SIGBUS || sig == SIGSEGV);
	vt_result("b_provider_exit", ok, "DESTROYED event when the provider process died; access signal %d", sig);
	dt.share_id = s3;
	vt_ioctl(fd, CSM_IOC_DETACH, &dt);
	if (m3 != MAP_FAILED)
		munmap(m3, R3_SIZE);
	if (m2 != MAP_FAILED)
		munmap(m2, R2_SIZE);
	link_send("b-checked-exit");

	link_expect("done", 60000, line, sizeof(line));
	close(efd);
	close(fd);
	usleep(200000);
	vt_result("b_counters_zero", vt_counters_zero() == 0, "after closing everything");

	/* Attach once more and keep it while this VM powers off. */
	ok = !link_expect("share4", 30000, line, sizeof(line)) &&
	     sscanf(line, "share4 %llu", (unsigned long long *)&s3) == 1;
	if (ok && fork() == 0) {
		int fd4 = vt_open();

		ok = !attach(fd4, s3, 0, &a3) &&
		     mmap(NULL, a3.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd4,
			  a3.mmap_offset) != MAP_FAILED;
		vt_result("b_attach_before_dying", ok, "share %#llx mapped; VM powers off next",
			  (unsigned long long)s3);
		link_send("attached4");
		pause();
	}
	sleep(1);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: csm-vm-rsi-pair provider|consumer LINK_TTY\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	link_fd = open(argv[2], O_RDWR | O_NOCTTY);
	if (link_fd < 0) {
		vt_result("link", 0, "open %s: %s", argv[2], strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "provider"))
		provider();
	else
		consumer();
	return vt_failures ? 1 : 0;
}
