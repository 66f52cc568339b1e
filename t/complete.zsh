#!/usr/bin/env zsh
# complete.zsh DIR LINE: the completions zsh offers at the end of LINE (a
# command line being typed, the completion functions from DIR), one per
# line, then any error zsh printed while completing, prefixed "ERROR: ".
# Drives a real interactive zsh in a pseudo-terminal (zpty) and presses
# TAB; compadd is wrapped to write the matches it is given to a file.
emulate -L zsh
zmodload zsh/zpty || exit 2
dir=$1 line=$2
out=$(mktemp) log=$(mktemp)
trap 'rm -f $out $log; zpty -d z 2>/dev/null' EXIT
zpty z zsh -f -i
zpty -w z "PS1='>' fpath=($dir \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "compadd() { local -a m; builtin compadd -O m \"\$@\"; print -rl -- \$m >>$out; builtin compadd \"\$@\"; }"
zpty -w z "zstyle ':completion:*' list-grouped false; exec 2>>$log"
zpty -w -n z "$line"$'\t'
# Until the shell is idle: nothing new in the output file for a while.
integer i last=-1 size
for (( i = 0; i < 50; i++ )); do
	sleep 0.1
	size=$(wc -c <$out)
	(( size > 0 && size == last )) && break
	last=$size
done
sort -u $out
grep -v '^$' $log | sed 's/^/ERROR: /'
