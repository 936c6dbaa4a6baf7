// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A shared library that loads and runs fine but whose unwind and debug
 * information is hostile, for test_fault_malicious_elf.py: the agent reads
 * it (as root) when it unwinds and symbolizes a stack that passes through
 * evil_block(). Built once per variant:
 *
 *   (none)              plain: normal CFI, no DWARF; the test corrupts
 *                       copies of its ELF header (absurd section counts)
 *   EVIL_CFI            .eh_frame rules that loop: the CFA of evil_block is
 *                       a DWARF expression that jumps to itself
 *                       (DW_OP_skip -3), that of evil_block2 one that
 *                       branches back forever (DW_OP_lit1; DW_OP_bra -4)
 *   EVIL_DWARF_SIBLING  a DIE whose DW_AT_sibling points back at its parent
 *   EVIL_DWARF_LOOP     a subprogram that is its own DW_AT_specification,
 *                       an inlined subroutine that is its own
 *                       DW_AT_abstract_origin, call_file indexes far out
 *                       of range
 *   EVIL_DWARF_DEEP     lexical blocks nested 100000 deep around the call
 *
 * Every DWARF variant also has a .debug_line whose header claims to be
 * 4 GiB long. Written in assembly so that the compiler adds no debug
 * information of its own (compiled with -g0). evil_block(ms) sleeps ms in
 * usleep(), so the loop thread blocks inside it.
 */

#define FUNC(name, cfi)                                     \
	"	.text\n"                                    \
	"	.globl " #name "\n"                         \
	"	.type " #name ", @function\n"               \
	#name ":\n"                                         \
	"	.cfi_startproc\n"                           \
	"	pushq %rbp\n"                               \
	"	.cfi_def_cfa_offset 16\n"                   \
	"	.cfi_offset %rbp, -16\n"                    \
	"	movq %rsp, %rbp\n"                          \
	"	.cfi_def_cfa_register %rbp\n"               \
	cfi                                                 \
	"	imull $1000, %edi, %edi\n"                  \
	"	call usleep@PLT\n"                          \
	"	popq %rbp\n"                                \
	"	.cfi_def_cfa %rsp, 8\n"                     \
	"	ret\n"                                      \
	"	.cfi_endproc\n"                             \
	"	.size " #name ", .-" #name "\n"             \
	".L" #name "_end:\n"

#if defined(EVIL_CFI)
__asm__(FUNC(evil_block, "	.cfi_escape 0x0f, 0x03, 0x2f, 0xfd, 0xff\n")
	FUNC(evil_block2, "	.cfi_escape 0x0f, 0x04, 0x31, 0x28, 0xfc, 0xff\n"));
#elif defined(EVIL_DWARF_SIBLING) || defined(EVIL_DWARF_LOOP) || defined(EVIL_DWARF_DEEP)
__asm__(FUNC(evil_block, ""));

/* low_pc, high_pc (a length) of evil_block */
#define RANGE "	.quad evil_block\n	.quad .Levil_block_end - evil_block\n"

#if defined(EVIL_DWARF_SIBLING)
#define CHILDREN                                                                     \
	".Lsub:\n"                                                                   \
	"	.uleb128 6\n	.asciz \"evil_block\"\n" RANGE                       \
	"	.uleb128 4\n" RANGE "	.long .Lsub - .Lcu\n"                        \
	"	.byte 0\n"                                                           \
	"	.byte 0\n"
#elif defined(EVIL_DWARF_LOOP)
#define CHILDREN                                                                     \
	".Lsub:\n"                                                                   \
	"	.uleb128 2\n	.asciz \"evil_block\"\n" RANGE "	.long .Lsub - .Lcu\n"  \
	".Linl:\n"                                                                   \
	"	.uleb128 3\n	.long .Linl - .Lcu\n" RANGE "	.long 0xffffffff, 7\n" \
	"	.uleb128 3\n	.long .Lsub - .Lcu\n" RANGE "	.long 0x7fffffff, 8\n" \
	"	.byte 0\n"                                                           \
	"	.byte 0\n"                                                           \
	"	.byte 0\n"
#else
#define CHILDREN                                                                     \
	"	.uleb128 6\n	.asciz \"evil_block\"\n" RANGE                       \
	"	.rept 100000\n	.uleb128 5\n" RANGE "	.endr\n"                     \
	"	.rept 100000\n	.byte 0\n	.endr\n"                             \
	"	.byte 0\n"
#endif

__asm__(
	/* abbreviations: code, tag, children, (attribute, form)..., 0 0 */
	"	.section .debug_abbrev,\"\",@progbits\n"
	".Labbrev:\n"
	/* 1: compile unit: name, low_pc, high_pc (length), stmt_list */
	"	.uleb128 1, 0x11\n	.byte 1\n"
	"	.uleb128 0x03, 0x08, 0x11, 0x01, 0x12, 0x07, 0x10, 0x17, 0, 0\n"
	/* 2: subprogram: name, low_pc, high_pc, specification */
	"	.uleb128 2, 0x2e\n	.byte 1\n"
	"	.uleb128 0x03, 0x08, 0x11, 0x01, 0x12, 0x07, 0x47, 0x13, 0, 0\n"
	/* 3: inlined subroutine: abstract_origin, low_pc, high_pc, call_file, call_line */
	"	.uleb128 3, 0x1d\n	.byte 1\n"
	"	.uleb128 0x31, 0x13, 0x11, 0x01, 0x12, 0x07, 0x58, 0x06, 0x59, 0x06, 0, 0\n"
	/* 4: lexical block: low_pc, high_pc, sibling */
	"	.uleb128 4, 0x0b\n	.byte 1\n"
	"	.uleb128 0x11, 0x01, 0x12, 0x07, 0x01, 0x13, 0, 0\n"
	/* 5: lexical block: low_pc, high_pc */
	"	.uleb128 5, 0x0b\n	.byte 1\n"
	"	.uleb128 0x11, 0x01, 0x12, 0x07, 0, 0\n"
	/* 6: subprogram: name, low_pc, high_pc */
	"	.uleb128 6, 0x2e\n	.byte 1\n"
	"	.uleb128 0x03, 0x08, 0x11, 0x01, 0x12, 0x07, 0, 0\n"
	"	.byte 0\n"

	"	.section .debug_info,\"\",@progbits\n"
	".Lcu:\n"
	"	.long .Lcu_end - .Lcu_version\n"
	".Lcu_version:\n"
	"	.value 4\n	.long .Labbrev\n	.byte 8\n"
	"	.uleb128 1\n	.asciz \"evil.c\"\n" RANGE "	.long .Lline\n"
	CHILDREN
	"	.byte 0\n" /* end of the CU's children */
	".Lcu_end:\n"

	/* correct, so that the CU is found for evil_block's addresses */
	"	.section .debug_aranges,\"\",@progbits\n"
	"	.long .Lar_end - .Lar_version\n"
	".Lar_version:\n"
	"	.value 2\n	.long .Lcu\n	.byte 8, 0\n	.long 0\n"
	RANGE "	.quad 0, 0\n"
	".Lar_end:\n"

	/* a line table whose header claims to be 4 GiB long */
	"	.section .debug_line,\"\",@progbits\n"
	".Lline:\n"
	"	.long 64\n	.value 4\n	.long 0xfffffff0\n"
	"	.fill 58, 1, 0xff\n");
#else
__asm__(FUNC(evil_block, ""));
#endif
