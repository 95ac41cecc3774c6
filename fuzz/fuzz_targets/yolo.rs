#![no_main]
// YOLO: the first byte picks the label-line parser or the dataset YAML (read as a corpus).
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
    if which % 2 == 0 {
        let _ = maskgate::read::yolo::parse_label(text, (which as usize >> 1) + 1);
        return;
    }
    let dir = common::scratch("yolo");
    let file = dir.join("data.yaml");
    std::fs::write(&file, text).unwrap();
    let spec = maskgate::read::CorpusSpec {
        name: "y".into(),
        format: "yolo".into(),
        path: file,
        ..Default::default()
    };
    common::read_all(&spec);
});
