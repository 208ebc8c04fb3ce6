/*
 * Helpers shared by the guest-side VM test programs: result lines, ioctl
 * wrappers, fault probes in child processes, counters from debugfs.
 * Plain C against the UAPI header, linked statically into the initramfs.
 */
#ifndef CSM_VMTEST_H
#define CSM_VMTEST_H

#include <stdint.h>
#include <stdio.h>
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

#endif
