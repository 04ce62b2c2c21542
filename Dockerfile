# The pathway binary in a small image, for a Kubernetes CronJob or any container scheduler.
#   docker build -t beta-pathway .
#   docker run --rm -v /data:/data -e INPUT=/data/districts/2026-11-21 -e OUT=/data/runs beta-pathway
# The same image serves a cluster: --entrypoint pathway ... cluster scheduler|executor.
# Not built in this project's CI: its machines run no Docker engine (see docs/nightly.md).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p pathway --features postgres,mysql,s3,ballista

FROM debian:bookworm-slim
# libssl3: the database drivers link OpenSSL for TLS.
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 ca-certificates && rm -rf /var/lib/apt/lists/*
RUN useradd --system --home /work pathway
COPY --from=build /src/target/release/pathway /usr/local/bin/pathway
COPY scripts/nightly.sh /usr/local/bin/pathway-nightly
COPY audits /work/audits
WORKDIR /work
USER pathway
ENV PATHWAY=/usr/local/bin/pathway
ENTRYPOINT ["/usr/local/bin/pathway-nightly"]
