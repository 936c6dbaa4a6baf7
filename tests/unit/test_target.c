// SPDX-License-Identifier: BSD-2-Clause
/*
 * target.c: a blocking call's target from what BPF captured at its
 * switch-out, and the advice that speaks of the target's kind.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/magic.h>
#include <cmocka.h>
#include "stall.h"
#include "fdtarget.h"
#include "target.h"

#define MS 1000000ull

static void capture_inet(struct lt_capture *c, int type, int proto, const char *l, uint16_t lport,
			 const char *r, uint16_t rport)
{
	memset(c, 0, sizeof(*c));
	c->flags = LT_CAP_FILE | LT_CAP_INET;
	c->mode = S_IFSOCK | 0777;
	c->family = AF_INET;
	c->sock_type = (uint16_t)type;
	c->protocol = (uint16_t)proto;
	inet_pton(AF_INET, l, c->laddr);
	inet_pton(AF_INET, r, c->raddr);
	c->lport = lport;
	c->rport = rport;
}

static void test_kind_from_mode(void **state)
{
	(void)state;
	assert_int_equal(ls_target_kind_of(S_IFREG | 0644, EXT4_SUPER_MAGIC, NULL), LS_TK_FILE);
	/* both S_IFIFO: pipefs makes it a pipe, any other file system a FIFO */
	assert_int_equal(ls_target_kind_of(S_IFIFO | 0600, PIPEFS_MAGIC, NULL), LS_TK_PIPE);
	assert_int_equal(ls_target_kind_of(S_IFIFO | 0600, TMPFS_MAGIC, NULL), LS_TK_FIFO);
	assert_int_equal(ls_target_kind_of(S_IFSOCK, SOCKFS_MAGIC, NULL), LS_TK_SOCKET);
	assert_int_equal(ls_target_kind_of(S_IFCHR | 0666, 0, NULL), LS_TK_DEVICE);
	assert_int_equal(ls_target_kind_of(S_IFBLK | 0660, 0, NULL), LS_TK_DEVICE);
	assert_int_equal(ls_target_kind_of(S_IFDIR | 0755, 0, NULL), LS_TK_DIR);
	/* anonymous inodes share one inode: the name tells them apart */
	assert_int_equal(ls_target_kind_of(0600, ANON_INODE_FS_MAGIC, "[eventfd]"), LS_TK_EVENTFD);
	assert_int_equal(ls_target_kind_of(0600, ANON_INODE_FS_MAGIC, "[timerfd]"), LS_TK_TIMERFD);
	assert_int_equal(ls_target_kind_of(0600, ANON_INODE_FS_MAGIC, "anon_inode:[signalfd]"),
			 LS_TK_SIGNALFD);
	assert_int_equal(ls_target_kind_of(0600, ANON_INODE_FS_MAGIC, "[eventpoll]"), LS_TK_EPOLL);
	assert_int_equal(ls_target_kind_of(0600, ANON_INODE_FS_MAGIC, "[io_uring]"), LS_TK_OTHER);
	assert_string_equal(ls_target_kind_name(LS_TK_FIFO), "fifo");
	assert_null(ls_target_kind_name(LS_TK_NONE));
	assert_int_equal(ls_target_kind_parse("eventfd"), LS_TK_EVENTFD);
	assert_int_equal(ls_target_kind_parse("bogus"), LS_TK_NONE);
}

static void test_sockaddr_text(void **state)
{
	struct lt_capture c;
	char buf[256];

	(void)state;
	capture_inet(&c, SOCK_STREAM, IPPROTO_TCP, "127.0.0.1", 40000, "10.0.0.5", 5432);
	assert_int_equal(ls_target_from_capture(&c, buf, sizeof(buf)), LS_TK_SOCKET);
	assert_string_equal(buf, "socket:TCP 127.0.0.1:40000->10.0.0.5:5432");
	/* a listener has no peer: the /proc form names the local end alone */
	capture_inet(&c, SOCK_STREAM, IPPROTO_TCP, "0.0.0.0", 8080, "0.0.0.0", 0);
	ls_target_from_capture(&c, buf, sizeof(buf));
	assert_string_equal(buf, "socket:TCP 0.0.0.0:8080");

	memset(&c, 0, sizeof(c));
	c.flags = LT_CAP_FILE | LT_CAP_INET;
	c.mode = S_IFSOCK;
	c.family = AF_INET6;
	c.sock_type = SOCK_STREAM;
	c.protocol = IPPROTO_TCP;
	inet_pton(AF_INET6, "::1", c.laddr);
	inet_pton(AF_INET6, "2001:db8::7", c.raddr);
	c.lport = 5000;
	c.rport = 443;
	ls_target_from_capture(&c, buf, sizeof(buf));
	assert_string_equal(buf, "socket:TCP [::1]:5000->[2001:db8::7]:443");

	/* connect's sockaddr before the socket knew its peer */
	memset(&c, 0, sizeof(c));
	c.flags = LT_CAP_FILE | LT_CAP_SOCKADDR;
	c.mode = S_IFSOCK;
	c.family = AF_INET;
	c.sock_type = SOCK_STREAM;
	inet_pton(AF_INET, "192.0.2.9", c.raddr);
	c.rport = 80;
	ls_target_from_capture(&c, buf, sizeof(buf));
	assert_string_equal(buf, "socket:TCP ->192.0.2.9:80");

	/* unix sockets: a path, an abstract name */
	memset(&c, 0, sizeof(c));
	c.flags = LT_CAP_FILE | LT_CAP_UNIX;
	c.mode = S_IFSOCK;
	c.family = AF_UNIX;
	memcpy(c.path, "/run/app.sock", 13);
	c.path_len = 13;
	ls_target_from_capture(&c, buf, sizeof(buf));
	assert_string_equal(buf, "socket:UNIX /run/app.sock");
	memcpy(c.path, "\0bus", 4);
	c.path_len = 4;
	ls_target_from_capture(&c, buf, sizeof(buf));
	assert_string_equal(buf, "socket:UNIX @bus");
}

static void test_dns(void **state)
{
	struct lt_capture c;
	char buf[256];

	(void)state;
	capture_inet(&c, SOCK_DGRAM, IPPROTO_UDP, "127.0.0.1", 51000, "127.0.0.53", 53);
	ls_target_from_capture(&c, buf, sizeof(buf));
	assert_string_equal(buf, "dns:udp 127.0.0.53:53");
	capture_inet(&c, SOCK_STREAM, IPPROTO_TCP, "10.0.0.2", 41000, "10.0.0.1", 53);
	ls_target_from_capture(&c, buf, sizeof(buf));
	assert_string_equal(buf, "dns:tcp 10.0.0.1:53");
	/* port 5353 is no resolver; a local port 53 neither */
	capture_inet(&c, SOCK_DGRAM, IPPROTO_UDP, "127.0.0.1", 53, "127.0.0.1", 5353);
	ls_target_from_capture(&c, buf, sizeof(buf));
	assert_string_equal(buf, "socket:UDP 127.0.0.1:53->127.0.0.1:5353");

	/* the same naming for targets read from /proc */
	snprintf(buf, sizeof(buf), "socket:UDP 127.0.0.1:40000->127.0.0.53:53");
	ls_target_dns(buf, sizeof(buf));
	assert_string_equal(buf, "dns:udp 127.0.0.53:53");
	snprintf(buf, sizeof(buf), "socket:TCP 127.0.0.1:53->127.0.0.1:40000");
	ls_target_dns(buf, sizeof(buf));
	assert_string_equal(buf, "socket:TCP 127.0.0.1:53->127.0.0.1:40000");
	snprintf(buf, sizeof(buf), "socket:UDP 127.0.0.1:40000->127.0.0.1:530");
	ls_target_dns(buf, sizeof(buf));
	assert_string_equal(buf, "socket:UDP 127.0.0.1:40000->127.0.0.1:530");
}

static void test_dentries(void **state)
{
	static const char names[] = "data.bin\0app\0tmp";
	struct lt_capture c;
	char buf[256];

	(void)state;
	/* leaf first, each NUL-ended: root first in the path */
	assert_int_equal(ls_target_dentries(names, sizeof(names), false, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/app/data.bin");
	/* a walk that stopped short says so */
	ls_target_dentries(names, sizeof(names), true, buf, sizeof(buf));
	assert_string_equal(buf, ".../tmp/app/data.bin");
	/* an unended tail (the buffer ran out mid-name) is left out */
	ls_target_dentries("f\0dir\0pa", 8, true, buf, sizeof(buf));
	assert_string_equal(buf, ".../dir/f");
	assert_int_equal(ls_target_dentries("", 0, false, buf, sizeof(buf)), -EINVAL);
	/* a small buffer truncates, never overflows */
	ls_target_dentries(names, sizeof(names), false, buf, 8);
	assert_true(strlen(buf) < 8);

	memset(&c, 0, sizeof(c));
	c.flags = LT_CAP_FILE | LT_CAP_DENTRIES;
	c.mode = S_IFIFO | 0600;
	c.magic = TMPFS_MAGIC;
	memcpy(c.path, "f2\0tgt\0tmp\0", 11);
	c.path_len = 11;
	assert_int_equal(ls_target_from_capture(&c, buf, sizeof(buf)), LS_TK_FIFO);
	assert_string_equal(buf, "/tmp/tgt/f2");
	/* a pipe has no name worth walking */
	c.magic = PIPEFS_MAGIC;
	assert_int_equal(ls_target_from_capture(&c, buf, sizeof(buf)), LS_TK_PIPE);
	assert_string_equal(buf, "pipe");
}

static void test_path_arg_and_anon(void **state)
{
	struct lt_capture c;
	char buf[256];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.flags = LT_CAP_PATH_ARG;
	c.dirfd = LT_CAP_AT_FDCWD;
	memcpy(c.path, "spool/fifo", 11);
	c.path_len = 11;
	/* relative stays relative here: ls_target_resolve joins it to the cwd */
	assert_int_equal(ls_target_from_capture(&c, buf, sizeof(buf)), LS_TK_NONE);
	assert_string_equal(buf, "spool/fifo");
	c.flags |= LT_CAP_CUT;
	ls_target_from_capture(&c, buf, sizeof(buf));
	assert_string_equal(buf, "spool/fifo...");

	memset(&c, 0, sizeof(c));
	c.flags = LT_CAP_FILE | LT_CAP_ANON;
	c.magic = ANON_INODE_FS_MAGIC;
	memcpy(c.path, "[timerfd]", 10);
	c.path_len = 10;
	assert_int_equal(ls_target_from_capture(&c, buf, sizeof(buf)), LS_TK_TIMERFD);
	assert_string_equal(buf, "anon_inode:timerfd");

	/* nothing captured: nothing named */
	memset(&c, 0, sizeof(c));
	assert_int_equal(ls_target_from_capture(&c, buf, sizeof(buf)), LS_TK_NONE);
	assert_string_equal(buf, "");
}

/* A poll on a TCP socket with a timeout: the capture describes the first fd polled. */
static void test_poll_fds(void **state)
{
	struct lt_capture c;
	char buf[256];

	(void)state;
	capture_inet(&c, SOCK_STREAM, IPPROTO_TCP, "127.0.0.1", 40001, "127.0.0.1", 6379);
	c.flags |= LT_CAP_FDS;
	c.nfds = 2;
	c.fds[0] = 7;
	c.fds[1] = 9;
	assert_int_equal(ls_target_from_capture(&c, buf, sizeof(buf)), LS_TK_SOCKET);
	assert_string_equal(buf, "socket:TCP 127.0.0.1:40001->127.0.0.1:6379");
	/* the process is gone: what BPF captured is all there is */
	assert_int_equal(ls_target_resolve(999999, -1, &c, buf, sizeof(buf)), LS_TK_SOCKET);
	assert_string_equal(buf, "socket:TCP 127.0.0.1:40001->127.0.0.1:6379");
}

/* The kernel's dev_t of a stat() st_dev, as BPF reads it from the superblock. */
static uint32_t kernel_dev(dev_t dev)
{
	return (uint32_t)(major(dev) << 20 | minor(dev));
}

/* ls_target_resolve on this very process: its /proc entries are real. */
static void test_resolve_live_or_captured(void **state)
{
	char dir[] = "/tmp/loopstall-target-XXXXXX", path[128], buf[512], cwd[4096];
	struct lt_capture c;
	struct stat st;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/data.bin", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);

	/* what BPF saw: the same inode as the live fd, which is preferred */
	memset(&c, 0, sizeof(c));
	c.flags = LT_CAP_FILE | LT_CAP_DENTRIES;
	c.mode = st.st_mode;
	c.ino = st.st_ino;
	c.dev = kernel_dev(st.st_dev);
	memcpy(c.path, "stale\0", 6);
	c.path_len = 6;
	assert_int_equal(ls_target_resolve(getpid(), fd, &c, buf, sizeof(buf)), LS_TK_FILE);
	assert_string_equal(buf, path);

	/* the fd now is another file (closed, number reused): the capture wins */
	c.ino = st.st_ino + 1;
	assert_int_equal(ls_target_resolve(getpid(), fd, &c, buf, sizeof(buf)), LS_TK_FILE);
	assert_string_equal(buf, "/stale");
	/* the fd closed: the capture too */
	close(fd);
	c.ino = st.st_ino;
	assert_int_equal(ls_target_resolve(getpid(), fd, &c, buf, sizeof(buf)), LS_TK_FILE);
	assert_string_equal(buf, "/stale");

	/* a relative path argument starts at the working directory; a FIFO reads as one */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(mkfifo("in.fifo", 0600), 0);
	memset(&c, 0, sizeof(c));
	c.flags = LT_CAP_PATH_ARG;
	c.dirfd = LT_CAP_AT_FDCWD;
	memcpy(c.path, "in.fifo", 8);
	c.path_len = 8;
	assert_int_equal(ls_target_resolve(getpid(), -1, &c, buf, sizeof(buf)), LS_TK_FIFO);
	snprintf(path, sizeof(path), "%s/in.fifo", dir);
	assert_string_equal(buf, path);
	assert_int_equal(chdir(cwd), 0);
	/* ... or at the *at call's dirfd */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	c.dirfd = fd;
	assert_int_equal(ls_target_resolve(getpid(), -1, &c, buf, sizeof(buf)), LS_TK_FIFO);
	assert_string_equal(buf, path);
	close(fd);
	/* gone by the time the stall ends: named, kind unknown */
	unlink(path);
	c.dirfd = LT_CAP_AT_FDCWD;
	memcpy(c.path, path, strlen(path) + 1);
	c.path_len = (uint16_t)(strlen(path) + 1);
	assert_int_equal(ls_target_resolve(getpid(), -1, &c, buf, sizeof(buf)), LS_TK_NONE);
	assert_string_equal(buf, path);
	snprintf(path, sizeof(path), "%s/data.bin", dir);
	unlink(path);
	rmdir(dir);

	/* a poll whose fds were all negative names nothing */
	memset(&c, 0, sizeof(c));
	c.flags = LT_CAP_FDS;
	c.nfds = 1;
	c.fds[0] = c.fds[1] = c.fds[2] = c.fds[3] = -1;
	assert_int_equal(ls_target_resolve(getpid(), -1, &c, buf, sizeof(buf)), LS_TK_NONE);
	assert_string_equal(buf, "");
}

static void advise(struct ls_stall *s, const char *name, const char *target,
		   enum ls_target_kind kind, char *buf, size_t len)
{
	struct ls_syscall_use *u = &s->syscalls[0];

	memset(s, 0, sizeof(*s));
	s->start_ns = 1000 * MS;
	s->end_ns = 1300 * MS;
	s->cause = LS_CAUSE_BLOCKING_SYSCALL;
	s->n_syscalls = 1;
	u->nr = 0;
	u->name = name;
	u->count = 1;
	u->total_ns = u->max_ns = 300 * MS;
	snprintf(u->target, sizeof(u->target), "%s", target);
	u->target_kind = kind;
	ls_advice(s, buf, len);
}

static void test_advice_by_kind(void **state)
{
	struct ls_stall s;
	char buf[512];

	(void)state;
	/* the same path: a FIFO waits for a process, a file for the disk */
	advise(&s, "read", "/tmp/f", LS_TK_FIFO, buf, sizeof(buf));
	assert_non_null(strstr(buf, "FIFO /tmp/f"));
	assert_non_null(strstr(buf, "other end"));
	assert_null(strstr(buf, "egular-file"));
	advise(&s, "read", "/tmp/f", LS_TK_FILE, buf, sizeof(buf));
	assert_non_null(strstr(buf, "Regular-file I/O always blocks"));
	advise(&s, "read", "pipe", LS_TK_PIPE, buf, sizeof(buf));
	assert_non_null(strstr(buf, "on a pipe"));
	assert_null(strstr(buf, "egular-file"));
	advise(&s, "recvfrom", "socket:TCP 127.0.0.1:1->127.0.0.1:2", LS_TK_SOCKET, buf,
	       sizeof(buf));
	assert_non_null(strstr(buf, "network I/O"));
	advise(&s, "recvfrom", "dns:udp 127.0.0.53:53", LS_TK_SOCKET, buf, sizeof(buf));
	assert_non_null(strstr(buf, "DNS"));
	assert_non_null(strstr(buf, "getaddrinfo"));
	advise(&s, "read", "anon_inode:eventfd", LS_TK_EVENTFD, buf, sizeof(buf));
	assert_non_null(strstr(buf, "Register the fd with the loop"));
	advise(&s, "read", "/dev/ttyS0", LS_TK_DEVICE, buf, sizeof(buf));
	assert_non_null(strstr(buf, "device /dev/ttyS0"));
	assert_null(strstr(buf, "egular-file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kind_from_mode),
	    cmocka_unit_test(test_sockaddr_text),
	    cmocka_unit_test(test_dns),
	    cmocka_unit_test(test_dentries),
	    cmocka_unit_test(test_path_arg_and_anon),
	    cmocka_unit_test(test_poll_fds),
	    cmocka_unit_test(test_resolve_live_or_captured),
	    cmocka_unit_test(test_advice_by_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
