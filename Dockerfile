# webhook-runner container image (for a CI/CD platform, Kubernetes, Compose).
#
#   docker build -t webhook-runner .
#   docker run -p 8080:8080 --stop-timeout 45 \
#     -v /srv/wr/etc:/etc/webhook-runner:ro -v wr-state:/var/lib/webhook-runner \
#     -e HOOKDECK_SECRET=... webhook-runner
#
# Config and state are volumes; secrets come from the environment (env:NAME),
# from files (file:/run/secrets/NAME) or, since CREDENTIALS_DIRECTORY points at
# /run/secrets, as cred:NAME — the same config.json as under systemd. An SSH
# key is a path, e.g. /run/secrets/deploy_key, readable by uid 10001.
# SIGTERM drains for server.drain_timeout_s (30 s by default): give the
# container a longer stop timeout than Docker's 10 s default. With TLS on
# (server.tls_cert/tls_key), override the health check's URL:
#   --health-cmd 'webhook-runner healthcheck --url https://127.0.0.1:8080/healthz'
#
# The executor as a sidecar (executor.socket; README, "The executor as a
# service"): the same image runs `remote-executor serve` in a second container
# that alone mounts the SSH keys, and the two share only the socket's volume:
#   docker volume create wr-exec
#   docker run -d --name wr-executor --user 10002:10001 \
#     -v wr-exec:/run/remote-executor -v /srv/wr/executor:/etc/remote-executor:ro \
#     -v /srv/wr/keys:/run/secrets:ro --entrypoint remote-executor webhook-runner \
#     serve --config /etc/remote-executor/executor.json
#   docker run -d --name wr -p 8080:8080 --stop-timeout 45 \
#     -v wr-exec:/run/remote-executor -v /srv/wr/etc:/etc/webhook-runner:ro \
#     -v wr-state:/var/lib/webhook-runner webhook-runner
# The executor runs as uid 10002 with the runner's group 10001, so the socket
# (group 10001, 0770) is the runner's to connect to while the key files
# (0400, uid 10002) are not its to read; the runner's config sets
# "executor": {"socket": "/run/remote-executor/executor.sock"}. In Kubernetes,
# the two containers of one pod with an emptyDir at /run/remote-executor and
# the keys' Secret mounted into the executor's container only.
#
# Podman builds it too (`podman build --format docker`: the OCI format drops
# the HEALTHCHECK). tests/e2e/deploy_podman.sh builds and runs it with podman
# in CI; without an engine, tests/e2e/deploy_docker.sh checks what it can
# (the build stage's make on a fresh copy of the tree, what the runtime stage
# must provide). README.md says what each proves.

# CivetWeb is compiled in from Debian's own source package (fetched through
# apt by `make civetweb-source`; third_party/civetweb.sh says why), so the
# runtime stage needs no libcivetweb1.
FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config dpkg-dev \
      libssh2-1-dev libssl-dev libjwt-dev libcjson-dev libsqlite3-dev \
      libcurl4-openssl-dev libhiredis-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make civetweb-source && make BUILD=build/image all

FROM debian:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libssh2-1 libssl3 libjwt0 libcjson1 libsqlite3-0 libpq5 libcurl4 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home \
      --home-dir /var/lib/webhook-runner --shell /usr/sbin/nologin webhook-runner \
 && install -d -m 0755 /etc/webhook-runner \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/webhook-runner
COPY --from=build /src/build/image/webhook-runner /src/build/image/remote-executor /usr/local/bin/
COPY --from=build /src/config/example.json /etc/webhook-runner/config.json.example
ENV CREDENTIALS_DIRECTORY=/run/secrets
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
WORKDIR /var/lib/webhook-runner
EXPOSE 8080
VOLUME ["/etc/webhook-runner", "/var/lib/webhook-runner"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["webhook-runner", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["webhook-runner"]
CMD ["--config", "/etc/webhook-runner/config.json"]
