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
