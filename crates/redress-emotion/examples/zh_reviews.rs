//! ROC AUC of `negative_score` on Chinese consumer reviews (books, products, hotels), split by a
//! hash of each line into DEV (for reading errors) and TEST (for reporting), plus timings.
//!
//! ```sh
//! cargo run --release -p redress-emotion --example zh_reviews
//! cargo run --release -p redress-emotion --example zh_reviews -- --errors 40   # DEV errors
//! cargo run --release -p redress-emotion --example zh_reviews -- --dir /path/to/zh-reviews
//! cargo run --release -p redress-emotion --example zh_reviews -- --dump-dev dev.tsv  # label, score, triggers, text
//! cargo run --release -p redress-emotion --example zh_reviews -- --dev-only  # while tuning
//! ```
//!
//! The folder holds `neg.txt` and `pos.txt`, one review per line. By default it is
//! `shared/data/zh-reviews` beside the repository.

use std::path::PathBuf;
use std::time::Instant;

use redress_emotion::eval::{Split, split_of};
use redress_emotion::{Analyzer, roc_auc};

struct Review {
    text: String,
    negative: bool,
    split: Split,
}

fn main() {
    let mut dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/zh-reviews"
    ));
    let mut errors = 0usize;
    let mut dump: Option<PathBuf> = None;
    let mut dev_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dir" => dir = PathBuf::from(args.next().expect("--dir needs a path")),
            "--dev-only" => dev_only = true,
            "--dump-dev" => {
                dump = Some(PathBuf::from(args.next().expect("--dump-dev needs a path")))
            }
            "--errors" => {
                errors = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--errors needs a number")
            }
            other => {
                eprintln!(
                    "unknown argument {other}; use --dir PATH, --errors N, --dump-dev FILE, --dev-only"
                );
                std::process::exit(2);
            }
        }
    }

    let mut reviews = Vec::new();
    for (file, negative) in [("neg.txt", true), ("pos.txt", false)] {
        let path = dir.join(file);
        let content = match std::fs::read_to_string(&path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("cannot read {}: {e}", path.display());
                std::process::exit(1);
            }
        };
        reviews.extend(
            content
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| Review {
                    text: l.to_owned(),
                    negative,
                    split: split_of(l),
                }),
        );
    }

    let started = Instant::now();
    let analyzer = Analyzer::default();
    let build = started.elapsed();

    let started = Instant::now();
    let scores: Vec<f32> = reviews
        .iter()
        .map(|r| analyzer.analyze(&r.text).negative_score)
        .collect();
    let elapsed = started.elapsed();
    let chars: usize = reviews.iter().map(|r| r.text.chars().count()).sum();

    let splits: &[Split] = if dev_only {
        &[Split::Dev]
    } else {
        &[Split::Dev, Split::Test]
    };
    for &split in splits {
        let (s, l): (Vec<f32>, Vec<bool>) = reviews
            .iter()
            .zip(&scores)
            .filter(|(r, _)| r.split == split)
            .map(|(r, &s)| (s, r.negative))
            .unzip();
        let undecided = s.iter().filter(|&&x| x == 0.5).count();
        println!(
            "{:<4} AUC {:.4}  ({} reviews: {} negative, {} positive; {:.1}% without evidence)",
            if split == Split::Dev { "DEV" } else { "TEST" },
            roc_auc(&s, &l),
            l.len(),
            l.iter().filter(|&&n| n).count(),
            l.iter().filter(|&&n| !n).count(),
            100.0 * undecided as f64 / l.len().max(1) as f64,
        );
    }
    let per_review = elapsed.as_secs_f64() * 1e6 / reviews.len() as f64;
    let per_200 = elapsed.as_secs_f64() * 1e6 / chars as f64 * 200.0;
    println!(
        "timing: lexicon + automaton built in {:.1} ms; {} reviews ({:.0} chars on average) in {:.0} ms: {:.2} µs per review, {:.2} µs per 200 characters",
        build.as_secs_f64() * 1e3,
        reviews.len(),
        chars as f64 / reviews.len() as f64,
        elapsed.as_secs_f64() * 1e3,
        per_review,
        per_200,
    );

    if let Some(path) = dump {
        // DEV only, like the errors below.
        let mut out = String::new();
        for (r, s) in reviews.iter().zip(&scores) {
            if r.split == Split::Dev {
                let label = if r.negative { "neg" } else { "pos" };
                let triggers: Vec<String> = analyzer
                    .analyze(&r.text)
                    .triggers
                    .iter()
                    .map(|t| {
                        let negated = if t.negated { "!" } else { "" };
                        format!(
                            "{}{negated}:{}:{:.2}",
                            t.phrase,
                            t.emotion.as_str(),
                            t.weight
                        )
                    })
                    .collect();
                out.push_str(&format!(
                    "{label}\t{s}\t{}\t{}\n",
                    triggers.join("|"),
                    r.text.replace('\t', " ")
                ));
            }
        }
        std::fs::write(&path, out).expect("write the DEV dump");
    }

    if errors > 0 {
        // DEV only: TEST is for reporting, never for reading.
        let mut dev: Vec<(f32, &Review)> = reviews
            .iter()
            .zip(&scores)
            .filter(|(r, _)| r.split == Split::Dev)
            .map(|(r, &s)| (if r.negative { 1.0 - s } else { s }, r))
            .collect();
        dev.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (miss, r) in dev.iter().take(errors) {
            let reading = analyzer.analyze(&r.text);
            let triggers: Vec<String> = reading
                .triggers
                .iter()
                .map(|t| {
                    format!(
                        "{}{}{}:{}:{:.2}",
                        t.phrase,
                        if t.negated { "¬" } else { "" },
                        if t.intensified { "↑" } else { "" },
                        t.emotion.as_str(),
                        t.weight
                    )
                })
                .collect();
            println!(
                "\n[{}] miss {:.2}: {}\n    {}",
                if r.negative { "neg" } else { "pos" },
                miss,
                r.text.chars().take(160).collect::<String>(),
                triggers.join("  ")
            );
        }
    }
}
