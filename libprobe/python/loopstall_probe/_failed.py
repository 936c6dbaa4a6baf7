# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What asyncio.events.Handle._run does when a callback raises, word for word
(3.10-3.13). loopstall_probe's _run, written in C, calls the callback itself
and comes here only then; it replaces _run only when the original's names
are those this copies (probe.c, fast_run_ok)."""
from asyncio import format_helpers


def run_failed(handle, exc, debug_kw):
    if debug_kw:
        cb = format_helpers._format_callback_source(
            handle._callback, handle._args,
            debug=handle._loop.get_debug())
    else:
        cb = format_helpers._format_callback_source(handle._callback, handle._args)
    msg = f'Exception in callback {cb}'
    context = {
        'message': msg,
        'exception': exc,
        'handle': handle,
    }
    if handle._source_traceback:
        context['source_traceback'] = handle._source_traceback
    handle._loop.call_exception_handler(context)
