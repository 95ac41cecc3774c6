//! Decode vectors: every file of a corpus that covers what real JPEG and PNG photos can be
//! (written by Pillow and by libjpeg-turbo's `cjpeg`: baseline and progressive, every chroma
//! subsampling, arithmetic coding, restart markers, grey, RGB, CMYK and YCCK, EXIF orientations
//! 1–8; PNG in every colour type and depth, with `eXIf` before and after the image data) is
//! decoded by maskgate under each policy, and its RGB bytes must equal the real tool's: Pillow
//! 13's `exif_transpose` + `convert("RGB")` and OpenCV 4.11's `imread(IMREAD_COLOR)`, each
//! with its own bundled libjpeg-turbo (`tools/decode_vectors.py`, run with vendor/parity-mp's
//! Python; needs `bash scripts/setup_parity.sh` and Debian's libjpeg-turbo-progs).

use maskgate::limits::Limits;
use maskgate::model::FailReason;
use maskgate::photo::{decode_rgb, DecodePolicy};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The corpus and the real tools' pixels, made once.
fn manifest() -> (PathBuf, serde_json::Value) {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("decode-vectors");
    let _ = std::fs::remove_dir_all(&out);
    let python = root().join("vendor/parity-mp/bin/python");
    assert!(
        python.is_file(),
        "{} missing: run `bash scripts/setup_parity.sh`",
        python.display()
    );
    let photos = crate::shared_dir().join("data/fasseg/V2/Test_RGB");
    let status = Command::new(&python)
        .arg(root().join("tools/decode_vectors.py"))
        .arg(&out)
        .args([photos.join("1.bmp"), photos.join("5.bmp")])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "tools/decode_vectors.py failed");
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    (out, serde_json::from_str(&manifest).unwrap())
}

#[test]
fn every_file_decodes_to_the_real_tools_bytes() {
    let (out, manifest) = manifest();
    let versions = &manifest["versions"];
    assert_eq!(versions["pillow"], "13.0.0");
    assert_eq!(versions["opencv"], "4.11.0");
    eprintln!("decode vectors against {versions}");
    let files = manifest["files"].as_array().unwrap();
    // Every case the corpus promises is there (a generator that silently wrote less fails).
    for case in [
        "pil-420-q90",
        "pil-progressive-q85",
        "pil-444-q95",
        "pil-422-q92",
        "pil-gray",
        "pil-optimized-q75",
        "pil-cmyk.jpg",
        "pil-cmyk-adobe0",
        "pil-ycck-adobe2",
        "pil-exif1",
        "pil-exif5",
        "pil-exif8",
        "exif6-le",
        "cjpeg-440",
        "cjpeg-411",
        "cjpeg-arithmetic",
        "cjpeg-restart",
        "cjpeg-rgb",
        "cjpeg-gray-progressive",
        "truncated",
        "png-rgb16",
        "png-gray16",
        "png-graya16",
        "png-la8",
        "png-palette8-trns",
        "png-gray1",
        "png-gray2",
        "png-palette4",
        "png-rgb8-exif3-after",
        "png-gray16-exif8",
    ] {
        assert!(
            files
                .iter()
                .any(|f| f["file"].as_str().unwrap().contains(case)),
            "the corpus lacks {case}"
        );
    }
    let limits = Limits::default();
    let (mut equal, mut problems) = (0, Vec::new());
    for f in files {
        let name = f["file"].as_str().unwrap();
        let bytes = std::fs::read(out.join("corpus").join(name)).unwrap();
        for policy in [DecodePolicy::Pillow, DecodePolicy::OpenCv] {
            let want = &f[policy.name()];
            let got = decode_rgb(&bytes, policy, &limits);
            match (want.get("error"), got) {
                (Some(_), Err(e)) => {
                    assert_eq!(
                        e.reason,
                        FailReason::ImageTruncated,
                        "{name}: {}",
                        e.message
                    );
                    equal += 1;
                }
                // OpenCV pads a JPEG cut short with grey (and prints a warning); maskgate
                // refuses it, as Pillow does, rather than score a photo that is not there.
                (None, Err(e)) if name.contains("truncated") => {
                    assert_eq!(e.reason, FailReason::ImageTruncated, "{name}");
                }
                (Some(err), Ok(_)) => problems.push(format!(
                    "{name} ({}): the tool refuses it ({err}), maskgate decoded it",
                    policy.name()
                )),
                (None, Err(e)) => problems.push(format!(
                    "{name} ({}): maskgate refused it: {}",
                    policy.name(),
                    e.message
                )),
                (None, Ok(img)) => {
                    let size = (want["w"].as_u64().unwrap(), want["h"].as_u64().unwrap());
                    let reference = std::fs::read(want["rgb"].as_str().unwrap()).unwrap();
                    if (img.w as u64, img.h as u64) != size {
                        problems.push(format!(
                            "{name} ({}): {}x{} against {}x{}",
                            policy.name(),
                            img.w,
                            img.h,
                            size.0,
                            size.1
                        ));
                    } else if img.data != reference {
                        let differ = img.data.iter().zip(&reference).filter(|(a, b)| a != b);
                        let max = differ
                            .clone()
                            .map(|(a, b)| a.abs_diff(*b))
                            .max()
                            .unwrap_or(0);
                        problems.push(format!(
                            "{name} ({}): {} of {} bytes differ (by up to {max})",
                            policy.name(),
                            differ.count(),
                            reference.len()
                        ));
                    } else {
                        equal += 1;
                    }
                }
            }
        }
    }
    eprintln!(
        "decode vectors: {equal} of {} file × tool pairs byte-identical",
        2 * files.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(equal >= 2 * files.len() - 3, "only {equal} pairs compared");
}
