//! The FCA complaints return's groupings (DISP 1 Annex 1R): which product group and which
//! cause group a complaint's business type, product and cause fall into. Data, not code: the
//! mapping is `data/reports/fca.toml`, read by [`FcaGroups::parse_toml`].

use serde::Deserialize;

/// The shipped mapping.
pub const BUILTIN_FCA_GROUPS: &str = include_str!("../../../data/reports/fca.toml");

/// One group and what falls into it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FcaGroup {
    /// Stable id.
    pub id: String,
    /// The FCA's name of the group.
    pub name: String,
    /// Business-type code prefixes (product groups).
    #[serde(default)]
    pub business_types: Vec<String>,
    /// Product names, compared without case (product groups).
    #[serde(default)]
    pub products: Vec<String>,
    /// Cause code prefixes (cause groups).
    #[serde(default)]
    pub causes: Vec<String>,
}

/// The whole mapping.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FcaGroups {
    /// The product group of a complaint nothing else claims.
    pub fallback_product_group: String,
    /// The cause group of a complaint nothing else claims.
    pub fallback_cause: String,
    /// Product groups, in the return's order.
    #[serde(rename = "product_group")]
    pub product_groups: Vec<FcaGroup>,
    /// Cause groups, in the return's order.
    #[serde(rename = "cause")]
    pub causes: Vec<FcaGroup>,
}

/// A mapping that does not read or does not hold together.
#[derive(Debug, thiserror::Error)]
pub enum GroupsError {
    /// Not valid TOML for a mapping.
    #[error("FCA groups: {0}")]
    Toml(#[from] toml::de::Error),
    /// A fallback names no group.
    #[error("FCA groups: the fallback {0:?} is not one of the groups")]
    UnknownFallback(String),
}

impl FcaGroups {
    /// The shipped mapping.
    pub fn builtin() -> FcaGroups {
        FcaGroups::parse_toml(BUILTIN_FCA_GROUPS).expect("the shipped FCA groups are valid (tested)")
    }

    /// Reads a mapping.
    pub fn parse_toml(text: &str) -> Result<FcaGroups, GroupsError> {
        let groups: FcaGroups = toml::from_str(text)?;
        if !groups.product_groups.iter().any(|g| g.id == groups.fallback_product_group) {
            return Err(GroupsError::UnknownFallback(groups.fallback_product_group));
        }
        if !groups.causes.iter().any(|g| g.id == groups.fallback_cause) {
            return Err(GroupsError::UnknownFallback(groups.fallback_cause));
        }
        Ok(groups)
    }

    /// The product group of a business type and product: the group naming the product, else
    /// the one with the longest matching business-type prefix, else the fallback.
    pub fn product_group(&self, business_type: &str, product: &str) -> &FcaGroup {
        let product = product.trim().to_lowercase();
        if !product.is_empty()
            && let Some(g) = self.product_groups.iter().find(|g| g.products.iter().any(|p| p.to_lowercase() == product))
        {
            return g;
        }
        longest_prefix(&self.product_groups, business_type, |g| &g.business_types)
            .unwrap_or_else(|| self.group(&self.product_groups, &self.fallback_product_group))
    }

    /// The cause group of a cause code: the longest matching prefix, else the fallback.
    pub fn cause(&self, cause: &str) -> &FcaGroup {
        longest_prefix(&self.causes, cause, |g| &g.causes).unwrap_or_else(|| self.group(&self.causes, &self.fallback_cause))
    }

    fn group<'a>(&self, list: &'a [FcaGroup], id: &str) -> &'a FcaGroup {
        list.iter().find(|g| g.id == id).unwrap_or(&list[0])
    }
}

fn longest_prefix<'a>(groups: &'a [FcaGroup], code: &str, prefixes: impl Fn(&FcaGroup) -> &Vec<String>) -> Option<&'a FcaGroup> {
    if code.is_empty() {
        return None;
    }
    groups
        .iter()
        .flat_map(|g| prefixes(g).iter().filter(|p| code.starts_with(p.as_str())).map(move |p| (p.len(), g)))
        .max_by_key(|(len, _)| *len)
        .map(|(_, g)| g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_groups_read_and_map() {
        let g = FcaGroups::builtin();
        assert_eq!(g.product_groups.len(), 5);
        assert_eq!(g.product_group("B0302", "").id, "banking_credit_cards");
        assert_eq!(g.product_group("B020101", "").id, "home_finance");
        assert_eq!(g.product_group("B02", "Mortgage").id, "home_finance");
        assert_eq!(g.product_group("B0801", "").id, "insurance_pure_protection");
        assert_eq!(g.product_group("", "").id, "banking_credit_cards");
        assert_eq!(g.cause("C0401").id, "advising_selling_arranging");
        assert_eq!(g.cause("C12").id, "arrears_related");
        assert_eq!(g.cause("").id, "other");
    }

    #[test]
    fn a_fallback_must_name_a_group() {
        let text = BUILTIN_FCA_GROUPS.replace("fallback_cause = \"other\"", "fallback_cause = \"nope\"");
        assert!(matches!(FcaGroups::parse_toml(&text), Err(GroupsError::UnknownFallback(_))));
    }
}
