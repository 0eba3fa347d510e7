#!/usr/bin/env python3
"""Every line of every `hull COMMAND --help` (and `hull COMMAND VERB --help`)
has its words in hull(1): the man page (scdoc source, generated from the same
option tables by `hull __doc`) says what --help says, for every command in
hull's table, those added later included. And the bash completion offers
every option --help lists, for the same commands.

Usage: man_help.py HULL HULL.1.SCD COMPLETION"""
import re
import subprocess
import sys

hull, scd, bash = sys.argv[1], sys.argv[2], sys.argv[3]


def plain(text):
    """scdoc source -> its words: escapes resolved, markup dropped."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if c not in "*_":
            out.append(c)
        i += 1
    return norm("".join(out))


def norm(s):
    return re.sub(r"\s+", " ", s).strip()


man = plain(open(scd, encoding="utf-8").read())
top = subprocess.run([hull, "--help"], capture_output=True, text=True, check=True).stdout
commands = re.findall(r"^  (\S+) ", top.split("Commands:", 1)[1], re.M)
# the sub-commands hull(1) documents ("## hull snapshot ls")
verbs = re.findall(r"^## hull (\S+) (\S+)$", open(scd, encoding="utf-8").read(), re.M)
# the completion's option words per command: '\t"run") w="--help --cpus ..." ;;'
compl = dict(re.findall(r'^\t"([^"]+)"\) w="([^"]*)" ;;$', open(bash, encoding="utf-8").read(), re.M))
failed = checked = 0
if len(commands) < 10:
    print(f"FAIL: only {len(commands)} commands in hull --help")
    sys.exit(1)
for args in [[c] for c in commands] + [list(v) for v in verbs]:
    if f"hull {' '.join(args)}" not in man:
        print(f"FAIL: hull {' '.join(args)}: no section in hull(1)")
        failed += 1
        continue
    r = subprocess.run([hull, *args, "--help"], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        print(f"FAIL: hull {' '.join(args)} --help: status {r.returncode}")
        failed += 1
        continue
    words = compl.get(" ".join(args))
    if words is None and r.stdout.startswith("Usage: hull " + " ".join(args) + " [OPTIONS]"):
        print(f"FAIL: hull {' '.join(args)}: not in the bash completion")
        failed += 1
    for opt in re.findall(r"^  (?:-\S, |    )(--[a-z0-9-]+)", r.stdout, re.M) if words is not None else []:
        if opt not in words.split():
            print(f"FAIL: hull {' '.join(args)}: {opt} not in the bash completion")
            failed += 1
    for line in r.stdout.splitlines():
        want = norm(line)
        if want.startswith("Usage: "):
            want = want[len("Usage: "):]
        if not want or want == "Options:":
            continue
        checked += 1
        if want not in man:
            print(f"FAIL: hull {' '.join(args)} --help line not in hull(1): {line!r}")
            failed += 1
print(f"{checked} --help lines of {len(commands)} commands and {len(verbs)} sub-commands checked, {failed} missing")
sys.exit(1 if failed else 0)
