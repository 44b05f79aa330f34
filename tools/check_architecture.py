#!/usr/bin/env python3
"""Measures the architecture rules of issue 20 (docs/refactor_plan.md).

Reports, for the library (daemon/) and the tools (tools/):
  - .cc files over 450 lines (tests excluded);
  - functions over 80 lines, from a function body's `{` to its `}`;
  - raw close(2) calls outside the owned-descriptor module;
  - files that send SIGKILL outside the kill module and the container init;
  - files comparing inode numbers outside file_identity;
  - internal modules (daemon/internal/NAME.cc) without NAME_test.cc.

  tools/check_architecture.py            # the report (exit 0)
  tools/check_architecture.py --enforce  # exit 1 when a rule is broken

The function scanner strips comments, string and character literals (raw
strings too), then treats namespace, class, struct, union and extern "C"
braces as containers; any other `{` at container level whose header ends in
`)` (with const, override, noexcept, a trailing return type or a
constructor's initializer list after it) opens a function, and everything
inside it, lambdas included, counts toward that function. The signature
lines above the `{` are not counted.
"""

import os
import re
import sys

MAX_FILE_LINES = 450
MAX_FUNCTION_LINES = 80
# Where each mechanism may live (paths relative to the root).
DESCRIPTOR_OWNER = {"daemon/internal/unique_fd.h", "daemon/internal/unique_fd.cc"}
KILL_OWNERS = {
    "daemon/internal/kill_and_reap.cc",
    "daemon/internal/container_init.cc",
}
INODE_OWNERS = {"daemon/internal/file_identity.h", "daemon/internal/file_identity.cc"}

RAW_CLOSE = re.compile(r"(?<![\w.>])(?:::)?close\(")
# SIGKILL as a value sent, not as an entry of a table of signal names, a
# value compared with ("signo == SIGKILL"), or the death signal a child asks
# the kernel for (prctl(PR_SET_PDEATHSIG, SIGKILL): the kernel's kill when
# the parent dies, not an escalation).
SIGKILL_USE = re.compile(r"\bSIGKILL\b")
SIGKILL_NOT_SENT = re.compile(
    r"\{\s*SIGKILL\s*,|\bSIGKILL\s*\}|[!=]=\s*SIGKILL\b"
    r"|PR_SET_PDEATHSIG\s*,\s*SIGKILL\b")
# One inode number compared with another ("a.st_ino == b.st_ino",
# "ino_ != other.ino"), not a number checked against 0 or passed on.
INODE_COMPARE = re.compile(
    r"\b(?:st_)?ino_?\s*[!=]=\s*[\w.\->\[\]]*\b(?:st_)?ino_?\b")

CONTAINER_HEADER = re.compile(
    r"(?:^|[\s;}])(?:namespace(?:\s+[\w:]+)?|(?:class|struct|union)\s+[\w:<>,\s]*?"
    r"(?:final\s*)?(?::[^{]*)?|extern\s+\"C\")\s*$",
    re.S,
)
FUNCTION_HEADER_END = re.compile(
    r"\)\s*(?:const|override|final|noexcept|mutable|&|\s)*"
    r"(?:->\s*[\w:<>,\s*&]+)?\s*$"
    r"|\)\s*:\s*[\w:]+\s*[({][^;]*[)}]\s*$",
    re.S,
)


def strip_code(text):
    """Returns text with comments and literals blanked, newlines kept."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            open_paren = text.find("(", i + 2)
            delimiter = text[i + 2 : open_paren]
            end = text.find(")" + delimiter + '"', open_paren)
            j = n if end < 0 else end + len(delimiter) + 2
            out.append('""' + re.sub(r"[^\n]", " ", text[i + 2 : j]))
            i = j
        elif c in "\"'":
            # A digit separator (1'000) is not a character literal.
            if c == "'" and i > 0 and text[i - 1].isalnum() and i + 1 < n and text[i + 1].isalnum():
                out.append(" ")
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1 : j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def long_functions(path, text):
    """Yields (line of `{`, name, lines) for each function over the limit."""
    code = strip_code(text)
    # Preprocessor lines hold no braces that matter and confuse headers.
    code = re.sub(r"(?m)^[ \t]*#.*(?:\\\n.*)*$", lambda m: re.sub(r"[^\n]", " ", m.group(0)), code)
    header_start = 0
    stack = []  # "container" or "block" per open brace at container level
    i = 0
    n = len(code)
    while i < n:
        c = code[i]
        if c == ";" and not stack or c == ";" and stack[-1] == "container":
            header_start = i + 1
        elif c == "}":
            if stack:
                stack.pop()
            header_start = i + 1
        elif c == "{":
            header = code[header_start:i]
            if CONTAINER_HEADER.search(header):
                stack.append("container")
                header_start = i + 1
            else:
                end = matching_brace(code, i)
                if FUNCTION_HEADER_END.search(header):
                    first = code.count("\n", 0, i) + 1
                    last = code.count("\n", 0, end) + 1
                    length = last - first + 1
                    if length > MAX_FUNCTION_LINES:
                        yield first, function_name(header), length
                i = end
                header_start = i + 1
        i += 1


def matching_brace(code, open_index):
    depth = 0
    for j in range(open_index, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(code) - 1


def function_name(header):
    before_paren = header[: header.find("(")] if "(" in header else header
    words = re.findall(r"[\w:~]+", before_paren)
    return words[-1] if words else "?"


def source_files(root, top):
    for directory, _, names in os.walk(os.path.join(root, top)):
        for name in sorted(names):
            if name.endswith((".cc", ".h")):
                yield os.path.relpath(os.path.join(directory, name), root)


def is_test(path):
    return path.endswith("_test.cc") or "/testing" in path


def main(argv):
    enforce = "--enforce" in argv[1:]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    broken = 0
    report = []

    def section(title, rows, limit_broken):
        nonlocal broken
        report.append(f"## {title}: {len(rows)}")
        report.extend(f"  {row}" for row in rows)
        if limit_broken and rows:
            broken += 1

    files = {top: [p for p in source_files(root, top) if not is_test(p)] for top in ("daemon", "tools")}
    texts = {}
    for paths in files.values():
        for path in paths:
            with open(os.path.join(root, path), encoding="utf-8") as f:
                texts[path] = f.read()

    for top, label in (("daemon", "library"), ("tools", "tools")):
        cc = [p for p in files[top] if p.endswith(".cc")]
        big = sorted((texts[p].count("\n"), p) for p in cc)
        big = [f"{p} {lines}" for lines, p in reversed(big) if lines > MAX_FILE_LINES]
        section(f"{label} .cc files over {MAX_FILE_LINES} lines", big, top == "daemon")
        long = []
        for path in cc:
            for line, name, length in long_functions(path, texts[path]):
                long.append((length, f"{path}:{line} {name} {length}"))
        section(
            f"{label} functions over {MAX_FUNCTION_LINES} lines",
            [row for _, row in sorted(long, reverse=True)],
            top == "daemon",
        )
        total = sum(texts[p].count("\n") for p in cc)
        report.append(f"## {label} .cc files: {len(cc)}, {total} lines")

    closes = []
    kills = []
    inodes = []
    for path in files["daemon"] + files["tools"]:
        code = strip_code(texts[path])
        count = len(RAW_CLOSE.findall(code))
        if count and path not in DESCRIPTOR_OWNER:
            closes.append((count, path))
        uses = len(SIGKILL_USE.findall(code)) - len(SIGKILL_NOT_SENT.findall(code))
        if uses > 0 and path not in KILL_OWNERS:
            kills.append((uses, path))
        if INODE_COMPARE.search(code) and path not in INODE_OWNERS:
            inodes.append(path)
    library_closes = sum(c for c, p in closes if p.startswith("daemon/"))
    section(
        f"raw close( outside unique_fd ({library_closes} in the library)",
        [f"{p} {c}" for c, p in sorted(closes, reverse=True)],
        library_closes > 0,
    )
    section("files sending SIGKILL outside the kill module and the container init",
            [f"{p} {c}" for c, p in sorted(kills, reverse=True)], True)
    section("files comparing inode numbers outside file_identity", sorted(inodes), len(inodes) > 0)

    untested = []
    internal = os.path.join(root, "daemon", "internal")
    for name in sorted(os.listdir(internal)):
        if name.endswith(".cc") and not name.endswith("_test.cc"):
            if not os.path.exists(os.path.join(internal, name[:-3] + "_test.cc")):
                untested.append("daemon/internal/" + name)
    section("internal modules without a unit test beside them", untested, True)

    print("\n".join(report))
    if enforce and broken:
        print(f"check_architecture: {broken} rules broken", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
