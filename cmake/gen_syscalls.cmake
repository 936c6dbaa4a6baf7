# SPDX-License-Identifier: BSD-2-Clause
# cmake -DIN=asm/unistd_64.h -DOUT=syscall_table.c -P gen_syscalls.cmake
file(STRINGS ${IN} lines REGEX "^#define __NR_[a-z0-9_]+ [0-9]+")
set(body "")
set(max 0)
foreach(line IN LISTS lines)
  string(REGEX MATCH "^#define __NR_([a-z0-9_]+) ([0-9]+)" _ ${line})
  string(APPEND body "\t[${CMAKE_MATCH_2}] = \"${CMAKE_MATCH_1}\",\n")
  if(CMAKE_MATCH_2 GREATER max)
    set(max ${CMAKE_MATCH_2})
  endif()
endforeach()
math(EXPR size "${max} + 1")
file(WRITE ${OUT} "/* Generated from ${IN} by cmake/gen_syscalls.cmake. Do not edit. */\n#include \"syscalls.h\"\n\nconst char *const ls_syscall_table[${size}] = {\n${body}};\nconst unsigned ls_syscall_table_size = ${size};\n")
