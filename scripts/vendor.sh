#!/usr/bin/env bash
# Copies the browser code sesame serves (PDF.js, the tus client) into
# templates/static/vendor/ and the code its tests inject (axe-core) into
# gateway/testdata/axe/, unmodified, from the npm packages pinned in
# scripts/vendor/package-lock.json, each with its licence and version.
#
#   scripts/vendor.sh          refresh the vendored copies
#   scripts/vendor.sh --check  fail when a vendored copy differs from its package
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mode=${1:-copy}

(cd scripts/vendor && npm ci --no-audit --no-fund --ignore-scripts --omit=optional --loglevel=error >/dev/null)
nm=scripts/vendor/node_modules

# pick DEST PACKAGE FILE...: the files of PACKAGE that DEST holds.
pick() {
	local dest=$1 pkg=$2
	shift 2
	local version
	version=$(node -p "require('./$nm/$pkg/package.json').version")
	local tmp
	tmp=$(mktemp -d)
	for f in "$@"; do
		mkdir -p "$tmp/$(dirname "$f")"
		cp -R "$nm/$pkg/$f" "$tmp/$f"
	done
	printf '%s %s, from npm, unmodified (scripts/vendor.sh)\n' "$pkg" "$version" >"$tmp/VERSION"
	if [ "$mode" = --check ]; then
		if ! diff -r "$tmp" "$dest" >/dev/null; then
			echo "vendor: $dest differs from $pkg $version; run scripts/vendor.sh" >&2
			diff -rq "$tmp" "$dest" >&2 || true
			rm -rf "$tmp"
			exit 1
		fi
		rm -rf "$tmp"
	else
		rm -rf "$dest"
		mkdir -p "$(dirname "$dest")"
		mv "$tmp" "$dest"
	fi
}

pick templates/static/vendor/pdfjs pdfjs-dist LICENSE build/pdf.min.mjs build/pdf.worker.min.mjs cmaps standard_fonts \
	wasm/jbig2.wasm wasm/openjpeg.wasm wasm/qcms_bg.wasm wasm/LICENSE_JBIG2 wasm/LICENSE_OPENJPEG wasm/LICENSE_QCMS \
	wasm/LICENSE_PDFJS_JBIG2 wasm/LICENSE_PDFJS_OPENJPEG wasm/LICENSE_PDFJS_QCMS
pick templates/static/vendor/tus tus-js-client LICENSE dist/tus.min.js
pick gateway/testdata/axe axe-core LICENSE LICENSE-3RD-PARTY.txt axe.min.js
cd "$root"
