#!/usr/bin/env bash
# The tree is clean under the repository's .clang-format: every tracked C
# source and header, as clang-format formats it. Lists the files that are
# not and fails; fix with `clang-format -i FILE`.
set -u
src=${1:?usage: format-check.sh SOURCE_ROOT}
cd "$src" || exit 1
command -v clang-format >/dev/null || { echo "FAIL: clang-format is not installed"; echo "0 passed, 1 failed"; exit 1; }
bad=0 n=0
while IFS= read -r f; do
	n=$((n + 1))
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "FAIL - $f is not clang-formatted (clang-format -i $f)"
		bad=$((bad + 1))
	fi
done < <(git ls-files -- '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
echo "$((n - bad)) passed, $bad failed"
[ "$bad" -eq 0 ]
