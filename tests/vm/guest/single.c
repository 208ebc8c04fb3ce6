/*
 * csm-vm-single: the one-VM suite, run by the guest's /init.
 * Prints one RESULT line per group of checks.
 *   csm-vm-single [seed] [fuzz-iterations]
 */
#define _GNU_SOURCE
#include "vmtest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1ull << 20)

static int fails_before;
#define GROUP_BEGIN() (fails_before = checks_failed)
static int checks_failed;
#define CHECK(cond, ...) \
	do { if (!VT_EXPECT(cond, __VA_ARGS__)) checks_failed++; } while (0)
#define GROUP_OK() (checks_failed == fails_before)

static void test_version(int fd)
{
	struct csm_version v;
	int ret;

	GROUP_BEGIN();
	memset(&v, 0xff, sizeof(v));
	ret = vt_ioctl(fd, CSM_IOC_VERSION, &v);
	CHECK(ret == 0, "ret %d", ret);
	CHECK(v.uapi_version >> 16 == CSM_UAPI_VERSION_MAJOR, "uapi %#x", v.uapi_version);
	CHECK(v.backend == CSM_BACKEND_EMULATED_RMM, "backend %u", v.backend);
	CHECK(!(v.features & CSM_FEAT_CONFIDENTIAL), "features %#llx", (unsigned long long)v.features);
	CHECK(strstr(v.backend_name, "no confidentiality") != NULL, "name '%.48s'", v.backend_name);
	CHECK(v.granule_size == CSM_GRANULE_SIZE && v.max_region_size >= MIB, "granule %u max %llu",
	      v.granule_size, (unsigned long long)v.max_region_size);
	CHECK(v.__pad == 0 && v.reserved[0] == 0 && v.reserved[3] == 0, "output padding not zeroed");
	CHECK(vt_realm(fd) >= 0x100, "realm %#llx", (unsigned long long)vt_realm(fd));
	vt_result("version", GROUP_OK(), "backend=%u realm=%#llx name='%s'", v.backend,
		  (unsigned long long)vt_realm(fd), v.backend_name);
}

/* Every ioctl with malformed arguments: a clear errno, nothing else. */
static void test_invalid(int fd)
{
	uint64_t self = vt_realm(fd), region, off;
	struct csm_create c;
	struct csm_share s;
	struct csm_revoke rv;
	struct csm_destroy d;
	struct csm_attach a;
	struct csm_detach dt;
	struct csm_region_info ri;
	struct csm_list l;
	struct csm_attest at;
	struct csm_doorbell_fd db;
	struct csm_ring rg;
	struct csm_event_fd ef;
	int ret;

	GROUP_BEGIN();
#define E(expect, cmd, arg) do { ret = vt_ioctl(fd, cmd, arg); \
	CHECK(ret == -(expect), #cmd " got %d want %d", ret, -(expect)); } while (0)
	/* create */
	memset(&c, 0, sizeof(c)); E(EINVAL, CSM_IOC_CREATE, &c);
	c.size = 3000; E(EINVAL, CSM_IOC_CREATE, &c);
	c.size = 1ull << 40; E(E2BIG, CSM_IOC_CREATE, &c);
	c.size = 4096; c.flags = 1; E(EINVAL, CSM_IOC_CREATE, &c);
	c.flags = 0; c.__pad = 1; E(EINVAL, CSM_IOC_CREATE, &c);
	c.__pad = 0; c.reserved[3] = 1; E(EINVAL, CSM_IOC_CREATE, &c);
	E(EFAULT, CSM_IOC_CREATE, (void *)8);
	CHECK(vt_create(fd, 64 * 1024, &region, &off) == 0, "valid create");
	/* share */
	memset(&s, 0, sizeof(s)); E(EINVAL, CSM_IOC_SHARE, &s);
	s.perm = CSM_PERM_RO; E(ENOENT, CSM_IOC_SHARE, &s);
	s.region_id = region; E(ESRCH, CSM_IOC_SHARE, &s);
	s.region_id = region; s.peer_realm_id = 0x1234; s.perm = 4; E(EINVAL, CSM_IOC_SHARE, &s);
	s.perm = CSM_PERM_WRITE; E(EINVAL, CSM_IOC_SHARE, &s);
	s.perm = CSM_PERM_RO; s.flags = 2; E(EINVAL, CSM_IOC_SHARE, &s);
	s.flags = 0; s.peer_realm_id = self; E(EINVAL, CSM_IOC_SHARE, &s);
	s.peer_realm_id = 0x10f; E(ESRCH, CSM_IOC_SHARE, &s);
	s.region_id = 999999; E(ENOENT, CSM_IOC_SHARE, &s);
	/* revoke / destroy */
	memset(&rv, 0, sizeof(rv)); E(ENOENT, CSM_IOC_REVOKE, &rv);
	rv.share_id = 999999; E(ENOENT, CSM_IOC_REVOKE, &rv);
	rv.flags = 1; E(EINVAL, CSM_IOC_REVOKE, &rv);
	memset(&d, 0, sizeof(d)); E(ENOENT, CSM_IOC_DESTROY, &d);
	d.region_id = region; d.flags = 2; E(EINVAL, CSM_IOC_DESTROY, &d);
	d.flags = 0; d.region_id = 999999; E(ENOENT, CSM_IOC_DESTROY, &d);
	/* attach / detach */
	memset(&a, 0, sizeof(a)); E(ENOENT, CSM_IOC_ATTACH, &a);
	a.share_id = 999999; E(ENOENT, CSM_IOC_ATTACH, &a);
	a.size = 100; E(EINVAL, CSM_IOC_ATTACH, &a);
	a.size = 0; a.reserved[0] = 1; E(EINVAL, CSM_IOC_ATTACH, &a);
	memset(&dt, 0, sizeof(dt)); E(ENOENT, CSM_IOC_DETACH, &dt);
	dt.share_id = 999999; E(ENOENT, CSM_IOC_DETACH, &dt);
	/* info / list */
	memset(&ri, 0, sizeof(ri)); E(ENOENT, CSM_IOC_REGION_INFO, &ri);
	ri.region_id = 999999; E(ENOENT, CSM_IOC_REGION_INFO, &ri);
	memset(&l, 0, sizeof(l)); E(EINVAL, CSM_IOC_LIST_REGIONS, &l);
	l.entry_size = sizeof(struct csm_region_info); l.capacity = 4; E(EFAULT, CSM_IOC_LIST_REGIONS, &l);
	l.entries_ptr = 8; E(EFAULT, CSM_IOC_LIST_REGIONS, &l);
	l.capacity = 1u << 30; E(EINVAL, CSM_IOC_LIST_REGIONS, &l);
	memset(&l, 0, sizeof(l)); l.entry_size = sizeof(struct csm_share_info);
	E(ENOENT, CSM_IOC_LIST_SHARES, &l);
	l.entry_size = 8; E(EINVAL, CSM_IOC_LIST_SHARES, &l);
	l.entry_size = sizeof(struct csm_share_info);
	l.region_id = 999999; E(ENOENT, CSM_IOC_LIST_SHARES, &l);
	/* attest */
	memset(&at, 0, sizeof(at)); at.region_id = region; at.challenge_len = 31;
	E(EINVAL, CSM_IOC_ATTEST, &at);
	at.challenge_len = 65; E(EINVAL, CSM_IOC_ATTEST, &at);
	at.challenge_len = 32; at.challenge[40] = 1; E(EINVAL, CSM_IOC_ATTEST, &at);
	at.challenge[40] = 0; at.token_len = 16; E(EFAULT, CSM_IOC_ATTEST, &at);
	/* doorbells, ring, events */
	memset(&db, 0, sizeof(db)); E(ENOENT, CSM_IOC_DOORBELL_FD, &db);
	db.region_id = region; db.flags = 2; E(EINVAL, CSM_IOC_DOORBELL_FD, &db);
	db.flags = 0; db.realm_id = 0x10e; E(ESRCH, CSM_IOC_DOORBELL_FD, &db);
	db.region_id = 999999; E(ENOENT, CSM_IOC_DOORBELL_FD, &db);
	memset(&rg, 0, sizeof(rg)); E(ENOENT, CSM_IOC_RING, &rg);
	rg.region_id = region; rg.peer_realm_id = 0x10e; E(ESRCH, CSM_IOC_RING, &rg);
	rg.__pad = 1; E(EINVAL, CSM_IOC_RING, &rg);
	memset(&ef, 0, sizeof(ef)); ef.flags = 4; E(EINVAL, CSM_IOC_EVENT_FD, &ef);
	/* unknown numbers */
	E(ENOTTY, _IO(CSM_IOC_MAGIC, 0x3f), NULL);
	E(ENOTTY, _IOW(CSM_IOC_MAGIC, 0x02, struct csm_revoke), &rv);
	E(ENOTTY, _IOR('x', 1, int), &ret);
	/* role rules on our own region */
	memset(&dt, 0, sizeof(dt));
	d.region_id = region; d.flags = 0; E(0, CSM_IOC_DESTROY, &d);
	E(EIDRM, CSM_IOC_DESTROY, &d);	/* stale IDs say what happened */
	ri.region_id = region; E(EIDRM, CSM_IOC_REGION_INFO, &ri);
	s.region_id = region; s.peer_realm_id = 0x10f; E(EIDRM, CSM_IOC_SHARE, &s);
#undef E
	vt_result("invalid_args", GROUP_OK(), "every ioctl rejects malformed input with its errno");
}

static void test_valid(int fd)
{
	uint64_t region, off, self = vt_realm(fd);
	struct csm_region_info ri, list[4];
	struct csm_attest at;
	struct csm_doorbell_fd db;
	struct csm_event_fd ef;
	struct csm_list l;
	struct csm_destroy d;
	uint8_t token[4096];
	uint64_t v;
	int ret;

	GROUP_BEGIN();
	CHECK(vt_create(fd, 128 * 1024, &region, &off) == 0, "create");
	memset(&ri, 0, sizeof(ri)); ri.region_id = region;
	ret = vt_ioctl(fd, CSM_IOC_REGION_INFO, &ri);
	CHECK(ret == 0 && ri.size == 128 * 1024 && ri.role == CSM_ROLE_PROVIDER &&
	      ri.state == CSM_REGION_ACTIVE && ri.perm == CSM_PERM_RW &&
	      ri.provider_realm_id == self && ri.mmap_offset == off, "info ret %d", ret);
	memset(&l, 0, sizeof(l)); l.entry_size = sizeof(ri);
	ret = vt_ioctl(fd, CSM_IOC_LIST_REGIONS, &l);
	CHECK(ret == 0 && l.count == 1, "list sizing ret %d count %u", ret, l.count);
	l.capacity = 4; l.entries_ptr = (uintptr_t)list;
	ret = vt_ioctl(fd, CSM_IOC_LIST_REGIONS, &l);
	CHECK(ret == 0 && l.count == 1 && list[0].region_id == region, "list");
	memset(&l, 0, sizeof(l)); l.entry_size = sizeof(struct csm_share_info); l.region_id = region;
	ret = vt_ioctl(fd, CSM_IOC_LIST_SHARES, &l);
	CHECK(ret == 0 && l.count == 0, "list shares ret %d", ret);

	/* attest: size query, then a token bound to the challenge */
	memset(&at, 0, sizeof(at)); at.region_id = region; at.challenge_len = 48;
	memset(at.challenge, 0xab, 48);
	ret = vt_ioctl(fd, CSM_IOC_ATTEST, &at);
	CHECK(ret == -ENOSPC && at.token_len > 0, "size query ret %d len %u", ret, at.token_len);
	at.token_ptr = (uintptr_t)token; at.token_len = sizeof(token);
	ret = vt_ioctl(fd, CSM_IOC_ATTEST, &at);
	CHECK(ret == 0 && at.token_format == CSM_TOKEN_EMULATED &&
	      memmem(token, at.token_len, at.challenge, 48) != NULL &&
	      memmem(token, at.token_len, &region, 8) != NULL, "attest ret %d", ret);
	if (!ret) {	/* the UAPI layout of the emulated token, field by field */
		struct csm_emu_token t;

		memcpy(&t, token, sizeof(t));
		CHECK(at.token_len == sizeof(t) && !strcmp(t.magic, CSM_EMU_TOKEN_MAGIC) &&
		      t.version == CSM_EMU_TOKEN_VERSION && t.nr_consumers == 0 &&
		      t.caller_realm_id == self && t.region_id == region &&
		      t.size == 128 * 1024 && t.provider_realm_id == self &&
		      t.challenge_len == 48 && !memcmp(t.challenge, at.challenge, 48),
		      "emulated token len %u", at.token_len);
	}

	/* own doorbell: rung locally, readable once, then EAGAIN */
	memset(&db, 0, sizeof(db)); db.region_id = region; db.flags = CSM_FD_CLOEXEC;
	ret = vt_ioctl(fd, CSM_IOC_DOORBELL_FD, &db);
	CHECK(ret == 0 && db.fd >= 0, "doorbell fd ret %d", ret);
	if (!ret) {
		struct pollfd p = { .fd = db.fd, .events = POLLIN };

		CHECK(poll(&p, 1, 0) == 0, "fresh doorbell not readable");
		v = 1;
		CHECK(write(db.fd, &v, 8) == 8, "ring own");
		CHECK(poll(&p, 1, 1000) == 1, "rung doorbell readable");
		CHECK(read(db.fd, &v, 8) == 8 && v == 1, "read count %llu", (unsigned long long)v);
		CHECK(read(db.fd, &v, 8) < 0 && errno == EAGAIN, "then EAGAIN");
		CHECK(read(db.fd, &v, 4) < 0 && errno == EINVAL, "short read EINVAL");
		close(db.fd);
	}
	memset(&ef, 0, sizeof(ef));
	ret = vt_ioctl(fd, CSM_IOC_EVENT_FD, &ef);
	CHECK(ret == 0 && ef.fd >= 0, "event fd ret %d", ret);
	if (!ret) {
		struct csm_event ev;

		CHECK(read(ef.fd, &ev, sizeof(ev)) < 0 && errno == EAGAIN, "no events yet");
		CHECK(read(ef.fd, &ev, 8) < 0 && errno == EINVAL, "short read EINVAL");
		close(ef.fd);
	}
	memset(&d, 0, sizeof(d)); d.region_id = region;
	CHECK(vt_ioctl(fd, CSM_IOC_DESTROY, &d) == 0, "destroy");
	vt_result("valid_calls", GROUP_OK(), "create/info/list/attest/doorbell/event fds");
}

/* Lowest free fd number: a leaked fd would take it. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

/*
 * The fd-returning ioctls with an argument userspace can read but not
 * write: the copy-out fails (EFAULT) and must leave neither an installed
 * fd nor the doorbell/event file behind.
 */
static void test_fd_copy_fault(int fd)
{
	uint64_t region, off;
	struct csm_destroy d;
	void *page;
	int ret, before, i;

	GROUP_BEGIN();
	CHECK(vt_create(fd, 64 * 1024, &region, &off) == 0, "create");
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(page != MAP_FAILED, "mmap");
	if (page == MAP_FAILED)
		return;
	before = lowest_free_fd();
	for (i = 0; i < 100; i++) {
		struct csm_doorbell_fd *db = page;
		struct csm_event_fd *ef = page;

		mprotect(page, 4096, PROT_READ | PROT_WRITE);
		memset(page, 0, 4096);
		db->region_id = region;
		db->flags = i & 1 ? CSM_FD_CLOEXEC : 0;
		mprotect(page, 4096, PROT_READ);
		ret = vt_ioctl(fd, CSM_IOC_DOORBELL_FD, page);
		CHECK(ret == -EFAULT, "doorbell fd into a read-only argument: %d", ret);
		mprotect(page, 4096, PROT_READ | PROT_WRITE);
		memset(page, 0, 4096);
		ef->flags = i & 1 ? CSM_FD_CLOEXEC : 0;
		mprotect(page, 4096, PROT_READ);
		ret = vt_ioctl(fd, CSM_IOC_EVENT_FD, page);
		CHECK(ret == -EFAULT, "event fd into a read-only argument: %d", ret);
	}
	CHECK(lowest_free_fd() == before, "lowest free fd %d, was %d", lowest_free_fd(), before);
	CHECK(vt_counter("doorbell_fds") == 0 && vt_counter("event_fds") == 0,
	      "doorbell_fds %ld event_fds %ld", vt_counter("doorbell_fds"),
	      vt_counter("event_fds"));
	munmap(page, 4096);
	memset(&d, 0, sizeof(d)); d.region_id = region;
	CHECK(vt_ioctl(fd, CSM_IOC_DESTROY, &d) == 0, "destroy");
	vt_result("fd_copy_fault", GROUP_OK(),
		  "200 doorbell/event fd calls with a read-only argument: EFAULT, no fd or file left");
}

static void test_mmap(int fd)
{
	uint64_t region, off, size = 256 * 1024;
	struct csm_destroy d;
	char path[64];
	uint8_t *p, *q;
	int nfd, sig;

	GROUP_BEGIN();
	CHECK(vt_create(fd, size, &region, &off) == 0, "create");
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, off);
	CHECK(p == MAP_FAILED && errno == EINVAL, "MAP_PRIVATE refused");
	p = mmap(NULL, size / 2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	CHECK(p == MAP_FAILED && errno == EINVAL, "short length refused");
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off + 4096);
	CHECK(p == MAP_FAILED && errno == EINVAL, "bad offset refused");
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	CHECK(p != MAP_FAILED, "map: %s", strerror(errno));
	if (p == MAP_FAILED)
		goto out;
	CHECK(p[0] == 0 && p[size - 1] == 0, "starts zeroed");
	for (uint64_t i = 0; i < size; i += 4096)
		p[i] = (uint8_t)(i >> 12);

	/* The same memory by path, for programs that know nothing of csm. */
	snprintf(path, sizeof(path), "/dev/csm-region/%llu", (unsigned long long)region);
	nfd = open(path, O_RDWR);
	CHECK(nfd >= 0, "open %s: %s", path, strerror(errno));
	if (nfd >= 0) {
		CHECK(lseek(nfd, 0, SEEK_END) == (off_t)size, "lseek end");
		q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, nfd, 0);
		CHECK(q != MAP_FAILED, "node map: %s", strerror(errno));
		if (q != MAP_FAILED) {
			CHECK(q[4096 * 5] == 5 && q[size - 4096] == (uint8_t)((size - 4096) >> 12),
			      "node sees provider writes");
			q[1] = 0x77;
			CHECK(p[1] == 0x77, "and the other way");
			munmap(q, size);
		}
		q = mmap(NULL, size, PROT_READ, MAP_PRIVATE, nfd, 0);
		CHECK(q == MAP_FAILED && errno == EINVAL, "node MAP_PRIVATE refused");
		close(nfd);
	}
	/* Destroy removes the mapping: a later access faults. */
	memset(&d, 0, sizeof(d)); d.region_id = region;
	CHECK(vt_ioctl(fd, CSM_IOC_DESTROY, &d) == 0, "destroy while mapped");
	sig = vt_probe(p, 0);
	CHECK(sig == SIGBUS || sig == SIGSEGV, "read after destroy ended with signal %d", sig);
	CHECK(access(path, F_OK) != 0, "node removed");
	munmap(p, size);
out:
	vt_result("mmap_rules", GROUP_OK(), "private/length/offset refused, node path, zap on destroy");
}

/* A child grabs everything it can and dies without cleaning up. */
static void test_cleanup_on_close(void)
{
	int status;
	pid_t pid;

	GROUP_BEGIN();
	pid = fork();
	if (pid == 0) {
		int fd = vt_open();
		uint64_t region, off;
		struct csm_doorbell_fd db;
		struct csm_event_fd ef;

		for (int i = 0; i < 3; i++) {
			if (vt_create(fd, 64 * 1024, &region, &off))
				_exit(2);
			if (mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off) == MAP_FAILED)
				_exit(3);
			memset(&db, 0, sizeof(db)); db.region_id = region;
			if (vt_ioctl(fd, CSM_IOC_DOORBELL_FD, &db))
				_exit(4);
		}
		memset(&ef, 0, sizeof(ef));
		vt_ioctl(fd, CSM_IOC_EVENT_FD, &ef);
		CHECK(vt_counter("regions") == 3 && vt_counter("mappings") == 3 &&
		      vt_counter("doorbell_fds") == 3 && vt_counter("nodes") == 3,
		      "child holds its objects");
		kill(getpid(), SIGKILL);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status), "child status %#x", status);
	usleep(100000);
	CHECK(vt_counters_zero() == 0, "counters back to zero");
	vt_result("cleanup_on_close", GROUP_OK(), "killed holder of 3 regions/maps/doorbells left nothing");
}

static uint64_t rnd_state;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Garbage commands and arguments; afterwards nothing may be left. */
static void test_fuzz(uint64_t seed, long iters)
{
	static const unsigned long cmds[] = {
		CSM_IOC_VERSION, CSM_IOC_REALM, CSM_IOC_CREATE, CSM_IOC_SHARE,
		CSM_IOC_REVOKE, CSM_IOC_DESTROY, CSM_IOC_ATTACH, CSM_IOC_DETACH,
		CSM_IOC_REGION_INFO, CSM_IOC_LIST_REGIONS, CSM_IOC_LIST_SHARES,
		CSM_IOC_ATTEST, CSM_IOC_DOORBELL_FD, CSM_IOC_RING, CSM_IOC_EVENT_FD,
	};
	long ok = 0, errs = 0;
	int status;
	pid_t pid;

	GROUP_BEGIN();
	pid = fork();
	if (pid == 0) {
		int fd = vt_open();
		uint64_t ids[16] = { 0 };
		uint64_t buf[64];

		rnd_state = seed ? seed : 1;
		for (long i = 0; i < iters; i++) {
			unsigned long cmd;
			uint64_t r = rnd();

			for (int w = 0; w < 64; w++) {
				uint64_t x = rnd();

				/* Mostly small values and known IDs, some garbage. */
				buf[w] = (x & 3) == 0 ? x : (x & 3) == 1 ? ids[x >> 60] :
					 (x & 3) == 2 ? ((x >> 8) & 0xff) << 12 : 0;
			}
			if (r % 16 == 0)
				cmd = (unsigned long)rnd();
			else
				cmd = cmds[r % (sizeof(cmds) / sizeof(cmds[0]))];
			if (r % 7 == 0)
				buf[0] = 4096 << (r % 6);	/* plausible sizes */
			if (ioctl(fd, cmd, (r % 31 == 0) ? (void *)(uintptr_t)rnd() : buf) == 0) {
				ok++;
				if (cmd == CSM_IOC_CREATE)
					ids[rnd() & 15] = buf[2];
				if (cmd == CSM_IOC_DOORBELL_FD || cmd == CSM_IOC_EVENT_FD)
					close(cmd == CSM_IOC_EVENT_FD ? (int)(buf[0] >> 32) : (int)(buf[2] >> 32));
			} else {
				errs++;
			}
			if (r % 97 == 0)
				mmap(NULL, 4096 << (r % 4), PROT_READ | PROT_WRITE,
				     (r & 1) ? MAP_SHARED : MAP_PRIVATE, fd, (off_t)(buf[3] & ~4095ull));
		}
		printf("fuzz: %ld calls ok, %ld rejected\n", ok, errs);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fuzz child status %#x", status);
	usleep(100000);
	CHECK(vt_counters_zero() == 0, "counters back to zero after close");
	vt_result("random_ioctls", GROUP_OK(), "seed=%llu iterations=%ld",
		  (unsigned long long)seed, iters);
}

/* ----------------------------------------- a peer rewrites a count ---- */
/*
 * The emulated RMM's tables at the start of the ivshmem BAR2, as
 * kmod/rmm/emulated/layout.h lays them out (mirrored here: that header is
 * kernel-only). The asserts pin what its static_asserts pin.
 */
#define EMU_MAGIC		0x31554d454d5343ull	/* CSM_EMU_MAGIC */
#define EMU_LAYOUT_VERSION	2
#define EMU_MAX_REALMS		16
#define EMU_MAX_REGIONS		64
#define EMU_MAX_SHARES		128
#define EMU_REALM_ID_BASE	0x100
#define EMU_TABLES_LEN		0x10000		/* CSM_EMU_POOL_OFFSET */
enum { EMU_REALM_FREE = 0, EMU_REALM_LIVE = 1 };
enum { EMU_SHARE_FREE = 0, EMU_SHARE_GRANTED = 1, EMU_SHARE_ATTACHED = 2 };

struct emu_realm {
	uint64_t realm_id;
	uint32_t state, ivposition;
	uint64_t boots, heartbeat;
};

struct emu_region {
	uint64_t id, provider, offset, size;
	uint32_t state, ended;
};

struct emu_share {
	uint64_t id, region_id, provider, consumer;
	uint32_t perm, state, rings_to_consumer, rings_to_provider, ended;
	uint32_t attaches;	/* the consumer's attaches, free-running */
};

struct emu_header {
	uint64_t magic;
	uint32_t layout_version, init, lock, pad;
	uint64_t next_id;
	struct emu_realm realms[EMU_MAX_REALMS];
	struct emu_region regions[EMU_MAX_REGIONS];
	struct emu_share shares[EMU_MAX_SHARES];
};

_Static_assert(sizeof(struct emu_header) <= EMU_TABLES_LEN, "layout.h: header fits");
_Static_assert(offsetof(struct emu_header, next_id) == 24, "layout.h: next_id");
_Static_assert(sizeof(struct emu_header) == 10272, "layout.h: sizeof csm_emu_header");
_Static_assert(sizeof(struct emu_share) == 56, "layout.h: sizeof csm_emu_share");
_Static_assert(offsetof(struct emu_share, attaches) == 52, "layout.h: attaches");
_Static_assert(sizeof(struct emu_region) == 40, "layout.h: sizeof csm_emu_region");
_Static_assert(sizeof(struct emu_realm) == 32, "layout.h: sizeof csm_emu_realm");

/*
 * The tables as a hostile peer sees them. csm.ko claims the ivshmem-doorbell
 * device's BAR2, and with CONFIG_IO_STRICT_DEVMEM a claimed BAR cannot be
 * mapped from sysfs, so run-suite.sh gives this VM a second window onto the
 * same memory: an ivshmem-plain device (1af4:1110 without MSI-X) that no
 * driver takes. Aligned 4- and 8-byte accesses only (arm64 maps BARs as
 * Device or non-cacheable memory). NULL, with the reason in @why, if absent.
 */
static volatile struct emu_header *emu_tables(char *why, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	volatile struct emu_header *h = NULL;
	struct dirent *de;

	snprintf(why, len, "no unclaimed ivshmem device (1af4:1110) in /sys/bus/pci/devices");
	while (d && !h && (de = readdir(d))) {
		char path[160], id[2][16] = { "", "" };
		const char *files[] = { "vendor", "device" };
		void *p;
		int fd;

		for (int i = 0; i < 2; i++) {
			FILE *f;

			snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.64s/%s", de->d_name,
				 files[i]);
			f = fopen(path, "r");
			if (f && !fgets(id[i], sizeof(id[i]), f))
				id[i][0] = 0;
			if (f)
				fclose(f);
		}
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.64s/driver", de->d_name);
		if (strncmp(id[0], "0x1af4", 6) || strncmp(id[1], "0x1110", 6) ||
		    access(path, F_OK) == 0)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.64s/enable", de->d_name);
		fd = open(path, O_WRONLY);
		if (fd >= 0) {
			if (write(fd, "1", 1) != 1)
				printf("%s: %s\n", path, strerror(errno));
			close(fd);
		}
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.64s/resource2", de->d_name);
#ifdef __aarch64__
		/* Plain resource2 is Device memory there; _wc is Normal non-cacheable. */
		if (strlen(path) + 3 < sizeof(path) && access(strcat(path, "_wc"), F_OK))
			path[strlen(path) - 3] = 0;
#endif
		fd = open(path, O_RDWR | O_SYNC);
		p = fd < 0 ? MAP_FAILED :
		    mmap(NULL, EMU_TABLES_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (fd >= 0)
			close(fd);
		if (p == MAP_FAILED) {
			snprintf(why, len, "map %s: %s", path, strerror(errno));
			continue;
		}
		h = p;
		if (h->magic != EMU_MAGIC || h->layout_version != EMU_LAYOUT_VERSION) {
			snprintf(why, len, "%s holds magic %#llx layout %u, not the CSM tables",
				 path, (unsigned long long)h->magic, h->layout_version);
			munmap(p, EMU_TABLES_LEN);
			h = NULL;
		}
	}
	if (d)
		closedir(d);
	return h;
}

#define PEER_TIMEOUT_PARAM	"/sys/module/csm/parameters/peer_timeout_ms"

/* Read (@val NULL) or write a module parameter; the old value, or -1. */
static long module_param(const char *path, const char *val)
{
	char buf[32] = "";
	long old = -1;
	FILE *f = fopen(path, "r");

	if (f && fgets(buf, sizeof(buf), f))
		old = strtol(buf, NULL, 10);
	if (f)
		fclose(f);
	f = val ? fopen(path, "w") : NULL;
	if (f) {
		fputs(val, f);
		if (fclose(f))
			old = -1;
	}
	return old;
}

/*
 * One move of the fake consumer: with the provider's rescans held, share
 * slot @s gets @state and attach count @attaches; releasing the hold runs
 * the rescan. 1 when both knob writes worked.
 */
static int peer_moves(volatile struct emu_share *s, uint32_t state, uint32_t attaches)
{
	int ok = vt_rescan_hold(1);

	s->state = state;
	s->attaches = attaches;
	__sync_synchronize();
	return vt_rescan_hold(0) && ok;
}

/* Wait up to @ms for debugfs rescan_lost to reach @want; its value. */
static long wait_rescan_lost(long want, int ms)
{
	uint64_t deadline = vt_now_ns() + (uint64_t)ms * 1000000;
	long v;

	while ((v = vt_counter("rescan_lost")) < want && vt_now_ns() < deadline)
		usleep(10000);
	return v;
}

/* The test's share, its region and the fake consumer realm. */
struct rescan_share {
	int efd;			/* the provider's events */
	volatile struct emu_share *s;	/* its slot in the tables */
	uint64_t region, sh, peer;
	uint64_t seq;			/* last event seq read */
};

/*
 * One step: the peer's move (@state, @attaches), then the events it must
 * cause (@want edges, @first then alternating, the first at seq @seq0 with
 * @flags0, the rest consecutive) and rescan_lost's growth (@lost). Appends
 * what was seen to @desc.
 */
static int rescan_step(struct rescan_share *t, uint32_t state, uint32_t attaches, int want,
		       uint32_t first, uint64_t seq0, uint32_t flags0, long lost, char *desc,
		       size_t len)
{
	long lost0 = vt_counter("rescan_lost"), lost1;
	struct csm_event ev[16];
	char seen[640];
	int ok, n;
	size_t used = strlen(desc);

	ok = peer_moves(t->s, state, attaches);
	/* A rescan that posts nothing still counts its loss: wait for that. */
	wait_rescan_lost(lost0 + lost, 5000);
	n = vt_read_events(t->efd, ev, 16, want, 5000);
	ok = vt_check_cycle_events(ev, n, want, first, seq0, flags0, t->region, t->sh, t->peer,
				   seen, sizeof(seen)) && ok;
	lost1 = vt_counter("rescan_lost");
	ok = ok && lost1 - lost0 == lost;
	if (n)
		t->seq = ev[n - 1].seq;
	if (used < len)
		snprintf(desc + used, len - used, "%s%s %u: [%s] lost %+ld", used ? "; " : "",
			 state == EMU_SHARE_ATTACHED ? "attached" : "granted", attaches, seen,
			 lost1 - lost0);
	return ok;
}

/*
 * The provider replays a share's attach/detach cycles from the attach count
 * in the shared tables (kmod/core/region.c, csm_rescan_share), which any
 * peer may rewrite. There is no real consumer in this VM: the test makes a
 * fake realm live in the tables, shares a region with it and plays that
 * consumer, then a hostile one, by writing the share's state and count.
 * rescan_backwards: a count that went back posts only the edge to the state
 * now (or nothing), the next event carries CSM_EVENT_F_LOST with its seq
 * one further on, rescan_lost +1. rescan_jump: a count that jumped by 1000
 * or by 2^31 - 1 cycles posts the last 4 cycles (8 events), the first
 * flagged, its seq past every edge not posted, rescan_lost +1. Afterwards
 * the region still revokes and destroys, and nothing is left.
 */
static void test_rescan_lost(void)
{
	const uint32_t A = CSM_EVENT_ATTACHED, D = CSM_EVENT_DETACHED, LOST = CSM_EVENT_F_LOST;
	const uint32_t GRANTED = EMU_SHARE_GRANTED, ATTACHED = EMU_SHARE_ATTACHED;
	int fd = vt_open(), slot = -1, fake = -1, shared, n;
	struct rescan_share t = { .efd = vt_event_fd(fd) };
	uint64_t self = vt_realm(fd);
	volatile struct emu_header *h;
	struct csm_share share = { 0 };
	struct csm_revoke rv;
	struct csm_event ev[16];
	char why[400] = "", back[1536] = "", jump[1536] = "";
	long timeout0;

	GROUP_BEGIN();
	h = emu_tables(why, sizeof(why));
	CHECK(h != NULL, "%s", why);
	CHECK(t.efd >= 0, "event fd");
	/* A free realm slot that is not ours becomes the fake consumer. */
	for (int i = EMU_MAX_REALMS - 1; h && i >= 0 && fake < 0; i--)
		if ((uint64_t)i != self - EMU_REALM_ID_BASE && h->realms[i].state == EMU_REALM_FREE)
			fake = i;
	CHECK(!h || fake >= 0, "no free realm slot");
	/* It sends no heartbeat: keep the module from declaring it gone meanwhile. */
	timeout0 = module_param(PEER_TIMEOUT_PARAM, "600000");
	CHECK(timeout0 > 0, "%s unreadable", PEER_TIMEOUT_PARAM);
	if (!h || fake < 0 || t.efd < 0 || timeout0 <= 0)
		goto out;
	t.peer = EMU_REALM_ID_BASE + fake;
	h->realms[fake].realm_id = t.peer;
	h->realms[fake].ivposition = fake;
	h->realms[fake].heartbeat = 1;
	__sync_synchronize();
	h->realms[fake].state = EMU_REALM_LIVE;
	__sync_synchronize();

	n = vt_create_shared(fd, 64 * 1024, t.peer, &t.region, &share);
	shared = !n;
	CHECK(shared, "share a region with fake realm %#llx: %d", (unsigned long long)t.peer, n);
	for (int i = 0; shared && i < EMU_MAX_SHARES && slot < 0; i++)
		if (h->shares[i].id == share.share_id)
			slot = i;
	CHECK(!shared || slot >= 0, "share %llu not in the tables",
	      (unsigned long long)share.share_id);
	if (slot < 0)
		goto out_realm;
	t.sh = share.share_id;
	t.s = &h->shares[slot];
	CHECK(t.s->state == GRANTED && t.s->attaches == 0 && t.s->consumer == t.peer &&
	      t.s->region_id == t.region, "share slot %d: state %u attaches %u", slot,
	      t.s->state, t.s->attaches);

	/* Two honest cycles first: the count is read, seq 1-4, no flag. */
	CHECK(rescan_step(&t, GRANTED, 2, 4, A, 1, 0, 0, back, sizeof(back)), "2 cycles");
	/* Back to 1 while attached: only the ATTACHED edge, flagged, seq skips one. */
	CHECK(rescan_step(&t, ATTACHED, 1, 1, A, t.seq + 2, LOST, 1, back, sizeof(back)),
	      "backwards while attached");
	/* The count it went back to is the new reference: a plain detach. */
	CHECK(rescan_step(&t, GRANTED, 1, 1, D, t.seq + 1, 0, 0, back, sizeof(back)),
	      "detach after the rewind");
	/* Back to 0 while detached: nothing to post now, but the loss counts... */
	CHECK(rescan_step(&t, GRANTED, 0, 0, A, 0, 0, 1, back, sizeof(back)),
	      "backwards while detached");
	/* ...and flags the next event, whose seq skips one. */
	CHECK(rescan_step(&t, GRANTED, 1, 2, A, t.seq + 2, LOST, 0, back, sizeof(back)),
	      "a cycle after the rewind");
	vt_result("rescan_backwards", GROUP_OK(),
		  "share %llu to fake realm %#llx, the peer sets state and attach count: %s",
		  (unsigned long long)t.sh, (unsigned long long)t.peer, back);

	GROUP_BEGIN();
	/* 1000 cycles at once: the last 4 (8 events), seq past the 1992 not posted. */
	CHECK(rescan_step(&t, GRANTED, 1 + 1000, 8, A, t.seq + 1992 + 1, LOST, 1, jump,
			  sizeof(jump)), "jump by 1000");
	/* The largest jump that is not backwards, 2^31 - 1 cycles: seq in 64 bits. */
	CHECK(rescan_step(&t, GRANTED, 1001u + 0x7fffffffu, 8, A, t.seq + 2 * 0x7fffffffull - 8 + 1,
			  LOST, 1, jump, sizeof(jump)), "jump by 2^31 - 1");

out_realm:
	/* The device still works: revoke (nobody maps it) and destroy, quietly. */
	if (shared) {
		memset(&rv, 0, sizeof(rv));
		rv.share_id = share.share_id;
		CHECK(vt_ioctl(fd, CSM_IOC_REVOKE, &rv) == 0, "revoke");
	}
	if (t.region) {
		CHECK(vt_destroy(fd, t.region, 0) == 0, "destroy");
		n = vt_read_events(t.efd, ev, 16, 0, 500);
		CHECK(n == 0, "%d events after revoke and destroy (first: %s)", n,
		      n ? vt_event_name(ev[0].type) : "");
	}
	/* The fake realm leaves the tables as it came. */
	h->realms[fake].state = EMU_REALM_FREE;
	__sync_synchronize();
	h->realms[fake].realm_id = 0;
	h->realms[fake].ivposition = 0;
	h->realms[fake].heartbeat = 0;
out:
	if (timeout0 > 0) {
		char val[32];

		snprintf(val, sizeof(val), "%ld", timeout0);
		CHECK(module_param(PEER_TIMEOUT_PARAM, val) == 600000, "restore %s",
		      PEER_TIMEOUT_PARAM);
	}
	if (t.efd >= 0)
		close(t.efd);
	close(fd);
	if (h)
		munmap((void *)h, EMU_TABLES_LEN);
	usleep(100000);
	CHECK(vt_counters_zero() == 0, "local counters back to zero");
	if (!back[0])
		vt_result("rescan_backwards", 0, "not reached (see CHECK FAILED above)");
	vt_result("rescan_jump", GROUP_OK(), "%s; then revoke, destroy, counters 0",
		  jump[0] ? jump : "not reached");
}

/* Write @val to sysfs file @path; 0 or -errno. */
static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The device goes away under a user: mappings fault, calls fail, no oops. */
static void test_unbind_with_users(void)
{
	const char *drv = "/sys/bus/pci/drivers/csm-emulated-rmm";
	char addr[64] = "", path[160];
	struct csm_version v;
	uint64_t region, off;
	uint8_t *p;
	FILE *ls;
	int fd, sig, ret;

	GROUP_BEGIN();
	snprintf(path, sizeof(path), "ls %s | grep '^0000:'", drv);
	ls = popen(path, "r");
	if (!ls || !fgets(addr, sizeof(addr), ls))
		addr[0] = 0;
	if (ls)
		pclose(ls);
	addr[strcspn(addr, "\n")] = 0;
	CHECK(addr[0], "no bound device under %s", drv);
	fd = vt_open();
	CHECK(vt_create(fd, 64 * 1024, &region, &off) == 0, "create");
	p = mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	CHECK(p != MAP_FAILED, "map");
	if (p != MAP_FAILED)
		p[0] = 1;
	snprintf(path, sizeof(path), "%s/unbind", drv);
	ret = sysfs_write(path, addr);
	CHECK(ret == 0, "unbind %s: %d", addr, ret);
	if (p != MAP_FAILED) {
		sig = vt_probe(p, 0);
		CHECK(sig == SIGBUS, "access after unbind: signal %d", sig);
	}
	memset(&v, 0, sizeof(v));
	ret = vt_ioctl(fd, CSM_IOC_VERSION, &v);
	CHECK(ret == -ENODEV, "ioctl after unbind %d", ret);
	CHECK(access("/dev/csm", F_OK) != 0, "/dev/csm removed");
	if (p != MAP_FAILED)
		munmap(p, 64 * 1024);
	close(fd);
	snprintf(path, sizeof(path), "%s/bind", drv);
	ret = sysfs_write(path, addr);
	CHECK(ret == 0, "rebind: %d", ret);
	usleep(200000);
	fd = open(CSM_DEVICE_PATH, O_RDWR);
	CHECK(fd >= 0 && vt_create(fd, 4096, &region, &off) == 0, "usable after rebind");
	if (fd >= 0)
		close(fd);
	vt_result("unbind_with_users", GROUP_OK(), "device %s unbound under a mapping user, rebound", addr);
}

/*
 * A hostile peer: the host harness scribbles random bytes over the shared
 * tables (ivshmem-server -c) while we keep using the device. Errors are
 * expected; a crash, oops or WARN (checked by the harness) is not.
 */
static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, sig);
}

static void test_hostile_peer(uint64_t seed)
{
	volatile uint64_t ops = 0, ok = 0, faults = 0;
	uint64_t deadline, region, off;
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	int fd = vt_open();

	GROUP_BEGIN();
	rnd_state = seed ^ 0x5eed;
	printf("VMTEST CHAOS ON\n");
	fflush(stdout);
	usleep(500000);
	deadline = vt_now_ns() + 4000000000ull;
	while (vt_now_ns() < deadline) {
		uint64_t size = 4096ull << (rnd() % 5);
		struct csm_share sh;
		struct csm_destroy d;
		struct csm_doorbell_fd db;
		uint8_t *p;

		ops++;
		if (vt_create(fd, size, &region, &off))
			continue;
		ok++;
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
		if (p != MAP_FAILED) {
			/*
			 * The scribbler may make peers (and us) declare our
			 * realm gone; its regions are then unmapped: SIGBUS.
			 */
			sigaction(SIGBUS, &sa, &old);
			if (sigsetjmp(bus_jmp, 1) == 0)
				memset(p, 0xa5, size);
			else
				faults++;
			sigaction(SIGBUS, &old, NULL);
			munmap(p, size);
		}
		memset(&sh, 0, sizeof(sh));
		sh.region_id = region;
		sh.peer_realm_id = 0x100 + rnd() % 16;
		sh.perm = CSM_PERM_RO;
		ops++;
		ok += vt_ioctl(fd, CSM_IOC_SHARE, &sh) == 0;
		memset(&db, 0, sizeof(db));
		db.region_id = region;
		ops++;
		if (!vt_ioctl(fd, CSM_IOC_DOORBELL_FD, &db)) {
			ok++;
			close(db.fd);
		}
		memset(&d, 0, sizeof(d));
		d.region_id = region;
		d.flags = CSM_DESTROY_FORCE;
		ops++;
		ok += vt_ioctl(fd, CSM_IOC_DESTROY, &d) == 0;
	}
	printf("VMTEST CHAOS OFF\n");
	fflush(stdout);
	usleep(300000);
	close(fd);
	usleep(200000);
	CHECK(vt_counters_zero() == 0, "local counters back to zero");
	vt_result("hostile_peer", GROUP_OK(),
		  "%llu calls (%llu succeeded, %llu mappings revoked under us) while the shared tables were scribbled over",
		  (unsigned long long)ops, (unsigned long long)ok, (unsigned long long)faults);
}

/*
 * Peers may declare this realm gone (it paused past their timeout) and
 * free its slot; the heartbeat then rejoins with nothing. Every mapping
 * must fault by the time the slot is live again, since the peers may hand
 * that memory out at once, and the device must work afterwards.
 */
static void test_declared_gone(void)
{
	uint64_t region = 0, off = 0, again = 0, size = 64 * 1024;
	int fd = vt_open(), slot, sig = 0, rejoined = 0;
	uint64_t self = vt_realm(fd);
	volatile struct emu_header *h;
	char why[400] = "";
	uint8_t *p = MAP_FAILED;

	GROUP_BEGIN();
	h = emu_tables(why, sizeof(why));
	CHECK(h != NULL, "%s", why);
	slot = (int)(self - EMU_REALM_ID_BASE);
	CHECK(vt_create(fd, size, &region, &off) == 0, "create");
	if (h && region)
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	CHECK(p != MAP_FAILED, "map");
	if (p != MAP_FAILED) {
		p[0] = 1;
		__sync_synchronize();
		h->realms[slot].state = EMU_REALM_FREE;	/* what burying peers write */
		__sync_synchronize();
		for (int i = 0; i < 500 && !rejoined; i++) {
			usleep(10000);
			rejoined = h->realms[slot].state == EMU_REALM_LIVE;
		}
		CHECK(rejoined, "realm slot %d not live again within 5 s", slot);
		sig = vt_probe(p, 0);
		CHECK(sig == SIGBUS || sig == SIGSEGV, "read right after rejoining: signal %d", sig);
		munmap(p, size);
	}
	CHECK(vt_create(fd, size, &again, NULL) == 0, "create after rejoining");
	close(fd);
	usleep(200000);
	vt_result("declared_gone", GROUP_OK(),
		  "slot %d freed by a 'peer': rejoined, mapping faulted (signal %d), device works",
		  slot, sig);
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	long iters = argc > 2 ? strtol(argv[2], NULL, 0) : 20000;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = vt_open();
	test_version(fd);
	test_invalid(fd);
	test_valid(fd);
	test_fd_copy_fault(fd);
	test_mmap(fd);
	close(fd);
	test_cleanup_on_close();
	test_fuzz(seed, iters);
	test_rescan_lost();
	vt_result("counters_zero", vt_counters_zero() == 0, "after every test");
	test_unbind_with_users();
	test_declared_gone();
	test_hostile_peer(seed);
	return vt_failures ? 1 : 0;
}
