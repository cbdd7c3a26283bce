//! Time to read one complaint of 200 characters, and how much of it is text normalisation.
//!
//! ```sh
//! cargo run --release -p redress-emotion --example timing
//! ```

use std::hint::black_box;
use std::time::Instant;

use redress_domain::classify::Normalized;
use redress_emotion::Analyzer;

const COMPLAINT: &str = "我于上个月在贵行办理了信用卡分期业务，客服人员当时明确告知不收取任何手续费，结果账单出来以后发现被扣了将近八百元的手续费。我多次拨打客服电话，每次都说会尽快处理，可是一拖再拖，到现在已经一个多月了还是没有任何答复，也没有人给我一个说法，客服的态度也很敷衍，问什么都说不清楚，让我等通知。我真的非常失望，也很着急，下个月还要还房贷，希望你们尽快退还这笔费用，否则我只能向监管部门投诉了！！我真的很无奈。";

const ROUNDS: u32 = 100_000;

fn per_call(f: impl Fn()) -> f64 {
    // Warm up caches and lazily built tables first.
    for _ in 0..1_000 {
        f();
    }
    let started = Instant::now();
    for _ in 0..ROUNDS {
        f();
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(ROUNDS)
}

fn main() {
    let started = Instant::now();
    let analyzer = Analyzer::default();
    println!(
        "lexicon parsed and automaton built in {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    println!("complaint: {} characters", COMPLAINT.chars().count());
    let normalise = per_call(|| {
        black_box(Normalized::new(black_box(COMPLAINT)));
    });
    let analyse = per_call(|| {
        black_box(analyzer.analyze(black_box(COMPLAINT)));
    });
    println!("analyze: {analyse:.2} µs per call, of which normalisation {normalise:.2} µs");
    let reading = analyzer.analyze(COMPLAINT);
    println!(
        "{:?}, intensity {:.2}, negative_score {:.2}, triggers: {}",
        reading.emotion,
        reading.intensity,
        reading.negative_score,
        reading
            .triggers
            .iter()
            .map(|t| t.phrase.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
}
