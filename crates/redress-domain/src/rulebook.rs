//! Everything a deployment's rules consist of, loaded once at start-up: rule profiles,
//! calendars, the organisation, message templates and the rule-based classifier.
//!
//! The shipped data files are compiled in; a deployment adds or replaces them from directories
//! and files named in its configuration, so next year's holiday notice or a new routing rule
//! needs no rebuild.

use std::path::PathBuf;

use crate::calendar::CalendarSet;
use crate::classify::{RuleClassifier, Taxonomy};
use crate::complaint::Rules;
use crate::messages::Templates;
use crate::org::Organisation;
use crate::profile::{ProfileSet, RuleProfile};

/// Where a deployment's own rule files are; `None` keeps the shipped ones.
#[derive(Debug, Clone, Default)]
pub struct RuleSources {
    /// The profile new complaints use.
    pub default_profile: Option<String>,
    /// Directory of extra or replacement profile files.
    pub profiles_dir: Option<PathBuf>,
    /// Directory of extra calendar files (merged by id and year).
    pub calendars_dir: Option<PathBuf>,
    /// Organisation file.
    pub org_file: Option<PathBuf>,
    /// Message template file.
    pub templates_file: Option<PathBuf>,
    /// Taxonomy and keyword-rule additions and overrides.
    pub taxonomy_file: Option<PathBuf>,
}

/// A rule file that could not be loaded, with the file named.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RuleBookError(pub String);

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

fn read(path: &std::path::Path) -> Result<String, RuleBookError> {
    std::fs::read_to_string(path).map_err(|e| RuleBookError(format!("{}: {e}", path.display())))
}

impl RuleBook {
    /// The shipped rules with the default profile.
    pub fn builtin() -> RuleBook {
        Self::load(&RuleSources::default()).expect("shipped rules are valid")
    }

    /// Loads the shipped rules plus a deployment's files, and checks they fit together.
    pub fn load(src: &RuleSources) -> Result<RuleBook, RuleBookError> {
        let mut calendars = CalendarSet::builtin();
        if let Some(dir) = &src.calendars_dir {
            calendars.load_dir(dir).map_err(|e| RuleBookError(format!("{}: {e}", dir.display())))?;
        }
        let mut profiles = ProfileSet::builtin();
        if let Some(dir) = &src.profiles_dir {
            profiles.load_dir(dir).map_err(|e| RuleBookError(format!("{}: {e}", dir.display())))?;
        }
        profiles.validate_all(&calendars).map_err(|e| RuleBookError(e.to_string()))?;
        let default_profile = src.default_profile.clone().unwrap_or_else(|| ProfileSet::default_id().to_string());
        if profiles.get(&default_profile).is_none() {
            return Err(RuleBookError(format!(
                "unknown rule profile '{default_profile}'; known: {}",
                profiles.ids().collect::<Vec<_>>().join(", ")
            )));
        }
        let org = match &src.org_file {
            Some(p) => Organisation::parse_toml(&read(p)?).map_err(|e| RuleBookError(format!("{}: {e}", p.display())))?,
            None => Organisation::builtin(),
        };
        let templates = match &src.templates_file {
            Some(p) => Templates::parse_toml(&read(p)?).map_err(|e| RuleBookError(format!("{}: {e}", p.display())))?,
            None => Templates::builtin(),
        };
        let taxonomy = match &src.taxonomy_file {
            // A deployment's file adds to or overrides the shipped taxonomy by code and rule id.
            Some(p) => Taxonomy::load(p).map_err(|e| RuleBookError(format!("{}: {e}", p.display())))?,
            None => Taxonomy::builtin(),
        };
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
