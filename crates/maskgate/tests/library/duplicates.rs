//! FASSEG holds 6 photos twice (Train/Test pairs, byte-identical): a corpus says so, and
//! `dedupe = "keep-first"` counts each photo once.

use maskgate::read::{read_corpus, CorpusSpec};

fn fasseg(dedupe: bool) -> maskgate::read::Corpus {
    read_corpus(&CorpusSpec {
        name: "fasseg".into(),
        format: "fasseg".into(),
        path: crate::shared_dir().join("data/fasseg/V2"),
        dedupe,
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn byte_identical_photos_are_named_and_can_be_counted_once() {
    let all = fasseg(false);
    assert_eq!(all.samples.len(), 70);
    assert_eq!(all.duplicates.len(), 6);
    assert!(all
        .duplicates
        .contains(&vec!["Test/23".to_string(), "Train/19".to_string()]));
    let once = fasseg(true);
    assert_eq!(once.samples.len(), 64);
    assert!(once.duplicates.is_empty());
    let dropped: Vec<&str> = once
        .problems
        .iter()
        .filter(|p| p.kind == "duplicate_photo")
        .map(|p| p.sample.as_str())
        .collect();
    assert_eq!(dropped.len(), 6);
    assert!(
        dropped.contains(&"Train/19"),
        "the first id (Test/23) stays"
    );
}
