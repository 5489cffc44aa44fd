# shellcheck shell=bash
# Network traffic of the project's daemons stays on loopback: registry, git and http requests to
# anywhere else go to a closed proxy port on 127.0.0.1 and fail at once, without a DNS query
# leaving the machine (an unknown image is tried on docker.io otherwise). Loopback hosts (the
# local registry, the tests' git and http servers) are reached directly.
#
#   loopback_only CMD ARGS...   runs CMD with that environment

loopback_only() {
  env HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
    http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
    NO_PROXY=127.0.0.1,localhost,::1 no_proxy=127.0.0.1,localhost,::1 "$@"
}
