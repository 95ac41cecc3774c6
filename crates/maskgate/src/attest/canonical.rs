//! Canonical JSON for what is hashed and signed: object keys sorted by their UTF-8 bytes, no
//! whitespace, strings escaped as serde_json escapes them, numbers as serde_json prints them
//! (shortest round-trip). The same value always gives the same bytes, whatever order its maps
//! were built in.

use serde_json::Value;

pub fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(serde_json::to_vec(k).expect("a string serialises"));
                out.push(b':');
                write(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(v, out);
            }
            out.push(b']');
        }
        scalar => out.extend(serde_json::to_vec(scalar).expect("a scalar serialises")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_at_every_level_and_nothing_else_moves() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":[3,{"z":1,"y":"é\n"}],"c":null}}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"a":{"c":null,"d":[3,{"y":"é\n","z":1}]},"b":1}"#).unwrap();
        assert_eq!(to_vec(&a), to_vec(&b));
        assert_eq!(
            String::from_utf8(to_vec(&a)).unwrap(),
            r#"{"a":{"c":null,"d":[3,{"y":"é\n","z":1}]},"b":1}"#
        );
        // Round-trips to the same value.
        let back: Value = serde_json::from_slice(&to_vec(&a)).unwrap();
        assert_eq!(back, a);
    }
}
