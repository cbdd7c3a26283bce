//! Rule profiles as data.
//!
//! A rule profile holds everything jurisdiction-specific about handling a complaint: deadlines
//! and their day basis, extension steps and who approves them, what pauses the clock, why a
//! complaint may be declined, review windows, duplicate handling and approval thresholds. The
//! shipped profiles live in `data/profiles/*.toml`; a deployment can replace or add profiles with
//! its own files, which the program reads and hands over as text
//! ([`crate::rulebook::RuleBook::load`]). Unknown fields are rejected so that a typo in an
//! override file is an error instead of a silently ignored rule.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::calendar::CalendarSet;

/// How days in a deadline are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayBasis {
    /// Every day counts (China NFRA 2020, CFPB, FCA 8 weeks).
    Calendar,
    /// Only working days of the profile's calendar count (FCA business days, older Chinese rules).
    Working,
}

/// A deadline of `days` counted on `basis` from the day the clock started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineRule {
    /// Number of days after the start day; the due day is the last day allowed.
    pub days: u32,
    /// How the days are counted.
    pub basis: DayBasis,
}

/// Who must approve an extension step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalLevel {
    /// The consumer-protection or handling department.
    Department,
    /// A superior level of the institution (e.g. the head office or the level above the branch).
    Superior,
}

/// One step of extending the decision deadline.
///
/// `days_total` is the whole handling period once this step is granted, counted from the same
/// start and on the same basis as the decision deadline it extends (NFRA: 15 → 30 → 60 days),
/// not the number of days added. Totals must strictly increase from step to step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionStep {
    /// The total handling period in days with this step granted.
    pub days_total: u32,
    /// Whether someone must approve this step (maker-checker).
    pub needs_approval: bool,
    /// Who approves; required when `needs_approval` is true and absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_level: Option<ApprovalLevel>,
    /// Whether the customer must be told of the extension.
    pub notify_customer: bool,
}

/// Review (核查) of a decision at the customer's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRule {
    /// Days after the decision within which the customer may apply.
    pub apply_within_days: u32,
    /// Days after the application within which the review is decided.
    pub decide_within_days: u32,
    /// How both periods are counted.
    pub basis: DayBasis,
}

/// A reason for which the clock may be paused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PauseReason {
    /// Stable code stored with the pause.
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// Whether the customer must be told that the clock is paused.
    #[serde(default)]
    pub notify_customer: bool,
}

/// A reason for which a complaint may be declined (not handled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineReason {
    /// Stable code stored with the decision.
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
}

/// What to do with the same complaint made again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateAction {
    /// Fold it into the open complaint (one record, one deadline).
    Merge,
    /// Keep a separate record linked to the first one.
    Link,
}

/// The period within which a repeat counts as a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateWindow {
    /// While the first complaint is still being handled.
    HandlingPeriod,
}

/// Duplicate-complaint handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicatePolicy {
    /// Merge or link.
    pub policy: DuplicateAction,
    /// Window within which a repeat is a duplicate.
    pub within: DuplicateWindow,
}

/// How long before a deadline a complaint counts as due soon.
///
/// In TOML: `due_soon = { hours = 48 }` or `due_soon = { working_days = 2 }`. Zero disables the
/// due-soon state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueSoon {
    /// Due soon from this many hours before the deadline.
    Hours(u32),
    /// Due soon during the last this-many working days up to and including the due day.
    WorkingDays(u32),
}

/// An amount of money above which a second person must approve compensation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneyThreshold {
    /// The amount, written as a decimal string (`"5000"`, `"5000.00"`) to keep it exact.
    #[serde(
        serialize_with = "rust_decimal::serde::str::serialize",
        deserialize_with = "decimal_from_string"
    )]
    pub amount: Decimal,
    /// ISO 4217 currency code.
    pub currency: String,
}

/// Reads a decimal only from a string: a TOML float such as `5000.1` is already rounded
/// in binary before it reaches us, so it is refused rather than silently accepted.
fn decimal_from_string<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Decimal, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.trim()
        .parse()
        .map_err(|e| serde::de::Error::custom(format!("{text:?} is not a decimal amount: {e}")))
}

impl MoneyThreshold {
    /// Whether compensation of `amount` in `currency` needs a second approver: above the
    /// threshold, or in another currency (which cannot be compared without a rate).
    pub fn requires_second_approval(&self, amount: Decimal, currency: &str) -> bool {
        currency != self.currency || amount > self.amount
    }
}

/// When the follow-up (回访) after a decision is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpRule {
    /// Days after the decision.
    pub within_days: u32,
    /// How the days are counted.
    pub basis: DayBasis,
}

/// Deadlines that differ for some business types (e.g. FCA payment services).
///
/// Fields left out keep the profile's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductOverride {
    /// Stable id of the override.
    pub id: String,
    /// English description, with its source.
    #[serde(default)]
    pub label_en: String,
    /// Business-type codes (as used in classification) the override applies to.
    pub business_types: Vec<String>,
    /// Acknowledgement deadline for these business types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgement: Option<DeadlineRule>,
    /// Decision deadline for these business types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DeadlineRule>,
    /// Extension steps for these business types (replaces the profile's list as a whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<ExtensionStep>>,
}

/// A jurisdiction's (or institution's) complaint-handling rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleProfile {
    /// Stable id, e.g. `cn-nfra`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// IANA time zone in which days are counted, e.g. `Asia/Shanghai`.
    pub timezone: String,
    /// Id of the working-day calendar, e.g. `cn`.
    pub calendar: String,
    /// Deadline to acknowledge receipt, if the rules set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgement: Option<DeadlineRule>,
    /// Period within which a complaint resolved may be closed with a short summary resolution
    /// communication (FCA: close of the 3rd business day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_resolution: Option<DeadlineRule>,
    /// Deadline to decide and inform the customer.
    pub decision: DeadlineRule,
    /// Extension steps in the order they may be granted.
    #[serde(default)]
    pub extensions: Vec<ExtensionStep>,
    /// Review of a decision, if the rules provide one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewRule>,
    /// Reasons for which the clock may be paused.
    #[serde(default)]
    pub pause_reasons: Vec<PauseReason>,
    /// Reasons for which a complaint may be declined.
    #[serde(default)]
    pub decline_reasons: Vec<DeclineReason>,
    /// Whether new facts and reasons restart the clock from the new material.
    pub restart_on_new_facts: bool,
    /// Duplicate handling.
    pub duplicates: DuplicatePolicy,
    /// When a complaint counts as due soon.
    pub due_soon: DueSoon,
    /// Compensation above this needs a second approver.
    pub compensation_approval_threshold: MoneyThreshold,
    /// Follow-up after the decision, if the profile plans one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUpRule>,
    /// Per-business-type deadline overrides.
    #[serde(default)]
    pub product_overrides: Vec<ProductOverride>,
    /// A new complaint from a person whose earlier complaint ended within this many calendar
    /// days is a repeat complaint (it counts against whoever closed the earlier one).
    #[serde(default = "default_repeat_window_days")]
    pub repeat_window_days: u32,
    /// Early warning of rising combinations of complaints.
    #[serde(default)]
    pub hotspots: HotspotRule,
}

/// When a rise in complaints is an alert to the consumer-protection supervisors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HotspotRule {
    /// The chance a scan of combinations that did not change raises any alert at all
    /// (a decimal string such as `"0.01"`).
    #[serde(serialize_with = "rust_decimal::serde::str::serialize", deserialize_with = "decimal_from_string")]
    pub alert_level: Decimal,
    /// The fewest complaints in a week for a combination to be tested.
    pub min_count: u32,
}

impl Default for HotspotRule {
    fn default() -> Self {
        HotspotRule { alert_level: Decimal::new(1, 2), min_count: 10 }
    }
}

fn default_repeat_window_days() -> u32 {
    90
}

/// The deadline rules that apply to one complaint once product overrides are taken into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveRules<'a> {
    /// Acknowledgement deadline, if any.
    pub acknowledgement: Option<DeadlineRule>,
    /// Decision deadline.
    pub decision: DeadlineRule,
    /// Extension steps.
    pub extensions: &'a [ExtensionStep],
    /// The override applied, if any.
    pub product_override: Option<&'a ProductOverride>,
}

/// A problem with a rule profile or a profile directory.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The text is not a valid profile (TOML syntax, a missing field, an unknown field, a bad value).
    #[error("rule profile {origin}: {source}")]
    Toml {
        /// Where the text came from (file path or builtin name).
        origin: String,
        /// Parser error, with line, column and field.
        #[source]
        source: toml::de::Error,
    },
    /// A profile parsed but its values are inconsistent.
    #[error("rule profile {id:?} is invalid: {}", problems.join("; "))]
    Invalid {
        /// Profile id.
        id: String,
        /// Every problem found.
        problems: Vec<String>,
    },
}

impl RuleProfile {
    /// Parses a profile from TOML. `origin` names the source in error messages.
    pub fn parse_toml(origin: &str, text: &str) -> Result<RuleProfile, ProfileError> {
        toml::from_str(text).map_err(|source| ProfileError::Toml {
            origin: origin.to_owned(),
            source,
        })
    }

    /// Checks that the profile is usable: the calendar exists, the time zone resolves, extension
    /// totals increase, codes are unique, and so on. Reports every problem at once.
    pub fn validate(&self, calendars: &CalendarSet) -> Result<(), ProfileError> {
        let mut problems = Vec::new();
        if self.id.trim().is_empty() {
            problems.push("id is empty".to_owned());
        }
        if calendars.get(&self.calendar).is_none() {
            let known: Vec<&str> = calendars.ids().collect();
            problems.push(format!(
                "calendar {:?} is not loaded (known: {})",
                self.calendar,
                known.join(", ")
            ));
        }
        if let Err(e) = jiff::tz::TimeZone::get(&self.timezone) {
            problems.push(format!(
                "timezone {:?} does not resolve: {e}",
                self.timezone
            ));
        }
        check_rules(
            "",
            self.acknowledgement.as_ref(),
            &self.decision,
            &self.extensions,
            &mut problems,
        );
        if let Some(review) = &self.review
            && (review.apply_within_days == 0 || review.decide_within_days == 0)
        {
            problems.push("review periods must be at least 1 day".to_owned());
        }
        if let Some(summary) = &self.summary_resolution
            && summary.basis == self.decision.basis
            && summary.days > self.decision.days
        {
            problems.push("summary_resolution is longer than the decision deadline".to_owned());
        }
        check_codes(
            "pause_reasons",
            self.pause_reasons.iter().map(|r| (&r.code, &r.label_en)),
            &mut problems,
        );
        check_codes(
            "decline_reasons",
            self.decline_reasons.iter().map(|r| (&r.code, &r.label_en)),
            &mut problems,
        );
        let threshold = &self.compensation_approval_threshold;
        if threshold.amount.is_sign_negative() {
            problems.push("compensation_approval_threshold.amount is negative".to_owned());
        }
        if !(threshold.currency.len() == 3
            && threshold.currency.bytes().all(|b| b.is_ascii_uppercase()))
        {
            problems.push(format!(
                "compensation_approval_threshold.currency {:?} is not an ISO 4217 code like \"CNY\"",
                threshold.currency
            ));
        }
        if let Some(follow_up) = &self.follow_up
            && follow_up.within_days == 0
        {
            problems.push("follow_up.within_days must be at least 1".to_owned());
        }
        let mut override_ids = BTreeSet::new();
        let mut claimed: BTreeMap<&str, &str> = BTreeMap::new();
        for o in &self.product_overrides {
            let prefix = format!("product_overrides[{}]: ", o.id);
            if !override_ids.insert(o.id.as_str()) {
                problems.push(format!("{prefix}duplicate override id"));
            }
            if o.business_types.is_empty() {
                problems.push(format!("{prefix}business_types is empty"));
            }
            for bt in &o.business_types {
                if let Some(other) = claimed.insert(bt, &o.id) {
                    problems.push(format!(
                        "{prefix}business type {bt:?} is also in override {other:?}"
                    ));
                }
            }
            check_rules(
                &prefix,
                o.acknowledgement.as_ref().or(self.acknowledgement.as_ref()),
                o.decision.as_ref().unwrap_or(&self.decision),
                o.extensions.as_deref().unwrap_or(&self.extensions),
                &mut problems,
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ProfileError::Invalid {
                id: self.id.clone(),
                problems,
            })
        }
    }

    /// The deadline rules for a complaint of `business_type` (None when not yet classified).
    pub fn rules_for(&self, business_type: Option<&str>) -> EffectiveRules<'_> {
        let product_override = business_type.and_then(|bt| {
            self.product_overrides
                .iter()
                // Codes are hierarchical: an override for `B04` covers `B0401` too.
                .find(|o| o.business_types.iter().any(|t| bt.starts_with(t.as_str())))
        });
        match product_override {
            None => EffectiveRules {
                acknowledgement: self.acknowledgement,
                decision: self.decision,
                extensions: &self.extensions,
                product_override: None,
            },
            Some(o) => EffectiveRules {
                acknowledgement: o.acknowledgement.or(self.acknowledgement),
                decision: o.decision.unwrap_or(self.decision),
                extensions: o.extensions.as_deref().unwrap_or(&self.extensions),
                product_override: Some(o),
            },
        }
    }

    /// The profile's time zone. Falls back to UTC only for a profile that failed
    /// [`RuleProfile::validate`], which rejects unknown zones; validate profiles at load.
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    /// The extension step that would be granted after `granted` steps, for a complaint of
    /// `business_type`; None when no step is left.
    pub fn extension_step(
        &self,
        business_type: Option<&str>,
        granted: u32,
    ) -> Option<&ExtensionStep> {
        self.rules_for(business_type)
            .extensions
            .get(usize::try_from(granted).ok()?)
    }

    /// Whether a repeat within the window is merged into the open complaint (else linked).
    pub fn merges_duplicates(&self) -> bool {
        self.duplicates.policy == DuplicateAction::Merge
    }

    /// Whether compensation of `amount` in `currency` needs a second approver.
    pub fn compensation_needs_approval(&self, amount: Decimal, currency: &str) -> bool {
        self.compensation_approval_threshold
            .requires_second_approval(amount, currency)
    }

    /// Whether the clock may be paused for this reason code.
    pub fn allows_pause_reason(&self, code: &str) -> bool {
        self.pause_reason(code).is_some()
    }

    /// Whether a complaint may be declined for this reason code.
    pub fn allows_decline_reason(&self, code: &str) -> bool {
        self.decline_reason(code).is_some()
    }

    /// The pause reason with this code, if the profile allows it.
    pub fn pause_reason(&self, code: &str) -> Option<&PauseReason> {
        self.pause_reasons.iter().find(|r| r.code == code)
    }

    /// The decline reason with this code, if the profile allows it.
    pub fn decline_reason(&self, code: &str) -> Option<&DeclineReason> {
        self.decline_reasons.iter().find(|r| r.code == code)
    }
}

fn check_rules(
    prefix: &str,
    acknowledgement: Option<&DeadlineRule>,
    decision: &DeadlineRule,
    extensions: &[ExtensionStep],
    problems: &mut Vec<String>,
) {
    if decision.days == 0 {
        problems.push(format!("{prefix}decision.days must be at least 1"));
    }
    if let Some(ack) = acknowledgement
        && ack.basis == decision.basis
        && ack.days > decision.days
    {
        problems.push(format!("{prefix}acknowledgement is due after the decision"));
    }
    let mut previous = decision.days;
    for (i, step) in extensions.iter().enumerate() {
        if step.days_total <= previous {
            problems.push(format!(
                "{prefix}extensions[{i}].days_total = {} must be greater than the previous period ({previous} days)",
                step.days_total
            ));
        }
        previous = previous.max(step.days_total);
        match (step.needs_approval, step.approval_level) {
            (true, None) => problems.push(format!(
                "{prefix}extensions[{i}] needs approval but has no approval_level"
            )),
            (false, Some(_)) => problems.push(format!(
                "{prefix}extensions[{i}] has an approval_level but needs_approval = false"
            )),
            _ => {}
        }
    }
}

fn check_codes<'a>(
    list: &str,
    entries: impl Iterator<Item = (&'a String, &'a String)>,
    problems: &mut Vec<String>,
) {
    let mut seen = BTreeSet::new();
    for (code, label) in entries {
        if code.trim().is_empty() {
            problems.push(format!("{list}: empty code (label {label:?})"));
        } else if !seen.insert(code.as_str()) {
            problems.push(format!("{list}: duplicate code {code:?}"));
        }
    }
}

/// The profiles shipped in `data/profiles/`.
const BUILTIN_PROFILES: [(&str, &str); 3] = [
    (
        "data/profiles/cn-nfra.toml",
        include_str!("../../../data/profiles/cn-nfra.toml"),
    ),
    (
        "data/profiles/us-cfpb.toml",
        include_str!("../../../data/profiles/us-cfpb.toml"),
    ),
    (
        "data/profiles/uk-fca.toml",
        include_str!("../../../data/profiles/uk-fca.toml"),
    ),
];

/// Rule profiles by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileSet {
    profiles: BTreeMap<String, RuleProfile>,
}

impl ProfileSet {
    /// The id of the profile used when none is configured.
    pub const DEFAULT_ID: &'static str = "cn-nfra";

    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The shipped profiles: `cn-nfra`, `us-cfpb`, `uk-fca`.
    pub fn builtin() -> Self {
        let mut set = Self::new();
        for (origin, text) in BUILTIN_PROFILES {
            // The shipped files are checked by the tests below, so a failure here is a build defect.
            let profile = RuleProfile::parse_toml(origin, text)
                .unwrap_or_else(|e| panic!("shipped rule profile is invalid: {e}"));
            set.insert(profile);
        }
        set
    }

    /// The id of the profile used when none is configured (`cn-nfra`).
    pub fn default_id() -> &'static str {
        Self::DEFAULT_ID
    }

    /// Adds a profile, replacing any profile with the same id.
    pub fn insert(&mut self, profile: RuleProfile) {
        self.profiles.insert(profile.id.clone(), profile);
    }

    /// Validates every profile against the calendars.
    pub fn validate_all(&self, calendars: &CalendarSet) -> Result<(), ProfileError> {
        self.profiles
            .values()
            .try_for_each(|p| p.validate(calendars))
    }

    /// The profile with this id.
    pub fn get(&self, id: &str) -> Option<&RuleProfile> {
        self.profiles.get(id)
    }

    /// The default profile, if present.
    pub fn default_profile(&self) -> Option<&RuleProfile> {
        self.get(Self::DEFAULT_ID)
    }

    /// The ids present, in ascending order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }

    /// All profiles, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &RuleProfile> {
        self.profiles.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn builtin(id: &str) -> RuleProfile {
        ProfileSet::builtin().get(id).unwrap().clone()
    }

    #[test]
    fn builtin_profiles_parse_and_validate() {
        let set = ProfileSet::builtin();
        assert_eq!(
            set.ids().collect::<Vec<_>>(),
            ["cn-nfra", "uk-fca", "us-cfpb"]
        );
        set.validate_all(&CalendarSet::builtin()).unwrap();
        assert_eq!(ProfileSet::default_id(), "cn-nfra");
        assert_eq!(set.default_profile().unwrap().id, "cn-nfra");
    }

    #[test]
    fn cn_nfra_values() {
        let p = builtin("cn-nfra");
        assert_eq!(p.timezone, "Asia/Shanghai");
        assert_eq!(p.calendar, "cn");
        assert_eq!(
            p.decision,
            DeadlineRule {
                days: 15,
                basis: DayBasis::Calendar
            }
        );
        let totals: Vec<u32> = p.extensions.iter().map(|s| s.days_total).collect();
        assert_eq!(totals, [30, 60]);
        let last = &p.extensions[1];
        assert!(last.needs_approval && last.notify_customer);
        assert_eq!(last.approval_level, Some(ApprovalLevel::Superior));
        assert!(p.pause_reason("external_appraisal").is_some());
        assert!(p.decline_reason("not_by_complainant_or_agent").is_some());
        assert!(p.decline_reason("duplicate_no_new_facts").is_some());
        assert!(p.restart_on_new_facts);
        assert_eq!(p.duplicates.policy, DuplicateAction::Merge);
        assert_eq!(p.duplicates.within, DuplicateWindow::HandlingPeriod);
        let review = p.review.unwrap();
        assert_eq!(
            (review.apply_within_days, review.decide_within_days),
            (30, 30)
        );
        let threshold = &p.compensation_approval_threshold;
        assert_eq!(threshold.amount, Decimal::from(5000));
        assert_eq!(threshold.currency, "CNY");
        assert!(!threshold.requires_second_approval(Decimal::from(5000), "CNY"));
        assert!(threshold.requires_second_approval(Decimal::from_str("5000.01").unwrap(), "CNY"));
        assert!(threshold.requires_second_approval(Decimal::from(10), "USD"));
        assert!(p.compensation_needs_approval(Decimal::from(6000), "CNY"));
        assert!(p.merges_duplicates());
        assert!(p.allows_pause_reason("external_appraisal"));
        assert!(!p.allows_pause_reason("awaiting_customer_materials"));
        assert!(p.allows_decline_reason("duplicate_no_new_facts"));
        assert_eq!(
            p.time_zone(),
            jiff::tz::TimeZone::get("Asia/Shanghai").unwrap()
        );
        assert_eq!(p.extension_step(None, 0).map(|s| s.days_total), Some(30));
        assert_eq!(p.extension_step(None, 2), None);
    }

    #[test]
    fn us_cfpb_values() {
        let p = builtin("us-cfpb");
        assert_eq!(
            (p.timezone.as_str(), p.calendar.as_str()),
            ("America/New_York", "us")
        );
        assert_eq!(
            p.decision,
            DeadlineRule {
                days: 15,
                basis: DayBasis::Calendar
            }
        );
        assert_eq!(p.extensions.len(), 1);
        assert_eq!(p.extensions[0].days_total, 60);
        assert!(!p.extensions[0].needs_approval);
    }

    #[test]
    fn uk_fca_values_and_payment_override() {
        let p = builtin("uk-fca");
        assert_eq!(
            (p.timezone.as_str(), p.calendar.as_str()),
            ("Europe/London", "gb-eng")
        );
        assert_eq!(
            p.decision,
            DeadlineRule {
                days: 56,
                basis: DayBasis::Calendar
            }
        );
        assert_eq!(
            p.summary_resolution,
            Some(DeadlineRule {
                days: 3,
                basis: DayBasis::Working
            })
        );
        let general = p.rules_for(Some("credit_card"));
        assert!(general.product_override.is_none());
        assert_eq!(general.decision.days, 56);
        let payment = p.rules_for(Some("B04"));
        assert_eq!(
            payment.decision,
            DeadlineRule {
                days: 15,
                basis: DayBasis::Working
            }
        );
        assert_eq!(
            payment
                .extensions
                .iter()
                .map(|s| s.days_total)
                .collect::<Vec<_>>(),
            [35]
        );
        assert_eq!(payment.acknowledgement, p.acknowledgement);
        assert_eq!(p.rules_for(None).decision.days, 56);
        assert!(p.extension_step(None, 0).is_none());
        assert_eq!(
            p.extension_step(Some("B0401"), 0).map(|s| s.days_total),
            Some(35)
        );
        assert!(!p.merges_duplicates());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let text = include_str!("../../../data/profiles/cn-nfra.toml")
            .replace("restart_on_new_facts", "restart_on_new_fact");
        let err = RuleProfile::parse_toml("typo.toml", &text).unwrap_err();
        assert!(err.to_string().contains("restart_on_new_fact"), "{err}");

        let text = include_str!("../../../data/profiles/cn-nfra.toml")
            .replace("notify_customer = true", "notify_custmer = true");
        assert!(RuleProfile::parse_toml("typo.toml", &text).is_err());

        let text = include_str!("../../../data/profiles/cn-nfra.toml")
            .replace("basis = \"calendar\"", "basis = \"calender\"");
        assert!(RuleProfile::parse_toml("typo.toml", &text).is_err());
    }

    #[test]
    fn threshold_amount_must_be_a_string() {
        let text =
            include_str!("../../../data/profiles/cn-nfra.toml").replace("\"5000\"", "5000.5");
        assert!(RuleProfile::parse_toml("float.toml", &text).is_err());
    }

    #[test]
    fn validation_reports_every_problem() {
        let mut p = builtin("cn-nfra");
        p.calendar = "mars".into();
        p.timezone = "Asia/Nowhere".into();
        p.extensions[1].days_total = 20;
        p.extensions[0].approval_level = None;
        p.compensation_approval_threshold.currency = "rmb".into();
        p.pause_reasons.push(p.pause_reasons[0].clone());
        let err = p.validate(&CalendarSet::builtin()).unwrap_err();
        let ProfileError::Invalid { problems, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(problems.len(), 6, "{problems:#?}");
        let text = err.to_string();
        for needle in [
            "mars",
            "Asia/Nowhere",
            "extensions[1]",
            "approval_level",
            "rmb",
            "duplicate code",
        ] {
            assert!(text.contains(needle), "{needle} missing in {text}");
        }
    }

    #[test]
    fn overrides_may_not_share_business_types() {
        let mut p = builtin("uk-fca");
        let mut copy = p.product_overrides[0].clone();
        copy.id = "again".into();
        p.product_overrides.push(copy);
        assert!(p.validate(&CalendarSet::builtin()).is_err());
    }
}
