# Sourced by hack/*-up (which define log): apt suites beside the machine's own.

# The machine's own Debian mirror: the first URI of its apt sources that serves the main archive.
debian_mirror() {
  local uri
  uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
    tr ' ' '\n' | grep -E '/debian/?$' | head -1 || true)
  [ -n "$uri" ] || uri=$(sed -n 's/^deb[[:space:]]\+\([^ ]*\/debian\/\?\)[[:space:]].*/\1/p' \
    /etc/apt/sources.list 2>/dev/null | head -1 || true)
  [ -n "$uri" ] || { log "no Debian mirror found in the apt sources"; exit 1; }
  echo "${uri%/}"
}

# A suite beside the machine's own, pinned low so that only what is asked for comes from it.
add_suite() {
  local suite=$1 priority=$2 file=/etc/apt/sources.list.d/mstage-$1.sources
  [ -f "$file" ] && return 1
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
    "$(debian_mirror)" "$suite" /usr/share/keyrings/debian-archive-keyring.gpg >"$file"
  printf 'Package: *\nPin: release n=%s\nPin-Priority: %s\n' "$suite" "$priority" \
    >"/etc/apt/preferences.d/mstage-$suite"
}
