# syntax=docker/dockerfile:1
# Build: cgo is required by the SQLite driver.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/taskbot . \
 && mkdir -p /out/data

# Run: a small glibc image (the cgo binary links glibc), non-root.
FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /out/taskbot /usr/local/bin/taskbot
COPY --from=build --chown=65532:65532 /out/data /data
ENV TASKBOT_DB=/data/taskbot.db
VOLUME ["/data"]
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/taskbot"]
