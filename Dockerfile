# slotplane: one image with the three binaries (slotplane-proxy, slotplane-control,
# slotplanectl), built on Debian bookworm by the same scripts as README.md's commands.
#
#   docker build -t slotplane:0.1.0 .
#   docker run --rm -p 7777:7777 -p 9777:9777 slotplane:0.1.0 --cluster 10.0.0.1:6379
#   docker run --rm -v $PWD/proxy.conf:/etc/slotplane/my.conf slotplane:0.1.0 -c /etc/slotplane/my.conf
#   docker run --rm -p 7700:7700 -v slotplane-control:/var/lib/slotplane-control \
#     -v $PWD/proxy.token:/run/secrets/proxy.token:ro \
#     --entrypoint slotplane-control slotplane:0.1.0 --listen 0.0.0.0:7700 \
#     --cluster 10.0.0.1:6379 --data-dir /var/lib/slotplane-control/store \
#     --proxy-token-file /run/secrets/proxy.token
#   docker run --rm -p 7777:7777 -v $PWD/proxy.token:/run/secrets/proxy.token:ro \
#     slotplane:0.1.0 --cluster 10.0.0.1:6379 --control-plane 10.0.0.9:7700 \
#     --control-plane-proxy-token-file /run/secrets/proxy.token
#   docker run --rm --entrypoint slotplanectl slotplane:0.1.0 --addr 10.0.0.9:7700 status
#
# scripts/check_dockerfile.sh checks this file without a container engine: it replays the build
# stage's COPY and RUN steps in a scratch directory and lints the rest. Keep the build stage's
# RUN steps relative to its WORKDIR, so that the replay can run them.

FROM debian:bookworm AS build
WORKDIR /src
# Build dependencies only (no test or development packages): scripts/bootstrap.sh --build-only.
COPY scripts/bootstrap.sh scripts/build.sh scripts/
RUN scripts/bootstrap.sh --build-only
COPY CMakeLists.txt ./
COPY proto proto
COPY common common
COPY dataplane dataplane
COPY controlplane controlplane
RUN scripts/build.sh build -DSLOTPLANE_TESTS=OFF \
 && strip build/bin/slotplane-proxy build/bin/slotplane-control build/bin/slotplanectl

FROM debian:bookworm-slim
# The shared libraries the binaries link (ldd + dpkg -S; scripts/check_dockerfile.sh checks the
# list against the built binaries), ca-certificates (slotplanectl --tls, control-plane TLS) and
# redis-tools (redis-cli, for the HEALTHCHECK and for operators).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates redis-tools \
      libabsl20220623 libc-ares2 libcivetweb1 libgcc-s1 libgrpc++1.51 libgrpc29 \
      libhiredis0.14 libprometheus-cpp-core1.0 libprotobuf32 \
      libre2-9 libssl3 libstdc++6 liburing2 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 slotplane \
 && useradd --system --uid 10001 --gid slotplane --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin slotplane \
 && install -d -o slotplane -g slotplane -m 0700 /var/lib/slotplane-control /var/cache/slotplane
COPY --from=build /src/build/bin/slotplane-proxy /src/build/bin/slotplane-control /src/build/bin/slotplanectl /usr/local/bin/
COPY deploy/docker/proxy.conf /etc/slotplane/proxy.conf
COPY deploy/docker/healthcheck.sh /usr/local/bin/slotplane-healthcheck
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
# 7777 proxy clients, 9777 proxy metrics, 7700 control plane gRPC, 9700 control plane metrics.
EXPOSE 7777 9777 7700 9700
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/slotplane-healthcheck"]
ENTRYPOINT ["/usr/local/bin/slotplane-proxy", "-c", "/etc/slotplane/proxy.conf"]
