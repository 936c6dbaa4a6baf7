// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A poll loop that, on SIGUSR2, copies a plugin to a temporary file,
 * dlopen()s the copy, deletes it from disk and calls into it: the plugin's
 * code is mapped after the agent attached, from a file that no longer
 * exists. Prints `ready`, then `done` before exiting.
 *
 * usage: plugin_late PLUGIN.so [MS]
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr2(int sig)
{
	(void)sig;
	go = 1;
}

static int copy_file(const char *from, char *to_template)
{
	char buf[65536];
	int in, out;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = mkstemps(to_template, 3);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			n = -1;
	close(in);
	close(out);
	return n < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	char copy[] = "/tmp/loopstall-plugin-XXXXXX.so";
	unsigned ms = argc > 2 ? (unsigned)atoi(argv[2]) : 200;
	struct sigaction sa = { .sa_handler = on_usr2 };
	int (*block)(unsigned);
	void *lib;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: plugin_late PLUGIN.so [MS]\n");
		return 2;
	}
	sigaction(SIGUSR2, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	/* the loop: 10 ms waits in poll() until told to go */
	while (!go)
		poll(NULL, 0, 10);
	if (copy_file(argv[1], copy)) {
		fprintf(stderr, "plugin_late: copy: %s\n", strerror(errno));
		return 1;
	}
	lib = dlopen(copy, RTLD_NOW);
	unlink(copy);
	if (!lib) {
		fprintf(stderr, "plugin_late: %s\n", dlerror());
		return 1;
	}
	block = (int (*)(unsigned))dlsym(lib, "plugin_block");
	if (!block)
		return 1;
	poll(NULL, 0, 1);
	block(ms);
	for (i = 0; i < 20; i++)
		poll(NULL, 0, 10);
	printf("done\n");
	fflush(stdout);
	return 0;
}
