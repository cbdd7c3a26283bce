//! The taxonomy as data: nodes per dimension, keyword rules, risk-flag phrases and the settings
//! of the rule classifier, parsed from TOML and merged with an institution's overrides.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Dimension, Label, RiskKind, Severity, normalize};

/// Errors from parsing, merging or validating a taxonomy, or from using a code it lacks.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    /// The TOML does not parse or does not have the expected shape.
    #[error("invalid taxonomy TOML: {0}")]
    Toml(#[from] toml::de::Error),
    /// A standalone taxonomy lacks a required section.
    #[error("taxonomy has no [{0}] section")]
    MissingSection(&'static str),
    /// The same code appears twice in one dimension of one file.
    #[error("node {dimension}/{code} is defined twice")]
    DuplicateNode {
        /// Dimension of the node.
        dimension: Dimension,
        /// The duplicated code.
        code: String,
    },
    /// A node is missing a field that a new node needs, or has an empty one.
    #[error("node {dimension}/{code}: {reason}")]
    InvalidNode {
        /// Dimension of the node.
        dimension: Dimension,
        /// Code of the node.
        code: String,
        /// What is wrong.
        reason: String,
    },
    /// A keyword rule is incomplete or refers to an unknown node.
    #[error("rule {id}: {reason}")]
    InvalidRule {
        /// The rule id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// A risk-flag phrase group is incomplete.
    #[error("flag {id}: {reason}")]
    InvalidFlag {
        /// The flag group id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// The same rule or flag id appears twice in one file.
    #[error("id {0} is defined twice")]
    DuplicateId(String),
    /// A setting is out of range.
    #[error("[{section}]: {reason}")]
    InvalidSetting {
        /// The TOML section.
        section: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A code that is not in the taxonomy.
    #[error("unknown code {code} in dimension {dimension}")]
    UnknownCode {
        /// The dimension looked in.
        dimension: Dimension,
        /// The code.
        code: String,
    },
}

/// One node of a dimension (a major, middle or minor class).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// The dimension it belongs to.
    pub dimension: Dimension,
    /// Code, unique within the dimension.
    pub code: String,
    /// Code of the parent node; `None` for a major class.
    pub parent: Option<String>,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// Restricts a keyword rule to insurance complaints or to the others, for phrases whose class
/// differs between the two (销售误导 is 营销方式 at a bank and 销售纠纷 at an insurer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sector {
    /// Always applies.
    #[default]
    Any,
    /// Applies only when the complaint does not look like an insurance one.
    Banking,
    /// Applies only when the complaint looks like an insurance one.
    Insurance,
}

impl Sector {
    pub(crate) fn applies(self, insurance: bool) -> bool {
        match self {
            Sector::Any => true,
            Sector::Banking => !insurance,
            Sector::Insurance => insurance,
        }
    }
}

/// A keyword rule: any of `phrases` found in the text is evidence for node `code` of `dimension`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeywordRule {
    /// Stable id, used to override or disable the rule from a user file.
    pub id: String,
    /// Dimension of the target node.
    pub dimension: Dimension,
    /// Code of the target node.
    pub code: String,
    /// Score each distinct matched phrase adds.
    pub weight: f32,
    /// Which complaints the rule applies to.
    pub sector: Sector,
    /// Phrases, Chinese or English; matched after [`normalize`]. A trailing `*` lets an
    /// English phrase match longer words.
    pub phrases: Vec<String>,
}

/// A group of phrases that raise one kind of risk flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagRule {
    /// Stable id, used to override or disable the group from a user file.
    pub id: String,
    /// The flag raised.
    pub kind: RiskKind,
    /// Whether a negated mention ("不会起诉") is ignored.
    pub negatable: bool,
    /// Phrases, matched like keyword-rule phrases.
    pub phrases: Vec<String>,
}

/// An amount in dispute at or above `at_least` (CNY equivalent) raises severity to `severity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountThreshold {
    /// Threshold in CNY (inclusive).
    pub at_least: Decimal,
    /// Minimum severity from then on.
    pub severity: Severity,
}

/// How severity is derived: the highest of the flag severities, the amount thresholds reached
/// and `default`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityPolicy {
    /// Severity when nothing else applies.
    pub default: Severity,
    /// Severity implied by the presence of each flag kind; kinds not listed imply nothing.
    #[serde(default)]
    pub flags: BTreeMap<RiskKind, Severity>,
    /// Amount thresholds.
    #[serde(default)]
    pub amount_thresholds: Vec<AmountThreshold>,
}

impl SeverityPolicy {
    /// The severity for a complaint with the given flag kinds and amount in dispute.
    pub fn evaluate(
        &self,
        kinds: impl IntoIterator<Item = RiskKind>,
        amount_in_cny: Option<Decimal>,
    ) -> Severity {
        let from_flags = kinds
            .into_iter()
            .filter_map(|k| self.flags.get(&k).copied())
            .max();
        let from_amount = amount_in_cny.and_then(|amount| {
            self.amount_thresholds
                .iter()
                .filter(|t| amount >= t.at_least)
                .map(|t| t.severity)
                .max()
        });
        [Some(self.default), from_flags, from_amount]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or_default()
    }
}

/// Scoring settings of the rule classifier; see the module documentation for the formulas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringConfig {
    /// Multiplier for phrases found in the product field.
    pub product_weight: f32,
    /// Score added when the product is exactly a node's name or code.
    pub product_exact_weight: f32,
    /// Score at which confidence reaches 1 - 1/e (before the share of competing labels).
    pub confidence_scale: f32,
    /// Below this best score a dimension gets no label.
    pub min_score: f32,
    /// At most this many pieces of evidence per flag kind, the earliest ones.
    pub max_evidence_per_kind: usize,
}

/// Age-based vulnerability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeConfig {
    /// An age mentioned in the text at or above this flags a vulnerable customer.
    pub elderly_min_age: u32,
}

/// Phrases that give context to the keyword rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextConfig {
    /// Phrases that mark a complaint as an insurance one.
    pub insurance: Vec<String>,
}

/// Negation words for negatable flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegationConfig {
    /// How many fillers or phrases may be skipped between a negation and the match.
    pub max_steps: usize,
    /// Negation words.
    pub cues: Vec<String>,
    /// Words that look negative but keep the threat ("不得不", "不排除").
    pub blockers: Vec<String>,
    /// Words that may stand between a negation and the match ("去", "to", "the").
    pub fillers: Vec<String>,
}

/// The complaint taxonomy and the data of the rule classifier.
///
/// Built from TOML: [`Taxonomy::builtin`] is `data/taxonomy/taxonomy.toml`, shipped in the binary;
/// an institution overrides it with [`Taxonomy::merge_toml`] (the text of its own file). In an
/// override, nodes are upserted by (dimension, code) (an empty `parent` makes a node a major
/// class), `[[rule]]` and `[[flag]]` entries are upserted by `id` (given fields replace the
/// existing ones; `enabled = false` removes the entry), and any other section present replaces
/// the built-in section as a whole.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    nodes: Vec<Node>,
    index: HashMap<Dimension, HashMap<String, usize>>,
    rules: Vec<KeywordRule>,
    flags: Vec<FlagRule>,
    severity: SeverityPolicy,
    scoring: ScoringConfig,
    age: AgeConfig,
    context: ContextConfig,
    negation: NegationConfig,
}

impl Taxonomy {
    /// The text of the built-in taxonomy file.
    pub const BUILTIN_TOML: &'static str = include_str!("../../../../data/taxonomy/taxonomy.toml");

    /// Parses a standalone taxonomy: every section is required and nothing is merged.
    pub fn parse_toml(text: &str) -> Result<Self, TaxonomyError> {
        let raw: RawDoc = toml::from_str(text)?;
        let mut taxonomy = Taxonomy {
            nodes: Vec::new(),
            index: HashMap::new(),
            rules: Vec::new(),
            flags: Vec::new(),
            severity: raw
                .severity
                .clone()
                .ok_or(TaxonomyError::MissingSection("severity"))?,
            scoring: raw
                .scoring
                .clone()
                .ok_or(TaxonomyError::MissingSection("scoring"))?,
            age: raw
                .age
                .clone()
                .ok_or(TaxonomyError::MissingSection("age"))?,
            context: raw
                .context
                .clone()
                .ok_or(TaxonomyError::MissingSection("context"))?,
            negation: raw
                .negation
                .clone()
                .ok_or(TaxonomyError::MissingSection("negation"))?,
        };
        taxonomy.apply(raw)?;
        Ok(taxonomy)
    }

    /// The built-in taxonomy.
    pub fn builtin() -> Self {
        static BUILTIN: OnceLock<Taxonomy> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                Taxonomy::parse_toml(Self::BUILTIN_TOML)
                    .expect("the built-in taxonomy is valid (checked by tests)")
            })
            .clone()
    }

    /// Merges an override file over this taxonomy. On error `self` is left unchanged.
    pub fn merge_toml(&mut self, text: &str) -> Result<(), TaxonomyError> {
        let raw: RawDoc = toml::from_str(text)?;
        let mut next = self.clone();
        if let Some(s) = raw.severity.clone() {
            next.severity = s;
        }
        if let Some(s) = raw.scoring.clone() {
            next.scoring = s;
        }
        if let Some(s) = raw.age.clone() {
            next.age = s;
        }
        if let Some(s) = raw.context.clone() {
            next.context = s;
        }
        if let Some(s) = raw.negation.clone() {
            next.negation = s;
        }
        next.apply_overlay(raw)?;
        *self = next;
        Ok(())
    }

    /// The node `code` of `dimension`.
    pub fn node(&self, dimension: Dimension, code: &str) -> Option<&Node> {
        self.node_index(dimension, code).map(|i| &self.nodes[i])
    }

    /// Whether `code` is a node of `dimension`.
    pub fn is_valid(&self, dimension: Dimension, code: &str) -> bool {
        self.node_index(dimension, code).is_some()
    }

    /// The nodes of `dimension`, in file order.
    pub fn nodes(&self, dimension: Dimension) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(move |n| n.dimension == dimension)
    }

    /// The direct children of node `code` of `dimension`.
    pub fn children<'s>(
        &'s self,
        dimension: Dimension,
        code: &'s str,
    ) -> impl Iterator<Item = &'s Node> + 's {
        self.nodes(dimension)
            .filter(move |n| n.parent.as_deref() == Some(code))
    }

    /// The node and its ancestors, major class first; empty for an unknown code.
    pub fn path(&self, dimension: Dimension, code: &str) -> Vec<&Node> {
        let mut path = Vec::new();
        let mut current = self.node(dimension, code);
        while let Some(node) = current {
            path.push(node);
            current = node.parent.as_deref().and_then(|p| self.node(dimension, p));
        }
        path.reverse();
        path
    }

    /// Depth of the node: 1 for a major class, 2 for a middle one, 3 for a minor one.
    pub fn level(&self, dimension: Dimension, code: &str) -> Option<usize> {
        let depth = self.path(dimension, code).len();
        (depth > 0).then_some(depth)
    }

    /// A [`super::Label`] for node `code` of `dimension`.
    pub fn label(&self, dimension: Dimension, code: &str, confidence: f32) -> Option<Label> {
        self.node(dimension, code).map(|n| Label {
            code: n.code.clone(),
            name_zh: n.name_zh.clone(),
            name_en: n.name_en.clone(),
            confidence,
        })
    }

    /// The keyword rules.
    pub fn rules(&self) -> &[KeywordRule] {
        &self.rules
    }

    /// The risk-flag phrase groups.
    pub fn flag_rules(&self) -> &[FlagRule] {
        &self.flags
    }

    /// The severity policy.
    pub fn severity_policy(&self) -> &SeverityPolicy {
        &self.severity
    }

    /// The scoring settings.
    pub fn scoring(&self) -> &ScoringConfig {
        &self.scoring
    }

    /// The age settings.
    pub fn age(&self) -> &AgeConfig {
        &self.age
    }

    /// The context phrases.
    pub fn context(&self) -> &ContextConfig {
        &self.context
    }

    /// The negation words.
    pub fn negation(&self) -> &NegationConfig {
        &self.negation
    }

    pub(crate) fn node_index(&self, dimension: Dimension, code: &str) -> Option<usize> {
        self.index.get(&dimension)?.get(code).copied()
    }

    pub(crate) fn node_at(&self, index: usize) -> &Node {
        &self.nodes[index]
    }

    pub(crate) fn all_nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Applies a standalone file: duplicates within it are errors.
    fn apply(&mut self, raw: RawDoc) -> Result<(), TaxonomyError> {
        for (dimension, nodes) in raw.nodes {
            for node in nodes {
                if self.is_valid(dimension, &node.code) {
                    return Err(TaxonomyError::DuplicateNode {
                        dimension,
                        code: node.code,
                    });
                }
                self.upsert_node(dimension, node)?;
            }
        }
        let mut seen = std::collections::HashSet::new();
        for rule in raw.rules {
            if !seen.insert(format!("rule:{}", rule.id)) {
                return Err(TaxonomyError::DuplicateId(rule.id));
            }
            self.upsert_rule(rule)?;
        }
        for flag in raw.flags {
            if !seen.insert(format!("flag:{}", flag.id)) {
                return Err(TaxonomyError::DuplicateId(flag.id));
            }
            self.upsert_flag(flag)?;
        }
        self.validate()
    }

    fn apply_overlay(&mut self, raw: RawDoc) -> Result<(), TaxonomyError> {
        for (dimension, nodes) in raw.nodes {
            for node in nodes {
                self.upsert_node(dimension, node)?;
            }
        }
        for rule in raw.rules {
            self.upsert_rule(rule)?;
        }
        for flag in raw.flags {
            self.upsert_flag(flag)?;
        }
        self.validate()
    }

    fn upsert_node(&mut self, dimension: Dimension, raw: RawNode) -> Result<(), TaxonomyError> {
        let parent = raw.parent.map(|p| p.trim().to_owned());
        if let Some(i) = self.node_index(dimension, &raw.code) {
            let node = &mut self.nodes[i];
            if let Some(p) = parent {
                node.parent = (!p.is_empty()).then_some(p);
            }
            if let Some(n) = raw.name_zh {
                node.name_zh = n;
            }
            if let Some(n) = raw.name_en {
                node.name_en = n;
            }
            return Ok(());
        }
        let invalid = |reason: &str| TaxonomyError::InvalidNode {
            dimension,
            code: raw.code.clone(),
            reason: reason.to_owned(),
        };
        if raw.code.trim().is_empty() || raw.code.trim() != raw.code {
            return Err(invalid("code is empty or has surrounding spaces"));
        }
        let name_zh = raw
            .name_zh
            .clone()
            .ok_or_else(|| invalid("name_zh is missing"))?;
        let name_en = raw
            .name_en
            .clone()
            .ok_or_else(|| invalid("name_en is missing"))?;
        self.index
            .entry(dimension)
            .or_default()
            .insert(raw.code.clone(), self.nodes.len());
        self.nodes.push(Node {
            dimension,
            code: raw.code,
            parent: parent.filter(|p| !p.is_empty()),
            name_zh,
            name_en,
        });
        Ok(())
    }

    fn upsert_rule(&mut self, raw: RawRule) -> Result<(), TaxonomyError> {
        let existing = self.rules.iter().position(|r| r.id == raw.id);
        if !raw.enabled {
            if let Some(i) = existing {
                self.rules.remove(i);
            }
            return Ok(());
        }
        match existing {
            Some(i) => {
                let rule = &mut self.rules[i];
                if let Some(v) = raw.dimension {
                    rule.dimension = v;
                }
                if let Some(v) = raw.code {
                    rule.code = v;
                }
                if let Some(v) = raw.weight {
                    rule.weight = v;
                }
                if let Some(v) = raw.sector {
                    rule.sector = v;
                }
                if let Some(v) = raw.phrases {
                    rule.phrases = v;
                }
            }
            None => {
                let missing = |field: &str| TaxonomyError::InvalidRule {
                    id: raw.id.clone(),
                    reason: format!("a new rule needs `{field}`"),
                };
                let rule = KeywordRule {
                    dimension: raw.dimension.ok_or_else(|| missing("dimension"))?,
                    code: raw.code.clone().ok_or_else(|| missing("code"))?,
                    weight: raw.weight.ok_or_else(|| missing("weight"))?,
                    sector: raw.sector.unwrap_or_default(),
                    phrases: raw.phrases.clone().ok_or_else(|| missing("phrases"))?,
                    id: raw.id,
                };
                self.rules.push(rule);
            }
        }
        Ok(())
    }

    fn upsert_flag(&mut self, raw: RawFlag) -> Result<(), TaxonomyError> {
        let existing = self.flags.iter().position(|f| f.id == raw.id);
        if !raw.enabled {
            if let Some(i) = existing {
                self.flags.remove(i);
            }
            return Ok(());
        }
        match existing {
            Some(i) => {
                let flag = &mut self.flags[i];
                if let Some(v) = raw.kind {
                    flag.kind = v;
                }
                if let Some(v) = raw.negatable {
                    flag.negatable = v;
                }
                if let Some(v) = raw.phrases {
                    flag.phrases = v;
                }
            }
            None => {
                let missing = |field: &str| TaxonomyError::InvalidFlag {
                    id: raw.id.clone(),
                    reason: format!("a new flag group needs `{field}`"),
                };
                let flag = FlagRule {
                    kind: raw.kind.ok_or_else(|| missing("kind"))?,
                    negatable: raw.negatable.unwrap_or(false),
                    phrases: raw.phrases.clone().ok_or_else(|| missing("phrases"))?,
                    id: raw.id,
                };
                self.flags.push(flag);
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), TaxonomyError> {
        for node in &self.nodes {
            let invalid = |reason: String| TaxonomyError::InvalidNode {
                dimension: node.dimension,
                code: node.code.clone(),
                reason,
            };
            if node.name_zh.trim().is_empty() || node.name_en.trim().is_empty() {
                return Err(invalid("names must not be empty".into()));
            }
            // Walking up more steps than there are nodes means the parents form a cycle.
            let mut current = node;
            for _ in 0..=self.nodes.len() {
                let Some(parent) = current.parent.as_deref() else {
                    break;
                };
                current = self
                    .node(node.dimension, parent)
                    .ok_or_else(|| invalid(format!("unknown parent {parent}")))?;
                if std::ptr::eq(current, node) {
                    return Err(invalid("its parents form a cycle".into()));
                }
            }
        }
        for rule in &self.rules {
            let invalid = |reason: String| TaxonomyError::InvalidRule {
                id: rule.id.clone(),
                reason,
            };
            if !self.is_valid(rule.dimension, &rule.code) {
                return Err(invalid(format!(
                    "unknown code {} in dimension {}",
                    rule.code, rule.dimension
                )));
            }
            if !(rule.weight.is_finite() && rule.weight > 0.0) {
                return Err(invalid("weight must be a positive number".into()));
            }
            check_phrases(&rule.phrases).map_err(invalid)?;
        }
        for flag in &self.flags {
            check_phrases(&flag.phrases).map_err(|reason| TaxonomyError::InvalidFlag {
                id: flag.id.clone(),
                reason,
            })?;
        }
        check_phrases(&self.context.insurance).map_err(|reason| TaxonomyError::InvalidSetting {
            section: "context",
            reason,
        })?;
        let s = &self.scoring;
        let invalid = |reason: &str| TaxonomyError::InvalidSetting {
            section: "scoring",
            reason: reason.to_owned(),
        };
        if !(s.confidence_scale.is_finite() && s.confidence_scale > 0.0) {
            return Err(invalid("confidence_scale must be positive"));
        }
        for v in [s.product_weight, s.product_exact_weight, s.min_score] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(invalid(
                    "product_weight, product_exact_weight and min_score must be >= 0",
                ));
            }
        }
        Ok(())
    }
}

fn check_phrases(phrases: &[String]) -> Result<(), String> {
    if phrases.is_empty() {
        return Err("phrases must not be empty".into());
    }
    for p in phrases {
        if normalize(p).trim().trim_end_matches('*').trim().is_empty() {
            return Err(format!("phrase {p:?} is empty after normalisation"));
        }
    }
    Ok(())
}

fn yes() -> bool {
    true
}

/// The file shape shared by standalone files and overrides; which fields are required is decided
/// when it is applied.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDoc {
    #[serde(default)]
    nodes: BTreeMap<Dimension, Vec<RawNode>>,
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
    #[serde(default, rename = "flag")]
    flags: Vec<RawFlag>,
    severity: Option<SeverityPolicy>,
    scoring: Option<ScoringConfig>,
    age: Option<AgeConfig>,
    context: Option<ContextConfig>,
    negation: Option<NegationConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    code: String,
    parent: Option<String>,
    name_zh: Option<String>,
    name_en: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    dimension: Option<Dimension>,
    code: Option<String>,
    weight: Option<f32>,
    sector: Option<Sector>,
    phrases: Option<Vec<String>>,
    #[serde(default = "yes")]
    enabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlag {
    id: String,
    kind: Option<RiskKind>,
    negatable: Option<bool>,
    phrases: Option<Vec<String>>,
    #[serde(default = "yes")]
    enabled: bool,
}
