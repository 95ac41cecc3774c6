#!/usr/bin/env bash
# Builds the manual (docs/, an mdBook) into target/docs/book and checks the links of the built
# HTML, of its Markdown sources and of the README (tools/check_links.py): a relative link to a
# missing file or #anchor, or a link out of the repository other than an https:// page, fails.
# mdbook comes from crates.io, built once into vendor/mdbook without its server, file watcher
# and search, and unoptimised: on 2 busy cores that build took 4 minutes against 15 for a release
# build, and the book still builds in under a second (the same files); later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.5.4
mdbook=vendor/mdbook/bin/mdbook
if [ "$("$mdbook" --version 2>/dev/null)" != "mdbook v$version" ]; then
  cargo install --locked --quiet --debug mdbook --version "$version" --no-default-features \
    --root vendor/mdbook
fi
rm -rf target/docs
"$mdbook" build docs --dest-dir "$PWD/target/docs/book"
# The chapters link the example reports as ../examples/, as they lie in the repository, so the
# built book gets them beside it.
cp -r docs/examples target/docs/examples
python3 tools/check_links.py README.md docs/src --html target/docs/book --html-root target/docs
