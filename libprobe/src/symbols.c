// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Name a callback address, on the reporter thread only (never the loop's):
 * dladdr knows exported symbols; callbacks are mostly static functions,
 * found in the module's .symtab, or in its separate debug file
 * (/usr/lib/debug/.build-id/xx/rest.debug) when the module is stripped.
 * The files are the process's own modules, but they are parsed with every
 * offset checked all the same: a bad file must not crash the service.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "symbols.h"

struct module_hit {
	uintptr_t addr;
	uintptr_t bias;
	char path[256];
	bool found;
};

static int find_module(struct dl_phdr_info *info, size_t size, void *ctx)
{
	struct module_hit *hit = ctx;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || hit->addr < lo || hit->addr - lo >= ph->p_memsz)
			continue;
		hit->bias = info->dlpi_addr;
		/* the main program has no name here */
		snprintf(hit->path, sizeof(hit->path), "%s",
			 info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name
							       : "/proc/self/exe");
		hit->found = true;
		return 1;
	}
	return 0;
}

static bool in_file(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

/* The function symbol of an ELF64 file's section of type want that holds vaddr. */
static int lookup_section(const unsigned char *f, size_t size, uint32_t want, uint64_t vaddr,
			  char *name, size_t len)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
	const Elf64_Shdr *sh;
	uint32_t i;

	if (!in_file(size, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)) ||
	    eh->e_shentsize != sizeof(Elf64_Shdr))
		return -ENOENT;
	sh = (const Elf64_Shdr *)(f + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *s = &sh[i], *strs;
		const Elf64_Sym *syms;
		uint64_t n, j;

		if (s->sh_type != want || s->sh_link >= eh->e_shnum ||
		    s->sh_entsize != sizeof(Elf64_Sym) || !in_file(size, s->sh_offset, s->sh_size))
			continue;
		strs = &sh[s->sh_link];
		if (!in_file(size, strs->sh_offset, strs->sh_size))
			continue;
		syms = (const Elf64_Sym *)(f + s->sh_offset);
		n = s->sh_size / sizeof(Elf64_Sym);
		for (j = 0; j < n; j++) {
			const Elf64_Sym *sym = &syms[j];
			const char *str;
			size_t k, max;

			if (ELF64_ST_TYPE(sym->st_info) != STT_FUNC || !sym->st_value ||
			    vaddr < sym->st_value ||
			    vaddr - sym->st_value >= (sym->st_size ? sym->st_size : 1))
				continue;
			if (sym->st_name >= strs->sh_size)
				continue;
			str = (const char *)f + strs->sh_offset + sym->st_name;
			max = strs->sh_size - sym->st_name;
			for (k = 0; k < max && str[k]; k++)
				;
			if (k == max || !k)
				continue;
			snprintf(name, len, "%.*s", (int)k, str);
			return 0;
		}
	}
	return -ENOENT;
}

/* The build-id of an ELF64 file, as hex; empty if it has none. */
static void build_id(const unsigned char *f, size_t size, char *hex, size_t len)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
	const Elf64_Phdr *ph;
	uint32_t i;

	hex[0] = '\0';
	if (!in_file(size, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)))
		return;
	ph = (const Elf64_Phdr *)(f + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++) {
		uint64_t off = ph[i].p_offset, end;

		if (ph[i].p_type != PT_NOTE || !in_file(size, off, ph[i].p_filesz))
			continue;
		end = off + ph[i].p_filesz;
		while (off + sizeof(Elf64_Nhdr) <= end) {
			const Elf64_Nhdr *nh = (const Elf64_Nhdr *)(f + off);
			uint64_t desc = off + sizeof(*nh) + ((nh->n_namesz + 3ull) & ~3ull);
			uint64_t next = desc + ((nh->n_descsz + 3ull) & ~3ull);
			size_t k;

			if (next > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(f + off + sizeof(*nh), "GNU", 4) &&
			    nh->n_descsz * 2 + 1 <= len) {
				for (k = 0; k < nh->n_descsz; k++)
					snprintf(hex + 2 * k, 3, "%02x", f[desc + k]);
				return;
			}
			off = next;
		}
	}
}

struct mapped {
	unsigned char *p;
	size_t size;
};

static int map_elf(const char *path, struct mapped *m)
{
	struct stat st;
	int fd;

	m->p = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		return -ENOENT;
	}
	m->size = (size_t)st.st_size;
	m->p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m->p == MAP_FAILED) {
		m->p = NULL;
		return -ENOMEM;
	}
	if (memcmp(m->p, ELFMAG, SELFMAG) || m->p[EI_CLASS] != ELFCLASS64) {
		munmap(m->p, m->size);
		m->p = NULL;
		return -ENOENT;
	}
	return 0;
}

static int from_files(const char *path, uint64_t vaddr, char *name, size_t len)
{
	char hex[2 * 64 + 1], debug[sizeof(hex) + 40];
	struct mapped m, d;
	int err;

	err = map_elf(path, &m);
	if (err)
		return err;
	err = lookup_section(m.p, m.size, SHT_SYMTAB, vaddr, name, len);
	if (err) {
		build_id(m.p, m.size, hex, sizeof(hex));
		if (strlen(hex) > 2) {
			snprintf(debug, sizeof(debug), "/usr/lib/debug/.build-id/%.2s/%s.debug",
				 hex, hex + 2);
			if (!map_elf(debug, &d)) {
				err = lookup_section(d.p, d.size, SHT_SYMTAB, vaddr, name, len);
				munmap(d.p, d.size);
			}
		}
	}
	munmap(m.p, m.size);
	return err;
}

int lpi_symbolize(uint64_t addr, char *name, size_t name_len, char *module, size_t module_len)
{
	struct module_hit hit = {.addr = (uintptr_t)addr};
	Dl_info info;
	char exe[256];
	ssize_t n;

	name[0] = '\0';
	module[0] = '\0';
	dl_iterate_phdr(find_module, &hit);
	if (!hit.found)
		return -ENOENT;
	if (!strcmp(hit.path, "/proc/self/exe")) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		snprintf(module, module_len, "%s", exe);
	} else {
		snprintf(module, module_len, "%s", hit.path);
	}
	if (dladdr((void *)(uintptr_t)addr, &info) && info.dli_sname &&
	    (uintptr_t)info.dli_saddr == (uintptr_t)addr) {
		snprintf(name, name_len, "%s", info.dli_sname);
		return 0;
	}
	return from_files(hit.path, addr - hit.bias, name, name_len);
}
