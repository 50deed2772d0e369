# Proof-only stand-in for rust:1.95-bookworm (PROOF_FULL_BUILD=1 in scripts/compose-proof.sh):
# the locally made Debian base with gcc and this machine's own Rust toolchain, bind-mounted
# at build time (podman build -v "$(rustc --print sysroot)":/opt/host-rust:ro) and copied in.
ARG BASE_IMAGE=localhost/shop-proof/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev binutils ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /usr/local/rust \
 && cp -a /opt/host-rust/bin /opt/host-rust/lib /usr/local/rust/
ENV PATH=/usr/local/rust/bin:/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    CARGO_HOME=/usr/local/cargo
