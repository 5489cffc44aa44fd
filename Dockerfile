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
ENTRYPOINT ["/bin/mstage"]
