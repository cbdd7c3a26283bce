//! The organisation: units (head office → branches → sub-branches), their departments, and the
//! roles people hold.
//!
//! The hierarchy is data (a TOML file), because every institution's is different. Complaints are
//! handled where they arise (属地管理); approvals and escalations walk up the hierarchy.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// A role a user holds; it decides what they may see and do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Registers complaints from any channel.
    IntakeAgent,
    /// Investigates and resolves the complaints of their department.
    Handler,
    /// Leads a department: approves within it, receives its escalations.
    DepartmentHead,
    /// Consumer-protection supervisor: sees everything, approves extensions and large
    /// compensation, receives escalations.
    Supervisor,
    /// Read-only access to everything, history included.
    Auditor,
    /// Manages users and configuration; sees everything.
    Admin,
}

impl Role {
    /// All roles, for help texts and validation messages.
    pub const ALL: [Role; 6] =
        [Role::IntakeAgent, Role::Handler, Role::DepartmentHead, Role::Supervisor, Role::Auditor, Role::Admin];

    /// The wire name (`intake_agent`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::IntakeAgent => "intake_agent",
            Role::Handler => "handler",
            Role::DepartmentHead => "department_head",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// Parses a wire name; the error lists the valid ones.
    pub fn parse(value: &str) -> Result<Role, String> {
        Role::ALL.into_iter().find(|r| r.as_str() == value.trim()).ok_or_else(|| {
            format!(
                "unknown role '{value}'; expected one of {}",
                Role::ALL.map(|r| r.as_str()).join(", ")
            )
        })
    }

    /// Whether this role sees every department's complaints.
    pub fn sees_all_departments(self) -> bool {
        matches!(self, Role::Supervisor | Role::Auditor | Role::Admin | Role::IntakeAgent)
    }

    /// Whether this role may change anything at all.
    pub fn can_write(self) -> bool {
        !matches!(self, Role::Auditor)
    }
}

/// What kind of organisation unit a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 总行 / 总公司.
    HeadOffice,
    /// 分行 / 分公司.
    Branch,
    /// 支行 / 营业部.
    SubBranch,
}

/// An organisation unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    /// Short stable code, e.g. `SH` for the Shanghai branch.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Its kind.
    pub kind: UnitKind,
    /// The superior unit; `None` only for the head office.
    #[serde(default)]
    pub parent: Option<String>,
    /// Region name used in routing rules and reports.
    #[serde(default)]
    pub region: Option<String>,
}

/// A department inside a unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    /// Globally unique code, e.g. `SH-CARD`.
    pub code: String,
    /// Display name.
    pub name: String,
    /// The unit it belongs to.
    pub unit: String,
    /// Whether this is the unit's consumer-protection department (消保部), which owns complaints
    /// no routing rule claims.
    #[serde(default)]
    pub consumer_protection: bool,
}

/// A routing rule: the first rule whose every given condition matches decides the department.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRule {
    /// Business-type code (or a prefix of it) the complaint must have.
    #[serde(default)]
    pub business_type: Option<String>,
    /// Cause code (or a prefix) the complaint must have.
    #[serde(default)]
    pub cause: Option<String>,
    /// Channel the complaint must have arrived by.
    #[serde(default)]
    pub channel: Option<String>,
    /// Unit code the complaint must have arisen in (or under).
    #[serde(default)]
    pub unit: Option<String>,
    /// Region the respondent unit must be in.
    #[serde(default)]
    pub region: Option<String>,
    /// Minimum severity.
    #[serde(default)]
    pub min_severity: Option<crate::classify::Severity>,
    /// Customer type the complainant must be.
    #[serde(default)]
    pub customer_type: Option<String>,
    /// The department that gets it. `{unit}` is replaced by the respondent unit's code, so one
    /// rule can route card complaints to each branch's own card department.
    pub department: String,
}

/// Errors in an organisation file.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    /// The TOML did not parse.
    #[error("organisation file: {0}")]
    Toml(#[from] toml::de::Error),
    /// A reference or structure is wrong.
    #[error("organisation file: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgFile {
    #[serde(default, rename = "unit")]
    units: Vec<Unit>,
    #[serde(default, rename = "department")]
    departments: Vec<Department>,
    #[serde(default, rename = "route")]
    routes: Vec<RoutingRule>,
}

/// The code reserved for "every department" (the statistics keep their institution-wide sums
/// under it); no department may have it.
pub const ALL_DEPARTMENTS: &str = "*";

/// The organisation: units, departments and routing rules, validated.
#[derive(Debug, Clone)]
pub struct Organisation {
    units: Vec<Unit>,
    departments: Vec<Department>,
    routes: Vec<RoutingRule>,
    unit_index: HashMap<String, usize>,
    department_index: HashMap<String, usize>,
}

impl Organisation {
    /// The sample organisation shipped with the product (a head office and two branches).
    pub fn builtin() -> Organisation {
        Self::parse_toml(include_str!("../../../data/org/default.toml")).expect("shipped organisation file is valid")
    }

    /// Parses and validates an organisation file.
    pub fn parse_toml(text: &str) -> Result<Organisation, OrgError> {
        let file: OrgFile = toml::from_str(text)?;
        let mut unit_index = HashMap::new();
        for (i, u) in file.units.iter().enumerate() {
            if unit_index.insert(u.code.clone(), i).is_some() {
                return Err(OrgError::Invalid(format!("unit '{}' is defined twice", u.code)));
            }
        }
        let heads: Vec<_> = file.units.iter().filter(|u| u.parent.is_none()).collect();
        if heads.len() != 1 {
            return Err(OrgError::Invalid(format!("exactly one unit must have no parent; found {}", heads.len())));
        }
        for u in &file.units {
            if let Some(p) = &u.parent
                && !unit_index.contains_key(p)
            {
                return Err(OrgError::Invalid(format!("unit '{}' names unknown parent '{p}'", u.code)));
            }
        }
        // A cycle would make "walk up the hierarchy" loop forever.
        for u in &file.units {
            let mut seen = 0;
            let mut cur = u.parent.as_deref();
            while let Some(p) = cur {
                seen += 1;
                if seen > file.units.len() {
                    return Err(OrgError::Invalid(format!("unit '{}' is inside a cycle of parents", u.code)));
                }
                cur = file.units[unit_index[p]].parent.as_deref();
            }
        }
        let mut department_index = HashMap::new();
        for (i, d) in file.departments.iter().enumerate() {
            if !unit_index.contains_key(&d.unit) {
                return Err(OrgError::Invalid(format!("department '{}' names unknown unit '{}'", d.code, d.unit)));
            }
            if d.code.trim().is_empty() || d.code == ALL_DEPARTMENTS {
                return Err(OrgError::Invalid(format!("'{}' is not a department code", d.code)));
            }
            if department_index.insert(d.code.clone(), i).is_some() {
                return Err(OrgError::Invalid(format!("department '{}' is defined twice", d.code)));
            }
        }
        let head = heads[0].code.clone();
        if !file.departments.iter().any(|d| d.unit == head && d.consumer_protection) {
            return Err(OrgError::Invalid(format!(
                "the head office '{head}' needs a consumer-protection department, the owner of last resort"
            )));
        }
        for r in &file.routes {
            if !r.department.contains("{unit}") && !department_index.contains_key(&r.department) {
                return Err(OrgError::Invalid(format!("a route names unknown department '{}'", r.department)));
            }
        }
        Ok(Organisation { units: file.units, departments: file.departments, routes: file.routes, unit_index, department_index })
    }

    /// A unit by code.
    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.unit_index.get(code).map(|&i| &self.units[i])
    }

    /// A department by code.
    pub fn department(&self, code: &str) -> Option<&Department> {
        self.department_index.get(code).map(|&i| &self.departments[i])
    }

    /// All units.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    /// All departments.
    pub fn departments(&self) -> &[Department] {
        &self.departments
    }

    /// The routing rules, in the order they are tried.
    pub fn routes(&self) -> &[RoutingRule] {
        &self.routes
    }

    /// The head office.
    pub fn head_office(&self) -> &Unit {
        self.units.iter().find(|u| u.parent.is_none()).expect("validated: one head office")
    }

    /// The unit and its superiors, nearest first.
    pub fn ancestry(&self, unit: &str) -> Vec<&Unit> {
        let mut out = Vec::new();
        let mut cur = self.unit(unit);
        while let Some(u) = cur {
            out.push(u);
            cur = u.parent.as_deref().and_then(|p| self.unit(p));
        }
        out
    }

    /// Whether `unit` is `ancestor` or lies under it.
    pub fn is_within(&self, unit: &str, ancestor: &str) -> bool {
        self.ancestry(unit).iter().any(|u| u.code == ancestor)
    }

    /// The codes of the departments of `unit` and of the units under it.
    pub fn departments_within(&self, unit: &str) -> Vec<String> {
        self.departments.iter().filter(|d| self.is_within(&d.unit, unit)).map(|d| d.code.clone()).collect()
    }

    /// The consumer-protection department responsible for a unit: its own, or the nearest
    /// superior's. Always exists, because the head office must have one.
    pub fn consumer_protection_for(&self, unit: &str) -> &Department {
        for u in self.ancestry(unit) {
            if let Some(d) = self.departments.iter().find(|d| d.unit == u.code && d.consumer_protection) {
                return d;
            }
        }
        let head = &self.head_office().code;
        self.departments.iter().find(|d| &d.unit == head && d.consumer_protection).expect("validated")
    }

    /// The consumer-protection department one level above the department's unit: where
    /// approvals that need a superior level, reviews (核查) and escalations go.
    pub fn superior_department(&self, department: &str) -> &Department {
        let unit = self.department(department).map(|d| d.unit.as_str()).unwrap_or(&self.head_office().code);
        match self.unit(unit).and_then(|u| u.parent.as_deref()) {
            Some(parent) => self.consumer_protection_for(parent),
            None => self.consumer_protection_for(unit),
        }
    }

    /// Routes a complaint to a department: the first matching rule, else the consumer-protection
    /// department where the complaint arose. The answer is never empty.
    pub fn route(&self, facts: &RoutingFacts<'_>) -> &Department {
        for rule in &self.routes {
            if self.rule_matches(rule, facts) {
                let code = rule.department.replace("{unit}", facts.unit);
                if let Some(d) = self.department(&code) {
                    return d;
                }
            }
        }
        self.consumer_protection_for(facts.unit)
    }

    fn rule_matches(&self, rule: &RoutingRule, f: &RoutingFacts<'_>) -> bool {
        let prefix = |want: &Option<String>, have: Option<&str>| match want {
            None => true,
            Some(w) => have.is_some_and(|h| h.starts_with(w.as_str())),
        };
        prefix(&rule.business_type, f.business_type)
            && prefix(&rule.cause, f.cause)
            && rule.channel.as_deref().is_none_or(|c| c == f.channel)
            && rule.unit.as_deref().is_none_or(|u| self.is_within(f.unit, u))
            && rule.region.as_deref().is_none_or(|r| self.unit(f.unit).and_then(|u| u.region.as_deref()) == Some(r))
            && rule.min_severity.is_none_or(|s| f.severity >= s)
            && rule.customer_type.as_deref().is_none_or(|c| c == f.customer_type)
    }
}

/// What routing looks at.
#[derive(Debug, Clone, Copy)]
pub struct RoutingFacts<'a> {
    /// Business-type code, if classified.
    pub business_type: Option<&'a str>,
    /// Cause code, if classified.
    pub cause: Option<&'a str>,
    /// Channel wire name.
    pub channel: &'a str,
    /// Respondent unit code.
    pub unit: &'a str,
    /// Severity.
    pub severity: crate::classify::Severity,
    /// Customer type wire name.
    pub customer_type: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statistics_code_for_every_department_is_no_department_code() {
        let shipped = include_str!("../../../data/org/default.toml");
        assert!(Organisation::parse_toml(shipped).is_ok());
        let org = Organisation::builtin();
        let code = &org.departments()[0].code;
        for bad in ["*", " "] {
            let text = shipped.replace(&format!("code = \"{code}\""), &format!("code = \"{bad}\""));
            assert_ne!(text, shipped, "the shipped file names department {code}");
            let err = Organisation::parse_toml(&text).unwrap_err().to_string();
            assert!(err.contains("is not a department code"), "{bad:?}: {err}");
        }
    }
}
