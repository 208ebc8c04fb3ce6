/* Helpers for the guest-side VM tests (see vmtest.h). */
#define _GNU_SOURCE
#include "vmtest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int vt_failures;

void vt_result(const char *name, int ok, const char *fmt, ...)
{
	va_list ap;

	printf("RESULT %s %s ", name, ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		vt_failures++;
}

int vt_expect(int cond, const char *what, int line, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		return 1;
	printf("CHECK FAILED line %d: %s: ", line, what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return 0;
}

int vt_open(void)
{
	int fd = open(CSM_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("cannot open %s: %s\n", CSM_DEVICE_PATH, strerror(errno));
		exit(1);
	}
	return fd;
}

int vt_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

uint64_t vt_realm(int fd)
{
	struct csm_realm r;

	memset(&r, 0, sizeof(r));
	return vt_ioctl(fd, CSM_IOC_REALM, &r) ? 0 : r.realm_id;
}

int vt_create(int fd, uint64_t size, uint64_t *region, uint64_t *off)
{
	struct csm_create c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.size = size;
	ret = vt_ioctl(fd, CSM_IOC_CREATE, &c);
	if (!ret) {
		*region = c.region_id;
		if (off)
			*off = c.mmap_offset;
	}
	return ret;
}

int vt_probe(volatile uint8_t *p, int write)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		alarm(5);
		if (write)
			*p = 0x5a;
		else
			(void)*p;
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

long vt_counter(const char *name)
{
	FILE *f = fopen("/sys/kernel/debug/csm/counters", "r");
	char key[64];
	long v, found = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &v) == 2)
		if (!strcmp(key, name))
			found = v;
	fclose(f);
	return found;
}

int vt_counters_zero(void)
{
	static const char *const live[] = {
		"regions", "provided", "attached", "mappings",
		"event_fds", "doorbell_fds", "nodes",
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		long v = vt_counter(live[i]);

		if (v != 0) {
			printf("counter %s = %ld, expected 0\n", live[i], v);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

uint64_t vt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int vt_wait_event(int efd, uint32_t type, int ms, struct csm_event *ev)
{
	uint64_t deadline = vt_now_ns() + (uint64_t)ms * 1000000;

	for (;;) {
		struct pollfd p = { .fd = efd, .events = POLLIN };
		int64_t left = (int64_t)(deadline - vt_now_ns()) / 1000000;

		while (read(efd, ev, sizeof(*ev)) == sizeof(*ev))
			if (ev->type == type)
				return 0;
		if (left <= 0)
			return -ETIMEDOUT;
		poll(&p, 1, (int)left);
	}
}

int vt_rescan_hold(int on)
{
	int fd = open(VT_HOLD_KNOB, O_WRONLY), ok;

	ok = fd >= 0 && write(fd, on ? "1\n" : "0\n", 2) == 2;
	if (!ok)
		printf("%s: %s\n", VT_HOLD_KNOB, strerror(errno));
	if (fd >= 0)
		close(fd);
	return ok;
}

int vt_read_events(int efd, struct csm_event *ev, int max, int want, int ms)
{
	uint64_t deadline = vt_now_ns() + (uint64_t)ms * 1000000;
	int n = 0;

	for (;;) {
		struct pollfd p = { .fd = efd, .events = POLLIN };
		int64_t left = (int64_t)(deadline - vt_now_ns()) / 1000000;

		while (n < max && read(efd, &ev[n], sizeof(*ev)) == sizeof(*ev))
			n++;
		if (left <= 0 || n == max)
			return n;
		if (poll(&p, 1, n >= want && left > 500 ? 500 : (int)left) == 0 && n >= want)
			return n;
	}
}

const char *vt_event_name(uint32_t type)
{
	static const char *const names[] = { "?", "ATTACHED", "DETACHED", "REVOKED",
					     "DESTROYED", "GONE" };

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

int vt_check_cycle_events(const struct csm_event *ev, int n, int want, uint32_t first,
			  uint64_t seq0, uint32_t flags0, uint64_t region, uint64_t sh,
			  uint64_t peer, char *desc, size_t len)
{
	uint32_t other = first == CSM_EVENT_ATTACHED ? CSM_EVENT_DETACHED : CSM_EVENT_ATTACHED;
	int ok = n == want;
	size_t used = 0;

	desc[0] = '\0';
	for (int i = 0; i < n; i++) {
		uint32_t type = i % 2 ? other : first;

		ok = ok && ev[i].type == type && ev[i].seq == seq0 + i &&
		     ev[i].flags == (i ? 0 : flags0) && ev[i].region_id == region &&
		     ev[i].share_id == sh && ev[i].realm_id == peer;
		if (used < len)
			used += snprintf(desc + used, len - used, "%s%s seq=%llu%s", i ? ", " : "",
					 vt_event_name(ev[i].type), (unsigned long long)ev[i].seq,
					 ev[i].flags & CSM_EVENT_F_LOST ? " LOST" : "");
	}
	return ok;
}

int vt_event_fd(int fd)
{
	struct csm_event_fd e;

	memset(&e, 0, sizeof(e));
	return vt_ioctl(fd, CSM_IOC_EVENT_FD, &e) ? -1 : e.fd;
}

int vt_doorbell_fd(int fd, uint64_t region, uint64_t realm)
{
	struct csm_doorbell_fd d;

	memset(&d, 0, sizeof(d));
	d.region_id = region;
	d.realm_id = realm;
	return vt_ioctl(fd, CSM_IOC_DOORBELL_FD, &d) ? -1 : d.fd;
}

int vt_attach(int fd, uint64_t share, uint64_t size, struct csm_attach *a)
{
	memset(a, 0, sizeof(*a));
	a->share_id = share;
	a->size = size;
	return vt_ioctl(fd, CSM_IOC_ATTACH, a);
}

int vt_destroy(int fd, uint64_t region, uint32_t flags)
{
	struct csm_destroy d;

	memset(&d, 0, sizeof(d));
	d.region_id = region;
	d.flags = flags;
	return vt_ioctl(fd, CSM_IOC_DESTROY, &d);
}

int vt_create_shared(int fd, uint64_t size, uint64_t peer, uint64_t *region,
		     struct csm_share *sh)
{
	uint64_t off;
	int ret;

	memset(sh, 0, sizeof(*sh));
	ret = vt_create(fd, size, region, &off);
	if (ret)
		return ret;
	sh->region_id = *region;
	sh->peer_realm_id = peer;
	sh->perm = CSM_PERM_RW;
	return vt_ioctl(fd, CSM_IOC_SHARE, sh);
}

int vt_attest(int fd, uint64_t region, const uint8_t *chal, uint32_t chal_len,
	      uint8_t *buf, uint32_t cap, struct csm_attest *at)
{
	memset(at, 0, sizeof(*at));
	at->region_id = region;
	at->token_ptr = (uintptr_t)buf;
	at->token_len = cap;
	at->challenge_len = chal_len;
	memcpy(at->challenge, chal, chal_len);
	return vt_ioctl(fd, CSM_IOC_ATTEST, at);
}

void vt_print_token(const char *label, const uint8_t *chal, uint32_t chal_len,
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

/* ------------------------------------------------- the serial link ---- */
int vt_link_fd = -1;
static char linebuf[512];
static size_t linelen;

void vt_link_send(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(vt_link_fd, buf, n) != n)
		printf("link write failed: %s\n", strerror(errno));
}

int vt_link_expect(const char *prefix, int ms, char *out, size_t outlen)
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
			if (hit)
				snprintf(out, outlen, "%s", hit);
			memmove(linebuf, nl + 1, linelen - n - 1);
			linelen -= n + 1;
			if (hit)
				return 0;
			continue;
		}
		int64_t left = (int64_t)(deadline - vt_now_ns()) / 1000000;
		struct pollfd p = { .fd = vt_link_fd, .events = POLLIN };

		if (left <= 0 || linelen == sizeof(linebuf)) {
			printf("link: no '%s' within %d ms\n", prefix, ms);
			return -1;
		}
		if (poll(&p, 1, (int)left) == 1) {
			ssize_t r = read(vt_link_fd, linebuf + linelen, sizeof(linebuf) - linelen);

			if (r > 0)
				linelen += r;
		}
	}
}

int vt_pair_main(int argc, char **argv, const char *prog, void (*provider)(void),
		 void (*consumer)(void))
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s provider|consumer LINK_TTY\n", prog);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	vt_link_fd = open(argv[2], O_RDWR | O_NOCTTY);
	if (vt_link_fd < 0) {
		vt_result("link", 0, "open %s: %s", argv[2], strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "provider"))
		provider();
	else
		consumer();
	return vt_failures ? 1 : 0;
}

/* ------------------------------------------- stream and ping on R1 ---- */
#define SLOTS		64
#define SLOT_SIZE	8192
#define STREAM_MSGS	2000

struct ctl {		/* start of R1; the slots follow at 4 KiB */
	uint64_t prod, cons, ping, pong;
};

static uint8_t *slot_of(uint8_t *m1, uint64_t i)
{
	return m1 + 4096 + (i % SLOTS) * SLOT_SIZE;
}

static uint8_t msg_byte(uint64_t i, uint32_t j)
{
	return (uint8_t)(i * 31 + j * 7 + (j >> 8));
}

static uint32_t msg_len(uint64_t i)
{
	return 16 + (uint32_t)((i * 7919) % (SLOT_SIZE - 16));
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

/* ------------------------------------------------------ A's steps ---- */
/* hello until the consumer answers (it may boot later) */
static void hello_a(struct vt_pair_a *a, int tries)
{
	char line[512];

	for (int i = 0; i < tries && !a->peer; i++) {
		vt_link_send("hello-a %llu", (unsigned long long)a->self);
		if (!vt_link_expect("hello-b", 200, line, sizeof(line)))
			a->peer = strtoull(line + 8, NULL, 0);
	}
}

/*
 * Creates, maps and shares R1 (rw) and R2 (ro, a pattern B checks); a
 * second share of R1 must be EEXIST. -1 when create/map failed.
 */
static int share_regions(struct vt_pair_a *a)
{
	uint64_t off1 = 0, off2 = 0;
	struct csm_share sh;
	int ok, n;

	ok = !vt_create(a->fd, VT_R1_SIZE, &a->r1, &off1) &&
	     !vt_create(a->fd, VT_R2_SIZE, &a->r2, &off2);
	a->m1 = mmap(NULL, VT_R1_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, off1);
	a->m2 = mmap(NULL, VT_R2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, off2);
	if (!ok || a->m1 == MAP_FAILED || a->m2 == MAP_FAILED)
		return -1;
	for (uint32_t i = 0; i < VT_R2_SIZE; i++)
		a->m2[i] = (uint8_t)(i * 3);
	memset(&sh, 0, sizeof(sh));
	sh.region_id = a->r1; sh.peer_realm_id = a->peer; sh.perm = CSM_PERM_RW;
	ok = !vt_ioctl(a->fd, CSM_IOC_SHARE, &sh);
	a->s1 = sh.share_id;
	n = vt_ioctl(a->fd, CSM_IOC_SHARE, &sh);
	ok = VT_EXPECT(ok && n == -EEXIST, "second share %d", n);
	sh.region_id = a->r2; sh.perm = CSM_PERM_RO;
	ok = !vt_ioctl(a->fd, CSM_IOC_SHARE, &sh) && ok;
	a->s2 = sh.share_id;
	return ok;
}

/* ATTACHED from the peer for both shares, each within @ms. */
static int attach_events(const struct vt_pair_a *a, int ms)
{
	struct csm_event ev;
	int ok = 1;

	for (int k = 0; k < 2; k++) {
		int r = vt_wait_event(a->efd, CSM_EVENT_ATTACHED, ms, &ev);

		ok = ok && !r && ev.realm_id == a->peer &&
		     (ev.share_id == a->s1 || ev.share_id == a->s2);
	}
	return ok;
}

/* data-integrity stream, A -> B over a 64-slot ring with doorbells */
static void stream(struct vt_pair_a *a, int stall_ms, int drain_ms)
{
	struct ctl *c = (struct ctl *)a->m1;
	uint64_t t;
	int ok;

	a->db_own = vt_doorbell_fd(a->fd, a->r1, 0);
	a->db_peer = vt_doorbell_fd(a->fd, a->r1, a->peer);
	ok = a->db_own >= 0 && a->db_peer >= 0;
	t = vt_now_ns();
	for (uint64_t i = 0; ok && i < STREAM_MSGS; i++) {
		uint8_t *slot;

		if (i >= SLOTS && wait_word(&c->cons, i - SLOTS + 1, a->db_own, stall_ms)) {
			printf("stream: consumer stalled at %llu\n", (unsigned long long)i);
			ok = 0;
			break;
		}
		slot = slot_of(a->m1, i);
		memcpy(slot, &i, 8);
		for (uint32_t j = 8; j < msg_len(i); j++)
			slot[j] = msg_byte(i, j);
		__atomic_store_n(&c->prod, i + 1, __ATOMIC_RELEASE);
		ring(a->db_peer);
	}
	ok = ok && !wait_word(&c->cons, STREAM_MSGS, a->db_own, drain_ms);
	t = vt_now_ns() - t;
	vt_result("a_stream", ok, "%d messages (16..8192 B) sent and consumed in %.1f ms",
		  STREAM_MSGS, t / 1e6);
}

/* ping-pong: doorbell mode, then spin mode */
static void ping(const struct vt_pair_a *a, int doorbell, int spin)
{
	struct ctl *c = (struct ctl *)a->m1;
	uint64_t *rtt = calloc(doorbell > spin ? doorbell : spin, sizeof(*rtt)), t;
	int ok = rtt != NULL;

	for (uint64_t k = 1; ok && k <= (uint64_t)doorbell; k++) {
		t = vt_now_ns();
		__atomic_store_n(&c->ping, k, __ATOMIC_RELEASE);
		ring(a->db_peer);
		ok = !wait_word(&c->pong, k, a->db_own, 5000);
		rtt[k - 1] = vt_now_ns() - t;
	}
	if (ok)
		report_rtt("doorbell", rtt, doorbell);
	for (uint64_t k = 1; ok && k <= (uint64_t)spin; k++) {
		uint64_t v = doorbell + k;

		t = vt_now_ns();
		__atomic_store_n(&c->ping, v, __ATOMIC_RELEASE);
		ok = !wait_word(&c->pong, v, -1, 5000);
		rtt[k - 1] = vt_now_ns() - t;
	}
	if (ok)
		report_rtt("spin", rtt, spin);
	vt_result("a_ping", ok, "%d doorbell and %d spin round trips", doorbell, spin);
	free(rtt);
}

int vt_pair_a_start(struct vt_pair_a *a, const struct vt_pair_waits *w,
		    int (*share_check)(const struct vt_pair_a *a))
{
	int ok;

	memset(a, 0, sizeof(*a));
	a->fd = vt_open();
	a->efd = vt_event_fd(a->fd);
	a->self = vt_realm(a->fd);
	hello_a(a, w->hello_tries);
	vt_result("a_link", a->peer != 0 && a->peer != a->self, "self=%#llx peer=%#llx",
		  (unsigned long long)a->self, (unsigned long long)a->peer);
	if (!a->peer)
		return -1;
	ok = share_regions(a);
	if (ok < 0) {
		vt_result("a_share", 0, "create/map failed");
		return -1;
	}
	if (share_check)
		ok = share_check(a) && ok;
	vt_result("a_share", ok, "r1=%#llx s1=%#llx (rw) r2=%#llx s2=%#llx (ro), second share EEXIST",
		  (unsigned long long)a->r1, (unsigned long long)a->s1,
		  (unsigned long long)a->r2, (unsigned long long)a->s2);
	vt_link_send("shares %llu %llu", (unsigned long long)a->s1, (unsigned long long)a->s2);
	vt_result("a_attach_events", attach_events(a, w->news_ms),
		  "ATTACHED for both shares from realm %#llx", (unsigned long long)a->peer);
	stream(a, w->stall_ms, w->news_ms);
	ping(a, w->ping_doorbell, w->ping_spin);
	return 0;
}

/* Once B maps R2 (within @ms), revoke it, then again: EALREADY. */
static void revoke_ro(const struct vt_pair_a *a, int ms, const char *note)
{
	struct csm_revoke rv;
	char line[512];
	uint64_t t;
	int ok, n;

	ok = !vt_link_expect("ro-mapped", ms, line, sizeof(line));
	memset(&rv, 0, sizeof(rv));
	rv.share_id = a->s2;
	t = vt_now_ns();
	ok = ok && !vt_ioctl(a->fd, CSM_IOC_REVOKE, &rv);
	t = vt_now_ns() - t;
	n = vt_ioctl(a->fd, CSM_IOC_REVOKE, &rv);
	ok = VT_EXPECT(ok && n == -EALREADY, "revoke again %d", n);
	vt_result("a_revoke", ok, "revoke of s2 returned in %.2f ms (%s); again: EALREADY",
		  t / 1e6, note);
	vt_link_send("revoked");
}

/*
 * Once B's kernel has let go of the revoked share, R2 is shared with B
 * again; B attaches and detaches the new share (b_reattach). Revoking it
 * once B is done leaves R2 revoked-only for a_destroy.
 */
static void reshare_ro(const struct vt_pair_a *a, int ms)
{
	struct csm_revoke rv;
	struct csm_share sh;
	struct csm_event ev;
	char line[512];
	int ok, n;

	ok = !vt_link_expect("b-saw-revoke", ms, line, sizeof(line));
	memset(&sh, 0, sizeof(sh));
	sh.region_id = a->r2;
	sh.peer_realm_id = a->peer;
	sh.perm = CSM_PERM_RO;
	n = ok ? vt_ioctl(a->fd, CSM_IOC_SHARE, &sh) : -ETIMEDOUT;
	ok = VT_EXPECT(n == 0, "share again: %s", strerror(-n));
	vt_link_send("reshared %llu", (unsigned long long)sh.share_id);
	/* B holds the attachment until we saw it: RSI news is polled. */
	ok = ok && VT_EXPECT(!vt_wait_event(a->efd, CSM_EVENT_ATTACHED, ms, &ev) &&
			     ev.share_id == sh.share_id, "no ATTACHED for the new share");
	vt_link_send("a-saw-reattach");
	ok = ok && VT_EXPECT(!vt_wait_event(a->efd, CSM_EVENT_DETACHED, ms, &ev) &&
			     ev.share_id == sh.share_id, "no DETACHED for the new share");
	ok = ok && !vt_link_expect("b-reattached", ms, line, sizeof(line));
	memset(&rv, 0, sizeof(rv));
	rv.share_id = sh.share_id;
	n = vt_ioctl(a->fd, CSM_IOC_REVOKE, &rv);
	ok = VT_EXPECT(n == 0, "revoke the new share: %s", strerror(-n)) && ok;
	vt_result("a_reshare", ok, "R2 shared again after its revoke (share %#llx%s); B attached and detached it",
		  (unsigned long long)sh.share_id, sh.share_id == a->s2 ? ", the same ID" : "");
}

/* B's process holding the RW attachment is killed: A sees the detach */
static void sees_detach(const struct vt_pair_a *a, int ms)
{
	struct csm_event ev;
	char line[512];
	int ok;

	ok = !vt_link_expect("b-checked-revoke", ms, line, sizeof(line));
	vt_link_send("kill-now");
	ok = ok && !vt_wait_event(a->efd, CSM_EVENT_DETACHED, ms, &ev) && ev.share_id == a->s1;
	vt_result("a_sees_detach", ok, "DETACHED for share %#llx after B's process was killed",
		  (unsigned long long)a->s1);
}

/* a provider process that dies tears its region down for B */
static void provider_exit(const struct vt_pair_a *a, int ms)
{
	char line[512];
	pid_t p3 = fork();
	int ok;

	if (p3 == 0) {
		int fd3 = vt_open();
		struct csm_share s3;
		uint64_t r3;

		if (vt_create_shared(fd3, VT_R3_SIZE, a->peer, &r3, &s3))
			_exit(1);
		vt_link_send("share3 %llu", (unsigned long long)s3.share_id);
		pause();
		_exit(0);
	}
	ok = !vt_link_expect("attached3", ms, line, sizeof(line));
	kill(p3, SIGKILL);
	waitpid(p3, NULL, 0);
	vt_link_send("provider-killed");
	ok = ok && !vt_link_expect("b-checked-exit", ms, line, sizeof(line));
	vt_result("a_provider_exit", ok, "killed the provider of region 3 while B mapped it");
}

/* destroy rules: live share refuses, force works */
static void teardown(struct vt_pair_a *a)
{
	int ok, n;

	munmap(a->m1, VT_R1_SIZE);
	munmap(a->m2, VT_R2_SIZE);
	close(a->db_own);
	close(a->db_peer);
	n = vt_destroy(a->fd, a->r1, 0);
	ok = VT_EXPECT(n == -EBUSY, "destroy with a live share: %d", n);
	ok = VT_EXPECT(!vt_destroy(a->fd, a->r1, CSM_DESTROY_FORCE), "forced") && ok;
	ok = VT_EXPECT(!vt_destroy(a->fd, a->r2, 0), "revoked-only region") && ok;
	vt_result("a_destroy", ok, "EBUSY with a live share, then forced; revoked-only region destroys");
	close(a->efd);
	close(a->fd);
	usleep(200000);
	vt_result("a_counters_zero", vt_counters_zero() == 0, "after closing everything");
	vt_link_send("done");
}

void vt_pair_a_finish(struct vt_pair_a *a, const struct vt_pair_waits *w)
{
	revoke_ro(a, w->ro_mapped_ms, w->revoke_note);
	reshare_ro(a, w->news_ms);
	sees_detach(a, w->news_ms);
	provider_exit(a, w->news_ms);
	teardown(a);
}

int vt_pair_share_last(struct vt_pair_last *l, uint64_t peer, int ms)
{
	char line[512];
	int ok;

	l->fd = vt_open();
	l->efd = vt_event_fd(l->fd);
	l->region = 0;
	ok = !vt_create_shared(l->fd, VT_R3_SIZE, peer, &l->region, &l->sh);
	vt_link_send("share4 %llu", (unsigned long long)l->sh.share_id);
	return ok && !vt_link_expect("attached4", ms, line, sizeof(line));
}

/* ------------------------------------------------------ B's steps ---- */
/* Answers A's hello (within @ms) and reads the share IDs; 1 if all came. */
static int hello_b(struct vt_pair_b *b, int ms)
{
	unsigned long long x1 = 0, x2 = 0;
	char line[512];
	int ok;

	if (!vt_link_expect("hello-a", ms, line, sizeof(line))) {
		b->peer = strtoull(line + 8, NULL, 0);
		vt_link_send("hello-b %llu", (unsigned long long)b->self);
	}
	ok = b->peer && !vt_link_expect("shares", 30000, line, sizeof(line)) &&
	     sscanf(line, "shares %llu %llu", &x1, &x2) == 2;
	b->s1 = x1;
	b->s2 = x2;
	return ok;
}

/* B's stream process: attaches the RW share, consumes, answers pings. */
static void __attribute__((noreturn))
consumer_stream(uint64_t s1, int ready_pipe, const struct vt_pair_waits *w)
{
	int fd = vt_open(), db_own, db_peer, ok;
	uint64_t bad = 0, got = 0, pings = w->ping_doorbell + w->ping_spin;
	struct csm_attach a;
	struct ctl *c;
	uint8_t *m1;

	ok = !vt_attach(fd, s1, VT_R1_SIZE, &a) && a.perm == CSM_PERM_RW;
	m1 = mmap(NULL, VT_R1_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, a.mmap_offset);
	ok = ok && m1 != MAP_FAILED;
	db_own = vt_doorbell_fd(fd, a.region_id, 0);
	db_peer = vt_doorbell_fd(fd, a.region_id, a.provider_realm_id);
	ok = ok && db_own >= 0 && db_peer >= 0;
	vt_result("b_attach_rw", ok, "share %#llx: region %#llx size %llu provider %#llx",
		  (unsigned long long)s1, (unsigned long long)a.region_id,
		  (unsigned long long)a.size, (unsigned long long)a.provider_realm_id);
	if (write(ready_pipe, "r", 1) != 1 || !ok)
		_exit(1);
	c = (struct ctl *)m1;
	for (uint64_t i = 0; i < STREAM_MSGS; i++) {
		uint8_t *slot = slot_of(m1, i);
		uint64_t id;

		if (wait_word(&c->prod, i + 1, db_own, w->news_ms))
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
	/* the doorbell round trips ring back; the spinning ones do not */
	for (uint64_t k = 1; k <= pings; k++) {
		int doorbell = k <= (uint64_t)w->ping_doorbell;

		if (wait_word(&c->ping, k, doorbell ? db_own : -1, 5000))
			break;
		__atomic_store_n(&c->pong, k, __ATOMIC_RELEASE);
		if (doorbell)
			ring(db_peer);
	}
	pause();	/* until B's main process kills us */
	_exit(0);
}

/* Forks the stream process; its pid once it attached (or failed), else -1. */
static pid_t start_stream(const struct vt_pair_b *b, const struct vt_pair_waits *w)
{
	int pipefd[2];
	pid_t child;
	char ch;

	if (pipe(pipefd))
		return -1;
	child = fork();
	if (child == 0)
		consumer_stream(b->s1, pipefd[1], w);
	if (child > 0 && read(pipefd[0], &ch, 1) != 1)
		printf("stream process ended before attaching\n");
	close(pipefd[0]);
	close(pipefd[1]);
	return child;
}

/* Bytes of R2 as A wrote them. */
static int r2_intact(const uint8_t *m)
{
	for (uint32_t i = 0; i < VT_R2_SIZE; i++)
		if (m[i] != (uint8_t)(i * 3))
			return 0;
	return 1;
}

/* read-only share: writable mappings refused, writes fault */
static int read_only(struct vt_pair_b *b)
{
	struct csm_attach again;
	int ok, sig;

	ok = VT_EXPECT(!vt_attach(b->fd, b->s2, 0, &b->a2), "%s", strerror(errno));
	ok = VT_EXPECT(b->a2.perm == CSM_PERM_RO && b->a2.size == VT_R2_SIZE, "perm %u size %llu",
		       b->a2.perm, (unsigned long long)b->a2.size) && ok;
	ok = VT_EXPECT(vt_attach(b->fd, b->s2, 0, &again) == -EEXIST, "not EEXIST") && ok;
	b->m2 = mmap(NULL, VT_R2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd,
		     b->a2.mmap_offset);
	ok = VT_EXPECT(b->m2 == MAP_FAILED && errno == EACCES, "%s", strerror(errno)) && ok;
	b->m2 = mmap(NULL, VT_R2_SIZE, PROT_READ, MAP_SHARED, b->fd, b->a2.mmap_offset);
	ok = VT_EXPECT(b->m2 != MAP_FAILED, "%s", strerror(errno)) && ok;
	if (b->m2 != MAP_FAILED) {
		uint8_t *m = b->m2;

		ok = VT_EXPECT(r2_intact(m), "mismatch") && ok;
		ok = VT_EXPECT(mprotect(m, VT_R2_SIZE, PROT_READ | PROT_WRITE) != 0,
			       "succeeded") && ok;
		sig = vt_probe(m + 100, 1);
		ok = VT_EXPECT(sig == SIGSEGV && m[100] == 300 % 256, "signal %d", sig) && ok;
	}
	return ok;
}

int vt_pair_b_start(struct vt_pair_b *b, const struct vt_pair_waits *w)
{
	int ok;

	memset(b, 0, sizeof(*b));
	b->fd = vt_open();
	b->efd = vt_event_fd(b->fd);
	b->self = vt_realm(b->fd);
	ok = hello_b(b, w->hello_ms);
	vt_result("b_link", ok, "self=%#llx peer=%#llx s1=%#llx s2=%#llx",
		  (unsigned long long)b->self, (unsigned long long)b->peer,
		  (unsigned long long)b->s1, (unsigned long long)b->s2);
	if (!ok)
		return -1;
	b->child = start_stream(b, w);
	if (b->child < 0)
		return -1;
	return read_only(b);
}

int vt_pair_consumer_rules(const struct vt_pair_b *b)
{
	struct csm_share sh;
	struct csm_revoke rv;
	int r1, r2, r3;

	memset(&sh, 0, sizeof(sh));
	sh.region_id = b->a2.region_id; sh.peer_realm_id = b->peer; sh.perm = CSM_PERM_RO;
	r1 = vt_ioctl(b->fd, CSM_IOC_SHARE, &sh);
	memset(&rv, 0, sizeof(rv));
	rv.share_id = b->s2;
	r2 = vt_ioctl(b->fd, CSM_IOC_REVOKE, &rv);
	r3 = vt_destroy(b->fd, b->a2.region_id, 0);
	return VT_EXPECT(r1 == -EPERM && r2 == -EPERM && r3 == -EPERM,
			 "share %d revoke %d destroy %d", r1, r2, r3);
}

/* revoke while mapped */
static void revoke_zaps(const struct vt_pair_b *b, const struct vt_pair_waits *w)
{
	struct csm_event ev;
	char line[512];
	int ok, sig;

	ok = !vt_link_expect("revoked", w->revoked_ms, line, sizeof(line));
	ok = ok && !vt_wait_event(b->efd, CSM_EVENT_REVOKED, w->revoke_event_ms, &ev) &&
	     ev.share_id == b->s2;
	sig = b->m2 != MAP_FAILED ? vt_probe(b->m2, 0) : -1;
	ok = ok && (sig == SIGBUS || sig == SIGSEGV);
	vt_result("b_revoke_zaps", ok, "REVOKED event %s, then a read ends with signal %d",
		  w->revoke_event, sig);
	vt_link_send("b-saw-revoke");
}

/*
 * A shares R2 again after the revoke. While B still holds the record of
 * the revoked share, the region counts as attached: the new share is
 * refused (EEXIST; EKEYREVOKED when the RMM gives the new share the old ID,
 * as CAEC's sharing IDs do). Detaching the old share lets it attach.
 */
static void reattach_ro(const struct vt_pair_b *b, int ms)
{
	unsigned long long s = 0;
	struct csm_detach dt;
	struct csm_attach a;
	char line[512];
	uint8_t *m = MAP_FAILED;
	int ok, held, again = -1, want;

	ok = !vt_link_expect("reshared", ms, line, sizeof(line)) &&
	     sscanf(line, "reshared %llu", &s) == 1 && s;
	want = s == b->s2 ? -EKEYREVOKED : -EEXIST;
	held = ok ? vt_attach(b->fd, s, 0, &a) : -ETIMEDOUT;
	ok = VT_EXPECT(held == want, "attach with the revoked record held: %d, not %d", held,
		       want) && ok;
	memset(&dt, 0, sizeof(dt));
	dt.share_id = b->s2;
	ok = VT_EXPECT(!vt_ioctl(b->fd, CSM_IOC_DETACH, &dt), "detach the revoked share") && ok;
	if (ok) {
		again = vt_attach(b->fd, s, 0, &a);
		ok = VT_EXPECT(!again && a.perm == CSM_PERM_RO && a.size == VT_R2_SIZE &&
			       a.region_id == b->a2.region_id, "attach after the detach: %d", again);
	}
	if (ok) {
		m = mmap(NULL, VT_R2_SIZE, PROT_READ, MAP_SHARED, b->fd, a.mmap_offset);
		ok = VT_EXPECT(m != MAP_FAILED && r2_intact(m), "R2's bytes") && ok;
		if (m != MAP_FAILED)
			munmap(m, VT_R2_SIZE);
		/* attached until A saw it: a polled attach that ends first is missed */
		ok = VT_EXPECT(!vt_link_expect("a-saw-reattach", ms, line, sizeof(line)),
			       "A saw no attach") && ok;
		dt.share_id = s;
		ok = VT_EXPECT(!vt_ioctl(b->fd, CSM_IOC_DETACH, &dt), "detach the new share") && ok;
	}
	vt_result("b_reattach", ok, "re-share %#llx: %s while the revoked record was held, attached and read after detaching it",
		  s, strerror(-held));
	vt_link_send("b-reattached");
	vt_link_send("b-checked-revoke");
}

/* the provider process of region 3 dies while we map it */
static void provider_exit_b(const struct vt_pair_b *b)
{
	unsigned long long s3 = 0;
	struct csm_detach dt;
	struct csm_attach a3;
	struct csm_event ev;
	char line[512];
	uint8_t *m3;
	int ok, sig;

	ok = !vt_link_expect("share3", 30000, line, sizeof(line)) &&
	     sscanf(line, "share3 %llu", &s3) == 1;
	ok = ok && !vt_attach(b->fd, s3, VT_R3_SIZE, &a3);
	m3 = ok ? mmap(NULL, VT_R3_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd,
		       a3.mmap_offset) : MAP_FAILED;
	ok = ok && m3 != MAP_FAILED;
	if (ok)
		m3[0] = 1;
	vt_link_send("attached3");
	ok = ok && !vt_link_expect("provider-killed", 30000, line, sizeof(line));
	ok = ok && !vt_wait_event(b->efd, CSM_EVENT_DESTROYED, 10000, &ev) &&
	     ev.region_id == a3.region_id;
	sig = m3 != MAP_FAILED ? vt_probe(m3, 0) : -1;
	ok = ok && (sig == SIGBUS || sig == SIGSEGV);
	vt_result("b_provider_exit", ok, "DESTROYED event when the provider process died; access signal %d", sig);
	memset(&dt, 0, sizeof(dt));
	dt.share_id = s3;
	vt_ioctl(b->fd, CSM_IOC_DETACH, &dt);
	if (m3 != MAP_FAILED)
		munmap(m3, VT_R3_SIZE);
}

void vt_pair_b_finish(struct vt_pair_b *b, const struct vt_pair_waits *w)
{
	char line[512];

	vt_link_send("ro-mapped");
	revoke_zaps(b, w);
	reattach_ro(b, w->news_ms);

	/* our stream process is killed: A must see the detach */
	vt_link_expect("kill-now", 60000, line, sizeof(line));
	kill(b->child, SIGKILL);
	waitpid(b->child, NULL, 0);

	provider_exit_b(b);
	if (b->m2 != MAP_FAILED)
		munmap(b->m2, VT_R2_SIZE);
	vt_link_send("b-checked-exit");

	vt_link_expect("done", w->done_ms, line, sizeof(line));
	close(b->efd);
	close(b->fd);
	usleep(200000);
	vt_result("b_counters_zero", vt_counters_zero() == 0, "after closing everything");
}

void vt_pair_attach_before_dying(void)
{
	unsigned long long s4 = 0;
	char line[512];
	int ok;

	ok = !vt_link_expect("share4", 30000, line, sizeof(line)) &&
	     sscanf(line, "share4 %llu", &s4) == 1;
	if (ok && fork() == 0) {
		int fd4 = vt_open();
		struct csm_attach a4;

		ok = !vt_attach(fd4, s4, 0, &a4) &&
		     mmap(NULL, a4.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd4,
			  a4.mmap_offset) != MAP_FAILED;
		vt_result("b_attach_before_dying", ok, "share %#llx mapped; VM powers off next", s4);
		vt_link_send("attached4");
		pause();
	}
	sleep(1);
}
