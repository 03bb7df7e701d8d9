#!/bin/bash
# Make a throwaway test PKI with the openssl CLI (never committed).
#
#   bash tests/pki/mkpki.sh DIR
#
# DIR/root.pem          the trust anchor (ECDSA P-256)
# DIR/int.pem           intermediate CA, issued by root
# DIR/int2.pem          a second intermediate, revoked by root's CRL
# DIR/crls.pem          the CRLs of root, int and int2 (one file, for --crl)
# DIR/other-root.pem    an anchor nobody trusts
# DIR/<leaf>.pem, DIR/<leaf>.key   signer certificates and PEM keys:
#   p256 p384 rsa2048          good: codeSigning, issued by int
#   rsa1024                    key too small
#   sha1                       P-256 key, certificate signed with SHA-1
#   noeku                      extendedKeyUsage serverAuth only
#   caleaf                     codeSigning but basicConstraints CA:TRUE
#   self                       self-signed, codeSigning
#   untrusted                  codeSigning, issued by other-root
#   expired                    valid 2020-01-01 to 2021-01-01
#   notyet                     valid from 2045-01-01
#   revoked                    revoked by int's CRL
#   underrevoked               good, but issued by the revoked int2
# DIR/<leaf>.chain      what to embed: the issuing intermediate
# DIR/<leaf>.p8         PKCS#8 form of p256.key (for SoftHSM)
#
# Certificates are valid from 2020 to 2049 unless said otherwise; CRLs for
# ten years from now.
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
export OPENSSL_CONF=/dev/null

cat >ext.cnf <<'EOF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[noeku]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[caleaf]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

# ca_init NAME: the database of a CA made with `openssl ca`
ca_init() {
	mkdir -p "ca-$1/new"
	: >"ca-$1/index.txt"
	echo 1000 >"ca-$1/serial"
	echo 1000 >"ca-$1/crlnumber"
	cat >"ca-$1/ca.cnf" <<EOF
[ca]
default_ca = this
[this]
dir = $PWD/ca-$1
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $PWD/$1.pem
private_key = $PWD/$1.key
default_md = sha256
default_crl_days = 3650
policy = any
unique_subject = no
email_in_dn = no
[any]
commonName = supplied
organizationName = optional
EOF
}

key() { # key NAME TYPE
	case $2 in
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1.key" ;;
	rsa*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa}" -out "$1.key" ;;
	esac 2>/dev/null
}

# issue NAME ISSUER EXT [START END [MD]]: NAME.pem from a CSR for NAME.key
issue() {
	local name=$1 issuer=$2 ext=$3 start=${4:-20200101000000Z} end=${5:-20491231000000Z}
	local md=${6:-sha256}
	openssl req -new -key "$name.key" -subj "/O=hotpatch test/CN=$name" -out "$name.csr"
	openssl ca -batch -notext -config "ca-$issuer/ca.cnf" -extfile ext.cnf \
		-extensions "$ext" -md "$md" -startdate "$start" -enddate "$end" \
		-in "$name.csr" -out "$name.pem" 2>/dev/null
	rm -f "$name.csr"
}

# root NAME: a self-signed anchor
root() {
	key "$1" p256
	ca_init "$1"
	openssl req -new -key "$1.key" -subj "/O=hotpatch test/CN=$1" -out "$1.csr"
	openssl ca -batch -notext -selfsign -config "ca-$1/ca.cnf" -keyfile "$1.key" \
		-extfile ext.cnf -extensions root -startdate 20200101000000Z \
		-enddate 20500101000000Z -in "$1.csr" -out "$1.pem" 2>/dev/null
	rm -f "$1.csr"
}

intermediate() { # intermediate NAME ISSUER
	key "$1" p256
	ca_init "$1"
	issue "$1" "$2" ca 20200101000000Z 20500101000000Z
}

root root
root other-root
intermediate int root
intermediate int2 root

leaf() { # leaf NAME KEYTYPE ISSUER EXT [START END [MD]]
	key "$1" "$2"
	issue "$1" "$3" "$4" "${5:-20200101000000Z}" "${6:-20491231000000Z}" "${7:-sha256}"
	if [ "$3" = other-root ]; then : >"$1.chain"; else cp "$3.pem" "$1.chain"; fi
}

leaf p256 p256 int leaf
leaf p384 p384 int leaf
leaf rsa2048 rsa2048 int leaf
leaf rsa1024 rsa1024 int leaf
leaf sha1 p256 int leaf 20200101000000Z 20491231000000Z sha1
leaf noeku p256 int noeku
leaf caleaf p256 int caleaf
leaf untrusted p256 other-root leaf
leaf expired p256 int leaf 20200101000000Z 20210101000000Z
leaf notyet p256 int leaf 20450101000000Z 20490101000000Z
leaf revoked p256 int leaf
leaf underrevoked p256 int2 leaf

key self p256
openssl req -x509 -new -key self.key -subj "/O=hotpatch test/CN=self" -days 9000 \
	-addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" \
	-addext "extendedKeyUsage=codeSigning" -out self.pem
: >self.chain

openssl ca -batch -config ca-int/ca.cnf -revoke revoked.pem 2>/dev/null
openssl ca -batch -config ca-root/ca.cnf -revoke int2.pem 2>/dev/null
for c in root int int2; do
	openssl ca -batch -config "ca-$c/ca.cnf" -gencrl -out "$c.crl" 2>/dev/null
done
cat root.crl int.crl int2.crl >crls.pem
openssl pkcs8 -topk8 -nocrypt -in p256.key -out p256.p8
echo ok >.done
