//! Keywords and fingerprints on complaint-like texts.

use redress_text::{Fingerprint, fingerprint, keywords};

/// A template as organised complaint agencies send it, filled in for different people.
fn template(name: &str, id: &str, bank: &str, amount: &str) -> String {
    format!(
        "本人{name}，身份证号{id}，于2021年在{bank}办理信用卡，因疫情失业收入锐减，目前欠款{amount}元无力偿还。\
         贵行催收人员多次爆通讯录、威胁恐吓，严重影响本人及家人生活。根据相关规定，本人现申请停息挂账，\
         减免息费，分60期偿还本金，并要求停止暴力催收、修复征信。如不处理，本人将向金融监管总局和12378投诉。"
    )
}

#[test]
fn identical_text_is_fully_similar() {
    let text = template("张伟", "110101199003071234", "招商银行", "58000");
    assert_eq!(fingerprint(&text).similarity(&fingerprint(&text)), 1.0);
    assert_eq!(fingerprint(&text), fingerprint(&text.clone()));
}

#[test]
fn template_with_other_name_and_amount_is_highly_similar() {
    let a = fingerprint(&template("张伟", "110101199003071234", "招商银行", "58000"));
    let b = fingerprint(&template(
        "李娜",
        "320102198511230021",
        "招商银行",
        "126500",
    ));
    let c = fingerprint(&template("王芳", "440301199207154418", "平安银行", "33000"));
    assert!(a.similarity(&b) >= 0.6, "{}", a.similarity(&b));
    assert!(a.similarity(&c) >= 0.6, "{}", a.similarity(&c));
    assert!(shares_band(&a, &b));
}

#[test]
fn unrelated_texts_are_dissimilar() {
    let a = fingerprint(&template("张伟", "110101199003071234", "招商银行", "58000"));
    let b = fingerprint(
        "在网点办理存款业务时排队两个小时，柜员态度冷淡，还要求我购买理财产品才给办理。",
    );
    let c = fingerprint("保险公司以未如实告知为由拒绝理赔住院费用，但投保时业务员并没有询问病史。");
    for (x, y) in [(&a, &b), (&a, &c), (&b, &c)] {
        assert!(x.similarity(y) < 0.15, "{}", x.similarity(y));
    }
}

fn shares_band(a: &Fingerprint, b: &Fingerprint) -> bool {
    let keys = a.band_keys();
    b.band_keys().iter().zip(keys).any(|(x, y)| *x == y)
}

/// Pairs of complaints about the same problem, worded by different people.
const PARAPHRASES: &[(&str, &str)] = &[
    (
        "我的信用卡昨天晚上被盗刷了三笔，共计八千元，我本人一直在家，卡也在身边，要求银行退还被盗刷的钱。",
        "信用卡被盗刷八千元，分三笔，当时卡在我身边，本人没有消费，请银行退还被盗刷的资金。",
    ),
    (
        "系统升级导致我按时还款却被显示逾期，现在征信上有逾期记录，要求撤销逾期记录。",
        "我按时还款了，但是因为银行系统问题显示逾期，征信出现逾期记录，请撤销这条逾期记录。",
    ),
    (
        "在ATM机取款时机器吞卡，卡没退出来钱也没出来，网点说要等三个工作日才能处理。",
        "ATM取款吞卡，钱没出来卡也没退，打电话给网点说三个工作日后处理，太慢了。",
    ),
    (
        "业务员推销保险时说是理财产品，可以随时取出，现在要退保只退一半，属于销售误导，要求全额退保。",
        "当初业务员说这是理财产品随时可以取，结果是保险，退保只能拿回一半，销售误导，我要全额退保。",
    ),
    (
        "催收人员每天打电话到我单位，还给我的亲戚朋友打电话，爆通讯录，要求停止暴力催收。",
        "暴力催收，催收人员天天打我单位电话，还打给亲戚朋友爆通讯录，请停止这种催收方式。",
    ),
    (
        "ETC在同一天同一路段重复扣费两次，联系客服至今没有退还多扣的费用。",
        "同一路段ETC扣费两次，重复扣费，客服一直不退还多扣费用。",
    ),
];

#[test]
fn paraphrases_share_a_band_more_often_than_unrelated_texts() {
    let fingerprints: Vec<(Fingerprint, Fingerprint)> = PARAPHRASES
        .iter()
        .map(|(a, b)| (fingerprint(a), fingerprint(b)))
        .collect();
    let same_problem = fingerprints
        .iter()
        .filter(|(a, b)| shares_band(a, b))
        .count();
    // Every first text against the second text of every other pair.
    let mut unrelated = 0;
    let mut unrelated_pairs = 0;
    for (i, (a, _)) in fingerprints.iter().enumerate() {
        for (j, (_, b)) in fingerprints.iter().enumerate() {
            if i != j {
                unrelated_pairs += 1;
                unrelated += usize::from(shares_band(a, b));
            }
        }
    }
    let same_rate = same_problem as f64 / fingerprints.len() as f64;
    let unrelated_rate = unrelated as f64 / unrelated_pairs as f64;
    assert!(
        same_rate >= 0.8,
        "paraphrases share a band in {same_rate:.2} of pairs"
    );
    assert!(
        unrelated_rate <= 0.25,
        "unrelated texts share a band in {unrelated_rate:.2} of pairs"
    );
    for (a, b) in &fingerprints {
        let paraphrase = a.similarity(b);
        let best_unrelated = fingerprints
            .iter()
            .filter(|(other, _)| other != a)
            .map(|(other, _)| a.similarity(other))
            .fold(0.0f32, f32::max);
        assert!(
            paraphrase > best_unrelated,
            "{paraphrase} vs {best_unrelated}"
        );
    }
}

#[test]
fn keywords_label_a_batch_of_complaints() {
    let batch = [
        "我每个月都是按时还款，这个月却显示逾期，还产生了罚息。",
        "还款日当天已经还款，系统显示逾期，要求取消逾期记录和罚息。",
        "按时还款了为什么还显示逾期？影响了我的征信。",
    ]
    .join("\n");
    let top = keywords(&batch, 3);
    assert!(top.contains(&"逾期".to_owned()), "{top:?}");
    assert!(top.contains(&"还款".to_owned()), "{top:?}");
    assert!(
        top.contains(&"显示".to_owned()) || top.contains(&"罚息".to_owned()),
        "{top:?}"
    );
}

#[test]
fn keywords_of_english_text() {
    let text = "I disputed the charge twice. The charge is still on my credit report and the \
                dispute was closed without explanation.";
    let top = keywords(text, 3);
    assert_eq!(top[0], "charge", "{top:?}");
    assert!(
        !top.iter()
            .any(|w| ["the", "is", "on", "my", "i"].contains(&w.as_str())),
        "{top:?}"
    );
}
