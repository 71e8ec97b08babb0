//! The intent model: multinomial logistic regression over hashed sparse features.
//!
//! Why this model: a few thousand labelled messages, 23 intents, features in the tens of
//! thousands. A linear model is the proven baseline at this size (it is what fastText and the
//! classic Rasa/sklearn pipelines use): it trains in a fraction of a second, predicts with one
//! sparse dot product per intent (well above 100,000 messages/s), needs no external runtime, and
//! its softmax gives a probability we can threshold into `unknown`. Logistic regression rather than
//! a linear SVM because its scores are already calibrated probabilities. Feature hashing keeps the
//! model a fixed size and makes unseen words cost nothing.
//!
//! Determinism: training visits examples in a fixed order shuffled by a seeded xorshift, uses
//! only IEEE f32 additions and multiplications and an exponential computed here (not the
//! platform's libm), so every machine produces the same weights bit for bit. The trained weights
//! are then quantised to i16 with one scale ([`Compact`]); prediction sums integers.

use super::intent::Intent;

/// Hyper-parameters, from `dialogs/nlu/model.toml`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Feature ids are `hash_bits` wide (2^hash_bits buckets).
    pub hash_bits: u32,
    pub epochs: u32,
    pub learning_rate: f32,
    /// L2 penalty, applied to the weights a message touches.
    pub l2: f32,
    /// Below this softmax probability the intent is `unknown`.
    pub threshold: f32,
    /// Messages understood below this probability are kept for review too.
    pub review_below: f32,
    /// Return the average of the weights over all steps (averaged SGD) instead of the last.
    pub average: bool,
    /// Features seen in fewer training messages than this are dropped (a smaller model).
    pub min_count: u32,
    /// Seed of the example shuffle.
    pub seed: u64,
}

impl Params {
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if !(10..=22).contains(&self.hash_bits) {
            p.push("hash_bits must be from 10 to 22".to_string());
        }
        if !(1..=200).contains(&self.epochs) {
            p.push("epochs must be from 1 to 200".to_string());
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 10.0) {
            p.push("learning_rate must be above 0 and at most 10".to_string());
        }
        if !(0.0..1.0).contains(&self.l2) {
            p.push("l2 must be from 0 to below 1".to_string());
        }
        if !(0.0..=1.0).contains(&self.review_below) {
            p.push("review_below must be from 0 to 1".to_string());
        }
        if !(0.0..1.0).contains(&self.threshold) {
            p.push("threshold must be from 0 to below 1".to_string());
        }
        p
    }
}

pub const CLASSES: usize = Intent::ALL.len();

/// e^x for x ≤ 0, from IEEE additions and multiplications only (same bits everywhere).
pub fn exp_neg(x: f32) -> f32 {
    if x.is_nan() || x < -80.0 {
        return 0.0;
    }
    let x = x.min(0.0);
    const LN2: f32 = std::f32::consts::LN_2;
    let k = (x / LN2 - 0.5) as i32; // rounds toward the nearest for x ≤ 0
    let r = x - k as f32 * LN2;
    let p = 1.0
        + r * (1.0
            + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r / 720.0)))));
    if k < -126 {
        return 0.0;
    }
    p * f32::from_bits(((k + 127) as u32) << 23)
}

/// Softmax in place; returns the index of the largest.
pub fn softmax(s: &mut [f32; CLASSES]) -> usize {
    let mut best = 0;
    for k in 1..CLASSES {
        if s[k] > s[best] {
            best = k;
        }
    }
    let top = s[best];
    let mut sum = 0.0;
    for v in s.iter_mut() {
        *v = exp_neg(*v - top);
        sum += *v;
    }
    for v in s.iter_mut() {
        *v /= sum;
    }
    best
}

/// Each feature of a message weighs 1/√n, so long and short messages score on one scale.
pub fn feature_value(n: usize) -> f32 {
    if n == 0 {
        return 0.0;
    }
    // Newton's iterations for the square root (no libm): exact enough and the same everywhere.
    let x = n as f32;
    let mut r = x;
    for _ in 0..20 {
        r = 0.5 * (r + x / r);
    }
    1.0 / r
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// One labelled example: sorted feature ids and the intent's index.
pub struct Example {
    pub features: Vec<u32>,
    pub class: usize,
}

/// Trained weights in f32, bucket-major (`w[bucket * CLASSES + class]`).
pub struct Trained {
    pub bits: u32,
    pub w: Vec<f32>,
    pub bias: [f32; CLASSES],
}

/// Drops the features seen in fewer than `min_count` messages.
fn prune(examples: &[Example], p: &Params) -> Vec<Example> {
    let mut seen = vec![0u32; 1usize << p.hash_bits];
    for ex in examples {
        for &f in &ex.features {
            seen[f as usize] = seen[f as usize].saturating_add(1);
        }
    }
    examples
        .iter()
        .map(|ex| Example {
            features: ex
                .features
                .iter()
                .copied()
                .filter(|f| seen[*f as usize] >= p.min_count)
                .collect(),
            class: ex.class,
        })
        .collect()
}

/// SGD on the softmax cross-entropy, `epochs` passes, learning rate decaying per pass.
pub fn train(examples: &[Example], p: &Params) -> Trained {
    let examples = &prune(examples, p)[..];
    let buckets = 1usize << p.hash_bits;
    let mut w = vec![0f32; buckets * CLASSES];
    let mut bias = [0f32; CLASSES];
    // Averaged SGD (the returned weights are the mean over all steps), kept lazily: `u` sums
    // step × update, and the mean is w − u / steps.
    let mut u = vec![0f32; if p.average { buckets * CLASSES } else { 0 }];
    let mut ub = [0f32; CLASSES];
    let mut step = 1.0f32;
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = XorShift(p.seed | 1);
    for epoch in 0..p.epochs {
        for i in (1..order.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let lr = p.learning_rate / (1.0 + 0.3 * epoch as f32);
        for &i in &order {
            let ex = &examples[i];
            let x = feature_value(ex.features.len());
            let mut s = bias;
            for &f in &ex.features {
                let row = &w[f as usize * CLASSES..][..CLASSES];
                for k in 0..CLASSES {
                    s[k] += row[k] * x;
                }
            }
            softmax(&mut s);
            s[ex.class] -= 1.0;
            for &f in &ex.features {
                let at = f as usize * CLASSES;
                for k in 0..CLASSES {
                    let d = -lr * (s[k] * x + p.l2 * w[at + k]);
                    w[at + k] += d;
                    if p.average {
                        u[at + k] += step * d;
                    }
                }
            }
            for k in 0..CLASSES {
                let d = -lr * s[k];
                bias[k] += d;
                ub[k] += step * d;
            }
            step += 1.0;
        }
    }
    if p.average {
        for (wk, uk) in w.iter_mut().zip(&u) {
            *wk -= uk / step;
        }
        for k in 0..CLASSES {
            bias[k] -= ub[k] / step;
        }
    }
    Trained {
        bits: p.hash_bits,
        w,
        bias,
    }
}

/// The model as shipped and used: non-zero rows only, weights as i16 times one scale.
#[derive(Clone, Debug, PartialEq)]
pub struct Compact {
    bits: u32,
    scale: f32,
    bias: [f32; CLASSES],
    /// bucket → row + 1 (0: no row).
    index: Vec<u32>,
    rows: Vec<i16>,
}

const MAGIC: &[u8; 8] = b"RBNLU\x00\x01\x00";

impl Compact {
    pub fn from_trained(t: &Trained) -> Compact {
        let max = t.w.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = if max > 0.0 { max / 32767.0 } else { 1.0 };
        let mut index = vec![0u32; 1usize << t.bits];
        let mut rows = Vec::new();
        for (b, row) in t.w.chunks(CLASSES).enumerate() {
            let q: Vec<i16> = row.iter().map(|v| quantise(*v / scale)).collect();
            if q.iter().any(|v| *v != 0) {
                rows.extend_from_slice(&q);
                index[b] = (rows.len() / CLASSES) as u32;
            }
        }
        Compact {
            bits: t.bits,
            scale,
            bias: t.bias,
            index,
            rows,
        }
    }

    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Rows kept (buckets with a weight) and the bytes the model holds in memory.
    pub fn size(&self) -> (usize, usize) {
        let rows = self.rows.len() / CLASSES;
        (
            rows,
            self.index.len() * 4 + self.rows.len() * 2 + CLASSES * 4,
        )
    }

    /// Softmax probabilities of the intents for a message's features.
    pub fn probabilities(&self, features: &[u32]) -> [f32; CLASSES] {
        let mut acc = [0i64; CLASSES];
        for &f in features {
            let Some(&r) = self.index.get(f as usize) else {
                continue;
            };
            if r == 0 {
                continue;
            }
            let row = &self.rows[(r as usize - 1) * CLASSES..][..CLASSES];
            for k in 0..CLASSES {
                acc[k] += i64::from(row[k]);
            }
        }
        let x = feature_value(features.len()) * self.scale;
        let mut s = self.bias;
        for k in 0..CLASSES {
            s[k] += acc[k] as f32 * x;
        }
        softmax(&mut s);
        s
    }

    /// The file form (little endian): magic, bits, scale, biases, row count, then per row its
    /// bucket and its i16 weights.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&self.bits.to_le_bytes());
        out.extend_from_slice(&self.scale.to_le_bytes());
        self.bias
            .iter()
            .for_each(|b| out.extend_from_slice(&b.to_le_bytes()));
        let n = (self.rows.len() / CLASSES) as u32;
        out.extend_from_slice(&n.to_le_bytes());
        for (bucket, r) in self.index.iter().enumerate().filter(|(_, r)| **r != 0) {
            out.extend_from_slice(&(bucket as u32).to_le_bytes());
            let row = &self.rows[(*r as usize - 1) * CLASSES..][..CLASSES];
            row.iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Compact, String> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(8)? != MAGIC {
            return Err("not a repaybot NLU model (bad magic)".into());
        }
        let bits = r.u32()?;
        if !(10..=22).contains(&bits) {
            return Err(format!("bad hash bits {bits}"));
        }
        let scale = r.f32()?;
        let mut bias = [0f32; CLASSES];
        for b in bias.iter_mut() {
            *b = r.f32()?;
        }
        let n = r.u32()? as usize;
        let mut index = vec![0u32; 1usize << bits];
        let mut rows = Vec::with_capacity(n.min(1 << 22) * CLASSES);
        for k in 0..n {
            let bucket = r.u32()? as usize;
            let slot = index.get_mut(bucket).ok_or("bucket out of range")?;
            *slot = k as u32 + 1;
            for _ in 0..CLASSES {
                rows.push(i16::from_le_bytes(
                    r.take(2)?.try_into().map_err(|_| "short")?,
                ));
            }
        }
        if r.at != bytes.len() {
            return Err("trailing bytes after the model".into());
        }
        Ok(Compact {
            bits,
            scale,
            bias,
            index,
            rows,
        })
    }
}

fn quantise(v: f32) -> i16 {
    let r = if v >= 0.0 { v + 0.5 } else { v - 0.5 };
    r.clamp(-32767.0, 32767.0) as i16
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self
            .bytes
            .get(self.at..self.at + n)
            .ok_or_else(|| "the model file is cut short".to_string())?;
        self.at += n;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| "short")?,
        ))
    }
    fn f32(&mut self) -> Result<f32, String> {
        Ok(f32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| "short")?,
        ))
    }
}
