#!/usr/bin/env bash
# complete.bash DIR LINE: the completions bash offers at the end of LINE
# (a command line being typed), with bash-completion loaded and the
# completion file for LINE's command from DIR, one per line, as a
# terminal's TAB would compute them.
dir=$1 line=$2
# shellcheck disable=SC1091
. /usr/share/bash-completion/bash_completion || exit 2
read -ra words <<<"$line"
[[ $line == *' ' ]] && words+=('')
# shellcheck disable=SC1090
. "$dir/${words[0]}" || exit 2
COMP_WORDS=("${words[@]}")
COMP_CWORD=$((${#words[@]} - 1))
COMP_LINE=$line
COMP_POINT=${#line}
spec=$(complete -p "${words[0]}") || exit 2
fn=${spec##*-F }
fn=${fn%% *}
"$fn" "${words[0]}" "${words[COMP_CWORD]}" "${words[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}" | sort -u
