#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The man pages and the bash completion against the programs (ctest
unit_man_pages, no root):
- every page formats without a groff warning;
- every option that `loopstall COMMAND --help` and `loopstalld --help` list
  is in loopstall(8) and loopstalld(8), every key of the shipped
  loopstalld.conf in loopstalld.conf(5): an option added without its
  documentation fails here;
- the completion, run by bash, completes commands, options and values.

usage: check_docs.py SOURCE_DIR LOOPSTALL LOOPSTALLD
"""
import os
import re
import subprocess
import sys

COMMANDS = ("record", "report", "doctor", "top")


def help_options(argv):
    text = subprocess.run([*argv, "--help"], capture_output=True, text=True, timeout=30).stdout
    opts = re.findall(r"^ +(?:(-[A-Za-z0-9]), )?(--[a-z][a-z0-9-]*)", text, re.M)
    assert opts, f"{' '.join(argv)} --help lists no option:\n{text}"
    return {o for pair in opts for o in pair if o}


def roff_text(path):
    """The page's text with roff's escaped minus signs plain."""
    with open(path) as f:
        return f.read().replace("\\-", "-")


def check_groff(path, problems):
    r = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8", path], capture_output=True,
                       text=True, timeout=30, env={**os.environ, "LC_ALL": "C.UTF-8"})
    if r.returncode or r.stderr.strip():
        problems.append(f"{path}: groff says: {r.stderr.strip()}")


def documented(page_text, option):
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", page_text)


def complete(script, words):
    """COMPREPLY for the command line WORDS (the last one being completed)."""
    func = "_loopstalld" if words[0] == "loopstalld" else "_loopstall"
    quoted = " ".join("'" + w + "'" for w in words)
    r = subprocess.run(
        ["bash", "-c", f'. "$1"; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; {func};'
         ' printf "%s\\n" "${COMPREPLY[@]}"', "bash", script],
        capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return sorted(w for w in r.stdout.splitlines() if w)


def main():
    src, loopstall, loopstalld = sys.argv[1:4]
    man = os.path.join(src, "docs", "man")
    problems = []
    for page in sorted(os.listdir(man)):
        check_groff(os.path.join(man, page), problems)

    page = roff_text(os.path.join(man, "loopstall.8"))
    for cmd in COMMANDS:
        for opt in sorted(help_options([loopstall, cmd]) - {"--help"}):
            if not documented(page, opt):
                problems.append(f"loopstall.8: 'loopstall {cmd} --help' lists {opt}, the page not")
    page = roff_text(os.path.join(man, "loopstalld.8"))
    for opt in sorted(help_options([loopstalld])):
        if not documented(page, opt):
            problems.append(f"loopstalld.8: 'loopstalld --help' lists {opt}, the page not")
    page = roff_text(os.path.join(man, "loopstalld.conf.5"))
    with open(os.path.join(src, "daemon", "loopstalld.conf")) as f:
        keys = set(re.findall(r"^#?([a-z_]+) = ", f.read(), re.M))
    assert len(keys) >= 10, f"keys of daemon/loopstalld.conf: {keys}"
    for key in sorted(keys):
        if not re.search(rf"^\.B[IR]? {key}\b", page, re.M):
            problems.append(f"loopstalld.conf.5: key {key} (daemon/loopstalld.conf) has no entry")

    # the completion, with the programs it asks for their options in PATH
    os.environ["PATH"] = f"{os.path.dirname(loopstall)}:{os.path.dirname(loopstalld)}:" \
                         + os.environ["PATH"]
    script = os.path.join(src, "completion", "loopstalld")
    cases = [
        (["loopstall", "re"], ["record", "report"]),
        (["loopstall", "record", "--thr"], ["--threshold"]),
        (["loopstall", "report", "--format", "m"], ["markdown"]),
        (["loopstall", "doctor", "--color", ""], ["always", "auto", "never"]),
        (["loopstall", "top", "--p"], ["--pid"]),
        (["loopstalld", "--metrics-"], ["--metrics-addr", "--metrics-file"]),
        (["loopstalld", "--config", os.path.join(src, "daemon", "loopstalld.co")],
         [os.path.join(src, "daemon", "loopstalld.conf")]),
    ]
    for words, want in cases:
        got = complete(script, words)
        if got != want:
            problems.append(f"completion of {words}: {got}, expected {want}")
    got = complete(script, ["loopstall", "record", "-"])
    missing = help_options([loopstall, "record"]) - set(got)
    if missing:
        problems.append(f"completion of 'loopstall record -' lacks {sorted(missing)}")

    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"man pages and completion agree with the programs ({len(keys)} config keys)")


if __name__ == "__main__":
    main()
