#!/usr/bin/env bash
# Install the W3C suites (pinned sources in sources/) into WORK with npm.
# Idempotent: a suite already installed (its .installed stamp) is left alone.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${1:?usage: install.sh WORKDIR}
SRC="$HERE/sources"
mkdir -p "$WORK"
cd "$WORK"

unpack() {  # unpack ARCHIVE-PREFIX -> prints the directory
  local tarball
  tarball=$(ls "$SRC"/"$1"-[0-9a-f]*.tar.gz)
  local dest="$WORK/src/$(basename "$tarball" .tar.gz)"
  if [ ! -d "$dest" ]; then
    mkdir -p "$dest"
    tar -xzf "$tarball" -C "$dest"
  fi
  echo "$dest/$(ls "$dest")"
}

pack() {  # npm pack a repository-only dependency -> prints the tarball
  local dir
  dir=$(unpack "$1")
  mkdir -p "$WORK/packs"
  local out="$WORK/packs/$1.tgz"
  if [ ! -f "$out" ]; then
    local name
    name=$(cd "$dir" && npm pack --silent --pack-destination "$WORK/packs" 2>/dev/null | tail -n1)
    mv "$WORK/packs/$name" "$out"
  fi
  echo "$out"
}

IMPL_W3C=$(pack w3c_vc-test-suite-implementations)
IMPL_CCG=$(pack w3c-ccg_vc-test-suite-implementations)
ASSERT=$(pack w3c-ccg_data-integrity-test-suite-assertion)

install_suite() {  # install_suite ARCHIVE-PREFIX NAME
  local dir
  dir=$(unpack "$1")
  local dest="$WORK/$2"
  if [ -f "$dest/.installed" ]; then return; fi
  rm -rf "$dest"
  cp -r "$dir" "$dest"
  # point the repository-only dependencies at the packed tarballs; drop the
  # scripts that reach for git or update packages at test time
  node - "$dest/package.json" "$IMPL_W3C" "$IMPL_CCG" "$ASSERT" <<'JS'
const fs = require('fs');
const [file, implW3c, implCcg, assertion] = process.argv.slice(2);
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
const deps = pkg.dependencies || {};
if (deps['vc-test-suite-implementations']) {
  deps['vc-test-suite-implementations'] = 'file:' +
    (deps['vc-test-suite-implementations'].includes('w3c-ccg') ? implCcg : implW3c);
}
if (deps['data-integrity-test-suite-assertion']) {
  deps['data-integrity-test-suite-assertion'] = 'file:' + assertion;
}
delete pkg.devDependencies;
for (const s of ['pretest', 'postinstall', 'prepare']) {
  if (pkg.scripts) delete pkg.scripts[s];
}
delete pkg.mocha;
fs.writeFileSync(file, JSON.stringify(pkg, null, 2));
JS
  # lock files pin the git dependencies (and, for ecdsa, a version the registry lacks)
  rm -f "$dest/package-lock.json"
  (cd "$dest" && npm install --no-audit --no-fund --loglevel=error --engine-strict=false >/dev/null)
  touch "$dest/.installed"
}

install_suite w3c_vc-data-model-2.0-test-suite vc-data-model-2.0
install_suite w3c_vc-di-eddsa-test-suite vc-di-eddsa
install_suite w3c_vc-di-ecdsa-test-suite vc-di-ecdsa
install_suite w3c_vc-bitstring-status-list-test-suite vc-bitstring-status-list
install_suite w3c-ccg_did-key-test-suite did-key
install_suite w3c_vc-jose-cose-test-suite vc-jose-cose
# the ecdsa suite's vectors (it would git-clone them at install time)
if [ ! -d "$WORK/vc-di-ecdsa/tests/input/vc-di-ecdsa" ]; then
  mkdir -p "$WORK/vc-di-ecdsa/tests/input"
  cp -r "$(unpack w3c_vc-di-ecdsa)" "$WORK/vc-di-ecdsa/tests/input/vc-di-ecdsa"
fi
echo "suites installed in $WORK"
