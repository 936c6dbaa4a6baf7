# SPDX-License-Identifier: BSD-2-Clause
# Compile a CO-RE BPF object and generate its libbpf skeleton at build time.
#
#   bpf_object(NAME SOURCE HEADER [MORE_HEADERS...])
# produces NAME.bpf.o and NAME.skel.h in the build tree and an INTERFACE
# target bpf_NAME whose include path holds the skeleton. The shared
# BPF <-> user header is a dependency of both sides, so an edit rebuilds both.

find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)
set(VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "kernel BTF used to generate vmlinux.h")
set(BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpf)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|amd64")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(BPF_TARGET_ARCH arm64)
else()
  message(FATAL_ERROR "loopstall: unsupported architecture ${CMAKE_SYSTEM_PROCESSOR}")
endif()

add_custom_command(
  OUTPUT ${BPF_GEN_DIR}/vmlinux.h
  COMMAND ${CMAKE_COMMAND} -E make_directory ${BPF_GEN_DIR}
  COMMAND ${BPFTOOL} btf dump file ${VMLINUX_BTF} format c > ${BPF_GEN_DIR}/vmlinux.h
  DEPENDS ${VMLINUX_BTF}
  COMMENT "Generating vmlinux.h from ${VMLINUX_BTF}"
  VERBATIM)
# A target, so BPF objects in other directories can be ordered after it.
add_custom_target(bpf_vmlinux DEPENDS ${BPF_GEN_DIR}/vmlinux.h)

# The multiarch include dir gives BPF code <asm/types.h> without a kernel tree.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch
                OUTPUT_VARIABLE BPF_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE)

function(bpf_object name source header)
  set(obj ${BPF_GEN_DIR}/${name}.bpf.o)
  set(skel ${BPF_GEN_DIR}/${name}.skel.h)
  get_filename_component(src_dir ${source} DIRECTORY)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${BPF_TARGET_ARCH}
            -Wall -Werror
            -I${BPF_GEN_DIR} -I${src_dir} -I/usr/include/${BPF_MULTIARCH}
            -c ${source} -o ${obj}
    DEPENDS ${source} ${header} ${ARGN}
    COMMENT "BPF ${name}.bpf.c"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "Skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(bpf_${name}_gen DEPENDS ${skel})
  add_dependencies(bpf_${name}_gen bpf_vmlinux)
  add_library(bpf_${name} INTERFACE)
  add_dependencies(bpf_${name} bpf_${name}_gen)
  target_include_directories(bpf_${name} INTERFACE ${BPF_GEN_DIR} ${src_dir})
endfunction()
