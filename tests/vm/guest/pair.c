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
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* A: hold rescans while B cycles through attach and detach. */
static void held_cycles(uint64_t peer)
{
	static const int rounds[] = { HOLD_CYCLES, HOLD_CYCLES_OVER };
	int fd = vt_open(), efd = vt_event_fd(fd), setup;
	uint64_t region = 0, sh = 0, seq = 0;
	struct csm_event ev[32];
	struct csm_share share;
	struct csm_revoke rv;
	char line[512], desc[1024];

	setup = efd >= 0 && !vt_create_shared(fd, VT_R3_SIZE, peer, &region, &share);
	sh = setup ? share.share_id : 0;
	for (size_t k = 0; k < sizeof(rounds) / sizeof(rounds[0]); k++) {
		int cycles = rounds[k], done = -1, errs = -1, early, n, ok, want;
		long lost0 = vt_counter("rescan_lost"), lost1;
		uint64_t seq0 = seq + 1;
		uint32_t flags0 = 0;

		ok = setup && vt_rescan_hold(1);
		/* B cycles even if we failed, to stay in step on the link. */
		vt_link_send("hold-share %llu %d", (unsigned long long)sh, cycles);
		ok = !vt_link_expect("hold-cycled", 60000, line, sizeof(line)) &&
		     sscanf(line, "hold-cycled %d %d", &done, &errs) == 2 && ok;
		/* Rescans were held: nothing may have been reported yet. */
		usleep(300000);
		early = vt_read_events(efd, ev, 32, 0, 0);
		ok = vt_rescan_hold(0) && ok;
		n = vt_read_events(efd, ev, 32, 2 * (cycles < HOLD_CAP ? cycles : HOLD_CAP), 10000);
		lost1 = vt_counter("rescan_lost");
		want = 2 * cycles;
		if (cycles > HOLD_CAP) {
			/* the last 4 cycles; the seq skips the dropped edges */
			want = 2 * HOLD_CAP;
			seq0 += 2 * (cycles - HOLD_CAP);
			flags0 = CSM_EVENT_F_LOST;
		}
		ok = vt_check_cycle_events(ev, n, want, CSM_EVENT_ATTACHED, seq0, flags0, region,
					   sh, peer, desc, sizeof(desc)) && ok;
		ok = ok && done == cycles && errs == 0 && early == 0 &&
		     lost1 - lost0 == (cycles > HOLD_CAP);
		vt_result(cycles > HOLD_CAP ? "a_held_cycles_lost" : "a_held_cycles", ok,
			  "B attached+detached share %llu %d times (errors %d) while our rescans were "
			  "held (%d events meanwhile); on release: %d events [%s]; rescan_lost %+ld",
			  (unsigned long long)sh, done, errs, early, n, desc, lost1 - lost0);
		if (n)
			seq = ev[n - 1].seq;
	}
	vt_rescan_hold(0);
	memset(&rv, 0, sizeof(rv));
	rv.share_id = sh;
	vt_ioctl(fd, CSM_IOC_REVOKE, &rv);
	vt_destroy(fd, region, 0);
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

		if (vt_link_expect("hold-share", 120000, line, sizeof(line)) ||
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
		vt_link_send("hold-cycled %d %d", done, errs);
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

/* Output @out and exit status of @pid within @ms (-1 if none or killed). */
static int reap_out(pid_t pid, int out, int ms)
{
	int st = pid > 0 ? reap_within(pid, ms) : -1;

	if (pid > 0)
		close(out);
	return st;
}

/*
 * A: runs the serving side @argv; once it printed "share ID", offers the
 * share to B ("@offer ID", or "@offer none") and waits up to @ms for B's
 * "@done" line (into @reply). 1 if both came; *st is the server's exit.
 */
static int serve(char *const argv[], const char *offer, const char *done, int ms,
		 int reap_ms, char share[64], char reply[512], int *st)
{
	char line[512];
	pid_t pid;
	int ok, out;

	pid = spawn_out(argv, &out);
	ok = pid > 0;
	do {
		ok = ok && !read_line(out, line, sizeof(line), 30000);
	} while (ok && strncmp(line, "share ", 6));
	ok = ok && sscanf(line, "share %63s", share) == 1;
	if (!ok)
		snprintf(share, 64, "?");
	vt_link_send("%s %s", offer, ok ? share : "none");
	ok = !vt_link_expect(done, ms, reply, 512) && ok;
	*st = reap_out(pid, out, reap_ms);
	return ok;
}

/* A: 1 when @prog is in this initramfs; else a NOTE (@why) and @none to B. */
static int have_program(const char *prog, const char *why, const char *none)
{
	if (!access(prog, X_OK))
		return 1;
	printf("NOTE %s is not in this initramfs (%s)\n", strrchr(prog, '/') + 1, why);
	vt_link_send("%s", none);
	return 0;
}

static const char *const ping_modes[] = { "spin", "doorbell" };

/* A: the echo side of the real csm-ping, over libcsm and /dev/csm. */
static void csm_ping_serve(uint64_t peer)
{
	char peer_s[32], reply[512], share[64], offer[32];
	int st, ok;

	if (!have_program(CSM_PING, "x86_64 with the csm-ping target only", "ping-none"))
		return;
	snprintf(peer_s, sizeof(peer_s), "%#llx", (unsigned long long)peer);
	for (size_t m = 0; m < 2; m++) {
		char *argv[] = { CSM_PING, "--serve", "--peer", peer_s, "--timeout", "60",
				 "--cpus", "none", NULL };

		snprintf(offer, sizeof(offer), "ping-share %s", ping_modes[m]);
		ok = serve(argv, offer, "ping-done", 180000, 20000, share, reply, &st);
		vt_result(m ? "a_csm_ping_doorbell" : "a_csm_ping_spin", ok && st == 0 &&
			  strstr(reply, "ping-done 0"), "csm-ping --serve (share %s) exit %d; pinger: %s",
			  share, st, reply);
	}
}

/* B: the pinger side, printing csm-ping's report as PING lines. */
static void csm_ping_connect(void)
{
	char line[512], mode[32], share[64];

	for (size_t m = 0; m < 2; m++) {
		int out, st = -1, ok;
		pid_t pid = -1;

		ok = !vt_link_expect("ping-", 120000, line, sizeof(line));
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
			st = reap_out(pid, out, 20000);
		}
		vt_link_send("ping-done %d", st);
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
	char peer_s[32], reply[512], share[64];
	int st, ok;

	if (!have_program(CSM_COMPARE, "built with the csm-compare target only", "compare-none"))
		return;
	snprintf(peer_s, sizeof(peer_s), "%#llx", (unsigned long long)peer);
	{
		char *argv[] = { CSM_COMPARE, "--serve", "--peer", peer_s, "--host_mem",
				 (char *)(host_mem ? host_mem : "(no ivshmem-plain device)"),
				 "--sizes", COMPARE_SIZES, "--timeout", "120", "--cpus", "none",
				 NULL };

		ok = serve(argv, "compare-share", "compare-done", 280000, 30000, share, reply, &st);
	}
	vt_result("a_csm_compare", ok && st == 0 && strstr(reply, "compare-done 0"),
		  "csm-compare --serve (share %s, host memory %s) exit %d; driver: %s",
		  share, host_mem ? host_mem : "none", st, reply);
}

/* B: the driver of csm-compare; its report becomes COMPARE lines. */
static void csm_compare_connect(void)
{
	const char *host_mem = getenv("CSM_VM_HOST_MEM");
	char line[512], share[64];
	int out, st = -1, ok, rows = 0;
	pid_t pid = -1;

	ok = !vt_link_expect("compare-", 200000, line, sizeof(line));
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
		st = reap_out(pid, out, 20000);
	}
	vt_link_send("compare-done %d", st);
	/* 5 variants x 2 modes x 3 sizes */
	vt_result("b_csm_compare", ok && st == 0 && rows == 30,
		  "csm-compare --connect %s across the VMs (sealed over %s): exit %d, %d of 30 steps",
		  ok ? share : "?", host_mem ? host_mem : "none", st, rows);
}

/* Counts and waits of the steps shared with rsi_pair.c (vmtest.h). */
static const struct vt_pair_waits waits = {
	.ping_doorbell = 400, .ping_spin = 2000,
	.hello_tries = 150, .hello_ms = 60000,
	.news_ms = 20000, .stall_ms = 10000, .ro_mapped_ms = 20000,
	.revoked_ms = 30000, .revoke_event_ms = 5000, .done_ms = 30000,
	.revoke_note = "after B unmapped",
	.revoke_event = "after the revoke",
};

/* ---------------------------------------------------------------- A ---- */
/* B's VM powers off while it maps our region: we must see it gone. */
static void realm_gone(uint64_t peer)
{
	struct vt_pair_last l;
	struct csm_event ev;
	uint64_t t;
	int ok = vt_pair_share_last(&l, peer, 20000);

	t = vt_now_ns();
	ok = ok && !vt_wait_event(l.efd, CSM_EVENT_GONE, 30000, &ev) && ev.realm_id == peer &&
	     ev.share_id == l.sh.share_id;
	t = vt_now_ns() - t;
	ok = ok && vt_ioctl(l.fd, CSM_IOC_SHARE, &l.sh) == -ESRCH;
	ok = ok && !vt_destroy(l.fd, l.region, 0);
	vt_result("a_realm_gone", ok, "GONE event %.1f s after B's VM powered off; B no longer a realm (ESRCH)",
		  t / 1e9);
	close(l.efd);
	close(l.fd);
}

static void provider(void)
{
	struct vt_pair_a a;

	if (vt_pair_a_start(&a, &waits, NULL))
		return;
	vt_pair_a_finish(&a, &waits);
	held_cycles(a.peer);
	csm_ping_serve(a.peer);
	csm_compare_serve(a.peer);
	realm_gone(a.peer);
}

/* ---------------------------------------------------------------- B ---- */
/* The emulated RMM's token binds both realms and the challenge. */
static int attest_emulated(int fd, uint64_t region, uint64_t self, uint64_t peer)
{
	struct csm_attest at;
	uint8_t token[1024], chal[32];
	int r;

	memset(chal, 0x5c, sizeof(chal));
	r = vt_attest(fd, region, chal, sizeof(chal), token, sizeof(token), &at);
	return VT_EXPECT(r == 0 && at.token_format == CSM_TOKEN_EMULATED &&
			 memmem(token, at.token_len, &self, 8) &&
			 memmem(token, at.token_len, &peer, 8) &&
			 memmem(token, at.token_len, at.challenge, 32),
			 "attest %d", r);
}

static void consumer(void)
{
	struct vt_pair_b b;
	int ok = vt_pair_b_start(&b, &waits);

	if (ok < 0)
		return;
	vt_result("b_read_only", ok, "RO share: PROT_WRITE EACCES, mprotect refused, write faults, data intact");
	ok = vt_pair_consumer_rules(&b);
	ok = attest_emulated(b.fd, b.a2.region_id, b.self, b.peer) && ok;
	vt_result("b_consumer_rules", ok,
		  "consumer share/revoke/destroy: EPERM; attest binds both realms and the challenge");
	vt_pair_b_finish(&b, &waits);
	held_cycles_consume();
	csm_ping_connect();
	csm_compare_connect();
	vt_pair_attach_before_dying();
}

int main(int argc, char **argv)
{
	return vt_pair_main(argc, argv, "csm-vm-pair", provider, consumer);
}
