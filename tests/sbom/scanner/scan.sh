#!/bin/sh
# A minimal SBOM generator speaking BuildKit's scanner protocol: one in-toto SPDX statement per
# filesystem it is given ($BUILDKIT_SCAN_SOURCE, then each of $BUILDKIT_SCAN_SOURCE_EXTRAS),
# written to $BUILDKIT_SCAN_DESTINATION/<name>.spdx.json. It lists the regular files it finds and
# the BUILDKIT_SCAN_EXTRA parameter, so its output depends only on what it was given.
set -eu
scan() {
  name=$1 root=$2
  {
    printf '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document",'
    printf '"subject":[],"predicate":{"spdxVersion":"SPDX-2.3","name":"%s","files":[' "$name"
    sep=
    for f in $(cd "$root" && find . -type f | sort | sed 's|^\./||'); do
      printf '%s"%s"' "$sep" "$f"
      sep=,
    done
    printf '],"extra":"%s"}}\n' "${BUILDKIT_SCAN_EXTRA:-}"
  } >"$BUILDKIT_SCAN_DESTINATION/$name.spdx.json"
}
scan "$(basename "$BUILDKIT_SCAN_SOURCE")" "$BUILDKIT_SCAN_SOURCE"
if [ -n "${BUILDKIT_SCAN_SOURCE_EXTRAS:-}" ] && [ -d "$BUILDKIT_SCAN_SOURCE_EXTRAS" ]; then
  for extra in "$BUILDKIT_SCAN_SOURCE_EXTRAS"/*; do
    if [ -d "$extra" ]; then scan "$(basename "$extra")" "$extra"; fi
  done
fi
