//! Complaint classification: the taxonomy (JR/T 0169 channel / business type / cause, insurance
//! causes and lines, CFPB products and issues), a rule-based classifier, severity and risk flags.
//!
//! Everything jurisdiction- or institution-specific (codes, names, keyword rules, flag phrases,
//! severity thresholds, negation words) is data in `data/taxonomy/taxonomy.toml`, shipped in the
//! binary and overridable by a user file (see [`Taxonomy`]).
//!
//! # How the rule classifier decides
//!
//! * **Labels.** Text is normalised once ([`normalize`]) and scanned with a single multi-phrase
//!   matcher. Each distinct phrase of a keyword rule found in the narrative or the request adds the
//!   rule's weight to the rule's label; in the product field it adds `product_weight` times the
//!   weight, and a product that is exactly a node's name or code adds `product_exact_weight`.
//!   Within one dimension a match inside a longer match (误导 inside 销售误导) does not count, and
//!   repeating a phrase does not add to its score. A class's score also counts for its subclasses
//!   (营销 + 误导 → 销售误导). The best score per dimension wins if it reaches `min_score`; ties go
//!   to the label whose evidence appears first (product, then narrative, then request), then to
//!   the smaller code.
//! * **Confidence** = `(1 - e^(-best / confidence_scale)) * best / total`, where `total` is the sum of
//!   all label scores in that dimension: more evidence raises it, competing labels lower it.
//! * **Severity** = the highest of: the severity configured for each risk-flag kind present
//!   (built-in: self-harm → Critical; regulator, media, lawsuit, group → High; vulnerable customer →
//!   Medium), every amount threshold reached by the amount in dispute (built-in: ≥ ¥50,000 →
//!   Medium), and the default (Low).
//! * **Risk flags** carry the phrase and its byte span in the original field, so a reviewer sees
//!   why. Threat flags ignore negated mentions ("不会去起诉", "I will not sue"). Organised-complaint
//!   signals only flag the complaint for special handling; nothing here rejects a complaint.

mod classifier;
mod matcher;
mod normalize;
mod taxonomy;

#[cfg(test)]
mod tests;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use classifier::RuleClassifier;
pub use normalize::{Normalized, normalize, simplify_char};
pub use taxonomy::{
    AgeConfig, AmountThreshold, ContextConfig, FlagRule, KeywordRule, NegationConfig, Node,
    ScoringConfig, Sector, SeverityPolicy, Taxonomy, TaxonomyError,
};

/// A classification dimension: one axis of the taxonomy, one label slot in a [`Classification`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// JR/T 0169 A: the channel through which the business was done (业务办理渠道).
    Channel,
    /// JR/T 0169 B: business type (业务类型).
    BusinessType,
    /// JR/T 0169 C cause (投诉原因), plus the insurance causes under the `CI` root.
    Cause,
    /// Insurance line (险种), as in the insurance regulator's bulletins.
    InsuranceLine,
    /// CFPB product.
    CfpbProduct,
    /// CFPB issue.
    CfpbIssue,
}

impl Dimension {
    /// Every dimension, in a fixed order.
    pub const ALL: [Dimension; 6] = [
        Dimension::Channel,
        Dimension::BusinessType,
        Dimension::Cause,
        Dimension::InsuranceLine,
        Dimension::CfpbProduct,
        Dimension::CfpbIssue,
    ];

    /// The snake_case name used in TOML and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Channel => "channel",
            Dimension::BusinessType => "business_type",
            Dimension::Cause => "cause",
            Dimension::InsuranceLine => "insurance_line",
            Dimension::CfpbProduct => "cfpb_product",
            Dimension::CfpbIssue => "cfpb_issue",
        }
    }

    /// Chinese display name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Dimension::Channel => "业务办理渠道",
            Dimension::BusinessType => "业务类型",
            Dimension::Cause => "投诉原因",
            Dimension::InsuranceLine => "险种",
            Dimension::CfpbProduct => "CFPB产品",
            Dimension::CfpbIssue => "CFPB问题",
        }
    }

    /// English display name.
    pub fn name_en(self) -> &'static str {
        match self {
            Dimension::Channel => "Channel",
            Dimension::BusinessType => "Business type",
            Dimension::Cause => "Cause",
            Dimension::InsuranceLine => "Insurance line",
            Dimension::CfpbProduct => "CFPB product",
            Dimension::CfpbIssue => "CFPB issue",
        }
    }

    /// Whether a product name given at intake can name a node of this dimension directly.
    pub(crate) fn is_product_dimension(self) -> bool {
        matches!(
            self,
            Dimension::BusinessType | Dimension::InsuranceLine | Dimension::CfpbProduct
        )
    }
}

impl std::fmt::Display for Dimension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How serious a complaint is. Ordered: `Low < Medium < High < Critical`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Routine.
    #[default]
    Low,
    /// Needs attention: a large amount or a vulnerable customer.
    Medium,
    /// Escalation risk: regulator, media, court or a group.
    High,
    /// Someone may be in danger (self-harm).
    Critical,
}

/// The kind of a risk flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskKind {
    /// The complainant threatens to go, or has gone, to a regulator or ombudsman.
    RegulatorThreat,
    /// The complainant threatens to go to the press or social media.
    MediaExposure,
    /// Court, lawyer, arbitration.
    Lawsuit,
    /// Several complainants acting together.
    GroupAction,
    /// Suicide or self-harm is mentioned.
    SelfHarm,
    /// Elderly, disabled, seriously ill or otherwise vulnerable customer.
    VulnerableCustomer,
    /// Wording typical of organised or professional complaints (代理维权); flags the complaint for
    /// special handling and never rejects it.
    OrganisedComplaintSignal,
}

impl RiskKind {
    /// Every kind, in a fixed order.
    pub const ALL: [RiskKind; 7] = [
        RiskKind::RegulatorThreat,
        RiskKind::MediaExposure,
        RiskKind::Lawsuit,
        RiskKind::GroupAction,
        RiskKind::SelfHarm,
        RiskKind::VulnerableCustomer,
        RiskKind::OrganisedComplaintSignal,
    ];
}

/// Which input text a risk flag's span refers to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum InputField {
    /// [`ClassifyInput::narrative`].
    #[default]
    Narrative,
    /// [`ClassifyInput::request`].
    Request,
}

/// A risk flag with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskFlag {
    /// What kind of risk.
    pub kind: RiskKind,
    /// The matched text exactly as written in the original input (`&field[start..end]`).
    pub phrase: String,
    /// Byte offset of the match in the original field.
    pub start: usize,
    /// Byte offset just past the match in the original field.
    pub end: usize,
    /// The input field the offsets refer to.
    #[serde(default)]
    pub field: InputField,
}

/// A label in one dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// Node code in the taxonomy (e.g. `B0302`).
    pub code: String,
    /// Chinese name of the node.
    pub name_zh: String,
    /// English name of the node.
    pub name_en: String,
    /// 0.0 to 1.0; 1.0 for a label set by a person.
    pub confidence: f32,
}

/// Who or what produced a classification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LabelSource {
    /// The keyword rules of [`RuleClassifier`].
    Rules,
    /// A statistical model.
    Model {
        /// Identifies the model and its version.
        model_id: String,
    },
    /// A person corrected it.
    Human {
        /// The user who made the last correction.
        user: String,
    },
}

/// What the classifier reads. Borrowed so that intake does not copy the texts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClassifyInput<'a> {
    /// The complainant's account of the facts.
    pub narrative: &'a str,
    /// What the complainant asks for (诉求).
    pub request: &'a str,
    /// The product as recorded at intake, e.g. "信用卡" or the CFPB "Product" column.
    pub product: Option<&'a str>,
    /// Amount in dispute, converted to CNY.
    pub amount_in_cny_equivalent: Option<Decimal>,
}

impl<'a> ClassifyInput<'a> {
    /// An input with only a narrative.
    pub fn new(narrative: &'a str) -> Self {
        ClassifyInput {
            narrative,
            ..ClassifyInput::default()
        }
    }
}

/// The result of classifying one complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// JR/T 0169 business type.
    pub business_type: Option<Label>,
    /// JR/T 0169 cause, or an insurance cause.
    pub cause: Option<Label>,
    /// JR/T 0169 channel.
    pub channel: Option<Label>,
    /// Insurance line.
    pub insurance_line: Option<Label>,
    /// CFPB product.
    pub cfpb_product: Option<Label>,
    /// CFPB issue.
    pub cfpb_issue: Option<Label>,
    /// Overall severity.
    pub severity: Severity,
    /// Risk flags with evidence, ordered by field then position.
    pub risk_flags: Vec<RiskFlag>,
    /// Who produced this classification.
    pub source: LabelSource,
}

impl Classification {
    /// An empty classification (no labels, `Low`, no flags) from `source`.
    pub fn empty(source: LabelSource) -> Self {
        Classification {
            business_type: None,
            cause: None,
            channel: None,
            insurance_line: None,
            cfpb_product: None,
            cfpb_issue: None,
            severity: Severity::Low,
            risk_flags: Vec::new(),
            source,
        }
    }

    /// The label in `dimension`.
    pub fn label(&self, dimension: Dimension) -> Option<&Label> {
        self.slot(dimension).as_ref()
    }

    /// Replaces the label in `dimension` (`None` clears it). Leaves `source` alone; see
    /// [`Classification::correct`] for a person's correction.
    pub fn set_label(&mut self, dimension: Dimension, label: Option<Label>) {
        *self.slot_mut(dimension) = label;
    }

    /// A person's correction: sets `dimension` to the node `code` of `taxonomy` (confidence 1.0),
    /// or clears it when `code` is `None`, and marks the classification as made by `user`.
    /// Unknown codes are refused so that reports never see a code outside the taxonomy.
    pub fn correct(
        &mut self,
        taxonomy: &Taxonomy,
        dimension: Dimension,
        code: Option<&str>,
        user: &str,
    ) -> Result<(), TaxonomyError> {
        let label = match code {
            Some(code) => Some(taxonomy.label(dimension, code, 1.0).ok_or_else(|| {
                TaxonomyError::UnknownCode {
                    dimension,
                    code: code.to_owned(),
                }
            })?),
            None => None,
        };
        self.set_label(dimension, label);
        self.source = LabelSource::Human {
            user: user.to_owned(),
        };
        Ok(())
    }

    /// A person's correction of the severity.
    pub fn correct_severity(&mut self, severity: Severity, user: &str) {
        self.severity = severity;
        self.source = LabelSource::Human {
            user: user.to_owned(),
        };
    }

    /// Whether any flag of `kind` is present.
    pub fn has_flag(&self, kind: RiskKind) -> bool {
        self.risk_flags.iter().any(|f| f.kind == kind)
    }

    fn slot(&self, dimension: Dimension) -> &Option<Label> {
        match dimension {
            Dimension::Channel => &self.channel,
            Dimension::BusinessType => &self.business_type,
            Dimension::Cause => &self.cause,
            Dimension::InsuranceLine => &self.insurance_line,
            Dimension::CfpbProduct => &self.cfpb_product,
            Dimension::CfpbIssue => &self.cfpb_issue,
        }
    }

    fn slot_mut(&mut self, dimension: Dimension) -> &mut Option<Label> {
        match dimension {
            Dimension::Channel => &mut self.channel,
            Dimension::BusinessType => &mut self.business_type,
            Dimension::Cause => &mut self.cause,
            Dimension::InsuranceLine => &mut self.insurance_line,
            Dimension::CfpbProduct => &mut self.cfpb_product,
            Dimension::CfpbIssue => &mut self.cfpb_issue,
        }
    }
}
