#!/usr/bin/env bash
# Drives the bash completion of docs/completion/sandlock the way bash does (COMP_WORDS,
# COMP_CWORD, COMP_LINE, COMP_POINT; bash-completion loaded, no rc files) against a build, and
# checks COMPREPLY: commands, every long flag of every `--help`, saved profiles, plugin names,
# file and directory paths, the names of running named sandboxes (one is started for it). The
# zsh completion gets a syntax check and a flag check.
# Usage: scripts/check-completion.sh [BUILD]
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
sandlock=$build/bin/sandlock
bash_completion=/usr/share/bash-completion/bash_completion
[[ -x $sandlock ]] || { echo "check-completion: no $sandlock; build first" >&2; exit 1; }
[[ -r $bash_completion ]] || { echo "check-completion: $bash_completion missing (apt-get install bash-completion)" >&2; exit 1; }

work=$(mktemp -d)
named=''  # the pid of the named sandbox started below
trap '[[ -z $named ]] || { kill "$named" 2>/dev/null; wait "$named" 2>/dev/null; }; rm -rf "$work"' EXIT
mkdir -p "$work/config/sandlock/profiles" "$work/empty" "$work/tree/subdir"
echo 'clean_env = true' >"$work/config/sandlock/profiles/build.toml"
echo 'isolate_ipc = true' >"$work/config/sandlock/profiles/web.toml"
touch "$work/tree/file"
export XDG_CONFIG_HOME=$work/config
failures=0

# complete LINE: prints the candidates bash offers at the end of LINE, one per line. LINE is
# split as readline splits it for our cases: at blanks, and `=` is a word of its own.
complete() {
    local line=$1
    bash --norc --noprofile -c '
        source "$1" && source docs/completion/sandlock || exit 99
        line=$2 words=() word=""
        for ((k = 0; k < ${#line}; k++)); do
            c=${line:k:1}
            case $c in
                " ") [[ -n $word ]] && words+=("$word"); word="" ;;
                "=") [[ -n $word ]] && words+=("$word"); words+=("="); word="" ;;
                *) word+=$c ;;
            esac
        done
        words+=("$word")
        COMP_WORDS=("${words[@]}") COMP_CWORD=$((${#words[@]} - 1)) COMP_LINE=$line COMP_POINT=${#line}
        COMP_TYPE=9 COMP_KEY=9 COMPREPLY=()
        _sandlock "${words[0]}" "${words[-1]}" "${words[-2]:-}"
        printf "%s\n" "${COMPREPLY[@]}"
    ' complete "$bash_completion" "$line" 2>"$work/stderr" | LC_ALL=C sort -u
    # compopt (nospace) only works inside a real completion; anything else is an error.
    if grep -v 'compopt: not currently executing completion function' "$work/stderr" >&2; then
        echo "check-completion: FAIL: '$line' wrote the errors above" >&2
        failures=$((failures + 1))
    fi
}

# expect LINE WANTED...: the candidates are exactly WANTED.
expect() {
    local line=$1 got want
    shift
    got=$(complete "$line")
    want=$(printf '%s\n' "$@" | sed '/^$/d' | LC_ALL=C sort -u)
    if [[ $got != "$want" ]]; then
        echo "check-completion: FAIL: '$line<TAB>' offers [${got//$'\n'/ }], expected [${want//$'\n'/ }]" >&2
        failures=$((failures + 1))
    fi
}

# expect_some LINE WANTED...: the candidates include each of WANTED.
expect_some() {
    local line=$1 got item
    shift
    got=$(complete "$line")
    for item in "$@"; do
        if ! grep -qxF -- "$item" <<<"$got"; then
            echo "check-completion: FAIL: '$line<TAB>' does not offer $item (offers: ${got//$'\n'/ })" >&2
            failures=$((failures + 1))
        fi
    done
}

# The long flags and subcommands a --help prints (its name column only).
help_flags() { "$sandlock" "$@" --help | awk '/^[^ ]/ { section = $0 } section == "Options:" && /^  -/ { split($0, c, "  "); print c[2] }' | grep -o -- '--[a-z][a-z0-9-]*' | LC_ALL=C sort -u; }
help_commands() { "$sandlock" "$@" --help | awk '/^[^ ]/ { section = $0; next } section == "Subcommands:" && /^  [a-z]/ { print $1 }'; }

# 1. Every long flag of every --help (walked down every subcommand) is offered after `-`;
#    for the top level and run, nothing else is (no stale flag).
checked_flags=0
walk() {
    local -a path=("$@")
    local flags offered command
    flags=$(help_flags "${path[@]}")
    offered=$(complete "$sandlock ${path[*]}${path[*]:+ }-" | sed 's/=$//' | grep -- '^--' || true)
    while read -r flag; do
        checked_flags=$((checked_flags + 1))
        grep -qxF -- "$flag" <<<"$offered" || {
            echo "check-completion: FAIL: 'sandlock ${path[*]} -<TAB>' does not offer $flag (in its --help)" >&2
            failures=$((failures + 1))
        }
    done <<<"$flags"
    if ((${#path[@]} == 0)) || [[ ${path[*]} == run ]]; then
        [[ $offered == "$flags" ]] || {
            echo "check-completion: FAIL: 'sandlock ${path[*]} --<TAB>' offers [${offered//$'\n'/ }], --help has [${flags//$'\n'/ }]" >&2
            failures=$((failures + 1))
        }
    fi
    # The subcommands are offered where they are expected.
    local commands
    commands=$(help_commands "${path[@]}")
    # shellcheck disable=SC2086  # one word per command
    [[ -z $commands ]] || expect_some "$sandlock ${path[*]}${path[*]:+ }" $commands
    for command in $commands; do walk "${path[@]}" "$command"; done
}
walk
((checked_flags >= 40)) || { echo "check-completion: FAIL: only $checked_flags flags read from --help" >&2; failures=$((failures + 1)); }

# 2. Commands, profiles, plugins, values.
expect "$sandlock r" restore resume run
expect "$sandlock ru" run
PATH="$build/bin:$PATH" expect "sandlock ru" run  # found on PATH
expect "$sandlock " branch check checkpoint inspect kill pause plugins profile ps restore resume run update
expect "$sandlock run --fs-r" --fs-readable
expect "$sandlock run -p " build web
expect "$sandlock run --profile=w" web
expect "$sandlock profile show " build web
XDG_CONFIG_HOME=$work/empty expect "$sandlock run -p "  # none: not the "no profiles" line
plugins=$(for so in "$build"/lib/sandlock/plugins/*.so; do basename "$so" .so; done)
# shellcheck disable=SC2086
expect "$sandlock --plugins=" $plugins
# shellcheck disable=SC2086
expect "$sandlock --plugins " $plugins
expect "$sandlock --plugins=landlock,se" landlock,seccomp
expect "$sandlock run --on-exit " abort commit keep
expect "$sandlock run --fs-isolation " branchfs none
# 3. Paths: files and directories for -r/-w/--fs-deny, directories only for --chroot and co.
expect "$sandlock run -r $work/tree/" "$work/tree/file" "$work/tree/subdir"
expect "$sandlock run -w $work/tree/f" "$work/tree/file"
expect "$sandlock run --fs-deny $work/tree/" "$work/tree/file" "$work/tree/subdir"
expect "$sandlock run --chroot $work/tree/" "$work/tree/subdir"
expect "$sandlock run --fs-mount $work/tree/" "$work/tree/subdir"
expect "$sandlock --plugin-path $work/tree/" "$work/tree/subdir"
# 4. The sandboxed command: after --, or after the first word that is not an option.
expect_some "$sandlock run -r /usr -- ech" echo
expect_some "$sandlock run -r /usr ech" echo
expect "$sandlock run -r /usr /bin/true --fs-r"  # true's own arguments, not sandlock's flags

# 5. Named sandboxes: NAME completes from `sandlock ps`, with a real one running meanwhile in a
#    runtime directory of our own.
export XDG_RUNTIME_DIR=$work/runtime
mkdir -m 0700 "$XDG_RUNTIME_DIR"
expect "$sandlock inspect "  # none running: nothing (not the header of `ps`)
system=()
for dir in /usr /lib /lib64 /bin; do [[ -e $dir ]] && system+=(-r "$dir"); done
"$sandlock" run --name web.1 "${system[@]}" -- /bin/sleep 120 </dev/null >/dev/null 2>"$work/named.err" &
named=$!
# ps's output is taken whole: `ps | grep -q` under pipefail fails when grep's early exit cuts
# the writer off (SIGPIPE).
listed() { grep -q '^web\.1 ' <<<"$("$sandlock" ps 2>/dev/null)"; }
for ((k = 0; k < 100; k++)); do
    listed && break
    sleep 0.1
done
if listed; then
    for command in inspect pause resume kill update; do expect "$sandlock $command " web.1; done
    expect "$sandlock kill w" web.1
    expect "$sandlock --plugin-path $work/empty inspect w" web.1
    expect "$sandlock inspect web.1 " --help --json --toml
    expect "$sandlock update web.1 --max-m" --max-memory
    expect "$sandlock update web.1 -m "  # a size: nothing to offer
    expect "$sandlock update web.1 -m 1G " --help --max-cpu --max-memory --max-processes -P -c -m
    expect "$sandlock update -P 2 " web.1  # the name after an option and its value
    expect "$sandlock pause web.1 " --help
    "$sandlock" kill web.1
    wait "$named" || true
    named=''
    expect "$sandlock inspect "  # it ended: gone from the list
else
    echo "check-completion: FAIL: the named sandbox did not start: $(cat "$work/named.err")" >&2
    failures=$((failures + 1))
fi
expect "$sandlock run --name "  # a new name: nothing to offer
expect_some "$sandlock run --name web.2 -r /usr ech" echo

# 6. zsh: a syntax check and the same flags (statically: no terminal to drive it here).
if command -v zsh >/dev/null; then
    zsh -n docs/completion/_sandlock || { echo "check-completion: FAIL: zsh -n docs/completion/_sandlock" >&2; failures=$((failures + 1)); }
    # The flags _arguments declares: a name followed by [, =, +, } or , (not those in descriptions).
    zsh_flags=$(grep -o -- '--[a-z][a-z0-9-]*[]=+},[]' docs/completion/_sandlock | sed 's/.$//' | LC_ALL=C sort -u)
    for path in "" run check plugins branch "branch list" "branch show" ps inspect pause resume kill update checkpoint \
        "checkpoint list" "checkpoint show" restore; do
        # shellcheck disable=SC2086
        for flag in $(help_flags $path); do
            grep -qxF -- "$flag" <<<"$zsh_flags" || {
                echo "check-completion: FAIL: docs/completion/_sandlock does not offer $flag of 'sandlock $path'" >&2
                failures=$((failures + 1))
            }
        done
    done
else
    echo "check-completion: zsh is not installed: the zsh completion was NOT checked (scripts/setup.sh installs it)" >&2
fi

if ((failures)); then
    echo "check-completion: $failures failures" >&2
    exit 1
fi
echo "check-completion: bash completion and zsh syntax ok ($checked_flags flags from --help)"
