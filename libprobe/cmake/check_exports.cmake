# SPDX-License-Identifier: BSD-2-Clause
# cmake -DLIB=libprobe.so -DSTATIC=libprobe.a -P check_exports.cmake
# libprobe.so exports its lp_ API and the libev functions it interposes,
# nothing else, and carries the USDT probes; libprobe.a defines none of
# libev's names.
cmake_policy(SET CMP0057 NEW)
set(interposed ev_loop_new ev_default_loop ev_run ev_loop_destroy ev_feed_event
    ev_clear_pending ev_invoke_pending ev_set_invoke_pending_cb ev_set_loop_release_cb)
foreach(t io timer periodic signal child stat idle prepare check embed fork cleanup async)
  list(APPEND interposed ev_${t}_stop)
endforeach()

execute_process(COMMAND nm -D --defined-only ${LIB} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm -D ${LIB} failed")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(n_api 0)
foreach(line IN LISTS lines)
  if(line STREQUAL "")
    continue()
  endif()
  string(REGEX REPLACE "^.* " "" sym "${line}")
  if(sym MATCHES "^lp_")
    math(EXPR n_api "${n_api} + 1")
  elseif(NOT sym IN_LIST interposed)
    message(FATAL_ERROR "${LIB} exports ${sym}: only lp_* and interposed libev functions may be")
  endif()
endforeach()
if(n_api LESS 10)
  message(FATAL_ERROR "${LIB} exports only ${n_api} lp_ functions")
endif()

execute_process(COMMAND nm -g --defined-only ${STATIC} OUTPUT_VARIABLE out)
if(out MATCHES " T ev_")
  message(FATAL_ERROR "${STATIC} defines libev functions: it would replace libev's in a program")
endif()

execute_process(COMMAND readelf -n ${LIB} OUTPUT_VARIABLE notes)
foreach(probe callback_begin callback_end stall_begin stall_end)
  if(NOT notes MATCHES "Provider: lprobe[\n ]+Name: ${probe}")
    message(FATAL_ERROR "${LIB} has no USDT probe lprobe:${probe}")
  endif()
endforeach()
message(STATUS "exports and USDT probes as expected (${n_api} lp_ functions)")
