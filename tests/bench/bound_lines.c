// SPDX-License-Identifier: BSD-2-Clause
/*
 * Rewrites JSON Lines records (stdin) in the bounded form loopstalld writes
 * (stdout), with the same code (bound.c), as one file: the e2e test reads
 * one run in both forms with it. usage: bound_lines MAX_LINE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bound.h"
#include "size.h"

int main(int argc, char **argv)
{
	struct ls_lines lines = { 0 };
	struct ls_bound *b = NULL;
	uint64_t max_line;
	char *line = NULL;
	size_t cap = 0, i;
	ssize_t n;
	int err = 0;

	if (argc != 2 || ls_parse_size(argv[1], &max_line) || ls_bound__new(max_line, &b)) {
		fprintf(stderr, "usage: bound_lines MAX_LINE (1K or more) < records > bounded\n");
		return 2;
	}
	while (!err && (n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		err = ls_bound__split(b, line, &lines);
		for (i = 0; !err && i < lines.n; i++)
			if (puts(lines.line[i]) == EOF)
				err = -EIO;
		ls_lines__clear(&lines);
	}
	free(line);
	ls_bound__free(b);
	if (err) {
		fprintf(stderr, "bound_lines: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
