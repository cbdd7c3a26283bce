//! Snippets: windows of the original text with every match highlighted as written.

use redress_text::{ELLIPSIS, SearchQuery, Snippet, snippet};

fn query(q: &str) -> SearchQuery {
    SearchQuery::parse(q).unwrap_or_else(|e| panic!("{q}: {e}"))
}

fn highlighted(s: &Snippet) -> Vec<&str> {
    s.highlights.iter().map(|r| &s.text[r.clone()]).collect()
}

#[test]
fn highlights_the_original_traditional_and_full_width_text() {
    let text = "本人在工商銀行辦理的銀行卡被凍結，ＡＴＭ也取不出錢。";
    let s = snippet(text, &query("银行卡 atm"), 100).unwrap();
    assert_eq!(s.text, text, "a short text is shown whole, uncut");
    assert_eq!(highlighted(&s), ["銀行卡", "ＡＴＭ"]);
    assert_eq!(
        s.marked("【", "】"),
        "本人在工商銀行辦理的【銀行卡】被凍結，【ＡＴＭ】也取不出錢。"
    );
}

#[test]
fn long_text_is_cut_around_the_match_with_ellipses() {
    let before = "客户反映前期多次致电客服热线但一直没有得到答复。".repeat(4);
    let after = "希望尽快给出处理意见并书面回复本人。".repeat(4);
    let text = format!("{before}信用卡被盗刷五千元{after}");
    let s = snippet(&text, &query("盗刷"), 30).unwrap();
    assert!(
        s.text.starts_with(ELLIPSIS) && s.text.ends_with(ELLIPSIS),
        "{}",
        s.text
    );
    let inner = &s.text[ELLIPSIS.len()..s.text.len() - ELLIPSIS.len()];
    assert_eq!(inner.chars().count(), 30, "{inner}");
    assert!(text.contains(inner));
    assert_eq!(highlighted(&s), ["盗刷"]);
    // The match sits in the middle of the window.
    let at = inner.find("盗刷").unwrap();
    let chars_before = inner[..at].chars().count();
    assert!(
        (12..=16).contains(&chars_before),
        "{chars_before} characters before the match"
    );
}

#[test]
fn window_at_the_start_or_end_is_cut_on_one_side_only() {
    let text = format!("年费问题。{}", "后续内容与本次投诉无关。".repeat(10));
    let s = snippet(&text, &query("年费"), 20).unwrap();
    assert!(!s.text.starts_with(ELLIPSIS));
    assert!(s.text.ends_with(ELLIPSIS));
    assert_eq!(highlighted(&s), ["年费"]);
    assert_eq!(s.highlights[0].start, 0);

    let text = format!(
        "{}最后要求退还年费",
        "前面的内容与本次投诉无关。".repeat(10)
    );
    let s = snippet(&text, &query("年费"), 20).unwrap();
    assert!(s.text.starts_with(ELLIPSIS));
    assert!(s.text.ends_with("退还年费"), "{}", s.text);
}

#[test]
fn best_window_holds_the_most_terms_and_every_occurrence_is_marked() {
    let filler = "这里是与问题无关的很长一段文字，".repeat(6);
    let text = format!("开头提到逾期。{filler}后来逾期记录上了征信，逾期又被催收。{filler}");
    let s = snippet(&text, &query("逾期 征信"), 30).unwrap();
    assert_eq!(highlighted(&s), ["逾期", "征信", "逾期"], "{}", s.text);
    assert!(s.text.contains("逾期记录上了征信"));
}

#[test]
fn latin_terms_are_highlighted_as_whole_words_in_any_case() {
    let text = "My CARD was charged twice; the cards team said the Card fee stands.";
    let s = snippet(text, &query("card"), 200).unwrap();
    assert_eq!(highlighted(&s), ["CARD", "Card"]);
}

#[test]
fn overlapping_matches_merge_into_one_highlight() {
    let s = snippet("花花花", &query("花花"), 10).unwrap();
    assert_eq!(s.highlights.len(), 1);
    assert_eq!(highlighted(&s), ["花花花"]);
}

#[test]
fn html_is_escaped_and_marked() {
    let text = "<b>信用卡</b> & \"年费\" 'x'";
    let s = snippet(text, &query("信用卡"), 100).unwrap();
    assert_eq!(
        s.to_html(),
        "&lt;b&gt;<mark>信用卡</mark>&lt;/b&gt; &amp; &quot;年费&quot; &#39;x&#39;"
    );
}

#[test]
fn none_when_no_term_occurs() {
    assert_eq!(snippet("信用卡年费", &query("盗刷"), 50), None);
    assert_eq!(snippet("", &query("盗刷"), 50), None);
    // One of several terms is enough for a snippet.
    assert!(snippet("信用卡年费", &query("盗刷 年费"), 50).is_some());
}

#[test]
fn a_match_longer_than_the_window_is_shown_whole() {
    let text = "前文。信用卡被盗刷。后文。";
    let s = snippet(text, &query("信用卡被盗刷"), 3).unwrap();
    assert_eq!(highlighted(&s), ["信用卡被盗刷"]);
}
