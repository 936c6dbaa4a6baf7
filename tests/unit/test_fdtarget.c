// SPDX-License-Identifier: BSD-2-Clause
/*
 * fdtarget.c: the /proc/net row parsers on sample rows, and ls_fd_target()
 * on this process's own fds (pipes, files, loopback sockets: no root needed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include "fdtarget.h"

/* Rows as the kernel prints them (net/ipv4/tcp_ipv4.c, net/ipv6/tcp_ipv6.c, net/unix). */
static const char tcp_header[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
	"timeout inode                                                     \n";
static const char tcp_listen[] =
	"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000     "
	"   0 12468 1 0000000080a78991 100 0 0 10 0                     \n";
static const char tcp_established[] =
	"   3: 0100007F:A2B2 0100007F:18EB 01 00000000:00000000 02:000A2D4F 00000000  1000     "
	"   0 998877 2 00000000a1b2c3d4 20 4 30 10 -1                   \n";
static const char tcp6_header[] =
	"  sl  local_address                         remote_address                        st "
	"tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
static const char tcp6_loopback[] =
	"   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A "
	"00000000:00000000 00:00000000 00000000  1000        0 23456 1 0000000000000000 100 0 0 "
	"10 0\n";
static const char tcp6_mapped[] =
	"   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:C350 01 "
	"00000000:00000000 00:00000000 00000000  1000        0 23457 1 0000000000000000 20 4 30 "
	"10 -1\n";
static const char unix_header[] = "Num       RefCount Protocol Flags    Type St Inode Path\n";
static const char unix_named[] =
	"000000001caf0aef: 00000002 00000000 00010000 0001 01 36890 /run/systemd/private\n";
static const char unix_unnamed[] = "00000000980ef260: 00000003 00000000 00000000 0001 03  1593\n";
static const char unix_abstract[] =
	"ffff8881045fd800: 00000002 00000000 00010000 0001 01 20714 @/tmp/.X11-unix/X0\n";

static void test_inet_v4(void **state)
{
	char local[80], remote[80];
	unsigned long inode = 0;

	(void)state;
	assert_int_equal(ls_parse_inet_row(tcp_listen, false, &inode, local, sizeof(local), remote,
					   sizeof(remote)),
			 0);
	assert_int_equal(inode, 12468);
	assert_string_equal(local, "127.0.0.1:8080");
	assert_string_equal(remote, "0.0.0.0:0");

	assert_int_equal(ls_parse_inet_row(tcp_established, false, &inode, local, sizeof(local),
					   remote, sizeof(remote)),
			 0);
	assert_int_equal(inode, 998877);
	assert_string_equal(local, "127.0.0.1:41650");
	assert_string_equal(remote, "127.0.0.1:6379");
}

static void test_inet_v6(void **state)
{
	char local[80], remote[80];
	unsigned long inode = 0;

	(void)state;
	assert_int_equal(ls_parse_inet_row(tcp6_loopback, true, &inode, local, sizeof(local),
					   remote, sizeof(remote)),
			 0);
	assert_int_equal(inode, 23456);
	assert_string_equal(local, "[::1]:8080");
	assert_string_equal(remote, "[::]:0");

	assert_int_equal(ls_parse_inet_row(tcp6_mapped, true, &inode, local, sizeof(local), remote,
					   sizeof(remote)),
			 0);
	assert_int_equal(inode, 23457);
	assert_string_equal(local, "[::ffff:127.0.0.1]:8080");
	assert_string_equal(remote, "[::ffff:127.0.0.1]:50000");
}

static void test_inet_rejects(void **state)
{
	static const char *const bad[] = {
		tcp_header,
		tcp6_header,
		"",
		"\n",
		"garbage\n",
		"   0: zz:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\n",
		/* address one hex digit short */
		"   0: 100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\n",
		/* port beyond 16 bits */
		"   0: 0100007F:1FFFFF 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
		"1\n",
		/* cut before the inode */
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000\n",
	};
	char local[80], remote[80];
	unsigned long inode;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ls_parse_inet_row(bad[i], false, &inode, local, sizeof(local), remote,
				      sizeof(remote)) != -EINVAL)
			fail_msg("accepted as IPv4: %s", bad[i]);
		if (ls_parse_inet_row(bad[i], true, &inode, local, sizeof(local), remote,
				      sizeof(remote)) != -EINVAL)
			fail_msg("accepted as IPv6: %s", bad[i]);
	}
	/* a row of the other family is malformed for this one */
	assert_int_equal(ls_parse_inet_row(tcp6_loopback, false, &inode, local, sizeof(local),
					   remote, sizeof(remote)),
			 -EINVAL);
	assert_int_equal(ls_parse_inet_row(tcp_listen, true, &inode, local, sizeof(local), remote,
					   sizeof(remote)),
			 -EINVAL);
}

static void test_unix_rows(void **state)
{
	char path[256], small[8];
	unsigned long inode = 0;

	(void)state;
	assert_int_equal(ls_parse_unix_row(unix_named, &inode, path, sizeof(path)), 0);
	assert_int_equal(inode, 36890);
	assert_string_equal(path, "/run/systemd/private");

	assert_int_equal(ls_parse_unix_row(unix_unnamed, &inode, path, sizeof(path)), 0);
	assert_int_equal(inode, 1593);
	assert_string_equal(path, "");

	assert_int_equal(ls_parse_unix_row(unix_abstract, &inode, path, sizeof(path)), 0);
	assert_int_equal(inode, 20714);
	assert_string_equal(path, "@/tmp/.X11-unix/X0");

	/* a long path is cut to the buffer */
	assert_int_equal(ls_parse_unix_row(unix_named, &inode, small, sizeof(small)), 0);
	assert_string_equal(small, "/run/sy");

	assert_int_equal(ls_parse_unix_row(unix_header, &inode, path, sizeof(path)), -EINVAL);
	assert_int_equal(ls_parse_unix_row("", &inode, path, sizeof(path)), -EINVAL);
	assert_int_equal(ls_parse_unix_row("hello world\n", &inode, path, sizeof(path)), -EINVAL);
	assert_int_equal(ls_parse_unix_row("00000000980ef260: 00000003 00000000\n", &inode, path,
					   sizeof(path)),
			 -EINVAL);
}

static void test_fd_pipe_and_file(void **state)
{
	char buf[4096], tmpl[] = "/tmp/loopstall-unit-XXXXXX", *real;
	int p[2], fd, efd;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ls_fd_target(getpid(), p[0], buf, sizeof(buf)), 0);
	assert_string_equal(buf, "pipe");
	assert_int_equal(ls_fd_target(getpid(), p[1], buf, sizeof(buf)), 0);
	assert_string_equal(buf, "pipe");
	close(p[0]);
	close(p[1]);

	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	real = realpath(tmpl, NULL);
	assert_non_null(real);
	assert_int_equal(ls_fd_target(getpid(), fd, buf, sizeof(buf)), 0);
	assert_string_equal(buf, real);
	/* cut to the caller's buffer, NUL-terminated */
	assert_int_equal(ls_fd_target(getpid(), fd, buf, 6), 0);
	assert_int_equal(strlen(buf), 5);
	assert_memory_equal(buf, real, 5);
	free(real);
	unlink(tmpl);
	close(fd);

	efd = eventfd(0, EFD_CLOEXEC);
	assert_true(efd >= 0);
	assert_int_equal(ls_fd_target(getpid(), efd, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "anon_inode:eventfd");
	close(efd);
}

static void test_fd_bad(void **state)
{
	char buf[64];
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	close(p[1]);
	assert_int_equal(ls_fd_target(getpid(), p[0], buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ls_fd_target(getpid(), 100000, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ls_fd_target(getpid(), -1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ls_fd_target(getpid(), 0, buf, 0), -EINVAL);
	/* pid_max is at most 2^22: this process cannot exist */
	assert_true(ls_fd_target(0x7ffffff0, 0, buf, sizeof(buf)) < 0);
}

static unsigned short port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void test_fd_tcp(void **state)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	char buf[256], want[256];
	int lfd, cfd, afd;
	unsigned short lport, cport;

	(void)state;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	lport = port_of(lfd);
	addr.sin_port = htons(lport);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(cfd >= 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	cport = port_of(cfd);

	assert_int_equal(ls_fd_target(getpid(), cfd, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "socket:TCP 127.0.0.1:%u->127.0.0.1:%u", cport, lport);
	assert_string_equal(buf, want);
	assert_int_equal(ls_fd_target(getpid(), afd, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "socket:TCP 127.0.0.1:%u->127.0.0.1:%u", lport, cport);
	assert_string_equal(buf, want);
	/* a listener has no peer */
	assert_int_equal(ls_fd_target(getpid(), lfd, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "socket:TCP 127.0.0.1:%u", lport);
	assert_string_equal(buf, want);
	close(afd);
	close(cfd);
	close(lfd);
}

static void test_fd_udp(void **state)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	char buf[256], want[256];
	int fd;

	(void)state;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(ls_fd_target(getpid(), fd, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "socket:UDP 127.0.0.1:%u", port_of(fd));
	assert_string_equal(buf, want);
	close(fd);
}

static void test_fd_tcp6(void **state)
{
	struct sockaddr_in6 addr = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	char buf[256], want[256];
	int lfd;

	(void)state;
	lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr))) {
		if (lfd >= 0)
			close(lfd);
		skip(); /* no IPv6 loopback on this machine */
	}
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(ls_fd_target(getpid(), lfd, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "socket:TCP [::1]:%u", port_of(lfd));
	assert_string_equal(buf, want);
	close(lfd);
}

static void test_fd_unix(void **state)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[256], want[256], dir[] = "/tmp/loopstall-unit-XXXXXX";
	int sv[2], fd;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(ls_fd_target(getpid(), sv[0], buf, sizeof(buf)), 0);
	assert_string_equal(buf, "socket:UNIX");
	close(sv[0]);
	close(sv[1]);

	assert_non_null(mkdtemp(dir));
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/s.sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(ls_fd_target(getpid(), fd, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "socket:UNIX %s", addr.sun_path);
	assert_string_equal(buf, want);
	close(fd);
	unlink(addr.sun_path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inet_v4),
		cmocka_unit_test(test_inet_v6),
		cmocka_unit_test(test_inet_rejects),
		cmocka_unit_test(test_unix_rows),
		cmocka_unit_test(test_fd_pipe_and_file),
		cmocka_unit_test(test_fd_bad),
		cmocka_unit_test(test_fd_tcp),
		cmocka_unit_test(test_fd_udp),
		cmocka_unit_test(test_fd_tcp6),
		cmocka_unit_test(test_fd_unix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
