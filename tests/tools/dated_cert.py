#!/usr/bin/env python3
"""dated_cert.py — a certificate with chosen validity dates, for the TLS tests.

usage: dated_cert.py DIR NAME NOT_BEFORE_DAYS NOT_AFTER_DAYS
Writes DIR/NAME.pem (the leaf, then the intermediate) and DIR/NAME.key: an
EC P-256 leaf for localhost and 127.0.0.1 signed by DIR/inter.pem and
DIR/inter.key, valid from now + NOT_BEFORE_DAYS to now + NOT_AFTER_DAYS
(python3-cryptography: openssl x509 -req cannot back-date).
"""
import datetime, ipaddress, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
d, name, nb, na = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
ca = x509.load_pem_x509_certificate(open(d + "/inter.pem", "rb").read())
cakey = serialization.load_pem_private_key(open(d + "/inter.key", "rb").read(), None)
key = ec.generate_private_key(ec.SECP256R1())
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=nb))
        .not_valid_after(now + datetime.timedelta(days=na))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                       x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(cakey, hashes.SHA256()))
open("%s/%s.pem" % (d, name), "wb").write(cert.public_bytes(serialization.Encoding.PEM) +
                                           ca.public_bytes(serialization.Encoding.PEM))
open("%s/%s.key" % (d, name), "wb").write(key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
