"""Verifies a DSSE envelope's Ed25519 signature with securesystemslib (PyPI), the in-toto
project's DSSE implementation: independent of maskgate's own verifier.

    python tools/dsse_verify.py ENVELOPE PUBKEY.pem

Prints the statement's recommendation and exits 0 when a signature verifies with the key;
prints why and exits 1 when none does.
"""

import json
import sys

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey


def main(envelope_path: str, pubkey_path: str) -> int:
    with open(envelope_path, encoding="utf-8") as f:
        envelope = Envelope.from_dict(json.load(f))
    with open(pubkey_path, "rb") as f:
        public = load_pem_public_key(f.read())
    # securesystemslib matches signatures to keys by keyid; maskgate's keyid is the sha256 of
    # the key's DER, so the same key is offered under each keyid the envelope names.
    keys = [SSlibKey.from_crypto(public, keyid=k) for k in envelope.signatures] or [
        SSlibKey.from_crypto(public)
    ]
    try:
        envelope.verify(keys, 1)
    except (VerificationError, ValueError) as e:
        print(f"not verified: {e}")
        return 1
    statement = json.loads(envelope.payload)
    print(statement["predicate"]["recommendation"])
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
