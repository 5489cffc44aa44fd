# The mstage frontend image: one static binary in an otherwise empty image.
# Where no Rust image can be pulled, hack/image builds the binary on the host and stands it in for
# the `builder` stage (--build-context builder=DIR holding /mstage).
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN RUSTFLAGS='-C target-feature=+crt-static' \
    cargo build --release --locked --target x86_64-unknown-linux-gnu \
 && cp target/x86_64-unknown-linux-gnu/release/mstage /mstage

FROM scratch
COPY --from=builder /mstage /bin/mstage
# BuildKit starts frontends without a network when asked to; the local engine has no bridge at all.
LABEL moby.buildkit.frontend.network.none="true"
# The optional frontend features mstage implements, which BuildKit checks a request's
# `frontend.caps` against before starting the frontend:
# - moby.buildkit.frontend.subrequests: `--print=outline|targets`,
#   `frontend.subrequests.describe` (src/gateway/subrequests.rs) and `--call=check` /
#   `docker build --check` (`frontend.lint`, src/gateway/lint.rs).
# - moby.buildkit.frontend.contexts: named contexts (`--build-context`, `context:NAME` options):
#   images, local directories, git repositories, http(s) files, OCI layouts and frontend inputs
#   (src/convert/contexts.rs, src/gateway/contexts.rs).
# - moby.buildkit.frontend.inputs: definitions handed over through the Inputs call: bake's
#   `target:` contexts (`input:NAME`), and the Dockerfile and context of a forwarding client
#   (src/gateway/main_context.rs).
# - moby.buildkit.frontend.gitquerystring: git contexts with `?ref=&subdir=` query strings.
# tests/image.rs holds the same list.
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts,moby.buildkit.frontend.gitquerystring"
ENTRYPOINT ["/bin/mstage"]
