//! Face modules on the 70 real FASSEG frontal faces (V1 rough and V2 precise labels): every
//! module must be non-empty on every face, lie inside the skin, and sit where its name says.

use maskgate::read::{read_corpus, CorpusSpec};
use std::path::PathBuf;

fn fasseg(version: &str) -> PathBuf {
    let p = crate::shared_dir().join("data/fasseg").join(version);
    assert!(p.is_dir(), "{} missing (set MASKGATE_SHARED)", p.display());
    p
}

/// Checks every face; returns the (sample, module) pairs that came out empty.
fn check(version: &str) -> Vec<(String, &'static str)> {
    let spec = CorpusSpec {
        name: "fasseg".into(),
        format: "fasseg".into(),
        path: fasseg(version),
        classes: [
            ("skin", vec!["skin", "nose"]),
            ("eyes", vec!["eyes"]),
            ("hair", vec!["hair"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect(),
        modules: Some(Default::default()),
        ..Default::default()
    };
    let c = read_corpus(&spec).unwrap();
    let modules = [
        "chin",
        "forehead",
        "left_cheek",
        "nose",
        "right_cheek",
        "under_eye_left",
        "under_eye_right",
    ];
    for m in modules {
        assert!(c.classes.contains(&m.to_string()), "{m} not a class");
    }
    assert_eq!(c.samples.len(), 70);
    let mut empty = Vec::new();
    for e in &c.samples {
        let s = c
            .load(e)
            .unwrap_or_else(|p| panic!("{version} {}: {p:?}", e.id));
        let skin = s.gt["skin"].rasterize(None).unwrap();
        let centre_x = |m: &maskgate_core::Mask| {
            let b = m.bbox().unwrap();
            (b.x0 + b.x1) as f64 / 2.0
        };
        let mut centre = std::collections::BTreeMap::new();
        for m in modules {
            let mask = s.gt[m].rasterize(None).unwrap();
            if mask.area() == 0 {
                empty.push((s.id.clone(), m));
                continue;
            }
            assert_eq!(mask.difference(&skin).area(), 0, "{m} leaves the skin");
            let b = mask.bbox().unwrap();
            centre.insert(m, (centre_x(&mask), (b.y0 + b.y1) as f64 / 2.0));
        }
        if empty.iter().any(|(id, _)| *id == s.id) {
            continue;
        }
        // Subject's left is the image's right in a frontal photo.
        assert!(centre["left_cheek"].0 > centre["right_cheek"].0, "{}", s.id);
        assert!(
            centre["under_eye_left"].0 > centre["under_eye_right"].0,
            "{}",
            s.id
        );
        // Top to bottom: forehead, under-eyes, nose, cheeks, chin.
        assert!(
            centre["forehead"].1 < centre["under_eye_left"].1,
            "{}",
            s.id
        );
        assert!(
            centre["under_eye_left"].1 < centre["left_cheek"].1,
            "{}",
            s.id
        );
        assert!(centre["nose"].1 < centre["chin"].1, "{}", s.id);
        assert!(centre["left_cheek"].1 < centre["chin"].1, "{}", s.id);
    }
    empty
}

#[test]
fn every_module_on_every_precise_face() {
    assert_eq!(check("V2"), vec![]);
}

#[test]
fn every_module_on_every_rough_face() {
    // The rough labels paint Train/9's fringe as hair over the whole forehead (the precise V2
    // label shows skin between the strands): an empty forehead GT is the truth there.
    let empty = check("V1");
    assert_eq!(
        empty,
        vec![("Train/9".to_string(), "forehead")],
        "{empty:?}"
    );
}

/// Predicts only a skin mask: the sample's GT skin, or its lower half (rows below the middle).
struct SkinOnly {
    lower_half: bool,
}

impl maskgate::predict::Arm for SkinOnly {
    fn name(&self) -> &str {
        if self.lower_half {
            "lower_half"
        } else {
            "skin_only"
        }
    }
    fn predict(
        &self,
        s: &maskgate::model::Sample,
        _: &maskgate::predict::image::SamplePhoto,
    ) -> maskgate::model::Prediction {
        let mut skin = s.gt["skin"].rasterize(None).unwrap();
        if self.lower_half {
            let h = skin.height();
            skin = skin.intersection(&maskgate_core::Mask::from_fn(h, skin.width(), |y, _| {
                y >= h / 2
            }));
        }
        maskgate::model::Prediction {
            masks: [("skin".to_string(), maskgate::model::MaskData::Mask(skin))].into(),
            ..Default::default()
        }
    }
}

#[test]
fn predicted_modules_come_from_the_predicted_skin() {
    let mut spec = CorpusSpec {
        name: "fasseg".into(),
        format: "fasseg".into(),
        path: fasseg("V2"),
        classes: [("skin", vec!["skin", "nose"]), ("eyes", vec!["eyes"])]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
            .collect(),
        limit: Some(5),
        ..Default::default()
    };
    spec.modules = Some(toml::from_str("derive_predicted = true").unwrap());
    let c = read_corpus(&spec).unwrap();
    for e in &c.samples {
        let s = c.load(e).unwrap();
        let photo = maskgate::predict::image::SamplePhoto::new(None, &Default::default());
        let (full, half) = (
            SkinOnly { lower_half: false },
            SkinOnly { lower_half: true },
        );
        let preds = maskgate::predict::predict_sample(
            &s,
            &photo,
            &[&full, &half],
            &[],
            &maskgate::observe::Silent,
        );
        // The predicted skin is the GT skin, so every derived module equals the GT module.
        for m in c.module_names() {
            let got = preds[0].1.masks[&m].rasterize(None).unwrap();
            assert_eq!(got, s.gt[&m].rasterize(None).unwrap(), "{} {m}", s.id);
        }
        // Without the upper half of the predicted skin, the predicted forehead is gone while
        // the GT forehead is not: modules follow the prediction, only the frame is the GT's.
        let forehead = preds[1].1.masks["forehead"].rasterize(None).unwrap();
        assert_eq!(forehead.area(), 0, "{}", s.id);
        assert!(s.gt["forehead"].rasterize(None).unwrap().area() > 0);
        let chin = preds[1].1.masks["chin"].rasterize(None).unwrap();
        assert_eq!(chin, s.gt["chin"].rasterize(None).unwrap(), "{}", s.id);
    }
}
