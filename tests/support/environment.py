"""The test environment: the repository, config files, the CLI in a subprocess, TLS certificates."""

from __future__ import annotations

import os
from pathlib import Path

from talentfed.config import render_config

REPO = Path(__file__).resolve().parents[2]
# In CI a test that cannot run here fails rather than skips (CI must run every test).
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def write_config(directory: Path, db_url: str, **overrides: object) -> Path:
    """A dev-mode config file in `directory`; overrides are {"section.key": value}."""
    values: dict[tuple[str, str], object] = {
        ("node", "domain"): "127.0.0.1:8000",
        ("node", "base_url"): "http://127.0.0.1:8000",
        ("federation", "dev_mode"): True,
        ("database", "url"): db_url,
        # Tests make many requests from 127.0.0.1; tests/web/mastodon/test_rate_limits.py turns
        # the limits on with its own numbers (failed sign-ins stay throttled either way).
        ("rate_limits", "enabled"): False,
    }
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        values[(section, key)] = value
    path = directory / "config.toml"
    path.write_text(render_config((REPO / "config.example.toml").read_text(), values))
    return path


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120, stdin: str | None = None
):
    """Run `python -m talentfed ARGS` in a separate process, as an admin would."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "talentfed", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        env={**os.environ, **(env or {})},
    )


def self_signed_certificate(directory: Path, *names: str, hours: int = 24) -> tuple[Path, Path]:
    """(certificate, private key) PEM files for `names` (host names or IP addresses), its own CA:
    clients trust it as an anchor (httpx `verify=`, Node's NODE_EXTRA_CA_CERTS)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def general_name(name: str) -> x509.GeneralName:
        try:
            return x509.IPAddress(ipaddress.ip_address(name))
        except ValueError:
            return x509.DNSName(name)

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=hours))
        .add_extension(x509.SubjectAlternativeName([general_name(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_path.write_bytes(pem)
    return cert_path, key_path
