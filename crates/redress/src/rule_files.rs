//! Reading a deployment's rule files.
//!
//! The domain reads no files: this module reads the folders and files the configuration names
//! into memory and hands their texts to [`RuleBook::load`], each under its path so that an error
//! names the file to fix.

use std::path::{Path, PathBuf};

use anyhow::Context;
use redress_domain::rulebook::{CalendarText, RuleBook, RuleText, RuleTexts};

/// Where a deployment's own rule files are; `None` keeps the shipped ones.
#[derive(Debug, Clone, Default)]
pub struct RuleSources {
    /// The profile new complaints use.
    pub default_profile: Option<String>,
    /// Directory of extra or replacement profile files (`*.toml`).
    pub profiles_dir: Option<PathBuf>,
    /// Directory of extra calendar files (`*.toml`, each named after its calendar id), merged
    /// by id and year.
    pub calendars_dir: Option<PathBuf>,
    /// Organisation file.
    pub org_file: Option<PathBuf>,
    /// Message template file.
    pub templates_file: Option<PathBuf>,
    /// Taxonomy and keyword-rule additions and overrides.
    pub taxonomy_file: Option<PathBuf>,
}

/// Reads the shipped rules plus the deployment's files, and checks they fit together.
pub fn load_rule_book(sources: &RuleSources) -> anyhow::Result<RuleBook> {
    let texts = read_rule_texts(sources)?;
    Ok(RuleBook::load(&texts)?)
}

/// Reads every file `sources` names. Directories are read in file-name order, and only their
/// `*.toml` files, so notes or backups beside them are left alone.
pub fn read_rule_texts(sources: &RuleSources) -> anyhow::Result<RuleTexts> {
    let profiles = match &sources.profiles_dir {
        Some(dir) => toml_files(dir)?.iter().map(|path| read_text(path)).collect::<anyhow::Result<_>>()?,
        None => Vec::new(),
    };
    let calendars = match &sources.calendars_dir {
        Some(dir) => toml_files(dir)?.iter().map(|path| read_calendar(path)).collect::<anyhow::Result<_>>()?,
        None => Vec::new(),
    };
    Ok(RuleTexts {
        default_profile: sources.default_profile.clone(),
        profiles,
        calendars,
        org: sources.org_file.as_deref().map(read_text).transpose()?,
        templates: sources.templates_file.as_deref().map(read_text).transpose()?,
        taxonomy: sources.taxonomy_file.as_deref().map(read_text).transpose()?,
    })
}

/// The `*.toml` files directly in `dir`, sorted by name.
fn toml_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let context = || format!("reading the rule directory {}", dir.display());
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(context)? {
        let path = entry.with_context(context)?.path();
        if path.extension().is_some_and(|ext| ext == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

fn read_text(path: &Path) -> anyhow::Result<RuleText> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the rule file {}", path.display()))?;
    Ok(RuleText::new(path.display().to_string(), text))
}

/// A calendar file holds the calendar named by its file stem (`cn.toml` is `cn`).
fn read_calendar(path: &Path) -> anyhow::Result<CalendarText> {
    let id = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .filter(|stem| !stem.is_empty())
        .with_context(|| format!("the calendar file {} has no usable file name for a calendar id", path.display()))?
        .to_string();
    Ok(CalendarText { id, file: read_text(path)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CN_NFRA: &str = include_str!("../../../data/profiles/cn-nfra.toml");

    #[test]
    fn nothing_configured_reads_nothing() {
        assert_eq!(read_rule_texts(&RuleSources::default()).unwrap(), RuleTexts::default());
    }

    #[test]
    fn folders_are_read_in_name_order_and_only_their_toml_files() {
        let dir = tempfile::tempdir().unwrap();
        let profiles = dir.path().join("profiles");
        let calendars = dir.path().join("calendars");
        std::fs::create_dir_all(&profiles).unwrap();
        std::fs::create_dir_all(&calendars).unwrap();
        std::fs::write(profiles.join("b.toml"), CN_NFRA.replace("id = \"cn-nfra\"", "id = \"b\"")).unwrap();
        std::fs::write(profiles.join("a.toml"), CN_NFRA.replace("amount = \"5000\"", "amount = \"20000\"")).unwrap();
        std::fs::write(profiles.join("notes.txt"), "not a profile").unwrap();
        std::fs::write(calendars.join("cn.toml"), "[2027]\nholidays = [\"2027-01-01\"]\n").unwrap();
        let org = dir.path().join("org.toml");
        std::fs::write(&org, include_str!("../../../data/org/default.toml")).unwrap();

        let sources = RuleSources {
            default_profile: Some("b".into()),
            profiles_dir: Some(profiles.clone()),
            calendars_dir: Some(calendars.clone()),
            org_file: Some(org.clone()),
            ..RuleSources::default()
        };
        let texts = read_rule_texts(&sources).unwrap();
        let origins: Vec<String> = texts.profiles.iter().map(|t| t.origin.clone()).collect();
        assert_eq!(origins, [profiles.join("a.toml").display().to_string(), profiles.join("b.toml").display().to_string()]);
        assert_eq!(texts.calendars[0].id, "cn");
        assert_eq!(texts.org.as_ref().unwrap().origin, org.display().to_string());

        let book = load_rule_book(&sources).unwrap();
        assert_eq!(book.default_profile, "b");
        assert_eq!(book.profiles.get("cn-nfra").unwrap().compensation_approval_threshold.amount, 20000.into());
        assert!(!book.calendars.get("cn").unwrap().is_working_day(jiff::civil::date(2027, 1, 1)));
    }

    #[test]
    fn a_missing_file_or_folder_is_named_with_its_cause() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let err = read_rule_texts(&RuleSources { profiles_dir: Some(missing.clone()), ..RuleSources::default() }).unwrap_err();
        assert!(format!("{err:#}").contains(&missing.display().to_string()), "{err:#}");
        assert!(err.root_cause().downcast_ref::<std::io::Error>().is_some());

        let err = read_rule_texts(&RuleSources { templates_file: Some(missing.join("t.toml")), ..RuleSources::default() }).unwrap_err();
        assert!(format!("{err:#}").contains("t.toml"), "{err:#}");
    }

    #[test]
    fn a_broken_file_is_named_by_the_rule_book() {
        let dir = tempfile::tempdir().unwrap();
        let taxonomy = dir.path().join("taxonomy.toml");
        std::fs::write(&taxonomy, "[age\n").unwrap();
        let err = load_rule_book(&RuleSources { taxonomy_file: Some(taxonomy.clone()), ..RuleSources::default() }).unwrap_err();
        assert!(format!("{err:#}").contains(&taxonomy.display().to_string()), "{err:#}");
    }
}
