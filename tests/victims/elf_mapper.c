// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A poll loop that runs code from hostile ELF files (test_fault_malicious_elf.py),
 * so that the agent has to unwind and symbolize through them. On SIGUSR2
 * it runs each scenario given on the command line in turn, each blocking its
 * loop thread ~150 ms inside the file's code, with a few idle iterations in
 * between, printing `scenario N begin` and `scenario N end`, then `done`.
 *
 *   map:FILE:OFFSET   mmap FILE PROT_READ|PROT_EXEC and call the code at
 *                     OFFSET: raw x86-64 that calls nanosleep(rdi, rsi) by
 *                     syscall (the file need not be a valid ELF at all)
 *   dlopen:FILE:SYM   dlopen FILE and call SYM(150) (evil_elf.c)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr2(int sig)
{
	(void)sig;
	go = 1;
}

static int run_mapped(const char *spec)
{
	struct timespec ts = {0, 150000000};
	long (*stub)(const struct timespec *, struct timespec *);
	char path[4096];
	const char *colon = strrchr(spec, ':');
	unsigned long off;
	struct stat st;
	void *base;
	int fd;

	if (!colon || (size_t)(colon - spec) >= sizeof(path))
		return -1;
	memcpy(path, spec, (size_t)(colon - spec));
	path[colon - spec] = '\0';
	off = strtoul(colon + 1, NULL, 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		return -1;
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	close(fd);
	if (base == MAP_FAILED || off + 8 > (unsigned long)st.st_size)
		return -1;
	stub = (long (*)(const struct timespec *, struct timespec *))((char *)base + off);
	stub(&ts, NULL);
	/* stays mapped: the agent symbolizes after the stall ends */
	return 0;
}

static int run_dlopen(const char *spec)
{
	char path[4096];
	const char *colon = strrchr(spec, ':');
	int (*fn)(unsigned);
	void *lib;

	if (!colon || (size_t)(colon - spec) >= sizeof(path))
		return -1;
	memcpy(path, spec, (size_t)(colon - spec));
	path[colon - spec] = '\0';
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "elf_mapper: %s\n", dlerror());
		return -1;
	}
	fn = (int (*)(unsigned))dlsym(lib, colon + 1);
	if (!fn) {
		fprintf(stderr, "elf_mapper: %s: no %s\n", path, colon + 1);
		return -1;
	}
	fn(150);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_usr2};
	int i, j, err;

	sigaction(SIGUSR2, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	while (!go)
		poll(NULL, 0, 10);
	for (i = 1; i < argc; i++) {
		printf("scenario %d begin\n", i);
		fflush(stdout);
		if (!strncmp(argv[i], "map:", 4))
			err = run_mapped(argv[i] + 4);
		else if (!strncmp(argv[i], "dlopen:", 7))
			err = run_dlopen(argv[i] + 7);
		else
			err = -1;
		printf("scenario %d end%s\n", i, err ? " failed" : "");
		fflush(stdout);
		for (j = 0; j < 20; j++)
			poll(NULL, 0, 10);
	}
	printf("done\n");
	fflush(stdout);
	return 0;
}
