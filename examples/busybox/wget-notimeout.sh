#!/bin/sh
# /usr/bin/wget in hull's example image when its busybox has no wget timeouts.
#
# Debian 12's busybox-static (1.35.0) is built without FEATURE_WGET_TIMEOUT.
# Its wget still declares -T as a numeric option ("T:+") but gives getopt32()
# a NULL place for the number, and getopt32() stores a numeric option's value
# without checking the place: every `wget -T N` dies of SIGSEGV (a write to
# address 0) while parsing its options, before any connection, on any host
# (Debian fixed it in 1.36.1-5 by turning the feature on).
#
# This script drops -T and its value (that busybox has no timeout to set:
# without the crash -T would do nothing) and runs the wget applet with every
# other argument unchanged. Only programs that exec wget through PATH reach it
# (hull run IMG wget ..., hull exec, any non-busybox program): busybox's own
# sh, env and xargs run the applet directly and still crash on -T.
#
# The options are busybox 1.35 wget's: short ones taking a value
# (O o P Y U t, and T), -n with an optional attached value, long ones taking a
# value (also as unambiguous prefixes, the way getopt_long matches them);
# options may follow operands, and -- ends them.
long_takes_value() {
	for o in output-document output-file directory-prefix proxy user-agent tries header \
		post-data post-file; do
		case $o in "$1"*) return 0 ;; esac
	done
	return 1
}

value= # the next argument is an option's value: kept as it is
drop=  # the next argument is -T's value: dropped
ended= # after --
first=1
for a; do
	if [ -n "$first" ]; then
		set --
		first=
	fi
	if [ -n "$drop" ]; then
		drop=
		continue
	fi
	if [ -n "$value" ] || [ -n "$ended" ]; then
		value=
		set -- "$@" "$a"
		continue
	fi
	case $a in
	--)
		ended=1
		;;
	--*=*) ;;
	--?*)
		if long_takes_value "${a#--}"; then value=1; fi
		;;
	-?*)
		rest=${a#-}
		kept=
		while [ -n "$rest" ]; do
			c=${rest%"${rest#?}"}
			rest=${rest#?}
			case $c in
			T)
				# the value is the rest of this argument, or the next one
				if [ -z "$rest" ]; then drop=1; fi
				rest=
				;;
			[OoPYUt])
				kept=$kept$c$rest
				if [ -z "$rest" ]; then value=1; fi
				rest=
				;;
			n)
				kept=$kept$c$rest
				rest=
				;;
			*) kept=$kept$c ;;
			esac
		done
		[ -n "$kept" ] && set -- "$@" "-$kept"
		continue
		;;
	esac
	set -- "$@" "$a"
done
exec /bin/busybox wget "$@"
