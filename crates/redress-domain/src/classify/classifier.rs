//! The rule-based classifier: labels from keyword rules, risk flags with evidence, severity.

use std::collections::{BTreeMap, HashMap};

use super::matcher::{Occurrence, PhraseMatcher, outermost, starts_word};
use super::normalize::Normalized;
use super::{
    Classification, ClassifyInput, Dimension, InputField, LabelSource, RiskFlag, RiskKind,
    Taxonomy, normalize,
};

/// What a phrase is evidence for.
#[derive(Debug, Clone, Copy)]
enum Target {
    Rule(usize),
    Flag(usize),
    InsuranceContext,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    dimension: Dimension,
    node: usize,
    weight: f32,
    sector: super::Sector,
}

#[derive(Debug, Clone)]
struct CompiledFlag {
    kind: RiskKind,
    negatable: bool,
    /// Normalised phrases of every group of the same kind, longest first, which may stand between
    /// a negation and a match ("不会向媒体曝光").
    same_kind: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct CompiledNegation {
    max_steps: usize,
    cues: Vec<String>,
    blockers: Vec<String>,
    fillers: Vec<String>,
}

/// Classifies complaints with the keyword rules and flag phrases of a [`Taxonomy`].
///
/// Construction compiles every phrase into one matcher; [`RuleClassifier::classify`] then reads
/// each text once. The classifier is immutable and `Sync`, so one instance serves all threads.
#[derive(Debug, Clone)]
pub struct RuleClassifier {
    taxonomy: Taxonomy,
    matcher: PhraseMatcher,
    targets: Vec<Vec<Target>>,
    rules: Vec<CompiledRule>,
    flags: Vec<CompiledFlag>,
    /// Normalised node names and codes of the product dimensions.
    product_names: HashMap<String, Vec<usize>>,
    negation: CompiledNegation,
}

/// Where a label's evidence was found; orders tie-breaks ("appears first").
type Position = (u8, usize);

const PRODUCT_POS: u8 = 0;
const NARRATIVE_POS: u8 = 1;
/// How far back from a match a negation is looked for (about 40 Chinese characters).
const NEGATION_WINDOW_BYTES: usize = 120;
const REQUEST_POS: u8 = 2;

impl RuleClassifier {
    /// Compiles the rules of `taxonomy`.
    pub fn new(taxonomy: Taxonomy) -> Self {
        let mut matcher = PhraseMatcher::new();
        let mut targets: Vec<Vec<Target>> = Vec::new();
        let mut add = |phrase: &str, target: Target, matcher: &mut PhraseMatcher| {
            if let Some(id) = matcher.add(&normalize(phrase)) {
                if targets.len() <= id {
                    targets.resize_with(id + 1, Vec::new);
                }
                targets[id].push(target);
            }
        };

        let mut rules = Vec::with_capacity(taxonomy.rules().len());
        for rule in taxonomy.rules() {
            let Some(node) = taxonomy.node_index(rule.dimension, &rule.code) else {
                continue; // validation guarantees this does not happen
            };
            let index = rules.len();
            rules.push(CompiledRule {
                dimension: rule.dimension,
                node,
                weight: rule.weight,
                sector: rule.sector,
            });
            for phrase in &rule.phrases {
                add(phrase, Target::Rule(index), &mut matcher);
            }
        }

        let mut flags = Vec::with_capacity(taxonomy.flag_rules().len());
        for (index, flag) in taxonomy.flag_rules().iter().enumerate() {
            let mut same_kind: Vec<String> = taxonomy
                .flag_rules()
                .iter()
                .filter(|f| f.kind == flag.kind)
                .flat_map(|f| f.phrases.iter())
                .map(|p| normalize(p).trim_end_matches('*').trim().to_owned())
                .collect();
            sort_longest_first(&mut same_kind);
            flags.push(CompiledFlag {
                kind: flag.kind,
                negatable: flag.negatable,
                same_kind,
            });
            for phrase in &flag.phrases {
                add(phrase, Target::Flag(index), &mut matcher);
            }
        }

        for phrase in &taxonomy.context().insurance {
            add(phrase, Target::InsuranceContext, &mut matcher);
        }

        let mut product_names: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, node) in taxonomy.all_nodes().iter().enumerate() {
            if !node.dimension.is_product_dimension() {
                continue;
            }
            for name in [&node.code, &node.name_zh, &node.name_en] {
                let key = normalize(name).trim().to_owned();
                let entry = product_names.entry(key).or_default();
                if !entry.contains(&index) {
                    entry.push(index);
                }
            }
        }

        let config = taxonomy.negation();
        let prepare = |words: &[String]| {
            let mut v: Vec<String> = words
                .iter()
                .map(|w| normalize(w).trim().to_owned())
                .filter(|w| !w.is_empty())
                .collect();
            sort_longest_first(&mut v);
            v
        };
        let negation = CompiledNegation {
            max_steps: config.max_steps,
            cues: prepare(&config.cues),
            blockers: prepare(&config.blockers),
            fillers: prepare(&config.fillers),
        };

        RuleClassifier {
            taxonomy,
            matcher,
            targets,
            rules,
            flags,
            product_names,
            negation,
        }
    }

    /// A classifier over [`Taxonomy::builtin`].
    pub fn builtin() -> Self {
        RuleClassifier::new(Taxonomy::builtin())
    }

    /// The taxonomy the classifier was built from.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// Classifies one complaint. Never fails: text that matches nothing gives no labels, no flags
    /// and the default severity.
    pub fn classify(&self, input: &ClassifyInput<'_>) -> Classification {
        let narrative = Normalized::new(input.narrative);
        let request = Normalized::new(input.request);
        let product = input
            .product
            .map(|p| normalize(p).trim().to_owned())
            .unwrap_or_default();

        let narrative_occ = self.matcher.find_all(&narrative.text);
        let request_occ = self.matcher.find_all(&request.text);
        let product_occ = self.matcher.find_all(&product);
        let product_exact: &[usize] = self
            .product_names
            .get(&product)
            .map(Vec::as_slice)
            .unwrap_or(&[]);

        let insurance = [&narrative_occ, &request_occ, &product_occ]
            .into_iter()
            .flatten()
            .flat_map(|o| &self.targets[o.phrase])
            .any(|t| match *t {
                Target::InsuranceContext => true,
                Target::Rule(r) => self.rules[r].dimension == Dimension::InsuranceLine,
                Target::Flag(_) => false,
            })
            || product_exact
                .iter()
                .any(|&n| self.taxonomy.node_at(n).dimension == Dimension::InsuranceLine);

        let scoring = self.taxonomy.scoring();
        let fields: [(u8, &[Occurrence], f32); 3] = [
            (PRODUCT_POS, &product_occ, scoring.product_weight),
            (NARRATIVE_POS, &narrative_occ, 1.0),
            (REQUEST_POS, &request_occ, 1.0),
        ];

        let mut result = Classification::empty(LabelSource::Rules);
        for dimension in Dimension::ALL {
            let label = self.best_label(dimension, insurance, &fields, product_exact);
            result.set_label(dimension, label);
        }

        let mut flags = Vec::new();
        self.collect_flags(
            &narrative,
            &narrative_occ,
            InputField::Narrative,
            &mut flags,
        );
        self.collect_flags(&request, &request_occ, InputField::Request, &mut flags);
        result.risk_flags = self.finish_flags(flags, input);
        result.severity = self.taxonomy.severity_policy().evaluate(
            result.risk_flags.iter().map(|f| f.kind),
            input.amount_in_cny_equivalent,
        );
        result
    }

    fn best_label(
        &self,
        dimension: Dimension,
        insurance: bool,
        fields: &[(u8, &[Occurrence], f32)],
        product_exact: &[usize],
    ) -> Option<super::Label> {
        let rule_applies = |t: &Target| match *t {
            Target::Rule(r) => {
                let rule = &self.rules[r];
                rule.dimension == dimension && rule.sector.applies(insurance)
            }
            _ => false,
        };

        // (rule, phrase) -> (multiplier, first position): a phrase counts once per rule however
        // often it is repeated, at the best multiplier of the fields it occurs in. Ordered maps
        // keep the floating-point sums, and so the tie-breaks, the same from run to run.
        let mut hits: BTreeMap<(usize, usize), (f32, Position)> = BTreeMap::new();
        for &(field, occurrences, multiplier) in fields {
            let relevant: Vec<&Occurrence> = occurrences
                .iter()
                .filter(|o| self.targets[o.phrase].iter().any(rule_applies))
                .collect();
            for o in outermost(relevant) {
                for t in self.targets[o.phrase].iter().filter(|t| rule_applies(t)) {
                    let Target::Rule(r) = *t else { continue };
                    let pos = (field, o.start);
                    hits.entry((r, o.phrase))
                        .and_modify(|(m, p)| {
                            *m = m.max(multiplier);
                            *p = (*p).min(pos);
                        })
                        .or_insert((multiplier, pos));
                }
            }
        }

        // node -> (score, first position)
        let mut scores: BTreeMap<usize, (f32, Position)> = BTreeMap::new();
        let mut bump = |node: usize, score: f32, pos: Position| {
            scores
                .entry(node)
                .and_modify(|(s, p)| {
                    *s += score;
                    *p = (*p).min(pos);
                })
                .or_insert((score, pos));
        };
        for (&(r, _), &(multiplier, pos)) in &hits {
            let rule = &self.rules[r];
            bump(rule.node, rule.weight * multiplier, pos);
        }
        let exact_weight = self.taxonomy.scoring().product_exact_weight;
        for &node in product_exact {
            if self.taxonomy.node_at(node).dimension == dimension && exact_weight > 0.0 {
                bump(node, exact_weight, (PRODUCT_POS, 0));
            }
        }

        let total: f32 = scores.values().map(|(s, _)| s).sum();
        // Evidence for a class also supports its subclasses, so that 营销 + 误导 picks 销售误导.
        let effective: Vec<(usize, (f32, Position))> = scores
            .iter()
            .map(|(&node, &(own, pos))| {
                let mut score = own;
                let mut parent = self.taxonomy.node_at(node).parent.as_deref();
                let mut steps = 0;
                while let Some(code) = parent {
                    let Some(p) = self.taxonomy.node_index(dimension, code) else {
                        break;
                    };
                    score += scores.get(&p).map_or(0.0, |(s, _)| *s);
                    parent = self.taxonomy.node_at(p).parent.as_deref();
                    steps += 1;
                    if steps > 16 {
                        break;
                    }
                }
                (node, (score, pos))
            })
            .collect();
        let (node, (best, _)) =
            effective
                .into_iter()
                .min_by(|(na, (sa, pa)), (nb, (sb, pb))| {
                    sb.total_cmp(sa).then(pa.cmp(pb)).then_with(|| {
                        let a = &self.taxonomy.node_at(*na).code;
                        let b = &self.taxonomy.node_at(*nb).code;
                        a.cmp(b)
                    })
                })?;
        let scoring = self.taxonomy.scoring();
        if best < scoring.min_score || best <= 0.0 {
            return None;
        }
        let saturation = 1.0 - (-best / scoring.confidence_scale).exp();
        let confidence = (saturation * best / total * 1000.0).round() / 1000.0;
        let node = self.taxonomy.node_at(node);
        self.taxonomy.label(dimension, &node.code, confidence)
    }

    fn collect_flags(
        &self,
        text: &Normalized,
        occurrences: &[Occurrence],
        field: InputField,
        out: &mut Vec<(RiskKind, InputField, usize, usize)>,
    ) {
        let is_flag = |o: &&Occurrence| {
            self.targets[o.phrase]
                .iter()
                .any(|t| matches!(t, Target::Flag(_)))
        };
        // "attorney general" is a regulator, not a lawyer: the longer phrase wins.
        let candidates = outermost(occurrences.iter().filter(is_flag).collect());
        for o in candidates {
            for t in &self.targets[o.phrase] {
                let Target::Flag(f) = *t else { continue };
                let flag = &self.flags[f];
                if flag.negatable && self.is_negated(&text.text, o.start, &flag.same_kind) {
                    continue;
                }
                let (start, end) = text.original_span(o.start, o.end);
                out.push((flag.kind, field, start, end));
            }
        }
        let min_age = self.taxonomy.age().elderly_min_age;
        for (start, end) in find_elderly_ages(&text.text, min_age) {
            let (start, end) = text.original_span(start, end);
            out.push((RiskKind::VulnerableCustomer, field, start, end));
        }
    }

    fn finish_flags(
        &self,
        mut found: Vec<(RiskKind, InputField, usize, usize)>,
        input: &ClassifyInput<'_>,
    ) -> Vec<RiskFlag> {
        found.sort_by_key(|&(kind, field, start, end)| (field, start, end, kind));
        found.dedup();
        let cap = self.taxonomy.scoring().max_evidence_per_kind.max(1);
        let mut per_kind: HashMap<RiskKind, usize> = HashMap::new();
        let mut flags = Vec::with_capacity(found.len());
        for (kind, field, start, end) in found {
            let count = per_kind.entry(kind).or_default();
            if *count >= cap {
                continue;
            }
            *count += 1;
            let source = match field {
                InputField::Narrative => input.narrative,
                InputField::Request => input.request,
            };
            flags.push(RiskFlag {
                kind,
                phrase: source[start..end].to_owned(),
                start,
                end,
                field,
            });
        }
        flags
    }

    /// Whether the match starting at `start` is negated within its clause: walking back over
    /// fillers and other phrases of the same flag, a negation cue is reached before anything else.
    fn is_negated(&self, text: &str, start: usize, same_kind: &[String]) -> bool {
        // A negation only reaches a few words, so the look-back is bounded: this keeps a long
        // text without punctuation linear.
        let mut window_start = start.saturating_sub(NEGATION_WINDOW_BYTES);
        while !text.is_char_boundary(window_start) {
            window_start += 1;
        }
        let clause_start = text[window_start..start]
            .char_indices()
            .rev()
            .find(|&(_, c)| is_clause_break(c))
            .map_or(window_start, |(i, c)| window_start + i + c.len_utf8());
        let mut prefix = &text[clause_start..start];
        let neg = &self.negation;
        for _ in 0..=neg.max_steps {
            prefix = prefix.trim_end();
            if prefix.is_empty() || ends_with_any(prefix, &neg.blockers).is_some() {
                return false;
            }
            if ends_with_any(prefix, &neg.cues).is_some() || last_word(prefix).ends_with("n't") {
                return true;
            }
            let skip = ends_with_any(prefix, &neg.fillers)
                .into_iter()
                .chain(ends_with_any(prefix, same_kind))
                .max();
            match skip {
                Some(len) => prefix = &prefix[..prefix.len() - len],
                None => return false,
            }
        }
        false
    }
}

fn sort_longest_first(words: &mut Vec<String>) {
    words.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    words.dedup();
}

fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        ',' | '.'
            | ';'
            | '!'
            | '?'
            | ':'
            | '\n'
            | '。'
            | '、'
            | '；'
            | '！'
            | '？'
            | '…'
            | '，'
            | '：'
    )
}

/// The byte length of the longest of `words` that `text` ends with, on a word boundary for
/// words that start with an ASCII letter or digit.
fn ends_with_any(text: &str, words: &[String]) -> Option<usize> {
    words
        .iter()
        .find(|w| {
            text.ends_with(w.as_str()) && {
                let at = text.len() - w.len();
                !w.starts_with(|c: char| c.is_ascii_alphanumeric()) || starts_word(text, at)
            }
        })
        .map(String::len)
}

fn last_word(text: &str) -> &str {
    text.rsplit(' ').next().unwrap_or(text)
}

/// Spans (in normalised text) of ages at or above `min_age`: "78岁", "七十多岁", "75周岁",
/// "82-year-old", "80 years old", "aged 80".
fn find_elderly_ages(text: &str, min_age: u32) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let accept = |age: Option<u32>| age.is_some_and(|a| a >= min_age && a <= 125);

    for (pos, _) in text.match_indices('岁') {
        let end = pos + '岁'.len_utf8();
        let mut head = &text[..pos];
        head = head.strip_suffix('周').unwrap_or(head);
        for suffix in ['多', '余', '来'] {
            head = head.strip_suffix(suffix).unwrap_or(head);
        }
        let digits = head
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_digit())
            .last()
            .map(|(i, _)| i);
        let (num_start, age) = match digits {
            Some(i) => (i, head[i..].parse::<u32>().ok()),
            None => {
                let Some(i) = head
                    .char_indices()
                    .rev()
                    .take_while(|(_, c)| zh_digit(*c).is_some() || matches!(c, '十' | '百'))
                    .last()
                    .map(|(i, _)| i)
                else {
                    continue;
                };
                (i, parse_zh_number(&head[i..]))
            }
        };
        if accept(age) {
            spans.push((num_start, end));
        }
    }

    const AFTER: [&str; 8] = [
        "-year-old",
        "-years-old",
        " year old",
        " years old",
        " years of age",
        "-yr-old",
        " yr old",
        " yrs old",
    ];
    const BEFORE: [&str; 2] = ["aged ", "age "];
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || !starts_word(text, i) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        let age = text[i..j].parse::<u32>().ok();
        let rest = &text[j..];
        if let Some(suffix) = AFTER.iter().find(|s| rest.starts_with(*s)) {
            if accept(age) {
                spans.push((i, j + suffix.len()));
            }
        } else if let Some(prefix) = BEFORE
            .iter()
            .find(|p| text[..i].ends_with(*p) && starts_word(text, i - p.len()))
        {
            let word_ends = j == bytes.len() || !bytes[j].is_ascii_alphanumeric();
            if word_ends && accept(age) {
                spans.push((i - prefix.len(), j));
            }
        }
        i = j;
    }
    spans
}

fn zh_digit(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// Parses a Chinese numeral below 1000 ("七十五", "八十", "一百零二").
fn parse_zh_number(s: &str) -> Option<u32> {
    let mut total = 0;
    let mut current = 0;
    let mut any = false;
    for c in s.chars() {
        any = true;
        match c {
            '十' => {
                total += current.max(1) * 10;
                current = 0;
            }
            '百' => {
                total += current.max(1) * 100;
                current = 0;
            }
            _ => current = zh_digit(c)?,
        }
    }
    any.then_some(total + current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numerals() {
        assert_eq!(parse_zh_number("七十五"), Some(75));
        assert_eq!(parse_zh_number("八十"), Some(80));
        assert_eq!(parse_zh_number("十五"), Some(15));
        assert_eq!(parse_zh_number("一百零二"), Some(102));
        assert_eq!(parse_zh_number(""), None);
    }

    #[test]
    fn ages() {
        let spans = |t: &str| {
            find_elderly_ages(t, 65)
                .into_iter()
                .map(|(s, e)| t[s..e].to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(spans("我母亲今年78岁了"), vec!["78岁"]);
        assert_eq!(spans("父亲七十多岁"), vec!["七十多岁"]);
        assert_eq!(spans("老伴75周岁"), vec!["75周岁"]);
        assert_eq!(spans("我30岁，儿子5岁"), Vec::<String>::new());
        assert_eq!(spans("my 82-year-old father"), vec!["82-year-old"]);
        assert_eq!(spans("she is 90 years old"), vec!["90 years old"]);
        assert_eq!(spans("aged 80, my mother"), vec!["aged 80"]);
        assert_eq!(spans("i paid 80 dollars at age 30"), Vec::<String>::new());
        assert_eq!(spans("account 1280 years old"), Vec::<String>::new());
    }
}
