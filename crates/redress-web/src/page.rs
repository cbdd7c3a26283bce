//! What every page shares: its language, the person signed in, the CSRF token of its forms, the
//! section it belongs to, and the helpers templates use to show values (labels from the
//! catalogs, times in the institution's time zone).

use jiff::Timestamp;
use jiff::tz::TimeZone;
use redress_app::policy::{self, Operation};
use redress_app::{App, Caller};
use serde::Serialize;

use crate::i18n::Lang;
use crate::session::Staff;

/// The person signed in, as the page header shows them.
#[derive(Debug, Clone)]
pub struct UserBar {
    /// Login name.
    pub name: String,
    /// Role wire name.
    pub role: &'static str,
    /// Department code.
    pub department: Option<String>,
    /// May see the approvals page.
    pub approves: bool,
    /// May register complaints.
    pub registers: bool,
    /// May open the administration pages (users, rules, models).
    pub administers: bool,
    /// May see the statistics (analysis, hotspots, scorecards, reports).
    pub statistics: bool,
    /// Whether they import complaints (the intake channels page).
    pub imports: bool,
}

/// The common parts of a page.
#[derive(Debug, Clone)]
pub struct Page {
    /// Language.
    pub lang: Lang,
    /// Catalog key of the page title.
    pub title: &'static str,
    /// The person signed in, on staff pages.
    pub user: Option<UserBar>,
    /// The CSRF token of the page's forms.
    pub csrf: String,
    /// The section of the navigation that is current.
    pub nav: &'static str,
    /// The institution's time zone.
    pub tz: TimeZone,
    /// A one-line notice (after an action).
    pub notice: Option<String>,
}

/// The wire name of a serializable enum value (`awaiting_approval`).
pub fn wire<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

impl Page {
    /// A page for a signed-in member of staff.
    pub fn staff(app: &App, staff: &Staff, title: &'static str, nav: &'static str) -> Page {
        let c: &Caller = &staff.caller;
        let user = UserBar {
            name: c.user.name.clone(),
            role: c.role().as_str(),
            department: c.user.department.clone(),
            approves: policy::grant(c.role(), Operation::ApproveResolution) != policy::Grant::None,
            registers: policy::grant(c.role(), Operation::Register) != policy::Grant::None,
            administers: policy::grant(c.role(), Operation::ViewUsers) != policy::Grant::None,
            statistics: policy::grant(c.role(), Operation::ViewStatistics) != policy::Grant::None,
            imports: policy::grant(c.role(), Operation::Import) != policy::Grant::None,
        };
        Page { lang: staff.lang, title, user: Some(user), csrf: staff.csrf.clone(), nav, tz: app.rules.default_rules().profile.time_zone(), notice: None }
    }

    /// A page for someone not signed in.
    pub fn anonymous(lang: Lang, title: &'static str) -> Page {
        Page { lang, title, user: None, csrf: String::new(), nav: "", tz: TimeZone::fixed(jiff::tz::offset(8)), notice: None }
    }

    /// A page for a customer, with the institution's time zone and the form token.
    pub fn customer(app: &App, lang: Lang, title: &'static str, form_token: String) -> Page {
        Page { lang, title, user: None, csrf: form_token, nav: "customer", tz: app.rules.default_rules().profile.time_zone(), notice: None }
    }

    /// The same page with a notice.
    pub fn with_notice(mut self, notice: Option<String>) -> Page {
        self.notice = notice;
        self
    }

    /// The text of a catalog key.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.lang.catalog().get(key)
    }

    /// The label of a value of a family (`status`, `channel`, …) by its wire name; the wire
    /// name itself when the catalog has none.
    pub fn label(&self, family: &str, wire_name: &str) -> String {
        let key = format!("{family}.{wire_name}");
        let catalog = self.lang.catalog();
        if catalog.has(&key) { catalog.get(&key).to_string() } else { wire_name.to_string() }
    }

    /// The label of an enum value of a family.
    pub fn enum_label<T: Serialize>(&self, family: &str, v: &T) -> String {
        self.label(family, &wire(v))
    }

    /// A message of the use cases in the page's language: the catalog's translation of the
    /// sentence when it has one, else the sentence as written.
    pub fn message(&self, english: &str) -> String {
        if self.lang == Lang::En {
            return english.to_string();
        }
        let key = format!("messages.{english}");
        let catalog = self.lang.catalog();
        if catalog.has(&key) { catalog.get(&key).to_string() } else { english.to_string() }
    }

    /// A time as the institution's local date and minute.
    pub fn time(&self, at: &Timestamp) -> String {
        at.to_zoned(self.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string()
    }

    /// An optional time, or a dash.
    pub fn time_or_dash(&self, at: &Option<Timestamp>) -> String {
        at.as_ref().map_or_else(|| "—".to_string(), |t| self.time(t))
    }

    /// A time as the institution's local date.
    pub fn date(&self, at: &Timestamp) -> String {
        at.to_zoned(self.tz.clone()).strftime("%Y-%m-%d").to_string()
    }

    /// The name of a department by code.
    pub fn department_name(&self, app_org: &redress_domain::org::Organisation, code: &str) -> String {
        app_org.department(code).map_or_else(|| code.to_string(), |d| d.name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redress_domain::complaint::{Channel, CustomerType, Remedy, ResolutionKind, Satisfaction};
    use redress_domain::deadline::DueState;
    use redress_domain::lifecycle::Status;

    #[test]
    fn every_value_the_pages_label_has_a_label_in_both_languages() {
        let mut names: Vec<String> = Vec::new();
        names.extend(Status::ALL.iter().map(|s| format!("status.{}", s.as_str())));
        for c in ["hotline", "email", "web", "app", "social_media", "letter", "branch", "regulator"] {
            assert!(Channel::parse(c).is_some(), "{c} is a channel");
            names.push(format!("channel.{c}"));
        }
        for d in [DueState::OnTime, DueState::DueSoon, DueState::Overdue, DueState::Paused] {
            names.push(format!("due.{}", d.as_str()));
        }
        for r in redress_domain::org::Role::ALL {
            names.push(format!("role.{}", r.as_str()));
        }
        for k in [ResolutionKind::Explanation, ResolutionKind::Refund, ResolutionKind::Compensation, ResolutionKind::FeeWaiver, ResolutionKind::Remediation, ResolutionKind::Apology, ResolutionKind::Rejection] {
            names.push(format!("resolution.{}", wire(&k)));
        }
        for s in [Satisfaction::Satisfied, Satisfaction::BasicallySatisfied, Satisfaction::Dissatisfied] {
            names.push(format!("satisfaction.{}", wire(&s)));
        }
        for r in [Remedy::Review, Remedy::Mediation, Remedy::Arbitration, Remedy::Litigation] {
            names.push(format!("remedy.{}", wire(&r)));
        }
        for c in [CustomerType::Individual, CustomerType::SmallBusiness, CustomerType::Elderly, CustomerType::Vulnerable, CustomerType::Vip] {
            names.push(format!("customer_type.{}", wire(&c)));
        }
        for s in ["low", "medium", "high", "critical"] {
            names.push(format!("severity.{s}"));
        }
        for a in redress_app::input::ACTIONS {
            names.push(format!("action.{a}"));
        }
        for lang in Lang::ALL {
            let missing: Vec<&String> = names.iter().filter(|k| !lang.catalog().has(k)).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.tag());
        }
    }
}
