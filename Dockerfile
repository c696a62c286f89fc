# rumcheck in a container: Debian's Chromium and ChromeDriver, fonts, and
# the rumcheck binary, running as a non-root user (so Chromium keeps its
# sandbox; rumcheck adds --no-sandbox only when it runs as root).
#
#   docker build -t rumcheck .
#   docker run --rm -v "$PWD:/work" rumcheck run rumcheck.toml --out rumcheck-out
#
# Checked by `make test` with hadolint (.hadolint.yaml says what it ignores).

FROM rust:1.95-slim-trixie AS build
WORKDIR /src
# The whole crate: Cargo.toml names its tests, benches and examples, which
# cargo wants present even for `--bin`.
COPY . .
RUN cargo build --release --locked --bin rumcheck

FROM debian:trixie-slim
# fonts-liberation: metric-compatible Arial/Times/Courier, so text lays out
# (and LCP elements size) as on users' machines; emoji for the rest.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates \
        chromium \
        chromium-driver \
        fonts-liberation \
        fonts-noto-color-emoji \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/rumcheck /usr/local/bin/rumcheck
RUN groupadd --gid 10001 rumcheck \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin rumcheck
# Numeric, so hosts and Kubernetes (runAsNonRoot) can check it without /etc/passwd.
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["rumcheck"]
CMD ["--help"]
