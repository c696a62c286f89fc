#!/usr/bin/env bash
# Chromium and ChromeDriver for rumcheck (the action's first step).
# GitHub's hosted Ubuntu runners already have Google Chrome and the matching
# ChromeDriver ($CHROMEWEBDRIVER): use them. Elsewhere (self-hosted Debian or
# Ubuntu, a Debian container) install them with apt-get.
set -euo pipefail

export_env() { if [ -n "${GITHUB_ENV:-}" ]; then echo "$1=$2" >>"$GITHUB_ENV"; fi; }

if [ -n "${CHROMEWEBDRIVER:-}" ] && [ -x "$CHROMEWEBDRIVER/chromedriver" ] && command -v google-chrome >/dev/null; then
	export_env RUMCHECK_CHROMEDRIVER "$CHROMEWEBDRIVER/chromedriver"
	export_env RUMCHECK_BROWSER "$(command -v google-chrome)"
	echo "rumcheck: using the runner's $(google-chrome --version) and $("$CHROMEWEBDRIVER/chromedriver" --version | head -n1)"
	exit 0
fi

if command -v chromedriver >/dev/null && { [ -x /usr/lib/chromium/chromium ] || command -v chromium >/dev/null || command -v google-chrome >/dev/null; }; then
	echo "rumcheck: using $(chromedriver --version | head -n1)"
	exit 0
fi

sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
# shellcheck disable=SC1091 # the machine's own release file
. /etc/os-release
case " ${ID:-} ${ID_LIKE:-} " in
*" debian "*) if [ "${ID:-}" = ubuntu ]; then
	# Ubuntu's chromium packages are snap wrappers; they work on runners with snapd.
	packages="chromium-browser chromium-chromedriver fonts-liberation"
else
	packages="chromium chromium-driver fonts-liberation"
fi ;;
*)
	echo "::error::rumcheck needs Chromium and ChromeDriver; install them on this ${ID:-unknown} runner (apt-get is only used on Debian and Ubuntu)"
	exit 1
	;;
esac
# shellcheck disable=SC2086 # $packages is a list of package names
$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $packages
for driver in /usr/bin/chromedriver /usr/lib/chromium-browser/chromedriver /snap/bin/chromium.chromedriver; do
	if [ -x "$driver" ]; then
		export_env RUMCHECK_CHROMEDRIVER "$driver"
		echo "rumcheck: using $("$driver" --version | head -n1)"
		exit 0
	fi
done
echo "::error::ChromeDriver was not found after installing $packages"
exit 1
