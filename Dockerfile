# slotplane: multi-stage build on Debian bookworm, the same packages the project builds with.
#   docker build -t slotplane .
#   docker run --rm -p 7777:7777 slotplane --cluster redis-0.redis:6379
FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev \
      libhiredis-dev prometheus-cpp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY common common
COPY dataplane dataplane
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLOTPLANE_TESTS=OFF \
 && cmake --build build \
 && strip build/bin/*

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libabsl20220623 libhiredis0.14 libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 \
      libgrpc++1.51 libprotobuf32 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --uid 10001 slotplane
COPY --from=build /src/build/bin/ /usr/local/bin/
USER slotplane
EXPOSE 7777
ENTRYPOINT ["/usr/local/bin/slotplane-proxy", "--bind", "0.0.0.0"]
