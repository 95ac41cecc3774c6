//! DSSE envelopes (<https://github.com/secure-systems-lab/dsse>, protocol v1): the payload, its
//! type, and signatures over the pre-authentication encoding (PAE) of the two, so a signature
//! never vouches for bytes read as another type.

use base64::Engine;
use serde::{Deserialize, Serialize};

/// The payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The most an envelope may hold: a statement names files and hashes, never file contents, so
/// even a corpus of a million samples stays far below. Checked before a byte is parsed.
pub const MAX_ENVELOPE_BYTES: u64 = 64 << 20;

/// An envelope's most signatures: more is no use to any verifier and only costs time.
pub const MAX_SIGNATURES: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// Which key signed: the hex sha256 of its public key's SubjectPublicKeyInfo (DER).
    #[serde(default)]
    pub keyid: String,
    /// The signature, standard base64.
    pub sig: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// The payload, standard base64.
    pub payload: String,
    pub payload_type: String,
    pub signatures: Vec<Signature>,
}

/// DSSE's pre-authentication encoding: `DSSEv1 LEN(type) type LEN(body) body`, lengths in
/// ASCII decimal, fields separated by one space. What is signed, and what openssl verifies.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Standard base64, padded or not; DSSE allows either, and URL-safe too.
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(text).ok())
}

/// Reads and parses the envelope at `path`, its size checked before it is read.
pub fn read_envelope(path: &std::path::Path) -> crate::Result<(Envelope, Vec<u8>)> {
    let bytes = crate::limits::read_regular(path, MAX_ENVELOPE_BYTES)
        .map_err(|e| e.into_error(path, "an attestation's ceiling (64 MiB)"))?;
    Envelope::parse(&bytes)
        .map_err(|m| crate::Error::file(path, format!("malformed envelope: {m}")))
}

/// Whether some signature of `envelope` is `key`'s over its PAE. Every signature is tried
/// whatever its keyid: DSSE's keyid is an unauthenticated hint, and other signers (sigstore,
/// securesystemslib) name keys their own way.
pub fn signed_by(envelope: &Envelope, payload: &[u8], key: &super::keys::PublicKey) -> bool {
    let pae = pae(&envelope.payload_type, payload);
    envelope
        .signatures
        .iter()
        .any(|s| unb64(&s.sig).is_some_and(|sig| key.verifies(&pae, &sig)))
}

impl Envelope {
    /// An unsigned envelope around `payload`.
    pub fn new(payload_type: &str, payload: &[u8]) -> Envelope {
        Envelope {
            payload: b64(payload),
            payload_type: payload_type.to_string(),
            signatures: Vec::new(),
        }
    }

    /// Parses an envelope, refusing what is not one: too large, not JSON, a field missing or of
    /// the wrong type, a payload that is not base64, too many signatures. The message says
    /// which; nothing in `bytes` is trusted before it passes.
    pub fn parse(bytes: &[u8]) -> Result<(Envelope, Vec<u8>), String> {
        if bytes.len() as u64 > MAX_ENVELOPE_BYTES {
            return Err(format!(
                "the envelope is {} bytes, over the {MAX_ENVELOPE_BYTES}-byte ceiling",
                bytes.len()
            ));
        }
        let envelope: Envelope = serde_json::from_slice(bytes).map_err(|e| {
            format!("not a DSSE envelope (JSON with payload, payloadType and signatures): {e}")
        })?;
        if envelope.signatures.len() > MAX_SIGNATURES {
            return Err(format!(
                "the envelope has {} signatures, over the ceiling of {MAX_SIGNATURES}",
                envelope.signatures.len()
            ));
        }
        let payload = unb64(&envelope.payload)
            .ok_or_else(|| "the envelope's payload is not base64".to_string())?;
        Ok((envelope, payload))
    }

    /// The envelope as written: pretty JSON with a final newline (its bytes are not what is
    /// signed; the payload inside is).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("an envelope serialises");
        v.push(b'\n');
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DSSE specification's own test vector (protocol.md, "Test Vectors").
    #[test]
    fn pae_matches_the_specifications_vector() {
        let got = pae("http://example.com/HelloWorld", b"hello world");
        assert_eq!(
            got,
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn parse_refuses_what_is_not_an_envelope_and_keeps_what_is() {
        let e = Envelope::new(IN_TOTO_PAYLOAD_TYPE, b"{}");
        let (back, payload) = Envelope::parse(&e.to_bytes()).unwrap();
        assert_eq!(back, e);
        assert_eq!(payload, b"{}");
        for (bad, says) in [
            (&b"{"[..], "not a DSSE envelope"),
            (br#"{"payload":"e30=","signatures":[]}"#, "payloadType"),
            (
                br#"{"payload":"%%%","payloadType":"x","signatures":[]}"#,
                "not base64",
            ),
            (
                br#"{"payload":"e30=","payloadType":"x","signatures":[{"keyid":"a"}]}"#,
                "sig",
            ),
            (br#"[1,2]"#, "not a DSSE envelope"),
        ] {
            let err = Envelope::parse(bad).unwrap_err();
            assert!(err.contains(says), "{err}");
        }
        let many = Envelope {
            signatures: vec![
                Signature {
                    keyid: String::new(),
                    sig: String::new()
                };
                MAX_SIGNATURES + 1
            ],
            ..e
        };
        assert!(Envelope::parse(&many.to_bytes())
            .unwrap_err()
            .contains("signatures"));
    }

    proptest::proptest! {
        /// Whatever the bytes, parsing returns an envelope or a reason, and a valid envelope
        /// with any payload round-trips.
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
                              payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
                              cut in 0usize..1024) {
            let _ = Envelope::parse(&bytes);
            let e = Envelope::new("t", &payload);
            let written = e.to_bytes();
            let (back, p) = Envelope::parse(&written).unwrap();
            proptest::prop_assert_eq!(back, e);
            proptest::prop_assert_eq!(p, payload);
            let _ = Envelope::parse(&written[..cut.min(written.len())]);
        }
    }
}
