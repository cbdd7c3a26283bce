//! The binary model format.
//!
//! ```text
//! magic "RDLM" | version u16 | feature spec | confidence scale f32 | training texts u32
//! | labels: count, then (length, UTF-8 bytes) each
//! | columns: count, then hash deltas (ascending hashes), then document frequencies
//! | per class: scale f32, bias f32
//! | weights: columns × classes i8
//! | checksum u64 (FNV-1a of everything before it)
//! ```
//!
//! Integers written as "count", "length", delta or frequency are LEB128 varints; fixed-width
//! numbers are little-endian. Hashes are stored as deltas because sorted 64-bit hashes of ~10^5
//! features differ by ~2^47, which takes 7 bytes instead of 8, and frequencies are mostly 1 byte.
//! The checksum catches a truncated or corrupted database value before it produces nonsense.

use crate::LearnError;
use crate::features::{FeatureSpec, HashIndex};
use crate::model::Model;

const MAGIC: &[u8; 4] = b"RDLM";
const VERSION: u16 = 1;

impl Model {
    /// Serialises the model (see the module documentation for the layout).
    pub fn to_bytes(&self) -> Vec<u8> {
        let classes = self.labels.len();
        let mut out = Vec::with_capacity(self.weights.len() + self.hashes.len() * 9 + 1024);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());

        let s = &self.spec;
        for w in s.weights() {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.push(s.char_min);
        out.push(s.char_max);
        out.extend_from_slice(&s.pair_window.to_le_bytes());
        out.extend_from_slice(&s.cjk_pair_window.to_le_bytes());
        out.push(u8::from(s.stem));
        out.extend_from_slice(&self.confidence_scale.to_le_bytes());
        out.extend_from_slice(&self.docs.to_le_bytes());

        put_varint(&mut out, classes as u64);
        for l in &self.labels {
            put_varint(&mut out, l.len() as u64);
            out.extend_from_slice(l.as_bytes());
        }

        put_varint(&mut out, self.hashes.len() as u64);
        let mut prev = 0u64;
        for &h in &self.hashes {
            put_varint(&mut out, h - prev);
            prev = h;
        }
        for &d in &self.df {
            put_varint(&mut out, u64::from(d));
        }
        for (s, b) in self.scales.iter().zip(&self.bias) {
            out.extend_from_slice(&s.to_le_bytes());
            out.extend_from_slice(&b.to_le_bytes());
        }
        out.extend(self.weights.iter().map(|&w| w as u8));

        let sum = checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Reads a model written by [`Model::to_bytes`], checking the header, every length and the
    /// checksum.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, LearnError> {
        if bytes.len() < MAGIC.len() + 2 || &bytes[..4] != MAGIC {
            return Err(LearnError::NotAModel);
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != VERSION {
            return Err(LearnError::UnsupportedVersion(version));
        }
        let Some(body_len) = bytes.len().checked_sub(8) else {
            return Err(LearnError::Corrupt("truncated"));
        };
        let (body, tail) = bytes.split_at(body_len);
        if body.len() < 6 {
            return Err(LearnError::Corrupt("truncated"));
        }
        let stored = u64::from_le_bytes(tail.try_into().expect("8 bytes"));
        if stored != checksum(body) {
            return Err(LearnError::Corrupt("checksum mismatch"));
        }

        let mut r = Reader {
            bytes: body,
            pos: 6,
        };
        let word_weight = r.f32()?;
        let pair_weight = r.f32()?;
        let char_weight = r.f32()?;
        let char_min = r.u8()?;
        let char_max = r.u8()?;
        let pair_window = u16::from_le_bytes(r.take(2)?.try_into().expect("2 bytes"));
        let cjk_pair_window = u16::from_le_bytes(r.take(2)?.try_into().expect("2 bytes"));
        let stem = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(LearnError::Corrupt("bad stemming flag")),
        };
        if char_min == 0 || char_max < char_min || pair_window == 0 || cjk_pair_window == 0 {
            return Err(LearnError::Corrupt("bad feature settings"));
        }
        let spec = FeatureSpec {
            word_weight,
            pair_weight,
            char_weight,
            char_min,
            char_max,
            pair_window,
            cjk_pair_window,
            stem,
        };
        let confidence_scale = r.f32()?;
        let docs = u32::from_le_bytes(r.take(4)?.try_into().expect("4 bytes"));

        let classes = r.len()?;
        if classes < 2 {
            return Err(LearnError::Corrupt("fewer than two labels"));
        }
        let mut labels = Vec::with_capacity(classes);
        for _ in 0..classes {
            let n = r.len()?;
            let text = std::str::from_utf8(r.take(n)?)
                .map_err(|_| LearnError::Corrupt("label is not UTF-8"))?;
            labels.push(text.to_owned());
        }

        let cols = r.len()?;
        let mut hashes = Vec::with_capacity(cols);
        let mut prev = 0u64;
        for i in 0..cols {
            let d = r.varint()?;
            if i > 0 && d == 0 {
                return Err(LearnError::Corrupt("feature hashes not increasing"));
            }
            prev = prev
                .checked_add(d)
                .ok_or(LearnError::Corrupt("feature hash overflow"))?;
            hashes.push(prev);
        }
        let mut df = Vec::with_capacity(cols);
        for _ in 0..cols {
            let d = u32::try_from(r.varint()?)
                .map_err(|_| LearnError::Corrupt("document frequency too large"))?;
            df.push(d);
        }
        let mut scales = Vec::with_capacity(classes);
        let mut bias = Vec::with_capacity(classes);
        for _ in 0..classes {
            scales.push(r.f32()?);
            bias.push(r.f32()?);
        }
        let n = cols
            .checked_mul(classes)
            .ok_or(LearnError::Corrupt("weight matrix too large"))?;
        let weights: Vec<i8> = r.take(n)?.iter().map(|&b| b as i8).collect();
        if r.pos != body.len() {
            return Err(LearnError::Corrupt("trailing bytes"));
        }

        let mut model = Model {
            labels,
            spec,
            confidence_scale,
            docs,
            hashes,
            df,
            scales,
            bias,
            weights,
            index: HashIndex::default(),
            idf: Vec::new(),
        };
        model.derive();
        Ok(model)
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn checksum(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], LearnError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(LearnError::Corrupt("truncated"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, LearnError> {
        Ok(self.take(1)?[0])
    }

    fn f32(&mut self) -> Result<f32, LearnError> {
        let v = f32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes"));
        if v.is_finite() {
            Ok(v)
        } else {
            Err(LearnError::Corrupt("non-finite number"))
        }
    }

    fn varint(&mut self) -> Result<u64, LearnError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(LearnError::Corrupt("varint too long"))
    }

    /// A count or length, which can never exceed the remaining bytes (each item takes at least
    /// one), so a corrupt value fails here instead of in a huge allocation.
    fn len(&mut self) -> Result<usize, LearnError> {
        let v = self.varint()?;
        usize::try_from(v)
            .ok()
            .filter(|&n| n <= self.bytes.len() - self.pos)
            .ok_or(LearnError::Corrupt("length exceeds data"))
    }
}
