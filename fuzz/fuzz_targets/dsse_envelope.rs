#![no_main]
// An attestation as `maskgate verify` reads it: the DSSE envelope, the statement inside, and a
// signature check against a fixed key. None of it may panic, whatever the bytes.
use libfuzzer_sys::fuzz_target;
use maskgate::attest::{dsse, dsse::Envelope, keys::PublicKey, statement};

const PUBKEY: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAisFhNmdjbAOGfSqb+jQZHBTvpDRVM0/gSW/+Zix5vq4=
-----END PUBLIC KEY-----
";

fuzz_target!(|data: &[u8]| {
    let Ok((envelope, payload)) = Envelope::parse(data) else {
        return;
    };
    let key = PublicKey::from_pem(PUBKEY).expect("the fixed key parses");
    let _ = dsse::signed_by(&envelope, &payload, &key);
    let _ = statement::open_statement(std::path::Path::new("fuzz.dsse.json"), &envelope, &payload);
});
