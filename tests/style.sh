#!/bin/sh
#
# tests/style.sh: `make style`.  The mechanical part of docs/style: C in
# modules/, fcgi/ and tests/ uses /* */ comments only, no tabs, at most 80
# columns, no leftover DDEBUG switch; Lua uses no tabs and no globals.

set -u

cd "$(dirname "$0")/.."

rc=0

report()
{
    # $1 what, $2 the offending lines (grep -n style); runs in this shell
    # so that rc survives
    if [ -n "$2" ]; then
        printf 'style: %s\n%s\n' "$1" "$2"
        rc=1
    fi
}

c_files=$(git ls-files 'modules/*.c' 'modules/*.h' 'fcgi/*.c' 'fcgi/*.h' \
                       'tests/*.c' 'tests/*.h' 2>/dev/null)
lua_files=$(git ls-files 'lua/*.lua' 'tests/*.lua' 2>/dev/null)

if [ -n "$c_files" ]; then
    # shellcheck disable=SC2086
    report "C++ comments (use /* */)" \
        "$(grep -n -E '(^|[^:"])//' $c_files | grep -v -E '"[^"]*//[^"]*"')"
    # shellcheck disable=SC2086
    report "tabs in C" "$(grep -n "$(printf '\t')" $c_files)"
    # shellcheck disable=SC2086
    report "C lines over 80 columns" \
        "$(awk 'length > 80 { print FILENAME ":" FNR ": " length " cols" }' \
               $c_files)"
    # shellcheck disable=SC2086
    report "DDEBUG left on" "$(grep -n -E '^#define +DDEBUG +1' $c_files)"
    # shellcheck disable=SC2086
    report "trailing blanks in C" "$(grep -n -E ' +$' $c_files)"
fi

if [ -n "$lua_files" ]; then
    # shellcheck disable=SC2086
    report "tabs in Lua" "$(grep -n "$(printf '\t')" $lua_files)"
    for f in $lua_files; do
        report "Lua globals in $f" \
            "$(luajit -bl "$f" 2>/dev/null | grep -E 'GSET')"
    done
fi

if [ "$rc" = 0 ]; then
    echo "style: ok"
fi

exit $rc
