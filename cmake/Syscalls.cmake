# SPDX-License-Identifier: BSD-2-Clause
# Generate the syscall-number -> name table from the C library's asm headers,
# so the names always match the machine the agent is built for.
function(generate_syscall_table out)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch
                  OUTPUT_VARIABLE multiarch OUTPUT_STRIP_TRAILING_WHITESPACE)
  find_file(UNISTD_64_H asm/unistd_64.h PATHS /usr/include/${multiarch} /usr/include NO_DEFAULT_PATH REQUIRED)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${UNISTD_64_H} -DOUT=${out} -P ${PROJECT_SOURCE_DIR}/cmake/gen_syscalls.cmake
    DEPENDS ${UNISTD_64_H} ${PROJECT_SOURCE_DIR}/cmake/gen_syscalls.cmake
    COMMENT "Generating syscall name table"
    VERBATIM)
endfunction()
