/*
 * csm-vm-pair: the two-VM suite. VM A runs "provider", VM B "consumer";
 * they hand over realm and share IDs on a serial link (the out-of-band
 * channel realm owners would use) and exercise the CSM across VMs.
 *   csm-vm-pair provider|consumer LINK_TTY
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

#define R1_SIZE		(1u << 20)	/* stream + ping, RW */
#define R2_SIZE		(64u << 10)	/* read-only share */
#define R3_SIZE		(64u << 10)	/* dies with its provider process */
#define SLOTS		64
#define SLOT_SIZE	8192
#define STREAM_MSGS	2000
#define PING_DOORBELL	400
#define PING_SPIN	2000

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

static void realm_gone(uint64_t peer);

/* ------------------------------------------- attach/detach replay ---- */
/*
 * The provider learns of attaches and detaches by rescanning share states.
 * With its rescans held (debugfs rescan_hold), the consumer attaches and
 * detaches several times; on release the provider must read every cycle,
 * in order, with consecutive seq (HOLD_CYCLES), or, past the module's cap
 * of 4 cycles per rescan (HOLD_CYCLES_OVER), the last 4 with the loss
 * flagged (CSM_EVENT_F_LOST, seq gap) and counted (rescan_lost).
 */
#define HOLD_CYCLES		2
#define HOLD_CYCLES_OVER	6
#define HOLD_CAP		4
#define HOLD_KNOB		"/sys/kernel/debug/csm/rescan_hold"

static int rescan_hold(int on)
{
	int fd = open(HOLD_KNOB, O_WRONLY), ok;

	ok = fd >= 0 && write(fd, on ? "1\n" : "0\n", 2) == 2;
	if (!ok)
		printf("%s: %s\n", HOLD_KNOB, strerror(errno));
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Events of @efd until @want arrived and 500 ms pass quietly, or @ms. */
static int read_events(int efd, struct csm_event *ev, int max, int want, int ms)
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

static const char *event_name(uint32_t type)
{
	static const char *const names[] = { "?", "ATTACHED", "DETACHED", "REVOKED",
					     "DESTROYED", "GONE" };

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

/*
 * Checks @n events against @want edges of share @sh (ATTACHED first,
 * alternating), the first with seq @seq0 and flags @flags0, the rest
 * consecutive and unflagged; describes them in @desc.
 */
static int check_cycle_events(const struct csm_event *ev, int n, int want, uint64_t seq0,
			      uint32_t flags0, uint64_t region, uint64_t sh, uint64_t peer,
			      char *desc, size_t len)
{
	int ok = n == want;
	size_t used = 0;

	desc[0] = '\0';
	for (int i = 0; i < n; i++) {
		uint32_t type = i % 2 ? CSM_EVENT_DETACHED : CSM_EVENT_ATTACHED;

		ok = ok && ev[i].type == type && ev[i].seq == seq0 + i &&
		     ev[i].flags == (i ? 0 : flags0) && ev[i].region_id == region &&
		     ev[i].share_id == sh && ev[i].realm_id == peer;
		if (used < len)
			used += snprintf(desc + used, len - used, "%s%s seq=%llu%s", i ? ", " : "",
					 event_name(ev[i].type), (unsigned long long)ev[i].seq,
					 ev[i].flags & CSM_EVENT_F_LOST ? " LOST" : "");
	}
	return ok;
}

/* A: hold rescans while B cycles through attach and detach. */
static void held_cycles(uint64_t peer)
{
	static const int rounds[] = { HOLD_CYCLES, HOLD_CYCLES_OVER };
	int fd = vt_open(), efd = event_fd(fd), setup;
	uint64_t region = 0, off, sh = 0, seq = 0;
	struct csm_event ev[32];
	struct csm_share share;
	struct csm_revoke rv;
	struct csm_destroy d;
	char line[512], desc[1024];

	memset(&share, 0, sizeof(share));
	setup = efd >= 0 && !vt_create(fd, R3_SIZE, &region, &off);
	share.region_id = region; share.peer_realm_id = peer; share.perm = CSM_PERM_RW;
	setup = setup && !vt_ioctl(fd, CSM_IOC_SHARE, &share);
	sh = setup ? share.share_id : 0;
	for (size_t k = 0; k < sizeof(rounds) / sizeof(rounds[0]); k++) {
		int cycles = rounds[k], done = -1, errs = -1, early, n, ok, want;
		long lost0 = vt_counter("rescan_lost"), lost1;
		uint64_t seq0 = seq + 1;
		uint32_t flags0 = 0;

		ok = setup && rescan_hold(1);
		/* B cycles even if we failed, to stay in step on the link. */
		link_send("hold-share %llu %d", (unsigned long long)sh, cycles);
		ok = !link_expect("hold-cycled", 60000, line, sizeof(line)) &&
		     sscanf(line, "hold-cycled %d %d", &done, &errs) == 2 && ok;
		/* Rescans were held: nothing may have been reported yet. */
		usleep(300000);
		early = read_events(efd, ev, 32, 0, 0);
		ok = rescan_hold(0) && ok;
		n = read_events(efd, ev, 32, 2 * (cycles < HOLD_CAP ? cycles : HOLD_CAP), 10000);
		lost1 = vt_counter("rescan_lost");
		want = 2 * cycles;
		if (cycles > HOLD_CAP) {
			/* the last 4 cycles; the seq skips the dropped edges */
			want = 2 * HOLD_CAP;
			seq0 += 2 * (cycles - HOLD_CAP);
			flags0 = CSM_EVENT_F_LOST;
		}
		ok = check_cycle_events(ev, n, want, seq0, flags0, region, sh, peer, desc,
					sizeof(desc)) && ok;
		ok = ok && done == cycles && errs == 0 && early == 0 &&
		     lost1 - lost0 == (cycles > HOLD_CAP);
		vt_result(cycles > HOLD_CAP ? "a_held_cycles_lost" : "a_held_cycles", ok,
			  "B attached+detached share %llu %d times (errors %d) while our rescans were "
			  "held (%d events meanwhile); on release: %d events [%s]; rescan_lost %+ld",
			  (unsigned long long)sh, done, errs, early, n, desc, lost1 - lost0);
		if (n)
			seq = ev[n - 1].seq;
	}
	rescan_hold(0);
	memset(&rv, 0, sizeof(rv));
	rv.share_id = sh;
	vt_ioctl(fd, CSM_IOC_REVOKE, &rv);
	memset(&d, 0, sizeof(d));
	d.region_id = region;
	vt_ioctl(fd, CSM_IOC_DESTROY, &d);
	if (efd >= 0)
		close(efd);
	close(fd);
}

/* B: attach and detach the share A names, as often as it says. */
static void held_cycles_consume(void)
{
	int fd = vt_open(), ok = 1;
	struct csm_detach dt;
	struct csm_attach a;
	char line[512];

	for (int k = 0; k < 2; k++) {
		unsigned long long sh = 0;
		int cycles = 0, done = 0, errs = 0;

		if (link_expect("hold-share", 120000, line, sizeof(line)) ||
		    sscanf(line, "hold-share %llu %d", &sh, &cycles) != 2 || cycles > 16) {
			ok = 0;
			break;
		}
		for (int i = 0; i < cycles; i++, done++) {
			memset(&a, 0, sizeof(a));
			a.share_id = sh;
			memset(&dt, 0, sizeof(dt));
			dt.share_id = sh;
			errs += vt_ioctl(fd, CSM_IOC_ATTACH, &a) != 0;
			errs += vt_ioctl(fd, CSM_IOC_DETACH, &dt) != 0;
		}
		link_send("hold-cycled %d %d", done, errs);
		ok = ok && errs == 0;
	}
	close(fd);
	vt_result("b_held_cycles", ok, "attached and detached A's share %d then %d times, "
		  "back to back", HOLD_CYCLES, HOLD_CYCLES_OVER);
}

/* ------------------------------------------------------ csm-ping ---- */
#define CSM_PING "/bin/csm-ping"

/* Starts @argv with stdout on a pipe; returns the pid, *out the read end. */
static pid_t spawn_out(char *const argv[], int *out)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

/* Reads one line from @fd within @ms (0 on success). */
static int read_line(int fd, char *buf, size_t len, int ms)
{
	uint64_t deadline = vt_now_ns() + (uint64_t)ms * 1000000;
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = (int64_t)(deadline - vt_now_ns()) / 1000000;

		if (left <= 0 || poll(&p, 1, (int)left) != 1 || read(fd, buf + n, 1) != 1)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

/* Exit status of @pid within @ms, killing it after that (-1). */
static int reap_within(pid_t pid, int ms)
{
	uint64_t deadline = vt_now_ns() + (uint64_t)ms * 1000000;
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (vt_now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(20000);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *const ping_modes[] = { "spin", "doorbell" };

/* A: the echo side of the real csm-ping, over libcsm and /dev/csm. */
static void csm_ping_serve(uint64_t peer)
{
	char peer_s[32], line[512], reply[512], share[64];
	int out, st, ok;
	pid_t pid;

	if (access(CSM_PING, X_OK)) {
		printf("NOTE csm-ping is not in this initramfs (x86_64 with the csm-ping target only)\n");
		link_send("ping-none");
		return;
	}
	snprintf(peer_s, sizeof(peer_s), "%#llx", (unsigned long long)peer);
	for (size_t m = 0; m < 2; m++) {
		char *argv[] = { CSM_PING, "--serve", "--peer", peer_s, "--timeout", "60",
				 "--cpus", "none", NULL };

		pid = spawn_out(argv, &out);
		ok = pid > 0;
		do {
			ok = ok && !read_line(out, line, sizeof(line), 30000);
		} while (ok && strncmp(line, "share ", 6));
		ok = ok && sscanf(line, "share %63s", share) == 1;
		link_send("ping-share %s %s", ping_modes[m], ok ? share : "none");
		ok = !link_expect("ping-done", 180000, reply, sizeof(reply)) && ok;
		st = pid > 0 ? reap_within(pid, 20000) : -1;
		if (pid > 0)
			close(out);
		vt_result(m ? "a_csm_ping_doorbell" : "a_csm_ping_spin", ok && st == 0 &&
			  strstr(reply, "ping-done 0"), "csm-ping --serve (share %s) exit %d; pinger: %s",
			  ok ? share : "?", st, reply);
	}
}

/* B: the pinger side, printing csm-ping's report as PING lines. */
static void csm_ping_connect(void)
{
	char line[512], mode[32], share[64];

	for (size_t m = 0; m < 2; m++) {
		int out, st = -1, ok;
		pid_t pid = -1;

		ok = !link_expect("ping-", 120000, line, sizeof(line));
		if (ok && !strcmp(line, "ping-none"))
			return;
		ok = ok && sscanf(line, "ping-share %31s %63s", mode, share) == 2 &&
		     strcmp(share, "none");
		if (ok) {
			char *argv[] = { CSM_PING, "--connect", share, "--mode", mode,
					 "--count", m ? "1000" : "5000", "--warmup", "100",
					 "--cpus", "none", "--progress=false", NULL };

			pid = spawn_out(argv, &out);
			while (pid > 0 && !read_line(out, line, sizeof(line), 150000))
				printf("PING %s: %s\n", mode, line);
			st = pid > 0 ? reap_within(pid, 20000) : -1;
			if (pid > 0)
				close(out);
		}
		link_send("ping-done %d", st);
		vt_result(m ? "b_csm_ping_doorbell" : "b_csm_ping_spin", ok && st == 0,
			  "csm-ping --connect %s --mode %s across the VMs: exit %d", share, mode, st);
	}
}

/* ---------------------------------------------------- csm-compare ---- */
#define CSM_COMPARE "/bin/csm-compare"
/*
 * Small enough for TCG: every variant and both modes at three sizes, a few
 * hundred messages each (the sweep and the counts of a real run take hours
 * under TCG). The verdict is functional: both sides exit 0, which needs
 * every step to finish with the responder's checksums matching.
 */
#define COMPARE_SIZES	"64,4K,64K"
#define COMPARE_COUNT	"200"
#define COMPARE_WARMUP	"20"

/* A: the responder of csm-compare: CSM over /dev/csm, sealed over ivshmem. */
static void csm_compare_serve(uint64_t peer)
{
	const char *host_mem = getenv("CSM_VM_HOST_MEM");
	char peer_s[32], line[512], reply[512], share[64];
	int out, st, ok;
	pid_t pid;

	if (access(CSM_COMPARE, X_OK)) {
		printf("NOTE csm-compare is not in this initramfs (built with the csm-compare target only)\n");
		link_send("compare-none");
		return;
	}
	snprintf(peer_s, sizeof(peer_s), "%#llx", (unsigned long long)peer);
	{
		char *argv[] = { CSM_COMPARE, "--serve", "--peer", peer_s, "--host_mem",
				 (char *)(host_mem ? host_mem : "(no ivshmem-plain device)"),
				 "--sizes", COMPARE_SIZES, "--timeout", "120", "--cpus", "none",
				 NULL };

		pid = spawn_out(argv, &out);
	}
	ok = pid > 0;
	do {
		ok = ok && !read_line(out, line, sizeof(line), 30000);
	} while (ok && strncmp(line, "share ", 6));
	ok = ok && sscanf(line, "share %63s", share) == 1;
	link_send("compare-share %s", ok ? share : "none");
	ok = !link_expect("compare-done", 280000, reply, sizeof(reply)) && ok;
	st = pid > 0 ? reap_within(pid, 30000) : -1;
	if (pid > 0)
		close(out);
	vt_result("a_csm_compare", ok && st == 0 && strstr(reply, "compare-done 0"),
		  "csm-compare --serve (share %s, host memory %s) exit %d; driver: %s",
		  ok ? share : "?", host_mem ? host_mem : "none", st, reply);
}

/* B: the driver of csm-compare; its report becomes COMPARE lines. */
static void csm_compare_connect(void)
{
	const char *host_mem = getenv("CSM_VM_HOST_MEM");
	char line[512], share[64];
	int out, st = -1, ok, rows = 0;
	pid_t pid = -1;

	ok = !link_expect("compare-", 200000, line, sizeof(line));
	if (ok && !strcmp(line, "compare-none"))
		return;
	ok = ok && sscanf(line, "compare-share %63s", share) == 1 && strcmp(share, "none");
	if (ok) {
		char *argv[] = { CSM_COMPARE, "--connect", share, "--host_mem",
				 (char *)(host_mem ? host_mem : "(no ivshmem-plain device)"),
				 "--sizes", COMPARE_SIZES, "--count", COMPARE_COUNT,
				 "--warmup", COMPARE_WARMUP, "--speed_ms", "20",
				 "--cpus", "none", "--progress=false", NULL };

		printf("COMPARE NOTE: TCG-emulated VMs, emulated RMM (no confidentiality): "
		       "functional check, the numbers are not the machine's\n");
		pid = spawn_out(argv, &out);
		while (pid > 0 && !read_line(out, line, sizeof(line), 250000)) {
			printf("COMPARE %s\n", line);
			rows += !strncmp(line, "pingpong ", 9) || !strncmp(line, "stream ", 7);
		}
		st = pid > 0 ? reap_within(pid, 20000) : -1;
		if (pid > 0)
			close(out);
	}
	link_send("compare-done %d", st);
	/* 5 variants x 2 modes x 3 sizes */
	vt_result("b_csm_compare", ok && st == 0 && rows == 30,
		  "csm-compare --connect %s across the VMs (sealed over %s): exit %d, %d of 30 steps",
		  ok ? share : "?", host_mem ? host_mem : "none", st, rows);
}

/* ---------------------------------------------------------------- A ---- */
static void provider(void)
{
	int fd = vt_open(), efd = event_fd(fd), db_own, db_peer, ok;
	uint64_t self = vt_realm(fd), peer = 0, r1, r2, off1, off2, s1, s2, t;
	struct csm_share sh;
	struct csm_event ev;
	struct csm_revoke rv;
	struct csm_destroy d;
	char line[512];
	uint64_t *rtt;
	uint8_t *m1, *m2;
	struct ctl *c;
	pid_t p3;

	/* hello until the consumer answers (it may boot later) */
	for (int i = 0; i < 150 && !peer; i++) {
		link_send("hello-a %llu", (unsigned long long)self);
		if (!link_expect("hello-b", 200, line, sizeof(line)))
			peer = strtoull(line + 8, NULL, 0);
	}
	vt_result("a_link", peer != 0, "self=%#llx peer=%#llx", (unsigned long long)self,
		  (unsigned long long)peer);
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
	ok = ok && vt_ioctl(fd, CSM_IOC_SHARE, &sh) == -EEXIST;
	sh.region_id = r2; sh.perm = CSM_PERM_RO;
	ok = ok && !vt_ioctl(fd, CSM_IOC_SHARE, &sh);
	s2 = sh.share_id;
	vt_result("a_share", ok, "r1=%llu s1=%llu (rw) r2=%llu s2=%llu (ro), second share EEXIST",
		  (unsigned long long)r1, (unsigned long long)s1,
		  (unsigned long long)r2, (unsigned long long)s2);
	link_send("shares %llu %llu", (unsigned long long)s1, (unsigned long long)s2);

	ok = 1;
	for (int n = 0; n < 2; n++) {
		int r = vt_wait_event(efd, CSM_EVENT_ATTACHED, 20000, &ev);

		ok = ok && !r && ev.realm_id == peer && (ev.share_id == s1 || ev.share_id == s2);
	}
	vt_result("a_attach_events", ok, "ATTACHED for both shares from realm %#llx",
		  (unsigned long long)peer);

	/* data-integrity stream, A -> B over a 64-slot ring with doorbells */
	db_own = doorbell_fd(fd, r1, 0);
	db_peer = doorbell_fd(fd, r1, peer);
	c = (struct ctl *)m1;
	ok = db_own >= 0 && db_peer >= 0;
	t = vt_now_ns();
	for (uint64_t i = 0; ok && i < STREAM_MSGS; i++) {
		uint8_t *slot;

		if (i >= SLOTS && wait_word(&c->cons, i - SLOTS + 1, db_own, 10000)) {
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
	ok = ok && !wait_word(&c->cons, STREAM_MSGS, db_own, 20000);
	t = vt_now_ns() - t;
	vt_result("a_stream", ok, "%d messages (16..8192 B) sent and consumed in %.1f ms",
		  STREAM_MSGS, t / 1e6);

	/* ping-pong: doorbell mode, then spin mode */
	rtt = calloc(PING_SPIN, sizeof(*rtt));
	ok = 1;
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

	/* revoke the read-only share while B has it mapped */
	ok = !link_expect("ro-mapped", 20000, line, sizeof(line));
	memset(&rv, 0, sizeof(rv));
	rv.share_id = s2;
	t = vt_now_ns();
	ok = ok && !vt_ioctl(fd, CSM_IOC_REVOKE, &rv);
	t = vt_now_ns() - t;
	ok = ok && vt_ioctl(fd, CSM_IOC_REVOKE, &rv) == -EALREADY;
	vt_result("a_revoke", ok, "revoke returned after B unmapped (%.2f ms); again: EALREADY", t / 1e6);
	link_send("revoked");

	/* B's process holding the RW attachment is killed: A sees the detach */
	ok = !link_expect("b-checked-revoke", 20000, line, sizeof(line));
	link_send("kill-now");
	ok = ok && !vt_wait_event(efd, CSM_EVENT_DETACHED, 20000, &ev) && ev.share_id == s1;
	vt_result("a_sees_detach", ok, "DETACHED for share %llu after B's process was killed",
		  (unsigned long long)s1);

	/* a provider process that dies tears its region down for B */
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
	ok = !link_expect("attached3", 20000, line, sizeof(line));
	kill(p3, SIGKILL);
	waitpid(p3, NULL, 0);
	link_send("provider-killed");
	ok = ok && !link_expect("b-checked-exit", 20000, line, sizeof(line));
	vt_result("a_provider_exit", ok, "killed the provider of region 3 while B mapped it");

	/* destroy rules: live share refuses, force works */
	munmap(m1, R1_SIZE);
	munmap(m2, R2_SIZE);
	close(db_own);
	close(db_peer);
	memset(&d, 0, sizeof(d));
	d.region_id = r1;
	ok = vt_ioctl(fd, CSM_IOC_DESTROY, &d) == -EBUSY;
	d.flags = CSM_DESTROY_FORCE;
	ok = ok && !vt_ioctl(fd, CSM_IOC_DESTROY, &d);
	d.region_id = r2; d.flags = 0;
	ok = ok && !vt_ioctl(fd, CSM_IOC_DESTROY, &d);
	vt_result("a_destroy", ok, "EBUSY with a live share, then forced; revoked-only region destroys");
	close(efd);
	close(fd);
	usleep(200000);
	vt_result("a_counters_zero", vt_counters_zero() == 0, "after closing everything");
	link_send("done");
	free(rtt);
	held_cycles(peer);
	csm_ping_serve(peer);
	csm_compare_serve(peer);
	realm_gone(peer);
}

/* B's VM powers off while it maps our region: we must see it gone. */
static void realm_gone(uint64_t peer)
{
	int fd = vt_open(), efd = event_fd(fd), ok;
	struct csm_event ev;
	struct csm_share sh;
	struct csm_destroy d;
	char line[512];
	uint64_t r4, off4, t;

	ok = !vt_create(fd, R3_SIZE, &r4, &off4);
	memset(&sh, 0, sizeof(sh));
	sh.region_id = r4; sh.peer_realm_id = peer; sh.perm = CSM_PERM_RW;
	ok = ok && !vt_ioctl(fd, CSM_IOC_SHARE, &sh);
	link_send("share4 %llu", (unsigned long long)sh.share_id);
	ok = ok && !link_expect("attached4", 20000, line, sizeof(line));
	t = vt_now_ns();
	ok = ok && !vt_wait_event(efd, CSM_EVENT_GONE, 30000, &ev) && ev.realm_id == peer &&
	     ev.share_id == sh.share_id;
	t = vt_now_ns() - t;
	ok = ok && vt_ioctl(fd, CSM_IOC_SHARE, &sh) == -ESRCH;
	memset(&d, 0, sizeof(d));
	d.region_id = r4;
	ok = ok && !vt_ioctl(fd, CSM_IOC_DESTROY, &d);
	vt_result("a_realm_gone", ok, "GONE event %.1f s after B's VM powered off; B no longer a realm (ESRCH)",
		  t / 1e9);
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

/* B's stream process: attaches the RW share, consumes, answers pings. */
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
	vt_result("b_attach_rw", ok, "share %llu: region %llu size %llu provider %#llx",
		  (unsigned long long)s1, (unsigned long long)a.region_id,
		  (unsigned long long)a.size, (unsigned long long)a.provider_realm_id);
	if (write(ready_pipe, "r", 1) != 1 || !ok)
		_exit(1);
	c = (struct ctl *)m1;
	for (uint64_t i = 0; i < STREAM_MSGS; i++) {
		uint8_t *slot = m1 + 4096 + (i % SLOTS) * SLOT_SIZE;
		uint64_t id;

		if (wait_word(&c->prod, i + 1, db_own, 20000))
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
	pause();	/* until B's main process kills us */
	_exit(0);
}

static void consumer(void)
{
	int fd = vt_open(), efd = event_fd(fd), pipefd[2], ok, sig;
	uint64_t self = vt_realm(fd), peer = 0, s1 = 0, s2 = 0, s3;
	struct csm_attach a2, a3;
	struct csm_detach dt;
	struct csm_event ev;
	char line[512], ch;
	uint8_t *m2, *m3;
	pid_t child;

	if (!link_expect("hello-a", 60000, line, sizeof(line))) {
		peer = strtoull(line + 8, NULL, 0);
		link_send("hello-b %llu", (unsigned long long)self);
	}
	ok = peer && !link_expect("shares", 30000, line, sizeof(line)) &&
	     sscanf(line, "shares %llu %llu", (unsigned long long *)&s1,
		    (unsigned long long *)&s2) == 2;
	vt_result("b_link", ok, "self=%#llx peer=%#llx s1=%llu s2=%llu",
		  (unsigned long long)self, (unsigned long long)peer,
		  (unsigned long long)s1, (unsigned long long)s2);
	if (!ok)
		return;

	if (pipe(pipefd))
		return;
	child = fork();
	if (child == 0)
		consumer_stream(s1, pipefd[1]);
	ok = read(pipefd[0], &ch, 1) == 1;

	/* read-only share: writable mappings refused, writes fault */
	ok = VT_EXPECT(!attach(fd, s2, 0, &a2), "%s", strerror(errno));
	ok = VT_EXPECT(a2.perm == CSM_PERM_RO && a2.size == R2_SIZE, "perm %u size %llu",
		       a2.perm, (unsigned long long)a2.size) && ok;
	ok = VT_EXPECT(attach(fd, s2, 0, &a3) == -EEXIST, "not EEXIST") && ok;
	m2 = mmap(NULL, R2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, a2.mmap_offset);
	ok = VT_EXPECT(m2 == MAP_FAILED && errno == EACCES, "%s",
		       strerror(errno)) && ok;
	m2 = mmap(NULL, R2_SIZE, PROT_READ, MAP_SHARED, fd, a2.mmap_offset);
	ok = VT_EXPECT(m2 != MAP_FAILED, "%s", strerror(errno)) && ok;
	if (m2 != MAP_FAILED) {
		int same = 1;

		for (uint32_t i = 0; i < R2_SIZE; i++)
			same = same && m2[i] == (uint8_t)(i * 3);
		ok = VT_EXPECT(same, "mismatch") && ok;
		ok = VT_EXPECT(mprotect(m2, R2_SIZE, PROT_READ | PROT_WRITE) != 0,
			       "succeeded") && ok;
		sig = vt_probe(m2 + 100, 1);
		ok = VT_EXPECT(sig == SIGSEGV && m2[100] == 300 % 256, "signal %d", sig) && ok;
	}
	vt_result("b_read_only", ok, "RO share: PROT_WRITE EACCES, mprotect refused, write faults, data intact");
	{
		struct csm_share sh;
		struct csm_revoke rv;
		struct csm_destroy d;
		struct csm_attest at;
		uint8_t token[1024];
		int r1, r2, r3, r4;

		memset(&sh, 0, sizeof(sh));
		sh.region_id = a2.region_id; sh.peer_realm_id = peer; sh.perm = CSM_PERM_RO;
		r1 = vt_ioctl(fd, CSM_IOC_SHARE, &sh);
		memset(&rv, 0, sizeof(rv));
		rv.share_id = s2;
		r2 = vt_ioctl(fd, CSM_IOC_REVOKE, &rv);
		memset(&d, 0, sizeof(d));
		d.region_id = a2.region_id;
		r3 = vt_ioctl(fd, CSM_IOC_DESTROY, &d);
		memset(&at, 0, sizeof(at));
		at.region_id = a2.region_id; at.challenge_len = 32;
		memset(at.challenge, 0x5c, 32);
		at.token_ptr = (uintptr_t)token; at.token_len = sizeof(token);
		r4 = vt_ioctl(fd, CSM_IOC_ATTEST, &at);
		ok = VT_EXPECT(r1 == -EPERM && r2 == -EPERM && r3 == -EPERM,
			       "share %d revoke %d destroy %d", r1, r2, r3);
		ok = VT_EXPECT(r4 == 0 && at.token_format == CSM_TOKEN_EMULATED &&
			       memmem(token, at.token_len, &self, 8) &&
			       memmem(token, at.token_len, &peer, 8) &&
			       memmem(token, at.token_len, at.challenge, 32),
			       "attest %d", r4) && ok;
		vt_result("b_consumer_rules", ok,
			  "consumer share/revoke/destroy: EPERM; attest binds both realms and the challenge");
	}
	link_send("ro-mapped");

	/* revoke while mapped */
	ok = !link_expect("revoked", 30000, line, sizeof(line));
	ok = ok && !vt_wait_event(efd, CSM_EVENT_REVOKED, 5000, &ev) && ev.share_id == s2;
	sig = m2 != MAP_FAILED ? vt_probe(m2, 0) : -1;
	ok = ok && (sig == SIGBUS || sig == SIGSEGV);
	vt_result("b_revoke_zaps", ok, "REVOKED event, read after revoke ends with signal %d", sig);
	memset(&dt, 0, sizeof(dt));
	dt.share_id = s2;
	vt_ioctl(fd, CSM_IOC_DETACH, &dt);
	link_send("b-checked-revoke");

	/* our stream process is killed: A must see the detach */
	link_expect("kill-now", 60000, line, sizeof(line));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	/* the provider process of region 3 dies while we map it */
	ok = !link_expect("share3", 30000, line, sizeof(line)) &&
	     sscanf(line, "share3 %llu", (unsigned long long *)&s3) == 1;
	ok = ok && !attach(fd, s3, R3_SIZE, &a3);
	m3 = ok ? mmap(NULL, R3_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, a3.mmap_offset) : MAP_FAILED;
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

	link_expect("done", 30000, line, sizeof(line));
	close(efd);
	close(fd);
	usleep(200000);
	vt_result("b_counters_zero", vt_counters_zero() == 0, "after closing everything");
	held_cycles_consume();
	csm_ping_connect();
	csm_compare_connect();

	/* Attach once more and keep it while this VM powers off (test.sh). */
	ok = !link_expect("share4", 30000, line, sizeof(line)) &&
	     sscanf(line, "share4 %llu", (unsigned long long *)&s3) == 1;
	if (ok && fork() == 0) {
		int fd4 = vt_open();

		ok = !attach(fd4, s3, 0, &a3) &&
		     mmap(NULL, a3.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd4,
			  a3.mmap_offset) != MAP_FAILED;
		vt_result("b_attach_before_dying", ok, "share %llu mapped; VM powers off next",
			  (unsigned long long)s3);
		link_send("attached4");
		pause();
	}
	sleep(1);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: csm-vm-pair provider|consumer LINK_TTY\n");
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
