#!/bin/sh
# Tags a release.
git tag "v$1"
