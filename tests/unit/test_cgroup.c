// SPDX-License-Identifier: BSD-2-Clause
/* /proc/PID/cgroup into a path, a container id and a pod uid (cgroup.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "cgroup.h"

#define ID "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a"
#define ID2 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define UID "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b"
#define UID_ "1b2c3d4e_5f60_4718_8a9b_0c1d2e3f4a5b"

static struct ls_cgroup parse(const char *text, int want)
{
	struct ls_cgroup cg;

	assert_int_equal(ls_cgroup_parse(text, strlen(text), &cg), want);
	return cg;
}

static void test_docker_systemd(void **state)
{
	struct ls_cgroup cg = parse("0::/system.slice/docker-" ID ".scope\n", 0);

	(void)state;
	assert_string_equal(cg.path, "/system.slice/docker-" ID ".scope");
	assert_string_equal(cg.container_id, ID);
	assert_string_equal(cg.pod_uid, "");
}

static void test_docker_cgroupfs(void **state)
{
	struct ls_cgroup cg = parse("0::/docker/" ID "\n", 0);

	(void)state;
	assert_string_equal(cg.container_id, ID);
}

static void test_runtimes(void **state)
{
	static const char *const lines[] = {
	    "0::/system.slice/cri-containerd-" ID ".scope\n",
	    "0::/machine.slice/crio-" ID ".scope\n",
	    "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID
	    ".scope/container\n",
	    "0::/machine.slice/libpod-" ID ".scope\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct ls_cgroup cg = parse(lines[i], 0);

		assert_string_equal(cg.container_id, ID);
	}
}

static void test_kubepods_systemd(void **state)
{
	struct ls_cgroup cg =
	    parse("0::/kubepods.slice/kubepods-burstable.slice/"
		  "kubepods-burstable-pod" UID_ ".slice/cri-containerd-" ID ".scope\n",
		  0);

	(void)state;
	assert_string_equal(cg.pod_uid, UID);
	assert_string_equal(cg.container_id, ID);
	/* guaranteed pods have no QoS level in the name */
	cg = parse("0::/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" ID ".scope\n", 0);
	assert_string_equal(cg.pod_uid, UID);
}

static void test_kubepods_cgroupfs(void **state)
{
	struct ls_cgroup cg = parse("0::/kubepods/burstable/pod" UID "/" ID "\n", 0);

	(void)state;
	assert_string_equal(cg.pod_uid, UID);
	assert_string_equal(cg.container_id, ID);
	cg = parse("0::/kubepods/pod" UID "/" ID "\n", 0);
	assert_string_equal(cg.pod_uid, UID);
	/* pod<uid> outside kubepods is somebody's directory, not a pod */
	cg = parse("0::/mine/pod" UID "\n", 0);
	assert_string_equal(cg.pod_uid, "");
}

static void test_v1_and_hybrid(void **state)
{
	struct ls_cgroup cg = parse("12:pids:/docker/" ID "\n"
				    "11:cpu,cpuacct:/docker/" ID "\n"
				    "1:name=systemd:/docker/" ID "\n",
				    0);

	(void)state;
	assert_string_equal(cg.path, "/docker/" ID);
	assert_string_equal(cg.container_id, ID);
	/* hybrid: v2 line at the root, v1 hierarchies name the container */
	cg = parse("5:memory:/kubepods/besteffort/pod" UID "/" ID "\n"
		   "1:name=systemd:/user.slice\n"
		   "0::/\n",
		   0);
	assert_string_equal(cg.path, "/");
	assert_string_equal(cg.container_id, ID);
	assert_string_equal(cg.pod_uid, UID);
	/* v1 only, no name=systemd: the first line's path */
	cg = parse("3:cpu:/a\n2:memory:/b\n", 0);
	assert_string_equal(cg.path, "/a");
}

static void test_innermost_id(void **state)
{
	struct ls_cgroup cg = parse("0::/docker/" ID "/docker/" ID2 "\n", 0);

	(void)state;
	assert_string_equal(cg.container_id, ID2);
}

static void test_host_process(void **state)
{
	struct ls_cgroup cg = parse("0::/user.slice/user-0.slice/session-3.scope\n", 0);

	(void)state;
	assert_string_equal(cg.path, "/user.slice/user-0.slice/session-3.scope");
	assert_string_equal(cg.container_id, "");
	assert_string_equal(cg.pod_uid, "");
}

static void test_near_misses(void **state)
{
	static const char *const lines[] = {
	    /* 63 and 65 hex digits */
	    "0::/docker-" ID2 "f.scope\n",
	    "0::/docker-3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2.scope\n",
	    /* uppercase is not how runtimes write ids */
	    "0::/docker-3F2A1B0C9D8E7F6A5B4C3D2E1F0A9B8C7D6E5F4A3B2C1D0E9F8A7B6C5D4E3F2A.scope\n",
	    /* conmon is the monitor, not the container */
	    "0::/machine.slice/crio-conmon-" ID ".scope\n",
	    "0::/docker-" ID ".scopeX\n",
	    "0::/xdocker-" ID ".scope\n",
	    /* a uid with a misplaced separator */
	    "0::/kubepods.slice/kubepods-pod1b2c3d4e5_f60_4718_8a9b_0c1d2e3f4a5b.slice\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct ls_cgroup cg = parse(lines[i], 0);

		assert_string_equal(cg.container_id, "");
		assert_string_equal(cg.pod_uid, "");
	}
}

static void test_forged_line(void **state)
{
	/* a cgroup named "x\n0::/docker-ID.scope": the kernel prints the newline as is */
	struct ls_cgroup cg = parse("0::/user.slice/x\n0::/docker-" ID ".scope\n", -EINVAL);

	(void)state;
	assert_string_equal(cg.path, "");
	assert_string_equal(cg.container_id, "");
}

static void test_hostile(void **state)
{
	struct ls_cgroup cg;
	char *big;
	size_t n = 100000, i;

	(void)state;
	parse("", -ENOENT);
	parse("garbage\n", -ENOENT);
	parse("0::relative\n", -ENOENT);
	parse("::::\n", -ENOENT);
	/* no newline at the end, and a NUL inside a path */
	assert_int_equal(ls_cgroup_parse("0::/docker/" ID, 11 + 64, &cg), 0);
	assert_string_equal(cg.container_id, ID);
	assert_int_equal(ls_cgroup_parse("0::/a\0b\n", 8, &cg), -ENOENT);
	/* only len bytes are looked at: the id is cut, so there is none */
	assert_int_equal(ls_cgroup_parse("0::/docker/" ID, 11 + 63, &cg), 0);
	assert_string_equal(cg.container_id, "");
	/* a path far longer than the bound: cut, terminated, id still found at the end */
	big = malloc(n + 100);
	assert_non_null(big);
	memcpy(big, "0::", 3);
	for (i = 3; i < n; i++)
		big[i] = (i % 10) ? 'a' : '/';
	big[3] = '/';
	memcpy(big + n, "/" ID "\n", 66);
	assert_int_equal(ls_cgroup_parse(big, n + 66, &cg), 0);
	assert_int_equal(strlen(cg.path), LS_CGROUP_PATH_MAX - 1);
	assert_string_equal(cg.container_id, ID);
	/* thousands of slashes and empty components */
	memset(big + 4, '/', n - 4);
	assert_int_equal(ls_cgroup_parse(big, n, &cg), 0);
	assert_string_equal(cg.container_id, "");
	free(big);
}

static void test_read(void **state)
{
	struct ls_cgroup cg;
	char root[] = "/tmp/ls_cgroup_XXXXXX", dir[64], file[96];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/42", root);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(file, sizeof(file), "%s/cgroup", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("0::/kubepods/burstable/pod" UID "/" ID "\n", f);
	fclose(f);
	assert_int_equal(ls_cgroup_read(root, 42, &cg), 0);
	assert_string_equal(cg.container_id, ID);
	assert_string_equal(cg.pod_uid, UID);
	assert_int_equal(ls_cgroup_read(root, 43, &cg), -ENOENT);
	unlink(file);
	rmdir(dir);
	rmdir(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker_systemd),    cmocka_unit_test(test_docker_cgroupfs),
	    cmocka_unit_test(test_runtimes),	      cmocka_unit_test(test_kubepods_systemd),
	    cmocka_unit_test(test_kubepods_cgroupfs), cmocka_unit_test(test_v1_and_hybrid),
	    cmocka_unit_test(test_innermost_id),      cmocka_unit_test(test_host_process),
	    cmocka_unit_test(test_near_misses),	      cmocka_unit_test(test_forged_line),
	    cmocka_unit_test(test_hostile),	      cmocka_unit_test(test_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
