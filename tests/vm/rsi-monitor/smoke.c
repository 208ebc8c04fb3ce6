/*
 * Guest-side smoke checks of the test monitor, run before anything else in
 * a VM under it: the CPU runs Linux at EL1 (cpuinfo readable, the kernel log
 * says so), the CSM window is reserved memory, and an access to a window page
 * the monitor has not mapped ends in SIGBUS for the process (the monitor
 * turns the stage-2 fault into an external abort), not in a kernel oops.
 * Prints "RESULT mon_<name> PASS|FAIL <detail>" like vmtest.h.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define WIN_BASE 0x5c000000UL
#define WIN_PROBE (WIN_BASE + 0x3d00000UL)   /* a page no test creates */

static int failures;

static void result(const char *name, int ok, const char *detail)
{
	printf("RESULT mon_%s %s %s\n", name, ok ? "PASS" : "FAIL", detail);
	fflush(stdout);
	failures += !ok;
}

static int file_has(const char *path, const char *needle)
{
	char line[512];
	FILE *f = fopen(path, "r");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

/* Is the whole window inside one "reserved" (no-map) range of /proc/iomem? */
static int window_reserved(void)
{
	unsigned long start, end;
	char line[512];
	FILE *f = fopen("/proc/iomem", "r");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%lx-%lx", &start, &end) == 2 && strstr(line, ": reserved") &&
			start <= WIN_BASE && end >= WIN_BASE + 0x3dfffffUL;
	fclose(f);
	return found;
}

/* How a child reading the unmapped window page through /dev/mem ends. */
static int probe_unmapped(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int fd = open("/dev/mem", O_RDONLY | O_SYNC);
		volatile unsigned char *p;

		if (fd < 0)
			_exit(10);
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, WIN_PROBE);
		if (p == MAP_FAILED)
			_exit(11);
		(void)p[0];
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFSIGNALED(st) ? WTERMSIG(st) : 100 + WEXITSTATUS(st);
}

/*
 * How a child reading (expecting @expect) or writing the page at @pa through
 * /dev/mem ends: 0 clean, 1 read a wrong byte, else the signal number.
 */
static int probe_rw(unsigned long pa, int write, unsigned char expect)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int fd = open("/dev/mem", O_RDWR | O_SYNC);
		volatile unsigned char *p;

		if (fd < 0)
			_exit(10);
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pa);
		if (p == MAP_FAILED)
			_exit(11);
		if (write) {
			p[0] = expect;
			_exit(0);
		}
		_exit(p[0] == expect ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
	char detail[64];
	int how;

	/*
	 * "ro PA BYTE": run by mon_probe.ko in the consumer VM while a READ_ONLY
	 * attachment maps PA: reading sees BYTE, writing ends in SIGBUS.
	 */
	if (argc == 4 && !strcmp(argv[1], "ro")) {
		unsigned long pa = strtoul(argv[2], NULL, 0);
		unsigned char byte = (unsigned char)strtoul(argv[3], NULL, 0);

		return probe_rw(pa, 0, byte) == 0 && probe_rw(pa, 1, byte) == SIGBUS ? 0 : 1;
	}
	/* "gone PA": after a revoke took effect, reading PA ends in SIGBUS. */
	if (argc == 3 && !strcmp(argv[1], "gone"))
		return probe_rw(strtoul(argv[2], NULL, 0), 0, 0) == SIGBUS ? 0 : 1;

	result("cpuinfo", file_has("/proc/cpuinfo", "CPU implementer"), "/proc/cpuinfo readable");
	result("window_reserved", window_reserved(),
	       "CSM window is reserved memory in /proc/iomem");
	how = probe_unmapped();
	snprintf(detail, sizeof(detail), "reading an unmapped window page ended with %d", how);
	result("unmapped_sigbus", how == SIGBUS, detail);
	return failures ? 1 : 0;
}
