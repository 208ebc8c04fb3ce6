/*
 * csm-ivshmem-server: the server side of QEMU's ivshmem-doorbell protocol
 * (qemu-system-data: docs/specs/ivshmem-spec.txt). Debian ships no server,
 * so the VM tests bring their own.
 *
 *   csm-ivshmem-server -S SOCKET -l SIZE [-n VECTORS] [-t SECONDS] [-m FILE]
 *
 * The shared memory is a memfd (nothing to clean up in /dev/shm), or with
 * -m a new file (created, removed on exit) that QEMU can map a second time
 * (memory-backend-file + ivshmem-plain): a window onto the same memory
 * that no driver claims, through which a guest plays a hostile peer. Every
 * message is a little-endian int64, file descriptors ride on SCM_RIGHTS.
 * On connect a client gets: version 0, its id, -1 with the memory fd, then
 * for each existing peer that peer's id with one eventfd per vector, then its
 * own id with its own eventfds; existing peers get the newcomer's id and
 * eventfds. A disconnect is announced to the others as the id alone.
 * The server exits on SIGTERM/SIGINT or after -t seconds (a hard bound so a
 * crashed harness never leaves it behind), removing its socket.
 *
 * Hostile-peer testing: with -c START:END, SIGUSR1 starts and SIGUSR2 stops
 * "chaos": every 5 ms random bytes land in [START, END) of the shared
 * memory, as a malicious VM could write them.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { kMaxPeers = 16, kMaxVectors = 16 };

struct peer {
	int sock;		/* -1: slot free */
	int64_t id;
	int evfd[kMaxVectors];	/* eventfds other peers write to reach us */
};

static struct peer peers[kMaxPeers];
static int nvectors = 4;
static volatile sig_atomic_t stop, chaos;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		chaos = 1;
	else if (sig == SIGUSR2)
		chaos = 0;
	else
		stop = 1;
}

/* Random bytes over [start, end) of the shared memory (xorshift). */
static void scribble(uint8_t *mem, long start, long end)
{
	static uint64_t x = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < 64; i++) {
		long at;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		at = start + (long)(x % (uint64_t)(end - start));
		mem[at] = (uint8_t)(x >> 32);
	}
}

/* Sends one int64 message, with fd attached when fd >= 0. */
static int send_msg(int sock, int64_t value, int fd)
{
	int64_t le = (int64_t)htole64((uint64_t)value);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	memset(&ctl, 0, sizeof(ctl));
	if (fd >= 0) {
		struct cmsghdr *c;

		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(le) ? 0 : -1;
}

static int send_peer_vectors(int sock, const struct peer *p)
{
	for (int v = 0; v < nvectors; v++)
		if (send_msg(sock, p->id, p->evfd[v]) < 0)
			return -1;
	return 0;
}

static void drop_peer(struct peer *p)
{
	close(p->sock);
	p->sock = -1;
	for (int v = 0; v < nvectors; v++)
		close(p->evfd[v]);
	for (int i = 0; i < kMaxPeers; i++)
		if (peers[i].sock >= 0)
			send_msg(peers[i].sock, p->id, -1);
	fprintf(stderr, "ivshmem-server: peer %lld left\n", (long long)p->id);
}

static void add_peer(int sock, int shm_fd, int64_t id)
{
	struct peer *p = NULL;

	for (int i = 0; i < kMaxPeers && !p; i++)
		if (peers[i].sock < 0)
			p = &peers[i];
	if (!p) {
		fprintf(stderr, "ivshmem-server: more than %d peers, refusing one\n", kMaxPeers);
		close(sock);
		return;
	}
	p->id = id;
	for (int v = 0; v < nvectors; v++) {
		p->evfd[v] = eventfd(0, EFD_CLOEXEC);
		if (p->evfd[v] < 0) {
			perror("ivshmem-server: eventfd");
			exit(1);
		}
	}
	p->sock = sock;
	if (send_msg(sock, 0, -1) < 0 || send_msg(sock, id, -1) < 0 ||
	    send_msg(sock, -1, shm_fd) < 0)
		goto fail;
	for (int i = 0; i < kMaxPeers; i++) {
		struct peer *o = &peers[i];

		if (o == p || o->sock < 0)
			continue;
		if (send_peer_vectors(sock, o) < 0)
			goto fail;
		send_peer_vectors(o->sock, p);	/* a dead peer is reaped by poll */
	}
	if (send_peer_vectors(sock, p) < 0)
		goto fail;
	fprintf(stderr, "ivshmem-server: peer %lld joined\n", (long long)id);
	return;
fail:
	drop_peer(p);
}

static long parse_long(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (*s == '\0' || (*end != '\0' && strcmp(end, "M") && strcmp(end, "K"))) {
		fprintf(stderr, "ivshmem-server: bad %s '%s'\n", what, s);
		exit(2);
	}
	if (!strcmp(end, "M"))
		v <<= 20;
	else if (!strcmp(end, "K"))
		v <<= 10;
	return v;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *mem_path = NULL;
	long size = 4 << 20, lifetime = 600, chaos_start = 0, chaos_end = 0;
	uint8_t *mem = NULL;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct sigaction sa = { .sa_handler = on_signal };
	int64_t next_id = 0;
	time_t deadline;
	int opt, lsock, shm_fd;

	while ((opt = getopt(argc, argv, "S:l:n:t:c:m:")) != -1) {
		switch (opt) {
		case 'c':
			if (sscanf(optarg, "%li:%li", &chaos_start, &chaos_end) != 2 ||
			    chaos_start < 0 || chaos_end <= chaos_start) {
				fprintf(stderr, "ivshmem-server: bad chaos range '%s' (START:END)\n", optarg);
				return 2;
			}
			break;
		case 'S': path = optarg; break;
		case 'l': size = parse_long(optarg, "size"); break;
		case 'n': nvectors = (int)parse_long(optarg, "vector count"); break;
		case 't': lifetime = parse_long(optarg, "lifetime"); break;
		case 'm': mem_path = optarg; break;
		default:
			fprintf(stderr, "usage: %s -S SOCKET [-l SIZE] [-n VECTORS] [-t SECONDS] [-c START:END] [-m FILE]\n", argv[0]);
			return 2;
		}
	}
	if (!path || strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "ivshmem-server: need -S SOCKET (shorter than %zu bytes)\n",
			sizeof(addr.sun_path));
		return 2;
	}
	if (nvectors < 1 || nvectors > kMaxVectors || size < 4096 || (size & (size - 1))) {
		fprintf(stderr, "ivshmem-server: need 1..%d vectors and a power-of-two size\n",
			kMaxVectors);
		return 2;
	}
	for (int i = 0; i < kMaxPeers; i++)
		peers[i].sock = -1;

	if (mem_path)
		shm_fd = open(mem_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	else
		shm_fd = memfd_create("csm-ivshmem", MFD_CLOEXEC);
	if (shm_fd < 0 || ftruncate(shm_fd, size) < 0) {
		perror("ivshmem-server: shared memory");
		return 1;
	}
	if (chaos_end) {
		if (chaos_end > size) {
			fprintf(stderr, "ivshmem-server: chaos range beyond %ld bytes\n", size);
			return 2;
		}
		mem = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
		if (mem == MAP_FAILED) {
			perror("ivshmem-server: mmap");
			return 1;
		}
	}
	lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(addr.sun_path, path);
	unlink(path);
	if (lsock < 0 || bind(lsock, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(lsock, kMaxPeers) < 0) {
		perror("ivshmem-server: listen");
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "ivshmem-server: listening on %s, %ld bytes, %d vectors\n",
		path, size, nvectors);
	deadline = time(NULL) + lifetime;

	while (!stop && time(NULL) < deadline) {
		struct pollfd pfd[kMaxPeers + 1];
		int n = 0;

		pfd[n++] = (struct pollfd){ .fd = lsock, .events = POLLIN };
		for (int i = 0; i < kMaxPeers; i++)
			pfd[n++] = (struct pollfd){ .fd = peers[i].sock, .events = POLLIN };
		if (chaos && mem)
			scribble(mem, chaos_start, chaos_end);
		if (poll(pfd, n, (chaos && mem) ? 5 : 1000) < 0) {
			if (errno == EINTR)
				continue;
			perror("ivshmem-server: poll");
			break;
		}
		for (int i = 0; i < kMaxPeers; i++) {
			char junk[64];

			/* Clients never send; readable means closed (or garbage). */
			if (peers[i].sock >= 0 && pfd[i + 1].revents &&
			    read(peers[i].sock, junk, sizeof(junk)) <= 0)
				drop_peer(&peers[i]);
		}
		if (pfd[0].revents & POLLIN) {
			int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0)
				add_peer(c, shm_fd, next_id++ & 0xffff);
		}
	}
	unlink(path);
	if (mem_path)
		unlink(mem_path);
	return 0;
}
