/*
 * csm-vm-rsi-single: one VM under the csm test monitor, csm.ko bound to the
 * RSI backend. Checks the backend identifies itself, issues RSI calls (the
 * kernel log shows them), keeps CSM memory in the window below the shared
 * IPA bit, attests (printing the evidence for the host verifier), maps every
 * injected RSI status to its errno, refuses bad arguments, and works with
 * the second ABI table (csm.rsi_abi=alt).
 *   csm-vm-rsi-single
 */
#define _GNU_SOURCE
#include "vmtest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csm/uapi/attestation_cca.h>

#define RSI_DBG "/sys/kernel/debug/csm-rsi/"
#define WIN_BASE 0x5c000000ull		/* MON's window (rsi-spec.md) */
#define WIN_SIZE 0x3e00000ull

static char klog[1 << 20];

/* The kernel log so far (NUL-terminated). */
static const char *kernel_log(void)
{
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, klog, sizeof(klog) - 1);

	klog[n > 0 ? n : 0] = '\0';
	return klog;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n < 0 ? -1 : 0;
}

/* A "key value" line of an RSI debugfs file, or -1. */
static long long dbg_value(const char *file, const char *key)
{
	char buf[8192], *p;
	char path[128];

	snprintf(path, sizeof(path), RSI_DBG "%s", file);
	if (read_file(path, buf, sizeof(buf)))
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		size_t n = strlen(key);

		if (!strncmp(p, key, n) && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 0);
	}
	return -1;
}

/* Column @col (0 = fid) of call @name in the "calls" file, or -1. */
static long long call_count(const char *name, int col)
{
	char buf[8192], *line;

	if (read_file(RSI_DBG "calls", buf, sizeof(buf)))
		return -1;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char n[64];
		long long v[8];

		if (sscanf(line, "%63s %lli %lld %lld %lld %lld %lld %lld %lld", n, &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 9 && !strcmp(n, name))
			return v[col];
	}
	return -1;
}

static int inject(const char *call, const char *status, int count)
{
	char buf[96];

	snprintf(buf, sizeof(buf), "%s %s %d", call, status, count);
	return write_file(RSI_DBG "inject", buf);
}

/*
 * The window IPA the backend gave region @region (its debugfs "ranges"), or
 * 0. (pagemap cannot tell: page walks skip VM_PFNMAP mappings.)
 */
static uint64_t ipa_of(uint64_t region, uint64_t *size)
{
	char buf[8192], *line;

	if (read_file(RSI_DBG "ranges", buf, sizeof(buf)))
		return 0;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long id, ipa, sz;

		if (sscanf(line, "region %llx ipa %llx size %llx", &id, &ipa, &sz) == 3 &&
		    id == region) {
			*size = sz;
			return ipa;
		}
	}
	return 0;
}

/* Evidence layout as the UAPI header says; 0 when it describes @region. */
static int check_evidence(const uint8_t *ev, uint32_t len, uint64_t realm, uint64_t region,
			  uint64_t size, const uint8_t *chal, uint32_t chal_len)
{
	const struct csm_cca_evidence *h = (const void *)ev;
	const struct csm_cca_region_desc *d = (const void *)(ev + sizeof(*h));

	if (len < sizeof(*h) + sizeof(*d) + 64 ||
	    memcmp(h->magic, CSM_CCA_EVIDENCE_MAGIC, sizeof(CSM_CCA_EVIDENCE_MAGIC)))
		return -1;
	if (h->token_len != len - sizeof(*h) - sizeof(*d) || h->challenge_len != chal_len ||
	    memcmp(h->challenge, chal, chal_len) || h->binding != CSM_CCA_HASH_SHA512)
		return -2;
	if (d->caller_realm_id != realm || d->region_id != region || d->region_size != size ||
	    d->caller_role != CSM_ROLE_PROVIDER)
		return -3;
	/* The token is a CBOR tag 399 (d9 01 8f). */
	if (ev[sizeof(*h) + sizeof(*d)] != 0xd9 || ev[sizeof(*h) + sizeof(*d) + 1] != 0x01 ||
	    ev[sizeof(*h) + sizeof(*d) + 2] != 0x8f)
		return -4;
	return 0;
}

static void test_version(int fd, uint64_t *realm)
{
	struct csm_version v;
	int ok;

	memset(&v, 0, sizeof(v));
	ok = !vt_ioctl(fd, CSM_IOC_VERSION, &v);
	*realm = vt_realm(fd);
	ok = VT_EXPECT(ok && v.backend == CSM_BACKEND_RSI, "backend %u", v.backend) && ok;
	ok = VT_EXPECT(strstr(v.backend_name, "rsi") && strstr(v.backend_name, "NO confidentiality"),
		       "name '%s'", v.backend_name) && ok;
	ok = VT_EXPECT(!(v.features & CSM_FEAT_CONFIDENTIAL) && (v.features & CSM_FEAT_ATTEST) &&
		       (v.features & CSM_FEAT_EVENTS), "features %#llx",
		       (unsigned long long)v.features) && ok;
	ok = VT_EXPECT(*realm >= 1 && *realm <= 255, "realm %#llx", (unsigned long long)*realm) && ok;
	vt_result("rsi_version", ok, "backend RSI '%s', realm tag %llu, max region %llu KiB",
		  v.backend_name, (unsigned long long)*realm,
		  (unsigned long long)v.max_region_size >> 10);
}

static void test_realm_config(void)
{
	long long ipa = dbg_value("info", "ipa_bits"), shared = dbg_value("info", "shared_ipa_bit");
	long long tm = dbg_value("info", "test_monitor");
	char info[2048];
	int ok;

	read_file(RSI_DBG "info", info, sizeof(info));
	ok = VT_EXPECT(ipa == 32 && shared == 0x80000000ll && tm == 1,
		       "ipa_bits %lld shared %llx test_monitor %lld", ipa, shared, tm);
	ok = VT_EXPECT(strstr(info, "window 0x5c000000 0x3e00000") != NULL, "%s", info) && ok;
	ok = VT_EXPECT(strstr(kernel_log(), "csm: RMM speaks RSI 1.0") &&
		       strstr(klog, "csm: realm config: ipa_bits 32") &&
		       strstr(klog, "csm: rsi: RSI_REALM_CONFIG"),
		       "kernel log lacks the detection lines") && ok;
	vt_result("rsi_realm_config", ok, "ipa_bits %lld, shared IPA bit %#llx, window %#llx+%#llx",
		  ipa, shared, WIN_BASE, WIN_SIZE);
}

static void test_create_map_attest(int fd, uint64_t realm)
{
	static uint8_t ev1[4096], ev2[4096];
	uint64_t r1 = 0, r2 = 0, off1, off2, pa1, pa2, sz1 = 0, sz2 = 0;
	struct csm_attest a1, a2;
	uint8_t c1[64], c2[32];
	uint8_t *m1, *m2;
	int ok, e1, e2, node;

	ok = VT_EXPECT(!vt_create(fd, 1 << 20, &r1, &off1), "create 1 MiB");
	ok = VT_EXPECT(!vt_create(fd, 64 << 10, &r2, &off2), "create 64 KiB") && ok;
	ok = VT_EXPECT(r1 >> 8 == realm && r2 >> 8 == realm && r1 != r2,
		       "region ids %#llx %#llx", (unsigned long long)r1,
		       (unsigned long long)r2) && ok;
	m1 = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off1);
	m2 = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off2);
	ok = VT_EXPECT(m1 != MAP_FAILED && m2 != MAP_FAILED, "mmap %s", strerror(errno)) && ok;
	if (!ok) {
		vt_result("rsi_create_map", 0, "create/map failed");
		return;
	}
	for (uint32_t i = 0; i < (1 << 20); i += 4096)
		ok = VT_EXPECT(m1[i] == 0, "not zeroed at %u", i) && ok;
	for (uint32_t i = 0; i < (1 << 20); i++)
		m1[i] = (uint8_t)(i * 13);
	memset(m2, 0xa5, 64 << 10);
	for (uint32_t i = 0; i < (1 << 20); i += 777)
		ok = VT_EXPECT(m1[i] == (uint8_t)(i * 13), "at %u", i) && ok;
	pa1 = ipa_of(r1, &sz1);
	pa2 = ipa_of(r2, &sz2);
	ok = VT_EXPECT(sz1 == (1 << 20) && sz2 == (64 << 10) && pa1 != pa2 &&
		       pa1 >= WIN_BASE && pa1 + sz1 <= WIN_BASE + WIN_SIZE &&
		       pa2 >= WIN_BASE && pa2 + sz2 <= WIN_BASE + WIN_SIZE &&
		       !(pa1 & 0x80000000ull) && !(pa2 & 0x80000000ull),
		       "mapped at IPA %#llx / %#llx", (unsigned long long)pa1,
		       (unsigned long long)pa2) && ok;
	{
		char path[64];

		snprintf(path, sizeof(path), "/dev/csm-region/%llu", (unsigned long long)r1);
		node = open(path, O_RDWR);
		ok = VT_EXPECT(node >= 0 && lseek(node, 0, SEEK_END) == (1 << 20), "%s", path) && ok;
		if (node >= 0)
			close(node);
	}
	ok = VT_EXPECT(strstr(kernel_log(), "csm: rsi: CSM_CREATE (0xc400019a)") != NULL,
		       "no CSM_CREATE in the kernel log") && ok;
	vt_result("rsi_create_map", ok,
		  "regions %#llx (1 MiB) and %#llx (64 KiB) zeroed, mapped at window IPAs %#llx and %#llx (no shared bit), data intact; kernel log shows CSM_CREATE",
		  (unsigned long long)r1, (unsigned long long)r2, (unsigned long long)pa1,
		  (unsigned long long)pa2);

	for (int i = 0; i < 64; i++)
		c1[i] = (uint8_t)(0x40 + i);
	memset(c2, 0x7e, sizeof(c2));
	e1 = vt_attest(fd, r1, c1, sizeof(c1), ev1, sizeof(ev1), &a1);
	e2 = vt_attest(fd, r1, c2, sizeof(c2), ev2, sizeof(ev2), &a2);
	ok = VT_EXPECT(!e1 && !e2 && a1.token_format == CSM_TOKEN_CCA &&
		       a2.token_format == CSM_TOKEN_CCA, "attest %d %d format %u", e1, e2,
		       a1.token_format);
	if (ok) {
		int c1ok = check_evidence(ev1, a1.token_len, realm, r1, 1 << 20, c1, 64);
		int c2ok = check_evidence(ev2, a2.token_len, realm, r1, 1 << 20, c2, 32);
		uint32_t hdr = sizeof(struct csm_cca_evidence) + sizeof(struct csm_cca_region_desc);

		ok = VT_EXPECT(!c1ok && !c2ok, "evidence layout %d %d", c1ok, c2ok);
		ok = VT_EXPECT(a1.token_len - hdr != a2.token_len - hdr ||
			       memcmp(ev1 + hdr, ev2 + hdr, a1.token_len - hdr),
			       "same token for two challenges") && ok;
		vt_print_token("single-c64", c1, 64, ev1, a1.token_len);
		vt_print_token("single-c32", c2, 32, ev2, a2.token_len);
	}
	{
		/* Too small a buffer: ENOSPC and the size needed. */
		struct csm_attest a3;
		uint8_t small[64];
		int e3 = vt_attest(fd, r1, c2, sizeof(c2), small, sizeof(small), &a3);

		ok = VT_EXPECT(e3 == -ENOSPC && a3.token_len == a2.token_len, "small buffer %d len %u",
			       e3, a3.token_len) && ok;
	}
	ok = VT_EXPECT(strstr(kernel_log(), "RSI_ATTESTATION_TOKEN_INIT (0xc4000194)") != NULL,
		       "no RSI_ATTESTATION_TOKEN_INIT in the log") && ok;
	vt_result("rsi_attest", ok,
		  "CSM_TOKEN_CCA evidence (%u and %u bytes) for two challenges, tokens differ (printed for the host verifier)",
		  a1.token_len, a2.token_len);

	munmap(m1, 1 << 20);
	munmap(m2, 64 << 10);
	ok = !vt_destroy(fd, r1, 0) && !vt_destroy(fd, r2, 0);
	ok = VT_EXPECT(ok && vt_destroy(fd, r1, 0) == -EIDRM, "destroy twice") && ok;
	ok = VT_EXPECT(ipa_of(r1, &sz1) == 0 && ipa_of(r2, &sz2) == 0, "ranges kept") && ok;
	vt_result("rsi_destroy", ok, "both regions destroyed, window ranges released; stale region ID EIDRM");
}

/* One injected status on CSM_CREATE must come back as @err, no leak after. */
static int create_with(int fd, const char *status, int count, int err, const char *name)
{
	uint64_t r = 0;
	long long fails = call_count("CSM_CREATE", 1);
	int ret, ok;

	ok = VT_EXPECT(!inject("CSM_CREATE", status, count), "inject %s", status);
	ret = vt_create(fd, 8192, &r, NULL);
	ok = VT_EXPECT(ret == err, "%s: create gave %d (%s), expected %d", status, ret,
		       strerror(-ret), err) && ok;
	if (!ret)
		vt_destroy(fd, r, 0);
	ok = VT_EXPECT(!inject("CSM_CREATE", status, 0), "clear") && ok;
	ret = vt_create(fd, 8192, &r, NULL);
	ok = VT_EXPECT(!ret && !vt_destroy(fd, r, 0), "create after %s: %d", status, ret) && ok;
	ok = VT_EXPECT(call_count("CSM_CREATE", 1) > fails, "calls not counted") && ok;
	vt_result(name, ok, "CSM_CREATE injected %s x%d -> %s", status, count,
		  err ? strerror(-err) : "success after retry");
	return ok;
}

static void test_errors(int fd)
{
	static uint8_t ev[4096];
	uint64_t r = 0, share = 0;
	struct csm_attest at;
	struct csm_share sh;
	uint8_t chal[32];
	long long inc;
	int ok, e;

	create_with(fd, "ERROR_INPUT", 1, -EINVAL, "rsi_err_input");
	create_with(fd, "ERROR_STATE", 1, -EBUSY, "rsi_err_state");
	create_with(fd, "ERROR_UNKNOWN", 1, -EIO, "rsi_err_unknown");
	create_with(fd, "NOT_SUPPORTED", 1, -EOPNOTSUPP, "rsi_err_not_supported");
	inc = call_count("CSM_CREATE", 5);
	create_with(fd, "INCOMPLETE", 3, 0, "rsi_err_incomplete_retry");
	ok = VT_EXPECT(call_count("CSM_CREATE", 5) >= inc + 3, "INCOMPLETE not seen");
	create_with(fd, "INCOMPLETE", 50, -EAGAIN, "rsi_err_incomplete_exhausted");

	/* Per-call meanings of ERROR_STATE, and attestation errors. */
	ok = VT_EXPECT(!vt_create(fd, 4096, &r, NULL), "create") && ok;
	memset(&sh, 0, sizeof(sh));
	sh.region_id = r;
	sh.peer_realm_id = 200;
	sh.perm = CSM_PERM_RO;
	inject("CSM_SHARE", "ERROR_STATE", 1);
	e = vt_ioctl(fd, CSM_IOC_SHARE, &sh);
	ok = VT_EXPECT(e == -EEXIST, "share ERROR_STATE: %d", e) && ok;
	share = sh.share_id;
	inject("CSM_DESTROY", "ERROR_STATE", 1);
	e = vt_destroy(fd, r, 0);
	ok = VT_EXPECT(e == -EBUSY, "destroy ERROR_STATE: %d", e) && ok;
	memset(chal, 0x11, sizeof(chal));
	inject("RSI_ATTESTATION_TOKEN_INIT", "ERROR_UNKNOWN", 1);
	e = vt_attest(fd, r, chal, sizeof(chal), ev, sizeof(ev), &at);
	ok = VT_EXPECT(e == -EIO, "attest INIT ERROR_UNKNOWN: %d", e) && ok;
	inject("RSI_ATTESTATION_TOKEN_CONTINUE", "ERROR_STATE", 1);
	e = vt_attest(fd, r, chal, sizeof(chal), ev, sizeof(ev), &at);
	ok = VT_EXPECT(e == -EPROTO, "attest CONTINUE ERROR_STATE: %d", e) && ok;
	inject("RSI_ATTESTATION_TOKEN_CONTINUE", "INCOMPLETE", 5);
	e = vt_attest(fd, r, chal, sizeof(chal), ev, sizeof(ev), &at);
	ok = VT_EXPECT(e == 0 && at.token_format == CSM_TOKEN_CCA,
		       "attest after 5 empty INCOMPLETEs: %d", e) && ok;
	e = vt_attest(fd, r, chal, sizeof(chal), ev, sizeof(ev), &at);
	ok = VT_EXPECT(e == 0, "attest after the injections: %d", e) && ok;
	ok = VT_EXPECT(!vt_destroy(fd, r, CSM_DESTROY_FORCE), "destroy") && ok;
	kernel_log();
	ok = VT_EXPECT(strstr(klog, "-> ERROR_INPUT (0x1): -EINVAL") &&
		       strstr(klog, "-> ERROR_STATE (0x2): -EBUSY") &&
		       strstr(klog, "-> ERROR_UNKNOWN (0x4): -EIO") &&
		       strstr(klog, "-> NOT_SUPPORTED (-1, unknown FID) (0xffffffffffffffff): -EOPNOTSUPP") &&
		       strstr(klog, "-> INCOMPLETE: retry 1 of 8") &&
		       strstr(klog, "-> INCOMPLETE (0x3): -EAGAIN"),
		       "a status has no log line") && ok;
	vt_result("rsi_err_per_call", ok,
		  "SHARE ERROR_STATE EEXIST (share %#llx), DESTROY ERROR_STATE EBUSY, INIT ERROR_UNKNOWN EIO, CONTINUE ERROR_STATE EPROTO, CONTINUE INCOMPLETE waited; every status logged",
		  (unsigned long long)share);
}

static void test_bad_args(int fd, uint64_t realm)
{
	uint64_t r = 0, off = 0;
	struct csm_create c;
	struct csm_share sh;
	struct csm_attach a;
	struct csm_revoke rv;
	void *m;
	int ok, e[14];

	memset(&c, 0, sizeof(c));
	c.size = 4096;
	c.reserved[1] = 1;
	e[0] = vt_ioctl(fd, CSM_IOC_CREATE, &c);
	e[1] = vt_create(fd, 4095, &r, NULL);
	e[2] = vt_create(fd, 1ull << 40, &r, NULL);
	ok = VT_EXPECT(e[0] == -EINVAL && e[1] == -EINVAL && e[2] == -E2BIG,
		       "create: %d %d %d", e[0], e[1], e[2]);
	ok = VT_EXPECT(!vt_create(fd, 8192, &r, &off), "create") && ok;
	memset(&sh, 0, sizeof(sh));
	sh.region_id = r;
	sh.perm = CSM_PERM_RW;
	sh.peer_realm_id = realm;
	e[3] = vt_ioctl(fd, CSM_IOC_SHARE, &sh);
	sh.peer_realm_id = 0;
	e[4] = vt_ioctl(fd, CSM_IOC_SHARE, &sh);
	sh.peer_realm_id = 300;
	e[5] = vt_ioctl(fd, CSM_IOC_SHARE, &sh);
	sh.peer_realm_id = 2;
	sh.perm = 2;
	e[6] = vt_ioctl(fd, CSM_IOC_SHARE, &sh);
	ok = VT_EXPECT(e[3] == -EINVAL && e[4] == -ESRCH && e[5] == -ESRCH && e[6] == -EINVAL,
		       "share: self %d, 0 %d, 300 %d, perm %d", e[3], e[4], e[5], e[6]) && ok;
	memset(&a, 0, sizeof(a));
	a.share_id = 0;
	e[7] = vt_ioctl(fd, CSM_IOC_ATTACH, &a);
	a.share_id = 1 << 16 | 2 << 8 | 3;	/* between two other realms */
	e[8] = vt_ioctl(fd, CSM_IOC_ATTACH, &a);
	a.share_id = 1 << 16 | realm << 8 | 3;	/* one we would provide */
	e[9] = vt_ioctl(fd, CSM_IOC_ATTACH, &a);
	ok = VT_EXPECT(e[7] == -ENOENT && e[8] == -EACCES && e[9] == -EPERM,
		       "attach: 0 %d, others' %d, own %d", e[7], e[8], e[9]) && ok;
	memset(&rv, 0, sizeof(rv));
	rv.share_id = 5 << 16 | 2 << 8 | realm;	/* we would consume it */
	e[10] = vt_ioctl(fd, CSM_IOC_REVOKE, &rv);
	rv.share_id = 0;
	e[12] = vt_ioctl(fd, CSM_IOC_REVOKE, &rv);
	rv.share_id = 1ull << 24 | 5 << 16 | realm << 8 | 2;	/* bits above the ID's */
	e[13] = vt_ioctl(fd, CSM_IOC_REVOKE, &rv);
	ok = VT_EXPECT(e[10] == -EPERM && e[12] == -ENOENT && e[13] == -ENOENT,
		       "revoke: as consumer %d, 0 %d, malformed %d", e[10], e[12], e[13]) && ok;
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, off);
	ok = VT_EXPECT(m == MAP_FAILED && errno == EINVAL, "short mmap") && ok;
	m = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, off);
	ok = VT_EXPECT(m == MAP_FAILED && errno == EINVAL, "private mmap") && ok;
	e[11] = vt_destroy(fd, r, 0);
	ok = VT_EXPECT(!e[11] && vt_destroy(fd, 0x12345, 0) == -ENOENT, "destroy %d", e[11]) && ok;
	vt_result("rsi_bad_args", ok,
		  "reserved/size EINVAL, E2BIG, share self EINVAL / bad peer ESRCH, attach ENOENT/EACCES/EPERM, revoke EPERM/ENOENT, mmap rules");
}

static int sh(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * csm.rsi_window= instead of the reserved-memory node: a part of the
 * window works and bounds the regions; windows reaching the shared IPA bit
 * or overlapping RAM refuse the load.
 */
static void test_window_param(void)
{
	char info[2048];
	uint64_t r = 0, off, ipa, sz = 0;
	int fd, ok, e1, e2;

	ok = VT_EXPECT(!sh("rmmod csm"), "rmmod");
	ok = VT_EXPECT(sh("insmod /csm.ko rsi_log_calls=1 rsi_fallback=refuse rsi_window=0x7ff00000,0x200000 2>/dev/null"),
		       "window across the shared bit loaded") && ok;
	ok = VT_EXPECT(sh("insmod /csm.ko rsi_log_calls=1 rsi_fallback=refuse rsi_window=0x40000000,0x100000 2>/dev/null"),
		       "window in RAM loaded") && ok;
	kernel_log();
	ok = VT_EXPECT(strstr(klog, "reaches the shared IPA bit") &&
		       strstr(klog, "overlaps System RAM"), "no reason in the log") && ok;
	ok = VT_EXPECT(!sh("insmod /csm.ko rsi_log_calls=1 rsi_fallback=refuse rsi_window=0x5d000000,0x100000"),
		       "insmod with a 1 MiB window") && ok;
	read_file(RSI_DBG "info", info, sizeof(info));
	ok = VT_EXPECT(strstr(info, "window 0x5d000000 0x100000") != NULL, "%s", info) && ok;
	fd = open(CSM_DEVICE_PATH, O_RDWR);
	ok = VT_EXPECT(fd >= 0, "open") && ok;
	if (fd >= 0) {
		ok = VT_EXPECT(!vt_create(fd, 64 << 10, &r, &off), "create") && ok;
		ipa = ipa_of(r, &sz);
		ok = VT_EXPECT(ipa >= 0x5d000000 && ipa + sz <= 0x5d100000, "ipa %#llx",
			       (unsigned long long)ipa) && ok;
		e1 = vt_create(fd, 2 << 20, &r, &off);
		e2 = vt_create(fd, 1 << 20, &r, &off);
		ok = VT_EXPECT(e1 == -E2BIG && e2 == -ENOMEM, "bigger than the window %d, no room %d",
			       e1, e2) && ok;
		close(fd);
	}
	ok = VT_EXPECT(!sh("rmmod csm") && !sh("insmod /csm.ko rsi_log_calls=1 rsi_fallback=refuse"),
		       "reload with the node's window") && ok;
	vt_result("rsi_window_param", ok,
		  "csm.rsi_window=0x5d000000,0x100000 bounds regions (E2BIG, ENOMEM); windows across the shared IPA bit or in RAM refuse the load");
}

/* Reload with the other FID table and run a region through it. */
static void test_abi_alt(void)
{
	long long fid;
	uint64_t r = 0, off;
	uint8_t *m;
	int fd, ok;

	ok = VT_EXPECT(!sh("rmmod csm"), "rmmod");
	ok = VT_EXPECT(!sh("insmod /csm.ko rsi_log_calls=1 rsi_abi=alt rsi_fallback=refuse"), "insmod alt") && ok;
	fid = call_count("CSM_CREATE", 0);
	ok = VT_EXPECT(fid == 0xc700019all, "CSM_CREATE FID %#llx", fid) && ok;
	fd = open(CSM_DEVICE_PATH, O_RDWR);
	ok = VT_EXPECT(fd >= 0, "open") && ok;
	if (fd >= 0) {
		ok = VT_EXPECT(!vt_create(fd, 16384, &r, &off), "create") && ok;
		m = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
		ok = VT_EXPECT(m != MAP_FAILED, "mmap") && ok;
		if (m != MAP_FAILED) {
			m[5] = 42;
			ok = VT_EXPECT(m[5] == 42, "write") && ok;
			munmap(m, 16384);
		}
		ok = VT_EXPECT(!vt_destroy(fd, r, 0), "destroy") && ok;
		close(fd);
	}
	ok = VT_EXPECT(call_count("CSM_CREATE", 2) >= 1 && call_count("CSM_DESTROY", 2) >= 1,
		       "no successful CSM_CREATE/DESTROY on the alt numbering") && ok;
	ok = VT_EXPECT(strstr(kernel_log(), "csm: rsi: CSM_CREATE (0xc700019a)") != NULL,
		       "log lacks the alt FID") && ok;
	ok = VT_EXPECT(!sh("rmmod csm") && !sh("insmod /csm.ko rsi_log_calls=1 rsi_fallback=refuse"),
		       "reload with caec") && ok;
	vt_result("rsi_abi_alt", ok,
		  "csm.rsi_abi=alt: CSM_CREATE at FID %#llx, create/map/destroy work; reloaded with caec",
		  fid);
}

int main(void)
{
	uint64_t realm = 0;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = vt_open();
	test_version(fd, &realm);
	test_realm_config();
	test_create_map_attest(fd, realm);
	test_errors(fd);
	test_bad_args(fd, realm);
	close(fd);
	usleep(100000);
	vt_result("rsi_counters_zero", vt_counters_zero() == 0, "after closing /dev/csm");
	test_window_param();
	test_abi_alt();
	return vt_failures ? 1 : 0;
}
