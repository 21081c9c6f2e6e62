#!/bin/sh
# NODE_NAME comes from the stack ({{.Node.Hostname}}); the container's hostname is its own.
printf 'Content-Type: text/plain\r\n\r\n'
printf 'Hello from %s on %s\n' "$(hostname)" "${NODE_NAME:-an unknown node}"
