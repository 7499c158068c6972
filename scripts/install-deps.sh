#!/bin/sh
# Installs the Debian packages crier needs to build and test.
# As root it runs apt-get; otherwise it prints the exact command to run.
# Usage: scripts/install-deps.sh [build|test|run|bench]
set -eu
what=${1:-build}
build_pkgs="cmake make gcc pkg-config libevent-dev libssl-dev libgmime-3.0-dev libsqlite3-dev
libpq-dev libjansson-dev libcmocka-dev libc-ares-dev publicsuffix"
test_pkgs="clang cppcheck python3 python3-pytest python3-aiosmtpd sqlite3 postfix python3-mailmanclient
dnsmasq-base"
case $what in
build) pkgs=$build_pkgs ;;
run) pkgs="$build_pkgs postfix" ;; # postmap writes the hash maps at start
test) pkgs="$build_pkgs $test_pkgs" ;;
# bench/run: Postfix's smtp-source and smtp-sink, gnuplot for the fan-out
# curve. (The mailman3 peer is installed by bench/run itself, with service
# starts forbidden.)
bench) pkgs="$build_pkgs postfix python3 gnuplot-nox" ;;
*) echo "usage: $0 [build|test|run|bench]" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = installed ] || missing="$missing $p"
done
# postmap (crier's maps) reads /etc/postfix/main.cf and stops with "fatal: open
# /etc/postfix/main.cf" when Postfix was installed as "No configuration";
# an empty main.cf means "Postfix's defaults" and is all postmap needs.
postfix_main_cf() {
    case " $pkgs " in *" postfix "*) ;; *) return 0 ;; esac
    [ -x /usr/sbin/postmap ] && [ ! -e /etc/postfix/main.cf ] || return 0
    if [ "$(id -u)" -eq 0 ]; then
        : >/etc/postfix/main.cf
        echo "created an empty /etc/postfix/main.cf (postmap needs one)" >&2
    else
        echo "postmap needs /etc/postfix/main.cf; as root: touch /etc/postfix/main.cf" >&2
    fi
}
if [ -z "$missing" ]; then
    postfix_main_cf
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "crier needs these Debian packages:$missing" >&2
    echo "run as root: apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# postfix asks debconf questions; answer them so CI never blocks on input.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
postfix_main_cf
