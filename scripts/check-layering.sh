#!/usr/bin/env bash
# Keeps the pure layers pure (HACKING.md, "Layering").
#   scripts/check-layering.sh BUILDDIR        check src/ and the built archives
#   scripts/check-layering.sh --self-test     prove the check catches a planted violation
# base/ may include base/; wire/ base/ and wire/; core/ all three. System headers: only the
# C library's pure ones below. The archives must not reference a system call or a clock,
# random-number, file, thread or process symbol.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)

allowed_sys='assert|ctype|errno|float|inttypes|limits|math|stdalign|stdarg|stdbool|stddef|stdint|stdio|stdlib|string|stdnoreturn'
forbidden_syms='socket|bind|connect|sendmsg|sendmmsg|recvmsg|recvmmsg|sendto|recvfrom|poll|ppoll|select|epoll_[a-z_]+|clock_gettime|clock_settime|clock_adjtime|adjtimex|ntp_adjtime|time|gettimeofday|settimeofday|rand|rand_r|random|srand|srandom|drand48|lrand48|getrandom|getentropy|open|open64|openat|fopen|fopen64|fdopen|freopen|read|write|close|fclose|fread|fwrite|fputs|puts|printf|fprintf|fflush|getaddrinfo|gethostbyname|fork|exit|_exit|getenv|sleep|usleep|nanosleep|signal|sigaction|pthread_[a-z_]+|stdout|stderr'

# check_includes SRCROOT: prints violations, returns 1 if any.
check_includes() {
    local root=$1 bad=0 layer f line hdr
    for layer in base wire core; do
        [ -d "$root/src/$layer" ] || continue
        local ok_user
        case $layer in
        base) ok_user='base' ;;
        wire) ok_user='base|wire' ;;
        core) ok_user='base|wire|core' ;;
        esac
        while IFS= read -r f; do
            while IFS= read -r line; do
                if [[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<([^>]+)\> ]]; then
                    hdr=${BASH_REMATCH[1]}
                    if ! [[ $hdr =~ ^($allowed_sys)\.h$ ]]; then
                        echo "layering: $f: system header <$hdr> is not allowed in $layer/"
                        bad=1
                    fi
                elif [[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]]; then
                    hdr=${BASH_REMATCH[1]}
                    if ! [[ $hdr =~ ^($ok_user)/ || $hdr == tempus_config.h ]]; then
                        echo "layering: $f: \"$hdr\" is above $layer/"
                        bad=1
                    fi
                fi
            done <"$f"
        done < <(find "$root/src/$layer" -name '*.[ch]' | sort)
    done
    return $bad
}

# check_symbols ARCHIVE...: prints forbidden undefined symbols, returns 1 if any.
check_symbols() {
    local bad=0 a hits
    for a in "$@"; do
        [ -f "$a" ] || { echo "layering: missing archive $a"; bad=1; continue; }
        hits=$(nm -u "$a" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//' |
            grep -Ex "($forbidden_syms)" | sort -u)
        if [ -n "$hits" ]; then
            echo "layering: $(basename "$a") references: $(echo $hits)"
            bad=1
        fi
    done
    return $bad
}

self_test() {
    local tmp rc=0
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    mkdir -p "$tmp/src/core"
    cat >"$tmp/src/core/planted.c" <<'C'
#include <time.h>
long planted_now(void);
long planted_now(void) { struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts); return ts.tv_sec; }
C
    ${CC:-cc} -c -o "$tmp/planted.o" "$tmp/src/core/planted.c" && ar rcs "$tmp/libplanted.a" "$tmp/planted.o"
    if check_includes "$tmp" >/dev/null; then
        echo "self-test: the include check missed a planted <time.h>"; rc=1
    fi
    if check_symbols "$tmp/libplanted.a" >/dev/null; then
        echo "self-test: the symbol check missed a planted clock_gettime call"; rc=1
    fi
    [ $rc -eq 0 ] && echo "layering self-test: planted violations caught"
    return $rc
}

if [ "${1:-}" = --self-test ]; then
    self_test
    exit $?
fi
build=${1:?usage: check-layering.sh BUILDDIR | --self-test}
rc=0
check_includes "$here" || rc=1
check_symbols "$build/libtempus_base.a" "$build/libtempus_wire.a" "$build/libtempus_core.a" || rc=1
[ $rc -eq 0 ] && echo "layering: base/, wire/ and core/ are pure"
exit $rc
