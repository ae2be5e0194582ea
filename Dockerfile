# syntax=docker/dockerfile:1
#
# Meridian: a static Go binary on distroless, running as a non-root user.
#
#   docker build -t meridian .
#   docker run --rm meridian --help          # every command and variable
#   docker run --rm -p 8080:8080 meridian    # development: embedded SQLite + demo data
#
# The production shape (PostgreSQL, MongoDB, Redis, RabbitMQ, two replicas
# behind Caddy) is docker-compose.yml; see deploy/README.md.

# ---- build ---------------------------------------------------------------
# Runs on the builder's own platform and cross-compiles (pure Go: CGO is off,
# SQLite is modernc.org/sqlite), so `docker buildx build --platform
# linux/arm64,linux/amd64` needs no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS TARGETARCH
WORKDIR /src

# Modules first, in their own layer and a cache mount, so that a code change
# downloads nothing.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,source=go.mod,target=go.mod \
    --mount=type=bind,source=go.sum,target=go.sum \
    go mod download

# The source is bind-mounted (read-only, not copied into a layer); the build
# cache survives between builds. The build context has no .git, so Go
# cannot stamp the VCS revision: VERSION and REVISION are set with -X for
# `meridian --version` (and in the image labels below).
ARG VERSION=dev
ARG REVISION=unknown
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,target=. \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w -X main.stampedVersion=${VERSION} -X main.stampedRevision=${REVISION}" -o /out/meridian .

# ---- run -----------------------------------------------------------------
# distroless/static: CA certificates, tzdata and /etc/passwd, no shell, no
# package manager. The :nonroot tag runs as uid/gid 65532.
FROM gcr.io/distroless/static-debian12:nonroot

ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="meridian" \
      org.opencontainers.image.description="Meridian, a GraphQL analytics API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

COPY --from=build /out/meridian /meridian

# Writable by nonroot: where the embedded SQLite file goes (./data) when
# DATABASE_URL is empty, i.e. in development only.
WORKDIR /home/nonroot
USER nonroot:nonroot
EXPOSE 8080

# No curl in distroless: the binary asks its own /readyz (database and event
# store answer) on the port of MERIDIAN_ADDR.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/meridian", "healthcheck"]

ENTRYPOINT ["/meridian"]
