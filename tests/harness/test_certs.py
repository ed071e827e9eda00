"""Throwaway certificates made at test time with the openssl CLI: a CA and
leaf certificates it signs, each for the names and addresses a test asks
for. Nothing here is committed or trusted outside one test run."""
import os
import subprocess
import tempfile

_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def self_signed(directory, name="relay.test"):
    """An ECDSA P-256 certificate for CN `name`, signed by itself, written
    as cert.pem and key.pem into `directory`; returns (cert_file, key_file)."""
    key = os.path.join(directory, "key.pem")
    cert = os.path.join(directory, "cert.pem")
    _openssl("req", "-x509", *_EC, "-keyout", key, "-out", cert, "-days", "1",
             "-subj", f"/CN={name}")
    return cert, key


class TestCa:
    """A self-signed CA in a fresh directory; `ca_file` is its PEM."""

    def __init__(self, name="ringmta test CA"):
        self.directory = tempfile.mkdtemp(prefix="certs-", dir=os.environ.get("TEST_TMPDIR"))
        self.ca_file = os.path.join(self.directory, "ca.pem")
        self._key = os.path.join(self.directory, "ca.key")
        _openssl("req", "-x509", *_EC, "-keyout", self._key, "-out", self.ca_file, "-days", "1",
                 "-subj", f"/CN={name}",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def leaf(self, san, name="leaf"):
        """A server certificate with subjectAltName `san` (e.g.
        "IP:127.0.0.1" or "DNS:mx.test"); returns (cert_file, key_file)."""
        key = os.path.join(self.directory, f"{name}.key")
        csr = os.path.join(self.directory, f"{name}.csr")
        cert = os.path.join(self.directory, f"{name}.pem")
        extensions = os.path.join(self.directory, f"{name}.ext")
        with open(extensions, "w") as handle:
            handle.write(f"subjectAltName={san}\nextendedKeyUsage=serverAuth\n"
                         "basicConstraints=CA:FALSE\n")
        _openssl("req", "-new", *_EC, "-keyout", key, "-out", csr, "-subj", f"/CN={name}")
        _openssl("x509", "-req", "-in", csr, "-CA", self.ca_file, "-CAkey", self._key,
                 "-CAcreateserial", "-out", cert, "-days", "1", "-extfile", extensions)
        return cert, key
