# Aidant's container image: built from this repository with packages from
# registries only (crates.io, npm, Debian), run as a user without privileges
# with nothing but the binary and the CA certificates single sign-on needs.
#
#   docker build -t aidant .
#   docker run --rm aidant --version
#
# See docs/deployment.md ("Containers") for the settings and volumes.

FROM rust:1.95-bookworm AS build
# The web assets are bundled by web/build.mjs (Node.js and npm) during the
# Rust build, from web/package-lock.json.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs=18.* npm=9.* \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p aidant-cli \
    && cp target/release/aidant /aidant

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates=2023* \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 aidant \
    && useradd --system --uid 10001 --gid aidant --home-dir /var/lib/aidant --create-home aidant \
    && install -d -o aidant -g aidant -m 0700 /var/lib/aidant/data /var/lib/aidant/keys
COPY --from=build /aidant /usr/local/bin/aidant
USER 10001:10001
ENV AIDANT_DATA_DIR=/var/lib/aidant/data \
    AIDANT_KEY_DIR=/var/lib/aidant/keys \
    AIDANT_LISTEN=0.0.0.0:8080 \
    AIDANT_LOG=info,sqlx=warn
VOLUME ["/var/lib/aidant/data", "/var/lib/aidant/keys"]
EXPOSE 8080
# Healthy while /readyz answers 200 (the process serves and its database
# answers); bash's /dev/tcp asks, so the image needs no HTTP client.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/local/bin/aidant"]
CMD ["serve"]
