#!/usr/bin/env bash
echo "daemonkit: coverage tools are not available offline" >&2
exit 1
