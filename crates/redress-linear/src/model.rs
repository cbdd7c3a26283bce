//! Training, prediction and the stored form of a model.

use std::collections::HashMap;

use crate::features::hashes;
use crate::{Example, LearnError};

/// Training settings. `Default` holds the values tuned on Banking77 (5-fold).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Regularisation: larger fits the training data more closely.
    pub c: f32,
    /// Most passes over the data per label.
    pub max_epochs: usize,
    /// A feature must occur in at least this many texts to be kept.
    pub min_df: u32,
    /// Softmax temperature applied to the scores for confidences.
    pub temperature: f32,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig { c: 1.0, max_epochs: 30, min_df: 1, temperature: 6.0 }
    }
}

/// A prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The best label.
    pub label: String,
    /// Its probability-like confidence in [0, 1].
    pub confidence: f32,
    /// The top labels (at most five) with their confidences, best first.
    pub ranked: Vec<(String, f32)>,
}

/// A trained classifier.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    labels: Vec<String>,
    vocabulary: HashMap<u64, u32>,
    idf: Vec<f32>,
    /// Feature-major: the weights of feature `j` for every label are `weights[j * K .. (j + 1) * K]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    temperature: f32,
}

/// Bias feature value (as in LIBLINEAR's `-B 1`).
const BIAS: f32 = 1.0;

type SparseVector = Vec<(u32, f32)>;

fn vectorize(raw: &mut [u64], vocabulary: &HashMap<u64, u32>, idf: &[f32]) -> SparseVector {
    raw.sort_unstable();
    let mut v: SparseVector = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let h = raw[i];
        let mut n = 1;
        while i + n < raw.len() && raw[i + n] == h {
            n += 1;
        }
        if let Some(&j) = vocabulary.get(&h) {
            v.push((j, (1.0 + (n as f32).ln()) * idf[j as usize]));
        }
        i += n;
    }
    let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, x) in &mut v {
            *x /= norm;
        }
    }
    v
}

/// Dual coordinate descent for one label against the rest (L2-regularised squared hinge).
fn train_one(xs: &[SparseVector], positive: &[bool], dims: usize, c: f32, max_epochs: usize, seed: u64) -> (Vec<f32>, f32) {
    let n = xs.len();
    let d = 0.5 / c;
    let mut w = vec![0.0f32; dims];
    let mut b = 0.0f32;
    let mut alpha = vec![0.0f32; n];
    let q: Vec<f32> = xs.iter().map(|x| x.iter().map(|(_, v)| v * v).sum::<f32>() + BIAS * BIAS + d).collect();
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = seed | 1;
    for _ in 0..max_epochs {
        // Fisher–Yates with xorshift: deterministic for a seed.
        for i in (1..n).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        let (mut max_pg, mut min_pg) = (f32::MIN, f32::MAX);
        for &i in &order {
            let y = if positive[i] { 1.0 } else { -1.0 };
            let wx: f32 = xs[i].iter().map(|(j, v)| w[*j as usize] * v).sum::<f32>() + b * BIAS;
            let g = y * wx - 1.0 + d * alpha[i];
            let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
            max_pg = max_pg.max(pg);
            min_pg = min_pg.min(pg);
            if pg.abs() > 1e-6 {
                let old = alpha[i];
                alpha[i] = (old - g / q[i]).max(0.0);
                let step = (alpha[i] - old) * y;
                for (j, v) in &xs[i] {
                    w[*j as usize] += step * v;
                }
                b += step * BIAS;
            }
        }
        if max_pg - min_pg < 0.1 {
            break;
        }
    }
    (w, b)
}

impl Model {
    /// Trains a model on labelled texts.
    pub fn train(examples: &[Example], config: &TrainConfig) -> Result<Model, LearnError> {
        let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
        labels.sort();
        labels.dedup();
        if labels.len() < 2 {
            return Err(LearnError::TooFewLabels(labels.len()));
        }
        let mut raw: Vec<Vec<u64>> = examples
            .iter()
            .map(|e| {
                let mut h = Vec::new();
                hashes(&e.text, &mut h);
                h
            })
            .collect();
        let mut df: HashMap<u64, u32> = HashMap::new();
        for h in &raw {
            let mut unique = h.clone();
            unique.sort_unstable();
            unique.dedup();
            for u in unique {
                *df.entry(u).or_default() += 1;
            }
        }
        let mut kept: Vec<(u64, u32)> = df.into_iter().filter(|(_, n)| *n >= config.min_df).collect();
        kept.sort_unstable();
        if kept.is_empty() {
            return Err(LearnError::NoFeatures);
        }
        let n = examples.len() as f32;
        let vocabulary: HashMap<u64, u32> = kept.iter().enumerate().map(|(j, (h, _))| (*h, j as u32)).collect();
        let idf: Vec<f32> = kept.iter().map(|(_, df)| ((1.0 + n) / (1.0 + *df as f32)).ln() + 1.0).collect();
        let xs: Vec<SparseVector> = raw.iter_mut().map(|h| vectorize(h, &vocabulary, &idf)).collect();
        let dims = kept.len();
        let label_of: Vec<usize> = examples.iter().map(|e| labels.binary_search(&e.label).unwrap_or(0)).collect();

        // Labels are independent: train them on every core.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(labels.len());
        let mut per_label: Vec<Option<(Vec<f32>, f32)>> = vec![None; labels.len()];
        std::thread::scope(|s| {
            let chunks: Vec<_> = per_label.chunks_mut(labels.len().div_ceil(threads)).enumerate().collect();
            for (chunk_index, chunk) in chunks {
                let xs = &xs;
                let label_of = &label_of;
                let per_chunk = labels.len().div_ceil(threads);
                s.spawn(move || {
                    for (offset, slot) in chunk.iter_mut().enumerate() {
                        let k = chunk_index * per_chunk + offset;
                        let positive: Vec<bool> = label_of.iter().map(|l| *l == k).collect();
                        *slot = Some(train_one(xs, &positive, dims, config.c, config.max_epochs, 0x9e37_79b9 + k as u64));
                    }
                });
            }
        });
        let k = labels.len();
        let mut weights = vec![0.0f32; dims * k];
        let mut bias = vec![0.0f32; k];
        for (label, trained) in per_label.into_iter().enumerate() {
            let (w, b) = trained.expect("every label trained");
            for (j, value) in w.into_iter().enumerate() {
                weights[j * k + label] = value;
            }
            bias[label] = b * BIAS;
        }
        Ok(Model { labels, vocabulary, idf, weights, bias, temperature: config.temperature })
    }

    /// The labels, sorted.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Raw scores of every label.
    fn scores(&self, text: &str) -> Vec<f32> {
        let mut raw = Vec::new();
        hashes(text, &mut raw);
        let x = vectorize(&mut raw, &self.vocabulary, &self.idf);
        let k = self.labels.len();
        let mut scores = self.bias.clone();
        for (j, v) in x {
            let row = &self.weights[j as usize * k..(j as usize + 1) * k];
            for (s, w) in scores.iter_mut().zip(row) {
                *s += w * v;
            }
        }
        scores
    }

    /// Predicts the label of a text.
    pub fn predict(&self, text: &str) -> Prediction {
        let scores = self.scores(text);
        let max = scores.iter().copied().fold(f32::MIN, f32::max);
        let exp: Vec<f32> = scores.iter().map(|s| ((s - max) * self.temperature).exp()).collect();
        let total: f32 = exp.iter().sum();
        let mut ranked: Vec<(usize, f32)> = exp.iter().map(|e| e / total).enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(5);
        let ranked: Vec<(String, f32)> = ranked.into_iter().map(|(i, p)| (self.labels[i].clone(), p)).collect();
        Prediction { label: ranked[0].0.clone(), confidence: ranked[0].1, ranked }
    }

    /// The stored form: a magic and version header, then labels, vocabulary, weights
    /// (little-endian).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.weights.len() * 4 + self.idf.len() * 12);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.temperature.to_le_bytes());
        out.extend_from_slice(&(self.labels.len() as u32).to_le_bytes());
        for l in &self.labels {
            out.extend_from_slice(&(l.len() as u32).to_le_bytes());
            out.extend_from_slice(l.as_bytes());
        }
        for b in &self.bias {
            out.extend_from_slice(&b.to_le_bytes());
        }
        let mut vocabulary: Vec<(u64, u32)> = self.vocabulary.iter().map(|(h, j)| (*h, *j)).collect();
        vocabulary.sort_unstable_by_key(|(_, j)| *j);
        out.extend_from_slice(&(vocabulary.len() as u32).to_le_bytes());
        for (h, j) in vocabulary {
            out.extend_from_slice(&h.to_le_bytes());
            out.extend_from_slice(&self.idf[j as usize].to_le_bytes());
        }
        for w in &self.weights {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Reads the stored form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, LearnError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != MAGIC {
            return Err(LearnError::BadModel("not a Redress model".into()));
        }
        let version = r.u32()?;
        if version != VERSION {
            return Err(LearnError::BadModel(format!("model format version {version}, this build reads {VERSION}")));
        }
        let temperature = r.f32()?;
        let k = r.u32()? as usize;
        let mut labels = Vec::with_capacity(k.min(100_000));
        for _ in 0..k {
            let len = r.u32()? as usize;
            labels.push(String::from_utf8(r.take(len)?.to_vec()).map_err(|_| LearnError::BadModel("a label is not UTF-8".into()))?);
        }
        let bias = (0..k).map(|_| r.f32()).collect::<Result<Vec<_>, _>>()?;
        let dims = r.u32()? as usize;
        let mut vocabulary = HashMap::with_capacity(dims.min(10_000_000));
        let mut idf = Vec::with_capacity(dims.min(10_000_000));
        for j in 0..dims {
            vocabulary.insert(r.u64()?, j as u32);
            idf.push(r.f32()?);
        }
        let weights = (0..dims * k).map(|_| r.f32()).collect::<Result<Vec<_>, _>>()?;
        if r.at != bytes.len() {
            return Err(LearnError::BadModel("trailing bytes".into()));
        }
        if k < 2 {
            return Err(LearnError::BadModel("fewer than two labels".into()));
        }
        Ok(Model { labels, vocabulary, idf, weights, bias, temperature })
    }
}

const MAGIC: &[u8; 4] = b"RDLM";
const VERSION: u32 = 1;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], LearnError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len()).ok_or_else(|| LearnError::BadModel("truncated".into()))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, LearnError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Result<u64, LearnError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn f32(&mut self) -> Result<f32, LearnError> {
        Ok(f32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
}
