//! Ed25519 keys as PEM files: the private key PKCS#8 (`openssl genpkey -algorithm ed25519`
//! writes it), the public key SubjectPublicKeyInfo (`openssl pkey -pubout`). A key's bytes never
//! reach a message: errors name the file and what it should hold.

use crate::error::{Error, Result};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::Digest;
use std::path::{Path, PathBuf};

/// A PEM key file is a few hundred bytes; anything far larger is not one.
const MAX_KEY_FILE_BYTES: u64 = 64 << 10;

/// The file names `maskgate keygen DIR` writes.
pub const PRIVATE_KEY_FILE: &str = "maskgate.key";
pub const PUBLIC_KEY_FILE: &str = "maskgate.pub";

pub struct PrivateKey(SigningKey);

/// Shows which key, never the key.
impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey(keyid {})", self.public().keyid())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

fn read_pem(path: &Path, what: &str) -> Result<String> {
    // A key pasted where its path belongs must not be echoed back as "the path".
    let given = path.to_string_lossy();
    if given.contains("-----BEGIN") || given.contains('\n') || given.len() > 4096 {
        return Err(Error::Usage(format!(
            "a key setting holds key text, not a path: write the key to a file (mode 0600) and give its path; {what}"
        )));
    }
    let bytes = crate::limits::read_regular(path, MAX_KEY_FILE_BYTES)
        .map_err(|e| e.into_error(path, "a key file's ceiling"))?;
    String::from_utf8(bytes)
        .map_err(|_| Error::file(path, format!("is not a PEM file: give {what}")))
}

impl PrivateKey {
    /// Reads a PKCS#8 PEM Ed25519 private key.
    pub fn load(path: &Path) -> Result<PrivateKey> {
        const WHAT: &str = "an Ed25519 private key in PKCS#8 PEM (`openssl genpkey -algorithm ed25519 -out KEY` or `maskgate keygen DIR` writes one)";
        let pem = read_pem(path, WHAT)?;
        if pem.contains("-----BEGIN PUBLIC KEY-----") {
            return Err(Error::file(
                path,
                format!("holds a public key, where the private key is needed: give {WHAT}"),
            ));
        }
        if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(Error::file(
                path,
                "holds an encrypted key; maskgate reads unencrypted PKCS#8 (`openssl pkey -in KEY -out PLAIN`, kept mode 0600, or a secret mounted as a file)",
            ));
        }
        SigningKey::from_pkcs8_pem(&pem)
            .map(PrivateKey)
            .map_err(|_| Error::file(path, format!("is not {WHAT}")))
    }

    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Result<PrivateKey> {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut())
            .map_err(|e| Error::Usage(format!("the system's random source failed: {e}")))?;
        Ok(PrivateKey(SigningKey::from_bytes(&seed)))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.0.sign(message).to_bytes().to_vec()
    }

    fn to_pem(&self) -> Result<zeroize::Zeroizing<String>> {
        self.0
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::Usage(format!("cannot encode the private key: {e}")))
    }
}

impl PublicKey {
    /// Reads an Ed25519 public key (SubjectPublicKeyInfo PEM).
    pub fn load(path: &Path) -> Result<PublicKey> {
        const WHAT: &str = "an Ed25519 public key in PEM (`openssl pkey -in KEY -pubout` or `maskgate keygen DIR` writes one)";
        let pem = read_pem(path, WHAT)?;
        if pem.contains("PRIVATE KEY-----") {
            // Said without echoing it: the file should not have been handed out at all.
            return Err(Error::file(
                path,
                format!("holds a private key, where the public key is needed: give {WHAT}"),
            ));
        }
        Self::from_pem(&pem).map_err(|_| Error::file(path, format!("is not {WHAT}")))
    }

    pub fn from_pem(pem: &str) -> std::result::Result<PublicKey, String> {
        VerifyingKey::from_public_key_pem(pem)
            .map(PublicKey)
            .map_err(|e| e.to_string())
    }

    pub fn to_pem(&self) -> String {
        self.0
            .to_public_key_pem(LineEnding::LF)
            .expect("an Ed25519 public key encodes")
    }

    /// The key's id in envelopes: the hex sha256 of its SubjectPublicKeyInfo DER, which
    /// `openssl pkey -pubin -outform DER | sha256sum` gives too.
    pub fn keyid(&self) -> String {
        let der = self
            .0
            .to_public_key_der()
            .expect("an Ed25519 public key encodes");
        hex::encode(sha2::Sha256::digest(der.as_bytes()))
    }

    /// Whether `signature` is this key's over `message` (strict: no malleable encodings).
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        ed25519_dalek::Signature::from_slice(signature)
            .is_ok_and(|s| self.0.verify_strict(message, &s).is_ok())
    }
}

/// `maskgate keygen DIR`: writes `maskgate.key` (mode 0600) and `maskgate.pub` into `dir`,
/// refusing to replace either.
pub fn keygen(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let private = dir.join(PRIVATE_KEY_FILE);
    let public = dir.join(PUBLIC_KEY_FILE);
    for p in [&private, &public] {
        if std::fs::symlink_metadata(p).is_ok() {
            return Err(Error::file(
                p,
                "already exists; a key pair is never replaced: choose another folder or remove it first",
            ));
        }
    }
    let key = PrivateKey::generate()?;
    let pem = key.to_pem()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    {
        use std::io::Write;
        let mut f = options.open(&private).map_err(|e| Error::io(&private, e))?;
        f.write_all(pem.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| Error::io(&private, e))?;
    }
    crate::persist::write_atomically(&public, |w| w.write_all(key.public().to_pem().as_bytes()))?;
    Ok((private, public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_pair_signs_and_verifies_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let (private, public) = keygen(dir.path()).unwrap();
        let key = PrivateKey::load(&private).unwrap();
        let pubkey = PublicKey::load(&public).unwrap();
        assert_eq!(key.public(), pubkey);
        let sig = key.sign(b"message");
        assert!(pubkey.verifies(b"message", &sig));
        assert!(!pubkey.verifies(b"messagf", &sig));
        assert!(!pubkey.verifies(b"message", &sig[1..]));
        assert_eq!(pubkey.keyid().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&private).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Never replaced.
        let again = keygen(dir.path()).unwrap_err().to_string();
        assert!(again.contains("already exists"), "{again}");
    }

    #[test]
    fn the_wrong_file_is_named_without_echoing_it() {
        let dir = tempfile::tempdir().unwrap();
        let (private, public) = keygen(dir.path()).unwrap();
        let secret = std::fs::read_to_string(&private).unwrap();
        let body = secret.lines().nth(1).unwrap().to_string();
        let e = PublicKey::load(&private).unwrap_err().to_string();
        assert!(e.contains("holds a private key"), "{e}");
        assert!(!e.contains(&body));
        let e = PrivateKey::load(&public).unwrap_err().to_string();
        assert!(e.contains("holds a public key"), "{e}");
        let junk = dir.path().join("junk.pem");
        std::fs::write(
            &junk,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let e = PrivateKey::load(&junk).unwrap_err().to_string();
        assert!(e.contains("is not an Ed25519 private key"), "{e}");
        assert!(!e.contains("AAAA"));
    }
}
