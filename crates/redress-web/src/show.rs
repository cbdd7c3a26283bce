//! Values as pages show them: choices of selects, taxonomy names in the page's language,
//! masked personal data.

use redress_domain::classify::Dimension;

use crate::i18n::Lang;
use crate::page::Page;

/// An option of a select: value and label.
pub type Choice = (String, String);

/// The name of a taxonomy code in a language, with the code.
pub fn taxonomy_name(app: &redress_app::App, lang: Lang, dimension: Dimension, code: &str) -> String {
    match app.rules.classifier.taxonomy().node(dimension, code) {
        Some(n) => format!("{} {}", n.code, if lang == Lang::En { &n.name_en } else { &n.name_zh }),
        None => code.to_string(),
    }
}

/// Taxonomy choices of a dimension, indented by level, with an "any" choice first when asked.
pub fn taxonomy_choices(app: &redress_app::App, p: &Page, dimension: Dimension, any: bool) -> Vec<Choice> {
    let taxonomy = app.rules.classifier.taxonomy();
    let mut out: Vec<Choice> = if any { vec![(String::new(), p.t("common.any").to_string())] } else { vec![(String::new(), p.t("common.none_chosen").to_string())] };
    for n in taxonomy.nodes(dimension) {
        let depth = taxonomy.level(dimension, &n.code).unwrap_or(0);
        let name = if p.lang == Lang::En { &n.name_en } else { &n.name_zh };
        out.push((n.code.clone(), format!("{}{} {}", "\u{3000}".repeat(depth.saturating_sub(1)), n.code, name)));
    }
    out
}

/// Shows the last four characters of a phone or ID number, the rest as stars.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let keep = if chars.len() > 7 { 4 } else { chars.len() / 2 };
    let hidden = chars.len() - keep;
    format!("{}{}", "*".repeat(hidden), chars[hidden..].iter().collect::<String>())
}

/// The choices of the complaint-list filters.
pub mod filter_choices {
    use redress_domain::classify::Dimension;
    use redress_domain::lifecycle::Status;

    use super::{Choice, taxonomy_choices};
    use crate::page::Page;

    /// Options of every filter select.
    #[derive(Debug, Clone, Default)]
    pub struct Choices {
        /// Statuses.
        pub statuses: Vec<Choice>,
        /// Channels.
        pub channels: Vec<Choice>,
        /// Business types.
        pub business_types: Vec<Choice>,
        /// Causes.
        pub causes: Vec<Choice>,
        /// Severities.
        pub severities: Vec<Choice>,
        /// Due states.
        pub due_states: Vec<Choice>,
        /// Units of the organisation.
        pub units: Vec<Choice>,
        /// Departments of the organisation.
        pub departments: Vec<Choice>,
    }

    fn with_any(p: &Page, family: &str, values: &[&str]) -> Vec<Choice> {
        let mut out = vec![(String::new(), p.t("common.any").to_string())];
        out.extend(values.iter().map(|v| (v.to_string(), p.label(family, v))));
        out
    }

    /// The options, labelled in the page's language.
    pub fn of(app: &redress_app::App, p: &Page) -> Choices {
        let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        let org = &app.rules.org;
        let mut units = vec![(String::new(), p.t("common.any").to_string())];
        units.extend(org.units().iter().map(|u| (u.code.clone(), u.name.clone())));
        let mut departments = vec![(String::new(), p.t("common.any").to_string())];
        departments.extend(org.departments().iter().map(|d| (d.code.clone(), d.name.clone())));
        Choices {
            statuses: with_any(p, "status", &statuses),
            channels: with_any(p, "channel", &crate::show::CHANNELS),
            business_types: taxonomy_choices(app, p, Dimension::BusinessType, true),
            causes: taxonomy_choices(app, p, Dimension::Cause, true),
            severities: with_any(p, "severity", &["low", "medium", "high", "critical"]),
            due_states: with_any(p, "due", &["on_time", "due_soon", "overdue", "paused"]),
            units,
            departments,
        }
    }
}

/// Every channel's wire name, in the order the forms list them.
pub const CHANNELS: [&str; 8] = ["hotline", "branch", "email", "web", "app", "social_media", "letter", "regulator"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_all_but_the_last_four() {
        assert_eq!(mask("13812345678"), "*******5678");
        assert_eq!(mask("110101199003071234"), "**************1234");
        assert_eq!(mask("12345"), "***45");
    }
}
