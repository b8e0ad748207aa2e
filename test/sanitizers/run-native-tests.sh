#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer (cmake-js,
# CMakeLists.txt) and runs the native test files against that build. Any sanitizer
# report fails the run. Used by CI; runnable by hand: bash test/sanitizers/run-native-tests.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

npx cmake-js compile --out build-asan --CDPROCLAUNCH_SANITIZE=ON >/dev/null
log=$(mktemp -t proclaunch-sanitizers.XXXXXX)
trap 'rm -f "$log"' EXIT

# node is not built with ASan, so the runtime must be preloaded. Children inherit it,
# so signals they rely on keep their default meaning (handle_segv=0 etc.).
export PROCLAUNCH_ADDON_PATH="$PWD/build-asan/Release/proclaunch.node"
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS="detect_leaks=0:handle_segv=0:handle_sigbus=0:handle_abort=0:handle_sigfpe=0:allow_user_segv_handler=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# Every exec'd child loads the ASan runtime too (LD_PRELOAD is inherited), which makes a
# launch several times slower: the limits here are the suite's, scaled for that, not
# figures the tests rely on. test/native includes binding-fuzz.test.ts, whose child
# process fuzzes this very build (PROCLAUNCH_ADDON_PATH).
status=0
npx vitest run test/native --testTimeout=120000 --hookTimeout=240000 2>&1 | tee "$log" || status=$?
if grep -qE 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer|SUMMARY: (Address|UndefinedBehavior)Sanitizer' "$log"; then
  echo "sanitizers: a sanitizer reported an error (see above)" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "sanitizers: the native tests failed under ASan+UBSan" >&2
  exit "$status"
fi
echo "sanitizers: native tests passed under ASan+UBSan with no report"
