#!/usr/bin/env bash
# Source this: install_debian_packages COMMAND:PACKAGE … installs, with apt-get, the Debian
# package of every command that is not on PATH (as root, else through sudo).
#
# Another package manager at work (unattended-upgrades on a fresh machine, another apt-get)
# holds apt's locks: apt-get waits for dpkg's lock itself (DPkg::Lock::Timeout) but
# `apt-get update` fails at once on the lists' lock ("Could not get lock
# /var/lib/apt/lists/lock"), so every apt-get here is tried again while the message is about a
# lock, for up to TC_PROMOTE_APT_LOCK_WAIT seconds (default 600), saying that it waits.
# TC_PROMOTE_APT_GET names another apt-get (tests).
apt_get_waiting() {
  local apt=("${TC_PROMOTE_APT_GET:-apt-get}") waited=0 limit="${TC_PROMOTE_APT_LOCK_WAIT:-600}" status out
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "not root and no sudo: run apt-get $* as root" >&2; return 1; }
    apt=(sudo "${apt[@]}")
  fi
  while :; do
    status=0
    out=$(DEBIAN_FRONTEND=noninteractive "${apt[@]}" -o DPkg::Lock::Timeout=60 "$@" </dev/null 2>&1) || status=$?
    if [ "$status" -eq 0 ]; then
      [ -z "$out" ] || printf '%s\n' "$out" >&2
      return 0
    fi
    if grep -qE 'Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock' <<<"$out" && [ "$waited" -lt "$limit" ]; then
      [ "$waited" -gt 0 ] || echo "waiting for the package manager's lock (another apt-get or dpkg is running; up to ${limit} s): $(grep -m1 -E 'lock' <<<"$out")" >&2
      sleep "${TC_PROMOTE_APT_LOCK_POLL:-5}"
      waited=$((waited + ${TC_PROMOTE_APT_LOCK_POLL:-5}))
      continue
    fi
    printf '%s\n' "$out" >&2
    [ "$waited" -lt "$limit" ] || echo "the package manager's lock was still held after ${limit} s (TC_PROMOTE_APT_LOCK_WAIT)" >&2
    return "$status"
  done
}

# An argument without a colon is a package already known to be missing (its check is the
# caller's). The packages' own services (a PostgreSQL on 5432, a RabbitMQ on 0.0.0.0:5672) are
# not started: the tests run their own, and RabbitMQ's would take the AMQP port of every
# loopback address.
install_debian_packages() {
  local need=() pair policy_made= status=0
  for pair in "$@"; do
    case "$pair" in
      *:*) command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}") ;;
      *) need+=("$pair") ;;
    esac
  done
  [ "${#need[@]}" -gt 0 ] || return 0
  echo "installing Debian packages: ${need[*]}" >&2
  apt_get_waiting update -qq
  if [ ! -e /usr/sbin/policy-rc.d ] && [ "$(id -u)" -eq 0 ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy_made=1
  fi
  apt_get_waiting install -y -qq --no-install-recommends "${need[@]}" || status=$?
  [ -z "$policy_made" ] || rm -f /usr/sbin/policy-rc.d
  return "$status"
}
