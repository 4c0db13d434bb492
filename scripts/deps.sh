#!/bin/sh
# Installs the Debian packages the build and the demo need, only when missing.
# "scripts/deps.sh test" adds what the tests need, "bench" what `make bench`
# compares against, "fuzz" the fuzzing toolchain.
# Quiet and idempotent: a second run installs nothing.
set -e

pkgs="build-essential cmake pkg-config libpcre2-dev libcmocka-dev python3 python3-pytest
      libssl-dev media-types php8.2-fpm apache2 libphp8.2-embed php8.2-dev"
# tests/apps (WordPress + MariaDB, DokuWiki): "php" is named so that
# wordpress' "libapache2-mod-php | php" is met by php8.2-fpm instead of
# pulling mod_php (which would also switch Debian's apache2 to mpm_prefork);
# the theme is only a Recommends of wordpress, and without one the front end
# renders nothing; the php8.2-* are the extensions they use.
apps="nginx-light php wordpress wordpress-theme-twentytwentythree dokuwiki mariadb-server php8.2-mysql
      php8.2-xml php8.2-gd php8.2-mbstring php8.2-intl"
case "$1" in
  test)  pkgs="$pkgs $apps" ;;
  bench) pkgs="wrk nginx-light apache2 procps" ;;
  fuzz)  pkgs="clang libclang-rt-14-dev" ;;
esac

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Services in these packages (apache2, nginx, mariadb) must not start on
# install: the benchmark and the tests start their own instances from
# temporary configurations.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e $policy ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee $policy >/dev/null
  $SUDO chmod +x $policy
  made_policy=1
fi
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ -n "$made_policy" ] && $SUDO rm -f $policy
exit 0
