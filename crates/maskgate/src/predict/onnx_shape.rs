//! The first input's declared shape, read from an ONNX file's protobuf without loading the
//! model, so that the engine opens a model's first session with the threads its input size
//! calls for instead of opening it twice. Only a hint: the engine still takes the shape from
//! the session's own ports, and reopens should they disagree.
//!
//! The file is walked, not read whole: an initializer's bytes (most of a model) are skipped by
//! seeking. Every length is checked against its enclosing message before it is used, so a
//! malformed file gives `None`, never a panic or a large allocation.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Seek};
use std::path::Path;

/// `ModelProto.graph`, `GraphProto.initializer`, `GraphProto.input`.
const MODEL_GRAPH: u64 = 7;
const GRAPH_INITIALIZER: u64 = 5;
const GRAPH_INPUT: u64 = 11;
/// `TensorProto.name`.
const TENSOR_NAME: u64 = 8;
/// `ValueInfoProto.name` and `.type`; `TypeProto.tensor_type`; `TypeProto.Tensor.shape`;
/// `TensorShapeProto.dim`; `Dimension.dim_value`.
const VALUE_NAME: u64 = 1;
const VALUE_TYPE: u64 = 2;
const TYPE_TENSOR: u64 = 1;
const TENSOR_SHAPE: u64 = 2;
const SHAPE_DIM: u64 = 1;
const DIM_VALUE: u64 = 1;

/// The most bytes of one graph input's description or one name read into memory: real ones
/// take tens of bytes.
const MAX_SMALL_FIELD: u64 = 1 << 20;
/// The most bytes of names and dimensions kept while walking a graph (real models: a few
/// megabytes of initializer names); past it the file gives no hint.
const MAX_KEPT_BYTES: usize = 64 << 20;
/// The most dimensions one input may declare.
const MAX_DIMS: usize = 64;

/// The first graph input that is not an initializer, as ONNX Runtime lists a session's inputs:
/// its dimensions (`None` for a symbolic or unset one). `None` when the file cannot be read
/// this way.
pub fn first_input_shape(path: &Path) -> Option<Vec<Option<usize>>> {
    let file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    shape_in(BufReader::new(file), len)
}

/// [`first_input_shape`] of a model of `len` bytes read from `r`.
fn shape_in<R: BufRead + Seek>(r: R, len: u64) -> Option<Vec<Option<usize>>> {
    let mut s = Stream { r, pos: 0 };
    while s.pos < len {
        let (field, wire) = s.tag()?;
        if field == MODEL_GRAPH && wire == LEN {
            let end = s.len_end(len)?;
            return graph_first_input(&mut s, end);
        }
        s.skip_value(wire, len)?;
    }
    None
}

/// Height × width of a shape whose last two dimensions are declared, as the engine counts a
/// model's input pixels.
pub fn pixels(shape: &[Option<usize>]) -> Option<usize> {
    match shape {
        [.., Some(h), Some(w)] => h.checked_mul(*w),
        _ => None,
    }
}

fn graph_first_input<R: BufRead + Seek>(s: &mut Stream<R>, end: u64) -> Option<Vec<Option<usize>>> {
    let mut initializers: HashSet<Vec<u8>> = HashSet::new();
    let mut inputs: Vec<(Vec<u8>, Vec<Option<usize>>)> = Vec::new();
    // What the sets hold, each entry counted with its bookkeeping.
    let mut kept = 0usize;
    const ENTRY: usize = 64;
    while s.pos < end {
        let (field, wire) = s.tag()?;
        match (field, wire) {
            (GRAPH_INITIALIZER, LEN) => {
                let tensor_end = s.len_end(end)?;
                if let Some(name) = tensor_name(s, tensor_end)? {
                    kept += name.len() + ENTRY;
                    initializers.insert(name);
                }
                s.seek_to(tensor_end)?;
            }
            (GRAPH_INPUT, LEN) => {
                let n = s.varint()?;
                if n > MAX_SMALL_FIELD || s.pos.checked_add(n)? > end {
                    return None;
                }
                let (name, dims) = value_info(&s.bytes(n)?)?;
                kept += name.len() + dims.len() * std::mem::size_of::<Option<usize>>() + ENTRY;
                inputs.push((name, dims));
            }
            _ => s.skip_value(wire, end)?,
        }
        if kept > MAX_KEPT_BYTES {
            return None;
        }
    }
    inputs
        .into_iter()
        .find(|(name, _)| !initializers.contains(name))
        .map(|(_, shape)| shape)
}

/// A streamed `TensorProto`'s name (`Some(None)`: it has none), its data skipped.
fn tensor_name<R: BufRead + Seek>(s: &mut Stream<R>, end: u64) -> Option<Option<Vec<u8>>> {
    while s.pos < end {
        let (field, wire) = s.tag()?;
        if field == TENSOR_NAME && wire == LEN {
            let n = s.varint()?;
            if n > MAX_SMALL_FIELD || s.pos.checked_add(n)? > end {
                return None;
            }
            return Some(Some(s.bytes(n)?));
        }
        s.skip_value(wire, end)?;
    }
    Some(None)
}

/// A `ValueInfoProto`'s name and tensor shape (empty when it declares none).
fn value_info(buf: &[u8]) -> Option<(Vec<u8>, Vec<Option<usize>>)> {
    let mut name = Vec::new();
    let mut shape = Vec::new();
    for (field, value) in Fields(buf) {
        match (field, value?) {
            (VALUE_NAME, Value::Bytes(b)) => name = b.to_vec(),
            (VALUE_TYPE, Value::Bytes(t)) => {
                for (field, value) in Fields(t) {
                    if let (TYPE_TENSOR, Value::Bytes(tensor)) = (field, value?) {
                        for (field, value) in Fields(tensor) {
                            if let (TENSOR_SHAPE, Value::Bytes(dims)) = (field, value?) {
                                shape = dims_of(dims)?;
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Some((name, shape))
}

fn dims_of(shape: &[u8]) -> Option<Vec<Option<usize>>> {
    let mut dims = Vec::new();
    for (field, value) in Fields(shape) {
        if let (SHAPE_DIM, Value::Bytes(dim)) = (field, value?) {
            let mut declared = None;
            for (field, value) in Fields(dim) {
                if let (DIM_VALUE, Value::Varint(v)) = (field, value?) {
                    // An int64: a negative one is unknown, as ONNX Runtime reports it.
                    declared = usize::try_from(v as i64).ok();
                }
            }
            dims.push(declared);
            if dims.len() > MAX_DIMS {
                return None;
            }
        }
    }
    Some(dims)
}

/// Wire types: varint, 64-bit, length-delimited, 32-bit (groups are not read).
const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const LEN: u64 = 2;
const FIXED32: u64 = 5;

/// A file read forward from `pos`, seeking over what is skipped.
struct Stream<R> {
    r: R,
    pos: u64,
}

impl<R: BufRead + Seek> Stream<R> {
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let mut b = [0u8];
            self.r.read_exact(&mut b).ok()?;
            self.pos += 1;
            v |= u64::from(b[0] & 0x7f) << (7 * i);
            if b[0] & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn tag(&mut self) -> Option<(u64, u64)> {
        let t = self.varint()?;
        Some((t >> 3, t & 7))
    }

    /// Reads a length and returns where the value ends, if that is within `end`.
    fn len_end(&mut self, end: u64) -> Option<u64> {
        let n = self.varint()?;
        let value_end = self.pos.checked_add(n)?;
        (value_end <= end).then_some(value_end)
    }

    fn seek_to(&mut self, to: u64) -> Option<()> {
        let by = i64::try_from(to.checked_sub(self.pos)?).ok()?;
        self.r.seek_relative(by).ok()?;
        self.pos = to;
        Some(())
    }

    fn skip_value(&mut self, wire: u64, end: u64) -> Option<()> {
        let to = match wire {
            VARINT => return self.varint().map(|_| ()),
            FIXED64 => self.pos.checked_add(8)?,
            LEN => self.len_end(end)?,
            FIXED32 => self.pos.checked_add(4)?,
            _ => return None,
        };
        if to > end {
            return None;
        }
        self.seek_to(to)
    }

    fn bytes(&mut self, n: u64) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; usize::try_from(n).ok()?];
        self.r.read_exact(&mut buf).ok()?;
        self.pos += n;
        Some(buf)
    }
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// The fields of a message held in memory; a malformed one ends the walk with `None`.
struct Fields<'a>(&'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = (u64, Option<Value<'a>>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let Some(tag) = take_varint(&mut self.0) else {
            self.0 = &[];
            return Some((0, None));
        };
        let value = match tag & 7 {
            VARINT => take_varint(&mut self.0).map(Value::Varint),
            LEN => take_varint(&mut self.0)
                .and_then(|n| usize::try_from(n).ok())
                .filter(|&n| n <= self.0.len())
                .map(|n| {
                    let (v, rest) = self.0.split_at(n);
                    self.0 = rest;
                    Value::Bytes(v)
                }),
            FIXED64 | FIXED32 => {
                let n = if tag & 7 == FIXED64 { 8 } else { 4 };
                (n <= self.0.len()).then(|| {
                    self.0 = &self.0[n..];
                    Value::Fixed
                })
            }
            _ => None,
        };
        if value.is_none() {
            self.0 = &[];
        }
        Some((tag >> 3, value))
    }
}

fn take_varint(buf: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for i in 0..10 {
        let (&b, rest) = buf.split_first()?;
        *buf = rest;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn field(number: u64, bytes: &[u8], out: &mut Vec<u8>) {
        varint(number << 3 | LEN, out);
        varint(bytes.len() as u64, out);
        out.extend_from_slice(bytes);
    }

    /// A `ValueInfoProto` named `name` with these dims (`None`: a `dim_param`).
    fn input(name: &str, dims: &[Option<u64>]) -> Vec<u8> {
        let mut shape = Vec::new();
        for d in dims {
            let mut dim = Vec::new();
            match d {
                Some(v) => {
                    varint(DIM_VALUE << 3 | VARINT, &mut dim);
                    varint(*v, &mut dim);
                }
                None => field(2, b"batch", &mut dim),
            }
            field(SHAPE_DIM, &dim, &mut shape);
        }
        let mut tensor = Vec::new();
        varint(1 << 3 | VARINT, &mut tensor); // elem_type float
        varint(1, &mut tensor);
        field(TENSOR_SHAPE, &shape, &mut tensor);
        let mut ty = Vec::new();
        field(TYPE_TENSOR, &tensor, &mut ty);
        let mut v = Vec::new();
        field(VALUE_NAME, name.as_bytes(), &mut v);
        field(VALUE_TYPE, &ty, &mut v);
        v
    }

    fn model(graph_fields: &[(u64, Vec<u8>)]) -> Vec<u8> {
        let mut graph = Vec::new();
        for (n, b) in graph_fields {
            field(*n, b, &mut graph);
        }
        let mut m = Vec::new();
        varint(1 << 3 | VARINT, &mut m); // ir_version
        varint(8, &mut m);
        field(MODEL_GRAPH, &graph, &mut m);
        m
    }

    fn read(bytes: &[u8]) -> Option<Vec<Option<usize>>> {
        shape_in(std::io::Cursor::new(bytes), bytes.len() as u64)
    }

    #[test]
    fn the_first_input_that_is_not_an_initializer() {
        let mut weight = Vec::new();
        varint(1 << 3 | VARINT, &mut weight); // dims
        varint(3, &mut weight);
        field(TENSOR_NAME, b"w", &mut weight);
        field(9, &[7u8; 4096], &mut weight); // raw_data, skipped
        let m = model(&[
            (1, b"a node".to_vec()),
            (GRAPH_INITIALIZER, weight),
            (GRAPH_INPUT, input("w", &[Some(3)])),
            (
                GRAPH_INPUT,
                input("image", &[None, Some(3), Some(144), Some(256)]),
            ),
        ]);
        let shape = read(&m).unwrap();
        assert_eq!(shape, vec![None, Some(3), Some(144), Some(256)]);
        assert_eq!(pixels(&shape), Some(144 * 256));
        assert_eq!(pixels(&[None, Some(3), None, Some(256)]), None);
    }

    #[test]
    fn malformed_files_give_none() {
        let m = model(&[(
            GRAPH_INPUT,
            input("x", &[Some(1), Some(3), Some(8), Some(8)]),
        )]);
        assert!(read(&m).is_some());
        // Every truncation, and every single-byte change, reads without a panic.
        for cut in 0..m.len() {
            let _ = read(&m[..cut]);
        }
        for at in 0..m.len() {
            for b in [0u8, 0x7f, 0x80, 0xff] {
                let mut bad = m.clone();
                bad[at] = b;
                let _ = read(&bad);
            }
        }
        assert_eq!(read(b""), None);
        // More dimensions than any model declares.
        let deep = model(&[(GRAPH_INPUT, input("x", &[Some(1); MAX_DIMS + 1]))]);
        assert_eq!(read(&deep), None);
        let most = model(&[(GRAPH_INPUT, input("x", &[Some(1); MAX_DIMS]))]);
        assert_eq!(read(&most).map(|d| d.len()), Some(MAX_DIMS));
        // A length past the end of its message.
        let mut lying = Vec::new();
        varint(MODEL_GRAPH << 3 | LEN, &mut lying);
        varint(1 << 40, &mut lying);
        assert_eq!(read(&lying), None);
    }
}
