use std::str::FromStr;
use std::sync::OnceLock;

use rust_decimal::Decimal;

use super::*;

fn classifier() -> &'static RuleClassifier {
    static CLASSIFIER: OnceLock<RuleClassifier> = OnceLock::new();
    CLASSIFIER.get_or_init(RuleClassifier::builtin)
}

fn classify(narrative: &str) -> Classification {
    classifier().classify(&ClassifyInput::new(narrative))
}

fn code(label: &Option<Label>) -> Option<&str> {
    label.as_ref().map(|l| l.code.as_str())
}

fn kinds(c: &Classification) -> Vec<RiskKind> {
    let mut k: Vec<RiskKind> = c.risk_flags.iter().map(|f| f.kind).collect();
    k.dedup();
    k
}

/// Every flag's span must slice the original field to exactly its phrase.
fn assert_spans(c: &Classification, input: &ClassifyInput<'_>) {
    for f in &c.risk_flags {
        let text = match f.field {
            InputField::Narrative => input.narrative,
            InputField::Request => input.request,
        };
        assert_eq!(&text[f.start..f.end], f.phrase, "{f:?}");
    }
}

// ----- normalisation -----

#[test]
fn normalize_folds_width_case_and_spaces() {
    assert_eq!(normalize("ＡＴＭ机吞卡"), "atm机吞卡");
    assert_eq!(normalize("Credit\u{3000}\u{3000}CARD"), "credit card");
    assert_eq!(normalize("１２３７８，"), "12378,");
    assert_eq!(normalize("I won’t"), "i won't");
    assert_eq!(normalize("a \n\t b"), "a\nb");
    assert_eq!(normalize("信用\u{200B}卡"), "信用卡");
}

// ----- taxonomy -----

#[test]
fn builtin_taxonomy_has_every_dimension() {
    let t = Taxonomy::builtin();
    for d in Dimension::ALL {
        assert!(t.nodes(d).count() > 3, "{d} has nodes");
    }
    for rule in t.rules() {
        assert!(t.is_valid(rule.dimension, &rule.code), "{}", rule.id);
    }
    let kinds: Vec<RiskKind> = t.flag_rules().iter().map(|f| f.kind).collect();
    for kind in RiskKind::ALL {
        assert!(kinds.contains(&kind), "{kind:?} has phrases");
    }
}

#[test]
fn lookup_path_and_level() {
    let t = Taxonomy::builtin();
    assert!(t.is_valid(Dimension::BusinessType, "B0302"));
    assert!(!t.is_valid(Dimension::Cause, "B0302"));
    assert_eq!(
        t.node(Dimension::Channel, "A10303").unwrap().name_zh,
        "移动客户端"
    );
    let path: Vec<&str> = t
        .path(Dimension::Channel, "A10303")
        .iter()
        .map(|n| n.code.as_str())
        .collect();
    assert_eq!(path, ["A1", "A103", "A10303"]);
    assert_eq!(t.level(Dimension::Channel, "A10303"), Some(3));
    assert_eq!(t.level(Dimension::Channel, "nope"), None);
    let children: Vec<&str> = t
        .children(Dimension::Cause, "CI")
        .map(|n| n.code.as_str())
        .collect();
    assert!(children.contains(&"CI03"));
    let product = t.node(Dimension::CfpbProduct, "credit_reporting").unwrap();
    assert_eq!(
        product.name_en,
        "Credit reporting or other personal consumer reports"
    );
    for name in ["理赔纠纷", "销售纠纷", "销售误导", "退保纠纷", "电销扰民"] {
        assert!(
            t.nodes(Dimension::Cause).any(|n| n.name_zh == name),
            "{name}"
        );
    }
    for name in ["机动车辆保险", "保证保险", "普通人寿保险", "疾病保险"] {
        assert!(
            t.nodes(Dimension::InsuranceLine).any(|n| n.name_zh == name),
            "{name}"
        );
    }
}

#[test]
fn merge_overrides_codes_rules_and_sections() {
    let mut t = Taxonomy::builtin();
    t.merge_toml(
        r#"
        [nodes]
        business_type = [
          { code = "B0302", name_zh = "信用卡业务" },
          { code = "B11", name_zh = "保管箱", name_en = "Safe deposit box" },
        ]

        [[rule]]
        id = "business.safe_box"
        dimension = "business_type"
        code = "B11"
        weight = 2.0
        phrases = ["保管箱", "safe deposit box"]

        [[rule]]
        id = "channel.sms"
        enabled = false

        [severity]
        default = "low"
        amount_thresholds = [{ at_least = "10000", severity = "high" }]
        "#,
    )
    .unwrap();
    assert_eq!(
        t.node(Dimension::BusinessType, "B0302").unwrap().name_zh,
        "信用卡业务"
    );
    assert_eq!(
        t.node(Dimension::BusinessType, "B0302").unwrap().name_en,
        "Credit card"
    );
    assert!(t.rules().iter().all(|r| r.id != "channel.sms"));

    let c = RuleClassifier::new(t);
    let input = ClassifyInput {
        narrative: "保管箱里的东西不见了，收到短信才知道",
        amount_in_cny_equivalent: Some(Decimal::from(20_000)),
        ..ClassifyInput::default()
    };
    let result = c.classify(&input);
    assert_eq!(code(&result.business_type), Some("B11"));
    assert_eq!(result.channel, None);
    assert_eq!(result.severity, Severity::High);
}

#[test]
fn failed_merge_leaves_taxonomy_unchanged() {
    let mut t = Taxonomy::builtin();
    let rules = t.rules().len();
    let err = t
        .merge_toml(
            r#"
            [[rule]]
            id = "x"
            dimension = "cause"
            code = "NOPE"
            weight = 1.0
            phrases = ["x"]
            "#,
        )
        .unwrap_err();
    assert!(matches!(err, TaxonomyError::InvalidRule { .. }), "{err}");
    assert_eq!(t.rules().len(), rules);

    assert!(matches!(
        t.merge_toml("[[rule]]\nid = \"new\"\nweight = 1.0\n"),
        Err(TaxonomyError::InvalidRule { .. })
    ));
    assert!(matches!(
        t.merge_toml("unknown_section = 1"),
        Err(TaxonomyError::Toml(_))
    ));
}

#[test]
fn standalone_parse_is_strict() {
    let err = Taxonomy::parse_toml("[nodes]\ncause = []\n").unwrap_err();
    assert!(matches!(err, TaxonomyError::MissingSection(_)), "{err}");

    let sections = Taxonomy::BUILTIN_TOML
        .split_once("\n[severity]")
        .map(|(_, rest)| format!("[severity]{rest}"))
        .unwrap();
    let duplicate = format!(
        "[nodes]\ncause = [{{ code = \"C1\", name_zh = \"a\", name_en = \"a\" }}, {{ code = \"C1\", name_zh = \"b\", name_en = \"b\" }}]\n{sections}"
    );
    assert!(matches!(
        Taxonomy::parse_toml(&duplicate),
        Err(TaxonomyError::DuplicateNode { .. })
    ));
    let cycle = format!(
        "[nodes]\ncause = [{{ code = \"C1\", parent = \"C2\", name_zh = \"a\", name_en = \"a\" }}, {{ code = \"C2\", parent = \"C1\", name_zh = \"b\", name_en = \"b\" }}]\n{sections}"
    );
    assert!(matches!(
        Taxonomy::parse_toml(&cycle),
        Err(TaxonomyError::InvalidNode { .. })
    ));
    let orphan = format!(
        "[nodes]\ncause = [{{ code = \"C1\", parent = \"C9\", name_zh = \"a\", name_en = \"a\" }}]\n{sections}"
    );
    assert!(Taxonomy::parse_toml(&orphan).is_err());
    let minimal = format!(
        "[nodes]\ncause = [{{ code = \"C1\", name_zh = \"收费\", name_en = \"Fees\" }}]\n\
         [[rule]]\nid = \"fees\"\ndimension = \"cause\"\ncode = \"C1\"\nweight = 1.0\nphrases = [\"收费\"]\n{sections}"
    );
    let t = Taxonomy::parse_toml(&minimal).unwrap();
    assert_eq!(t.rules().len(), 1);
    let c = RuleClassifier::new(t);
    assert_eq!(
        code(&c.classify(&ClassifyInput::new("乱收费")).cause),
        Some("C1")
    );
}

#[test]
fn an_override_merges_over_the_builtin_taxonomy_or_changes_nothing() {
    let mut t = Taxonomy::builtin();
    t.merge_toml("[age]\nelderly_min_age = 60\n").unwrap();
    assert_eq!(t.age().elderly_min_age, 60);
    let before = t.clone();
    assert!(matches!(t.merge_toml("[age\n"), Err(TaxonomyError::Toml(_))));
    assert_eq!(t.age().elderly_min_age, before.age().elderly_min_age);
}

// ----- labels -----

#[test]
fn stolen_credit_card_with_regulator_threat() {
    let text = "我的信用卡被盗刷了5000元，银行不处理，我要打12378投诉";
    let input = ClassifyInput::new(text);
    let c = classifier().classify(&input);
    assert_eq!(code(&c.business_type), Some("B0302"));
    assert_eq!(code(&c.cause), Some("C09"));
    assert_eq!(kinds(&c), [RiskKind::RegulatorThreat]);
    let flag = &c.risk_flags[0];
    assert_eq!(flag.phrase, "12378");
    assert_eq!(&text[flag.start..flag.end], "12378");
    assert_eq!(flag.field, InputField::Narrative);
    assert_eq!(c.severity, Severity::High);
    assert_eq!(c.source, LabelSource::Rules);
    let confidence = c.business_type.as_ref().unwrap().confidence;
    assert!(confidence > 0.5 && confidence <= 1.0, "{confidence}");
}

#[test]
fn full_width_atm_swallowed_card() {
    let c = classify("ＡＴＭ机吞卡，到现在还没退给我");
    assert_eq!(code(&c.channel), Some("A102"));
    assert_eq!(code(&c.cause), Some("C02"));
    assert_eq!(code(&c.business_type), Some("B03"));
    assert_eq!(c.severity, Severity::Low);
}

#[test]
fn chinese_fixtures() {
    let cases: &[(&str, Dimension, &str)] = &[
        ("信用卡年费没有告知就扣了，乱收费", Dimension::Cause, "C11"),
        (
            "信用卡年费没有告知就扣了，乱收费",
            Dimension::BusinessType,
            "B0302",
        ),
        ("大堂经理态度恶劣，对我大吼大叫", Dimension::Cause, "C0101"),
        ("大堂经理态度恶劣，对我大吼大叫", Dimension::Channel, "A101"),
        (
            "手机银行转账一直失败，系统故障",
            Dimension::Channel,
            "A10303",
        ),
        ("手机银行转账一直失败，系统故障", Dimension::Cause, "C02"),
        (
            "手机银行转账一直失败，系统故障",
            Dimension::BusinessType,
            "B04",
        ),
        (
            "网银登录不了，打客服电话也没人接",
            Dimension::Channel,
            "A10301",
        ),
        (
            "房贷提前还款还要收违约金",
            Dimension::BusinessType,
            "B020101",
        ),
        ("房贷提前还款还要收违约金", Dimension::Cause, "C11"),
        (
            "催收公司天天打电话骚扰我家人，爆通讯录",
            Dimension::Cause,
            "C12",
        ),
        (
            "征信报告上有一条不是我的逾期记录",
            Dimension::BusinessType,
            "B06",
        ),
        (
            "我的个人信息被泄露了，天天接到陌生电话",
            Dimension::Cause,
            "C10",
        ),
        (
            "理财经理销售误导，说是保本的，结果亏了",
            Dimension::Cause,
            "C0401",
        ),
        (
            "理财经理销售误导，说是保本的，结果亏了",
            Dimension::BusinessType,
            "B07",
        ),
        ("办贷款被强制搭售保险", Dimension::Cause, "C07"),
        ("柜员拒收现金，说只能扫码", Dimension::BusinessType, "B05"),
        (
            "重疾险理赔被拒，说是既往症",
            Dimension::InsuranceLine,
            "I202",
        ),
        ("重疾险理赔被拒，说是既往症", Dimension::Cause, "CI01"),
        (
            "车险定损金额太低，理赔拖了三个月",
            Dimension::InsuranceLine,
            "I101",
        ),
        (
            "保险代理人销售误导，当时说是存款",
            Dimension::Cause,
            "CI0201",
        ),
        ("保险公司电销扰民，一天打五个电话", Dimension::Cause, "CI04"),
        (
            "银行营销电话一天打五个，电话推销太烦",
            Dimension::Cause,
            "C0402",
        ),
    ];
    for &(text, dimension, expected) in cases {
        let c = classify(text);
        assert_eq!(
            c.label(dimension).map(|l| l.code.as_str()),
            Some(expected),
            "{text} / {dimension}: {c:?}"
        );
    }
}

#[test]
fn bancassurance_surrender() {
    let c = classify("2021年在银行买的保险，柜员说是存款，现在想退保只能拿回一半现金价值");
    assert_eq!(code(&c.business_type), Some("B0801"));
    assert_eq!(code(&c.cause), Some("CI03"));
    assert_eq!(code(&c.channel), Some("A101"));
}

#[test]
fn english_fixtures() {
    let cases: &[(&str, Dimension, &str)] = &[
        (
            "There is an account on my credit report that is not mine. Equifax ignored my dispute.",
            Dimension::CfpbProduct,
            "credit_reporting",
        ),
        (
            "There is an account on my credit report that is not mine. Equifax ignored my dispute.",
            Dimension::CfpbIssue,
            "incorrect_information",
        ),
        (
            "There is an account on my credit report that is not mine. Equifax ignored my dispute.",
            Dimension::BusinessType,
            "B06",
        ),
        (
            "A debt collector keeps calling me at work about a debt I don't owe.",
            Dimension::CfpbProduct,
            "debt_collection",
        ),
        (
            "A debt collector keeps calling me at work about a debt I don't owe.",
            Dimension::Cause,
            "C12",
        ),
        (
            "I was charged an annual fee on my CREDIT CARD that was never disclosed.",
            Dimension::CfpbProduct,
            "credit_card",
        ),
        (
            "I was charged an annual fee on my CREDIT CARD that was never disclosed.",
            Dimension::Cause,
            "C11",
        ),
        (
            "I was charged an annual fee on my CREDIT CARD that was never disclosed.",
            Dimension::BusinessType,
            "B0302",
        ),
        (
            "Someone made unauthorized transactions from my checking account and the bank says it is not fraud.",
            Dimension::Cause,
            "C09",
        ),
        (
            "Someone made unauthorized transactions from my checking account and the bank says it is not fraud.",
            Dimension::CfpbProduct,
            "checking_or_savings",
        ),
        (
            "My mortgage servicer misapplied my payment and now reports me late.",
            Dimension::CfpbProduct,
            "mortgage",
        ),
        (
            "The ATM swallowed my card and the branch was rude to me.",
            Dimension::Channel,
            "A102",
        ),
        (
            "The mobile banking app crashes every time I log in.",
            Dimension::Channel,
            "A10303",
        ),
        (
            "The adviser misled me and mis-sold me a wealth management product.",
            Dimension::Cause,
            "C0401",
        ),
        (
            "My insurer denied my claim for hospital costs. Claim denied without reason.",
            Dimension::Cause,
            "CI01",
        ),
    ];
    for &(text, dimension, expected) in cases {
        let c = classify(text);
        assert_eq!(
            c.label(dimension).map(|l| l.code.as_str()),
            Some(expected),
            "{text} / {dimension}: {c:?}"
        );
    }
}

#[test]
fn nothing_matches_gives_empty_low() {
    let c = classify("今天天气不错。The weather is fine.");
    assert_eq!(c, Classification::empty(LabelSource::Rules));
    let c = classifier().classify(&ClassifyInput::default());
    assert_eq!(c, Classification::empty(LabelSource::Rules));
}

#[test]
fn weak_evidence_alone_gives_no_label() {
    // A lone SMS mention (weight 0.6) labels the channel with the built-in min_score of 0.6;
    // raising min_score must suppress it.
    assert_eq!(code(&classify("收到一条短信").channel), Some("A10305"));
    let mut t = Taxonomy::builtin();
    t.merge_toml("[scoring]\nproduct_weight = 2.0\nproduct_exact_weight = 3.0\nconfidence_scale = 1.5\nmin_score = 1.0\nmax_evidence_per_kind = 5\n")
        .unwrap();
    let c = RuleClassifier::new(t).classify(&ClassifyInput::new("收到一条短信"));
    assert_eq!(c.channel, None);
}

#[test]
fn product_field_decides_and_exact_names_map() {
    let c = classifier().classify(&ClassifyInput {
        narrative: "They keep reporting wrong information and ignore my dispute.",
        product: Some("Credit reporting or other personal consumer reports"),
        ..ClassifyInput::default()
    });
    assert_eq!(code(&c.cfpb_product), Some("credit_reporting"));
    assert!(c.cfpb_product.as_ref().unwrap().confidence > 0.8);

    let c = classifier().classify(&ClassifyInput {
        narrative: "还款日扣款失败，被收了罚息",
        product: Some("信用卡"),
        ..ClassifyInput::default()
    });
    assert_eq!(code(&c.business_type), Some("B0302"));

    let c = classifier().classify(&ClassifyInput {
        narrative: "理赔材料交了两个月没有结果",
        product: Some("  机动车辆保险 "),
        ..ClassifyInput::default()
    });
    assert_eq!(code(&c.insurance_line), Some("I101"));
    assert_eq!(code(&c.cause), Some("CI01"));
}

#[test]
fn confidence_reflects_competition() {
    let single = classify("信用卡信用卡信用卡");
    let mixed = classify("信用卡和借记卡都被冻结了");
    let s = single.business_type.unwrap().confidence;
    let m = mixed.business_type.unwrap().confidence;
    assert!(s > m, "{s} > {m}");
    assert!((0.0..=1.0).contains(&s));
}

#[test]
fn ties_are_deterministic() {
    // Same weight for debit and credit card: the one mentioned first wins.
    assert_eq!(
        code(&classify("借记卡和信用卡").business_type),
        Some("B0301")
    );
    assert_eq!(
        code(&classify("信用卡和借记卡").business_type),
        Some("B0302")
    );
}

// ----- risk flags and severity -----

#[test]
fn threat_flags_in_both_languages() {
    let cases: &[(&str, RiskKind, &str)] = &[
        (
            "再不解决我就去银保监会投诉",
            RiskKind::RegulatorThreat,
            "银保监会",
        ),
        (
            "我已经向金融监管总局反映了",
            RiskKind::RegulatorThreat,
            "金融监管总局",
        ),
        (
            "I have filed a complaint with the CFPB.",
            RiskKind::RegulatorThreat,
            "CFPB",
        ),
        (
            "I will take this to the Financial Ombudsman.",
            RiskKind::RegulatorThreat,
            "Financial Ombudsman",
        ),
        (
            "If this is not fixed I will report you to the regulator",
            RiskKind::RegulatorThreat,
            "report you to the regulator",
        ),
        ("不给说法就找媒体曝光", RiskKind::MediaExposure, "媒体"),
        ("我会发到抖音上让大家看看", RiskKind::MediaExposure, "抖音"),
        (
            "I'm going to post this on social media",
            RiskKind::MediaExposure,
            "social media",
        ),
        ("我已经请了律师准备起诉", RiskKind::Lawsuit, "律师"),
        (
            "My attorney will be in touch. I will sue.",
            RiskKind::Lawsuit,
            "attorney",
        ),
        (
            "我们都是被同一个经理骗的，建了维权群",
            RiskKind::GroupAction,
            "我们都",
        ),
        (
            "This affects all of us; a class action is coming",
            RiskKind::GroupAction,
            "all of us",
        ),
    ];
    for &(text, kind, phrase) in cases {
        let input = ClassifyInput::new(text);
        let c = classifier().classify(&input);
        assert!(
            c.risk_flags
                .iter()
                .any(|f| f.kind == kind && f.phrase == phrase),
            "{text}: {:?}",
            c.risk_flags
        );
        assert_spans(&c, &input);
        assert_eq!(c.severity, Severity::High, "{text}");
    }
}

#[test]
fn negated_threats_do_not_flag() {
    for text in [
        "我不会去起诉，只希望银行尽快退款",
        "我没有打算起诉，也不会向媒体曝光",
        "我并不想找律师",
        "我不打算向监管部门投诉，协商解决就好",
        "I will not sue, I just want my money back.",
        "I won’t go to the media over this.",
        "I don't want to involve a lawyer.",
        "I have no intention of suing anyone.",
        "I have not contacted the CFPB yet.",
    ] {
        let c = classify(text);
        assert!(
            !c.has_flag(RiskKind::Lawsuit)
                && !c.has_flag(RiskKind::MediaExposure)
                && !c.has_flag(RiskKind::RegulatorThreat),
            "{text}: {:?}",
            c.risk_flags
        );
        assert_eq!(c.severity, Severity::Low, "{text}");
    }
}

#[test]
fn negation_stays_in_its_clause_and_respects_double_negation() {
    for (text, kind) in [
        ("如果银行不处理，我就起诉", RiskKind::Lawsuit),
        ("银行不处理我就起诉", RiskKind::Lawsuit),
        ("我不得不起诉", RiskKind::Lawsuit),
        ("不排除向媒体曝光", RiskKind::MediaExposure),
        ("If you don't fix this I will sue", RiskKind::Lawsuit),
        (
            "I will not hesitate to contact the CFPB",
            RiskKind::RegulatorThreat,
        ),
        ("Don't make me go to the media", RiskKind::MediaExposure),
        ("I have no choice but to sue", RiskKind::Lawsuit),
    ] {
        assert!(classify(text).has_flag(kind), "{text}");
    }
}

#[test]
fn word_boundaries_prevent_false_flags() {
    for text in [
        "There is an issue with my account.",
        "We agreed to mediation last week.",
        "The courtesy call never came.",
        "My phone number is 0512378900.",
    ] {
        let c = classify(text);
        assert!(c.risk_flags.is_empty(), "{text}: {:?}", c.risk_flags);
    }
}

#[test]
fn self_harm_is_critical_and_not_negated() {
    let text = "催收天天打电话骚扰我家人，我真的不想活了";
    let input = ClassifyInput::new(text);
    let c = classifier().classify(&input);
    assert!(c.has_flag(RiskKind::SelfHarm));
    assert_eq!(c.severity, Severity::Critical);
    assert_eq!(code(&c.cause), Some("C12"));
    assert_spans(&c, &input);

    let c = classify("I can't take this anymore, I want to kill myself.");
    assert!(c.has_flag(RiskKind::SelfHarm));
    assert_eq!(c.severity, Severity::Critical);
}

#[test]
fn vulnerable_customer_is_medium() {
    let text = "我父亲今年78岁，在网点被推销了理财产品，说是保本的，结果亏了三万";
    let input = ClassifyInput::new(text);
    let c = classifier().classify(&input);
    let flag = c
        .risk_flags
        .iter()
        .find(|f| f.kind == RiskKind::VulnerableCustomer)
        .expect("age flag");
    assert_eq!(flag.phrase, "78岁");
    assert_eq!(c.severity, Severity::Medium);
    assert_eq!(code(&c.business_type), Some("B07"));
    assert_eq!(code(&c.channel), Some("A101"));
    assert_eq!(code(&c.cause), Some("C0401"));
    assert_spans(&c, &input);

    for text in [
        "我是残疾人，行动不便",
        "My elderly mother has dementia and was sold an annuity.",
        "My 84-year-old grandfather was charged twice.",
        "老人七十多岁了不会用手机",
    ] {
        let c = classify(text);
        assert!(c.has_flag(RiskKind::VulnerableCustomer), "{text}");
        assert_eq!(c.severity, Severity::Medium, "{text}");
    }
    assert!(!classify("我今年35岁").has_flag(RiskKind::VulnerableCustomer));
}

#[test]
fn organised_signals_flag_without_raising_severity() {
    let input = ClassifyInput {
        narrative: "本人因疫情收入减少，无力偿还信用卡欠款。",
        request: "要求停息挂账，减免息费，并修复征信，否则将持续投诉",
        ..ClassifyInput::default()
    };
    let c = classifier().classify(&input);
    let signals: Vec<&str> = c
        .risk_flags
        .iter()
        .filter(|f| f.kind == RiskKind::OrganisedComplaintSignal)
        .map(|f| f.phrase.as_str())
        .collect();
    assert_eq!(signals, ["停息挂账", "减免息费", "修复征信"]);
    assert!(c.risk_flags.iter().all(|f| f.field == InputField::Request));
    assert_spans(&c, &input);
    assert_eq!(c.severity, Severity::Low);
    assert_eq!(code(&c.business_type), Some("B0302"));

    let c = classify("贷款年化超36%属于高利贷，还有暴力催收");
    assert_eq!(
        c.risk_flags
            .iter()
            .filter(|f| f.kind == RiskKind::OrganisedComplaintSignal)
            .count(),
        3
    );
}

#[test]
fn amount_thresholds() {
    let at = |amount: &str| {
        classifier()
            .classify(&ClassifyInput {
                narrative: "转账到账延迟",
                amount_in_cny_equivalent: Some(Decimal::from_str(amount).unwrap()),
                ..ClassifyInput::default()
            })
            .severity
    };
    assert_eq!(at("49999.99"), Severity::Low);
    assert_eq!(at("50000"), Severity::Medium);
    assert_eq!(at("2000000"), Severity::Medium);

    let policy = Taxonomy::builtin().severity_policy().clone();
    assert_eq!(policy.evaluate([], None), Severity::Low);
    assert_eq!(
        policy.evaluate([RiskKind::VulnerableCustomer, RiskKind::SelfHarm], None),
        Severity::Critical
    );
}

#[test]
fn spans_point_at_the_original_text() {
    let text = "客户Ｍｒ. 王说：\u{3000}\u{3000}我要打１２３７８投诉！！并且  找   媒体曝光。😡 I will SUE.";
    let input = ClassifyInput {
        narrative: text,
        request: "全额退保，否则找律师",
        ..ClassifyInput::default()
    };
    let c = classifier().classify(&input);
    assert_spans(&c, &input);
    let phrases: Vec<(&str, InputField)> = c
        .risk_flags
        .iter()
        .map(|f| (f.phrase.as_str(), f.field))
        .collect();
    assert_eq!(
        phrases,
        [
            ("１２３７８", InputField::Narrative),
            ("媒体", InputField::Narrative),
            ("曝光", InputField::Narrative),
            ("SUE", InputField::Narrative),
            ("全额退保", InputField::Request),
            ("律师", InputField::Request),
        ]
    );
}

#[test]
fn evidence_is_capped_per_kind() {
    let text = "起诉起诉起诉起诉起诉起诉起诉起诉";
    let c = classify(text);
    assert_eq!(c.risk_flags.len(), 5);
    assert_eq!(c.risk_flags[0].start, 0);
}

// ----- corrections and serialisation -----

#[test]
fn corrections_set_labels_and_source() {
    let t = Taxonomy::builtin();
    let mut c = classify("信用卡被盗刷");
    c.correct(&t, Dimension::Cause, Some("C11"), "alice")
        .unwrap();
    let cause = c.cause.as_ref().unwrap();
    assert_eq!(cause.code, "C11");
    assert_eq!(cause.name_zh, "定价收费");
    assert_eq!(cause.confidence, 1.0);
    assert_eq!(
        c.source,
        LabelSource::Human {
            user: "alice".into()
        }
    );
    c.correct(&t, Dimension::Channel, None, "bob").unwrap();
    assert_eq!(c.channel, None);
    let err = c
        .correct(&t, Dimension::Cause, Some("B0302"), "bob")
        .unwrap_err();
    assert!(matches!(err, TaxonomyError::UnknownCode { .. }));
    assert_eq!(code(&c.cause), Some("C11"));

    c.correct_severity(Severity::High, "carol");
    assert_eq!(c.severity, Severity::High);

    c.set_label(
        Dimension::CfpbIssue,
        t.label(Dimension::CfpbIssue, "fraud_or_scam", 0.5),
    );
    assert_eq!(c.label(Dimension::CfpbIssue).unwrap().confidence, 0.5);
}

#[test]
fn json_round_trip_uses_snake_case() {
    let c = classify("我的信用卡被盗刷了，我要打12378投诉，还要找律师");
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["severity"], "high");
    assert_eq!(json["source"], serde_json::json!({ "kind": "rules" }));
    assert_eq!(json["risk_flags"][0]["kind"], "regulator_threat");
    assert_eq!(json["risk_flags"][0]["field"], "narrative");
    assert_eq!(json["business_type"]["code"], "B0302");
    let back: Classification = serde_json::from_value(json).unwrap();
    assert_eq!(back, c);

    let model = LabelSource::Model {
        model_id: "m1".into(),
    };
    assert_eq!(
        serde_json::to_value(&model).unwrap(),
        serde_json::json!({ "kind": "model", "model_id": "m1" })
    );
    assert_eq!(
        serde_json::to_value(Dimension::BusinessType).unwrap(),
        "business_type"
    );
    assert_eq!(
        serde_json::to_value(RiskKind::OrganisedComplaintSignal).unwrap(),
        "organised_complaint_signal"
    );
}

// ----- throughput -----

#[test]
fn classifies_hundreds_of_texts_without_blowing_up() {
    let openings = [
        "我的信用卡",
        "我父亲的借记卡",
        "I opened a checking account and my debit card",
        "在手机银行上买的理财产品",
        "The mortgage servicer",
        "ＡＴＭ机",
        "保险公司的重疾险",
        "网银转账",
    ];
    let middles = [
        "被盗刷了两万元，",
        "was charged an annual fee I never agreed to, ",
        "收费不透明，客服态度恶劣，",
        "吞卡以后没人处理，",
        "keeps calling my family and harassing them, ",
        "理赔被拒，业务员当时说什么都能赔，",
    ];
    let endings = [
        "我要打12378投诉。",
        "I will not sue but I want a refund.",
        "再不处理就找媒体曝光，我们都在维权群里。",
        "要求停息挂账，减免息费。",
        "My 80-year-old mother is devastated.",
        "希望尽快解决。",
        "我不会去起诉，只要求退款。",
        "",
    ];
    let mut texts = Vec::new();
    for o in openings {
        for m in middles {
            for e in endings {
                texts.push(format!("{o}{m}{e}"));
            }
        }
    }
    // A long narrative too, to catch anything quadratic in text length.
    texts.push("我的信用卡被盗刷了，银行不处理。".repeat(2_000));
    texts.push("我不会起诉".repeat(10_000));
    texts.push("a".repeat(100_000));
    texts.push("I will not sue the bank or go to the media ".repeat(2_000));
    assert!(texts.len() > 300);

    let c = classifier();
    let mut flagged = 0;
    for text in &texts {
        let input = ClassifyInput {
            narrative: text,
            request: "退款",
            product: Some("信用卡"),
            amount_in_cny_equivalent: Some(Decimal::from(1000)),
        };
        let result = c.classify(&input);
        assert_spans(&result, &input);
        assert_eq!(result, c.classify(&input), "deterministic");
        flagged += usize::from(!result.risk_flags.is_empty());
    }
    assert!(flagged > texts.len() / 3 && flagged < texts.len());
}
