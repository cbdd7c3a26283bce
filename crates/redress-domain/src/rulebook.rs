//! Everything a deployment's rules consist of, loaded once at start-up: rule profiles,
//! calendars, the organisation, message templates and the rule-based classifier.
//!
//! The shipped data files are compiled in; a deployment adds or replaces them with files named
//! in its configuration, so next year's holiday notice or a new routing rule needs no rebuild.
//! The domain reads no files: the program reads them and hands their texts over as
//! [`RuleTexts`], each with the name it is reported under.

use crate::calendar::{Calendar, CalendarError, CalendarSet};
use crate::classify::{RuleClassifier, Taxonomy, TaxonomyError};
use crate::complaint::Rules;
use crate::messages::{TemplateError, Templates};
use crate::org::{OrgError, Organisation};
use crate::profile::{ProfileError, ProfileSet, RuleProfile};

/// The text of one rule file, with the name errors report it under (its path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleText {
    /// Where the text came from, for error messages.
    pub origin: String,
    /// The file's content.
    pub text: String,
}

impl RuleText {
    /// A text and where it came from.
    pub fn new(origin: impl Into<String>, text: impl Into<String>) -> Self {
        Self { origin: origin.into(), text: text.into() }
    }
}

/// The text of one calendar file and the calendar it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarText {
    /// The calendar id (a calendar file is named after its id: `cn.toml` holds `cn`).
    pub id: String,
    /// The file.
    pub file: RuleText,
}

/// A deployment's own rule data, as texts; empty or `None` keeps the shipped data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleTexts {
    /// The profile new complaints use; `None` is [`ProfileSet::DEFAULT_ID`].
    pub default_profile: Option<String>,
    /// Extra or replacement profiles, in the order they are reported (file-name order).
    pub profiles: Vec<RuleText>,
    /// Extra calendars or years, merged into the shipped ones by id and year.
    pub calendars: Vec<CalendarText>,
    /// The organisation, replacing the shipped one.
    pub org: Option<RuleText>,
    /// The message templates, replacing the shipped ones.
    pub templates: Option<RuleText>,
    /// Taxonomy and keyword-rule additions and overrides, merged over the shipped taxonomy.
    pub taxonomy: Option<RuleText>,
}

/// Rule data that could not be loaded, naming the file at fault and keeping the cause.
#[derive(Debug, thiserror::Error)]
pub enum RuleBookError {
    /// A calendar file is invalid.
    #[error("{origin}: {source}")]
    Calendar {
        /// The file.
        origin: String,
        /// What is wrong with it (boxed: calendar errors carry dates and names, and a rule book
        /// error should stay small to return).
        #[source]
        source: Box<CalendarError>,
    },
    /// A profile file does not parse, or a profile does not fit the calendars.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Two profile files define the same profile id.
    #[error("rule profile id {id:?} is defined in both {first} and {second}")]
    DuplicateProfileId {
        /// The profile id.
        id: String,
        /// The first file.
        first: String,
        /// The second file.
        second: String,
    },
    /// The configured default profile does not exist.
    #[error("unknown rule profile '{id}'; known: {}", known.join(", "))]
    UnknownDefaultProfile {
        /// The configured id.
        id: String,
        /// The ids that exist.
        known: Vec<String>,
    },
    /// The organisation file is invalid.
    #[error("{origin}: {source}")]
    Organisation {
        /// The file.
        origin: String,
        /// What is wrong with it.
        #[source]
        source: OrgError,
    },
    /// The template file is invalid.
    #[error("{origin}: {source}")]
    Templates {
        /// The file.
        origin: String,
        /// What is wrong with it.
        #[source]
        source: TemplateError,
    },
    /// The taxonomy file is invalid.
    #[error("{origin}: {source}")]
    Taxonomy {
        /// The file.
        origin: String,
        /// What is wrong with it.
        #[source]
        source: TaxonomyError,
    },
}

/// The loaded rules.
#[derive(Debug)]
pub struct RuleBook {
    /// Rule profiles.
    pub profiles: ProfileSet,
    /// Calendars.
    pub calendars: CalendarSet,
    /// Organisation.
    pub org: Organisation,
    /// Message templates.
    pub templates: Templates,
    /// Rule-based classifier.
    pub classifier: RuleClassifier,
    /// Default profile id.
    pub default_profile: String,
}

impl RuleBook {
    /// The shipped rules with the default profile.
    pub fn builtin() -> RuleBook {
        Self::load(&RuleTexts::default()).expect("shipped rules are valid")
    }

    /// Loads the shipped rules plus a deployment's texts, and checks they fit together.
    ///
    /// Nothing is half-applied: every text is parsed before the rule book exists, and the first
    /// problem is returned with the file it came from.
    pub fn load(texts: &RuleTexts) -> Result<RuleBook, RuleBookError> {
        let mut calendars = CalendarSet::builtin();
        for calendar in &texts.calendars {
            let parsed = Calendar::parse_toml(&calendar.id, &calendar.file.text)
                .map_err(|source| RuleBookError::Calendar { origin: calendar.file.origin.clone(), source: Box::new(source) })?;
            calendars.insert(parsed);
        }
        let mut profiles = ProfileSet::builtin();
        let mut deployment_profiles: Vec<(&str, RuleProfile)> = Vec::with_capacity(texts.profiles.len());
        for file in &texts.profiles {
            let profile = RuleProfile::parse_toml(&file.origin, &file.text)?;
            // A deployment's profile replaces a shipped one with its id on purpose; two of its own
            // files with one id is a mistake, since which one wins would depend on file order.
            if let Some((first, _)) = deployment_profiles.iter().find(|(_, p)| p.id == profile.id) {
                return Err(RuleBookError::DuplicateProfileId { id: profile.id, first: (*first).to_string(), second: file.origin.clone() });
            }
            deployment_profiles.push((&file.origin, profile));
        }
        for (_, profile) in deployment_profiles {
            profiles.insert(profile);
        }
        profiles.validate_all(&calendars)?;
        let default_profile = texts.default_profile.clone().unwrap_or_else(|| ProfileSet::default_id().to_string());
        if profiles.get(&default_profile).is_none() {
            return Err(RuleBookError::UnknownDefaultProfile { id: default_profile, known: profiles.ids().map(str::to_string).collect() });
        }
        let org = match &texts.org {
            Some(file) => Organisation::parse_toml(&file.text)
                .map_err(|source| RuleBookError::Organisation { origin: file.origin.clone(), source })?,
            None => Organisation::builtin(),
        };
        let templates = match &texts.templates {
            Some(file) => Templates::parse_toml(&file.text)
                .map_err(|source| RuleBookError::Templates { origin: file.origin.clone(), source })?,
            None => Templates::builtin(),
        };
        let mut taxonomy = Taxonomy::builtin();
        if let Some(file) = &texts.taxonomy {
            // A deployment's file adds to or overrides the shipped taxonomy by code and rule id.
            taxonomy
                .merge_toml(&file.text)
                .map_err(|source| RuleBookError::Taxonomy { origin: file.origin.clone(), source })?;
        }
        let classifier = RuleClassifier::new(taxonomy);
        Ok(RuleBook { profiles, calendars, org, templates, classifier, default_profile })
    }

    /// The rules of a profile.
    pub fn rules(&self, profile_id: &str) -> Option<Rules<'_>> {
        let profile: &RuleProfile = self.profiles.get(profile_id)?;
        let calendar = self.calendars.get(&profile.calendar)?;
        Some(Rules { profile, calendar, org: &self.org, templates: &self.templates, taxonomy: self.classifier.taxonomy() })
    }

    /// The rules of the default profile.
    pub fn default_rules(&self) -> Rules<'_> {
        self.rules(&self.default_profile).expect("validated at load")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::DayBasis;
    use jiff::civil::date;
    use rust_decimal::Decimal;

    const CN_NFRA: &str = include_str!("../../../data/profiles/cn-nfra.toml");

    #[test]
    fn the_shipped_rules_load() {
        let book = RuleBook::builtin();
        assert_eq!(book.default_profile, ProfileSet::DEFAULT_ID);
        assert!(book.rules("us-cfpb").is_some());
    }

    #[test]
    fn deployment_profiles_replace_and_add() {
        let replaced = CN_NFRA.replace("amount = \"5000\"", "amount = \"20000\"");
        let added = CN_NFRA
            .replace("id = \"cn-nfra\"", "id = \"cn-cbrc-2012\"")
            .replace("days = 15\nbasis = \"calendar\"", "days = 15\nbasis = \"working\"");
        let texts = RuleTexts {
            default_profile: Some("cn-cbrc-2012".into()),
            profiles: vec![RuleText::new("rules/my-bank.toml", replaced), RuleText::new("rules/old.toml", added)],
            ..RuleTexts::default()
        };
        let book = RuleBook::load(&texts).unwrap();
        assert_eq!(book.profiles.get("cn-nfra").unwrap().compensation_approval_threshold.amount, Decimal::from(20000));
        assert_eq!(book.profiles.get("cn-cbrc-2012").unwrap().decision.basis, DayBasis::Working);
        assert!(book.profiles.get("us-cfpb").is_some());
        assert_eq!(book.default_rules().profile.id, "cn-cbrc-2012");
    }

    #[test]
    fn two_deployment_files_with_one_profile_id_are_refused_naming_both() {
        let us = include_str!("../../../data/profiles/us-cfpb.toml");
        let texts = RuleTexts { profiles: vec![RuleText::new("p/zz.toml", us), RuleText::new("p/zzz.toml", us)], ..RuleTexts::default() };
        let err = RuleBook::load(&texts).unwrap_err();
        assert!(matches!(&err, RuleBookError::DuplicateProfileId { first, second, .. } if first == "p/zz.toml" && second == "p/zzz.toml"), "{err}");
    }

    #[test]
    fn a_broken_profile_names_its_file() {
        let texts = RuleTexts { profiles: vec![RuleText::new("p/broken.toml", "id = ")], ..RuleTexts::default() };
        let err = RuleBook::load(&texts).unwrap_err();
        assert!(err.to_string().contains("p/broken.toml"), "{err}");
        assert!(std::error::Error::source(&err).is_some(), "the parser's error is kept as the cause");
    }

    #[test]
    fn deployment_calendars_merge_by_id_and_year() {
        let texts = RuleTexts {
            calendars: vec![CalendarText {
                id: "cn".into(),
                file: RuleText::new("cal/cn.toml", "[2027]\nholidays = [\"2027-01-01\"]\nworkdays = [\"2027-01-09\"]\n"),
            }],
            ..RuleTexts::default()
        };
        let book = RuleBook::load(&texts).unwrap();
        let cn = book.calendars.get("cn").unwrap();
        assert!(!cn.is_working_day(date(2027, 1, 1)));
        assert!(cn.is_working_day(date(2027, 1, 9)));
        assert!(cn.covers(2025), "the shipped years stay");
    }

    #[test]
    fn a_broken_calendar_names_its_file_and_keeps_the_cause() {
        let texts = RuleTexts {
            calendars: vec![
                CalendarText { id: "a".into(), file: RuleText::new("cal/a.toml", "[2027]\nholidays = [\"2027-01-01\"]\n") },
                CalendarText { id: "b".into(), file: RuleText::new("cal/b.toml", "[2027]\nholidays = [\"2027-13-01\"]\n") },
            ],
            ..RuleTexts::default()
        };
        let err = RuleBook::load(&texts).unwrap_err();
        assert!(matches!(&err, RuleBookError::Calendar { origin, source } if origin == "cal/b.toml" && matches!(**source, CalendarError::BadDate { .. })), "{err}");
    }

    #[test]
    fn organisation_templates_and_taxonomy_errors_name_their_files() {
        let cases = [
            RuleTexts { org: Some(RuleText::new("org.toml", "units = 3")), ..RuleTexts::default() },
            RuleTexts { templates: Some(RuleText::new("messages.toml", "[acknowledgement]\n")), ..RuleTexts::default() },
            RuleTexts { taxonomy: Some(RuleText::new("taxonomy.toml", "[age\n")), ..RuleTexts::default() },
        ];
        for (texts, file) in cases.iter().zip(["org.toml", "messages.toml", "taxonomy.toml"]) {
            let err = RuleBook::load(texts).unwrap_err();
            assert!(err.to_string().starts_with(file), "{err}");
            assert!(std::error::Error::source(&err).is_some(), "{err}");
        }
    }

    #[test]
    fn a_taxonomy_override_is_merged_over_the_shipped_one() {
        let texts = RuleTexts { taxonomy: Some(RuleText::new("t.toml", "[age]\nelderly_min_age = 60\n")), ..RuleTexts::default() };
        let book = RuleBook::load(&texts).unwrap();
        assert_eq!(book.classifier.taxonomy().age().elderly_min_age, 60);
    }

    #[test]
    fn an_unknown_default_profile_lists_the_known_ones() {
        let texts = RuleTexts { default_profile: Some("xx".into()), ..RuleTexts::default() };
        let err = RuleBook::load(&texts).unwrap_err();
        assert!(err.to_string().contains("cn-nfra"), "{err}");
    }
}
