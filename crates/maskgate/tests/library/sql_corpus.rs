//! The `sql` corpus on a real embedded SQLite: rows become samples, bad rows become that
//! sample's problem, a bad query or connection an error before any work, and the dataset
//! version changes with any row.

use maskgate::read::{read_corpus, CorpusSpec};
use maskgate::taxonomy::{classify, FailureClass};
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE image (id integer PRIMARY KEY, path text NOT NULL);
CREATE TABLE crop_run (id integer PRIMARY KEY, image_id integer, source text, notes text);
CREATE TABLE crop_annotation (id integer PRIMARY KEY, run_id integer, mask BLOB);
";

const QUERY: &str = "SELECT r.id AS id, i.path AS image, a.mask AS mask, r.notes AS notes, \
    r.source AS meta FROM crop_run r JOIN image i ON i.id = r.image_id \
    JOIN crop_annotation a ON a.run_id = r.id WHERE r.source ->> 'type' = 'human'";

fn png(w: u32, h: u32, on: impl Fn(u32, u32) -> bool) -> Vec<u8> {
    let img = image::GrayImage::from_fn(w, h, |x, y| image::Luma([if on(x, y) { 255 } else { 0 }]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

struct Fixture {
    dir: tempfile::TempDir,
    db: Connection,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("media")).unwrap();
        let db = Connection::open(dir.path().join("app.db")).unwrap();
        db.execute_batch(SCHEMA).unwrap();
        Fixture { dir, db }
    }

    /// A human-flagged run with a photo `w × h` on disk and an annotation mask.
    fn run(&self, id: i64, notes: Option<&str>, mask: Option<Vec<u8>>, photo: Option<(u32, u32)>) {
        let name = format!("p{id}.png");
        if let Some((w, h)) = photo {
            std::fs::write(
                self.dir.path().join("media").join(&name),
                png(w, h, |_, _| false),
            )
            .unwrap();
        }
        self.db
            .execute(
                "INSERT INTO image VALUES (?1, ?2)",
                rusqlite::params![id, name],
            )
            .unwrap();
        self.db
            .execute(
                "INSERT INTO crop_run VALUES (?1, ?1, ?2, ?3)",
                rusqlite::params![id, r#"{"type": "human", "backend": "rembg"}"#, notes],
            )
            .unwrap();
        self.db
            .execute(
                "INSERT INTO crop_annotation VALUES (?1, ?1, ?2)",
                rusqlite::params![id, mask],
            )
            .unwrap();
    }

    fn spec(&self, query: &str) -> CorpusSpec {
        CorpusSpec {
            name: "flagged".into(),
            format: "sql".into(),
            path: self.dir.path().to_path_buf(),
            options: BTreeMap::from([
                ("url".to_string(), "sqlite:app.db".to_string()),
                ("query".to_string(), query.to_string()),
                ("images".to_string(), "media".to_string()),
            ]),
            ..Default::default()
        }
    }
}

fn square(w: u32, h: u32) -> Vec<u8> {
    png(w, h, |x, y| x >= 2 && y >= 2 && x < 6 && y < 6)
}

#[test]
fn rows_become_samples_and_bad_rows_stay_their_own_problem() {
    let f = Fixture::new();
    f.run(
        3,
        Some("glare on the rim"),
        Some(square(8, 8)),
        Some((8, 8)),
    );
    f.run(1, None, Some(square(8, 8)), Some((8, 8)));
    f.run(
        2,
        Some("corrupt"),
        Some(b"\x89PNG not really".to_vec()),
        Some((8, 8)),
    );
    f.run(4, Some("no photo"), Some(square(8, 8)), None);
    f.run(5, Some("wrong size"), Some(square(8, 8)), Some((9, 8)));
    // Not human: the query leaves it out.
    f.db.execute(
        "UPDATE crop_run SET source = '{\"type\": \"auto\"}' WHERE id = 5",
        [],
    )
    .unwrap();
    f.run(6, Some("wrong size"), Some(square(8, 8)), Some((9, 8)));

    let corpus = read_corpus(&f.spec(QUERY)).unwrap();
    let ids: Vec<&str> = corpus.samples.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        ["1", "2", "3", "4", "6"],
        "sorted by id, the auto run left out"
    );
    assert_eq!(corpus.classes, ["foreground"]);
    let version = corpus.version.clone().unwrap();
    assert_eq!(version.rows, 5);
    assert_eq!(version.source, "sqlite:app.db");

    let mut kinds = BTreeMap::new();
    for e in &corpus.samples {
        match corpus.load(e) {
            Ok(s) => {
                assert_eq!(s.size, (8, 8));
                assert_eq!(s.gt["foreground"].rasterize(None).unwrap().area(), 16);
                assert_eq!(s.meta["backend"], "rembg");
                kinds.insert(e.id.clone(), "ok".to_string());
            }
            Err(p) => {
                kinds.insert(e.id.clone(), p.kind);
            }
        }
    }
    assert_eq!(kinds["1"], "ok");
    assert_eq!(kinds["3"], "ok");
    assert_eq!(kinds["2"], "bad_mask");
    assert_eq!(kinds["4"], "unreadable_image");
    assert_eq!(kinds["6"], "size_mismatch");

    // A NULL note is unclassified; a note is matched as usual.
    let glare = FailureClass::new("glossy", Some("glare"), None, BTreeMap::new()).unwrap();
    let taxonomy = [glare];
    let class_of = |id: &str| classify(&taxonomy, &corpus.load_id(id).unwrap().unwrap());
    assert_eq!(class_of("1"), "unclassified");
    assert_eq!(class_of("3"), "glossy");
}

#[test]
fn the_row_fingerprint_follows_content_not_row_order() {
    let a = Fixture::new();
    a.run(1, Some("x"), Some(square(8, 8)), Some((8, 8)));
    a.run(2, Some("y"), Some(square(8, 8)), Some((8, 8)));
    let b = Fixture::new();
    b.run(2, Some("y"), Some(square(8, 8)), Some((8, 8)));
    b.run(1, Some("x"), Some(square(8, 8)), Some((8, 8)));
    let order = format!("{QUERY} ORDER BY r.id DESC");
    let va = read_corpus(&a.spec(QUERY)).unwrap().version.unwrap();
    let vb = read_corpus(&b.spec(&order)).unwrap().version.unwrap();
    assert_eq!(va.rows_sha256, vb.rows_sha256);
    assert_ne!(va.query_sha256, vb.query_sha256);
    b.db.execute("UPDATE crop_run SET notes = 'z' WHERE id = 2", [])
        .unwrap();
    let vc = read_corpus(&b.spec(&order)).unwrap().version.unwrap();
    assert_ne!(
        vb.rows_sha256, vc.rows_sha256,
        "a changed row changes the fingerprint"
    );
}

fn open_err(f: &Fixture, query: &str) -> String {
    read_corpus(&f.spec(query))
        .expect_err("an error")
        .to_string()
}

#[test]
fn a_bad_query_or_shape_is_an_error_before_any_work() {
    let f = Fixture::new();
    f.run(1, None, Some(square(8, 8)), Some((8, 8)));
    f.run(2, None, Some(square(8, 8)), Some((8, 8)));
    let e = open_err(&f, "SELECT nope FROM crop_run");
    assert!(
        e.contains("sqlite:app.db") && e.contains("no such column: nope"),
        "{e}"
    );
    let e = open_err(&f, "SELECT r.id AS run, a.mask AS mask FROM crop_run r JOIN crop_annotation a ON a.run_id = r.id");
    assert!(
        e.contains("no `id` column") && e.contains("run, mask"),
        "{e}"
    );
    let e = open_err(&f, "SELECT id FROM crop_run");
    assert!(e.contains("no ground truth"), "{e}");
    // Duplicate ids: a join that fans out.
    let e = open_err(&f, "SELECT 7 AS id, mask FROM crop_annotation");
    assert!(e.contains("\"7\"") && e.contains("more than once"), "{e}");
    // Read-only: a query that writes is refused by SQLite itself.
    let e = open_err(&f, "DELETE FROM crop_run RETURNING id, notes AS mask");
    assert!(e.contains("readonly") || e.contains("read-only"), "{e}");
    assert_eq!(
        f.db.query_row("SELECT count(*) FROM crop_run", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        2
    );
    // A missing database file.
    let mut spec = f.spec(QUERY);
    spec.options.insert("url".into(), "sqlite:absent.db".into());
    let e = read_corpus(&spec).err().unwrap().to_string();
    assert!(e.contains("absent.db"), "{e}");
}

#[test]
fn masks_as_json_rle_and_mask_files_by_path() {
    let f = Fixture::new();
    std::fs::write(f.dir.path().join("media/p1.png"), png(4, 2, |_, _| false)).unwrap();
    std::fs::write(f.dir.path().join("media/m1.png"), png(4, 2, |x, _| x < 2)).unwrap();
    f.db.execute_batch(
        "CREATE TABLE t (id text, image text, masks text, mask_path text, extra integer);
         INSERT INTO t VALUES ('a', 'p1.png', '{\"fg\": {\"size\": [2, 4], \"counts\": [0, 3, 5]}}', 'm1.png', 7);",
    )
    .unwrap();
    let c = read_corpus(&f.spec("SELECT id, image, masks, extra FROM t")).unwrap();
    let s = c.load_id("a").unwrap().unwrap();
    assert_eq!(s.gt["fg"].rasterize(None).unwrap().area(), 3);
    assert_eq!(s.meta["extra"], 7, "other columns go into meta by name");
    let c = read_corpus(&f.spec("SELECT id, image, mask_path AS mask FROM t")).unwrap();
    let s = c.load_id("a").unwrap().unwrap();
    assert_eq!(s.gt["foreground"].rasterize(None).unwrap().area(), 4);
    // A mask path leading out of the images folder is refused for that sample.
    f.db.execute("UPDATE t SET mask_path = '../app.db'", [])
        .unwrap();
    let c = read_corpus(&f.spec("SELECT id, image, mask_path AS mask FROM t")).unwrap();
    assert!(c.load_id("a").unwrap().is_err());
}

#[test]
fn a_hundred_thousand_rows_stream_into_a_listing() {
    let f = Fixture::new();
    std::fs::write(f.dir.path().join("media/p.png"), png(8, 8, |_, _| false)).unwrap();
    let mask = square(8, 8);
    let tx = f.db.unchecked_transaction().unwrap();
    tx.execute("INSERT INTO image VALUES (1, 'p.png')", [])
        .unwrap();
    {
        let mut run = tx
            .prepare("INSERT INTO crop_run VALUES (?1, 1, '{\"type\": \"human\"}', 'n')")
            .unwrap();
        let mut ann = tx
            .prepare("INSERT INTO crop_annotation VALUES (?1, ?1, ?2)")
            .unwrap();
        for id in 0..100_000i64 {
            run.execute([id]).unwrap();
            ann.execute(rusqlite::params![id, mask]).unwrap();
        }
    }
    tx.commit().unwrap();
    let c = read_corpus(&f.spec(QUERY)).unwrap();
    assert_eq!(c.samples.len(), 100_000);
    assert_eq!(c.version.as_ref().unwrap().rows, 100_000);
    // Masks come back from the spill file, not from memory held by the listing.
    let s = c.load_id("99999").unwrap().unwrap();
    assert_eq!(s.gt["foreground"].rasterize(None).unwrap().area(), 16);
}

#[test]
fn database_keys_belong_to_the_sql_format_only() {
    let f = Fixture::new();
    let mut spec = f.spec(QUERY);
    spec.format = "gold-ndjson".into();
    spec.path = Path::new("gold.ndjson").into();
    let e = read_corpus(&spec).err().unwrap().to_string();
    assert!(e.contains("has no option"), "{e}");
}
