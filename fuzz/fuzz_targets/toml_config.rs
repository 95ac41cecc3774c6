#![no_main]
// The TOML files: the first byte picks a criteria file or a run config.
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let path = std::path::Path::new("fuzz.toml");
    if which % 2 == 0 {
        if let Ok(c) = maskgate::decide::criteria::CriteriaFile::parse(path, text) {
            let _ = c.validate(&["a".into(), "b".into()], "a", &Default::default());
        }
        return;
    }
    let dir = common::scratch("toml");
    let file = dir.join("run.toml");
    std::fs::write(&file, text).unwrap();
    let _ = maskgate::config::RunConfig::load(&file);
});
