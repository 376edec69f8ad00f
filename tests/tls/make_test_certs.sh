#!/bin/sh
# Certificates for the TLS tests, made fresh at test time with `openssl`:
#
#   make_test_certs.sh OUTDIR
#
#   ca.pem, ca.key                 a test certificate authority
#   server.pem, server.key         localhost and 127.0.0.1 (subjectAltName), signed by the CA
#   wrong-name.pem, wrong-name.key wrong.example only, signed by the CA (hostname mismatch)
#   self-signed.pem, self-signed.key
#                                  localhost and 127.0.0.1, signed by itself (untrusted)
#
# Then checks each certificate with `openssl verify` and `openssl x509
# -checkhost/-checkip`, so that a test failing later on a certificate check
# knows the certificates are what they claim to be. Keys are RSA 2048 (fast
# to make, accepted everywhere); certificates last 30 days.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
out=$1
mkdir -p "$out"
cd "$out"
# OPENSSL overrides the `openssl` found on PATH. Its chatter goes to a log,
# shown when something fails.
openssl=${OPENSSL:-openssl}
command -v "$openssl" >/dev/null 2>&1 || {
  echo "make_test_certs.sh: no openssl command ($openssl); install OpenSSL" >&2
  exit 1
}
log=make_test_certs.log
: >"$log"

fail() {
  echo "make_test_certs.sh: $1 (log: $out/$log)" >&2
  tail -n 20 "$log" >&2
  exit 1
}

run() {
  "$@" >>"$log" 2>&1 || fail "failed: $*"
}

days=30
server_ext=server.ext
cat >"$server_ext" <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
EXT
wrong_ext=wrong-name.ext
cat >"$wrong_ext" <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
EXT

# The certificate authority.
run "$openssl" req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days "$days" \
  -subj "/CN=Duplex Test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"

# Certificates signed by it: NAME SUBJECT EXTFILE.
signed() {
  run "$openssl" req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
  run "$openssl" x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out "$1.pem" -days "$days" -extfile "$3"
  rm -f "$1.csr"
}
signed server localhost "$server_ext"
signed wrong-name wrong.example "$wrong_ext"

# Right names, nobody vouches for it.
run "$openssl" req -x509 -newkey rsa:2048 -nodes -keyout self-signed.key -out self-signed.pem \
  -days "$days" -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -addext "extendedKeyUsage=serverAuth"

rm -f "$server_ext" "$wrong_ext" ca.srl
chmod 600 ./*.key

# What the tests rely on.
run "$openssl" verify -CAfile ca.pem server.pem
run "$openssl" verify -CAfile ca.pem wrong-name.pem
if "$openssl" verify -CAfile ca.pem self-signed.pem >>"$log" 2>&1; then
  fail "self-signed.pem verifies against the test CA"
fi
# expect_match FILE -checkhost|-checkip NAME "does match"|"does NOT match"
expect_match() {
  answer=$("$openssl" x509 -noout -in "$1" "$2" "$3" 2>>"$log") || fail "$1: cannot read"
  case $answer in
    *"$4"*) ;;
    *) fail "$1 $2 $3: expected \"$4\", got \"$answer\"" ;;
  esac
}
expect_match server.pem -checkhost localhost "does match"
expect_match server.pem -checkip 127.0.0.1 "does match"
expect_match wrong-name.pem -checkhost localhost "does NOT match"
expect_match wrong-name.pem -checkip 127.0.0.1 "does NOT match"
expect_match self-signed.pem -checkhost localhost "does match"
expect_match self-signed.pem -checkip 127.0.0.1 "does match"

echo "test certificates in $out: ca.pem server.pem wrong-name.pem self-signed.pem (+ .key)"
