//! Message catalogs: every text a page shows, in zh-CN (the default) and en.
//!
//! The catalogs are data (`data/i18n/*.toml`, shipped inside the binary). A key missing from a
//! catalog shows as the key itself, so a slip is visible on the page; a unit test keeps both
//! catalogs holding the same keys and every key the templates use.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A language the pages speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    ZhCn,
    /// English.
    En,
}

impl Lang {
    /// Both languages.
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag (`lang` attribute, cookie value, user setting).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Parses a tag as stored or sent (`zh`, `zh-CN`, `en-GB`, …).
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The preferred language of an `Accept-Language` header, by quality; Chinese when none of
    /// ours is asked for.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("");
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::parse(tag)
                && best.is_none_or(|(q, _)| quality > q)
            {
                best = Some((quality, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    /// The catalog of this language.
    pub fn catalog(self) -> &'static Catalog {
        match self {
            Lang::ZhCn => &CATALOGS.0,
            Lang::En => &CATALOGS.1,
        }
    }
}

/// The texts of one language, by dotted key (`work.title`).
#[derive(Debug)]
pub struct Catalog {
    texts: HashMap<String, String>,
}

impl Catalog {
    /// Parses a catalog file: TOML tables whose string leaves are the texts.
    pub fn parse(text: &str) -> Result<Catalog, toml::de::Error> {
        let table: toml::Table = toml::from_str(text)?;
        let mut texts = HashMap::new();
        flatten("", &table, &mut texts);
        Ok(Catalog { texts })
    }

    /// The text for a key, or the key itself when the catalog lacks it.
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.texts.get(key).map_or(key, String::as_str)
    }

    /// Whether the catalog has a key.
    pub fn has(&self, key: &str) -> bool {
        self.texts.contains_key(key)
    }

    /// Every key.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.texts.keys().map(String::as_str)
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(&key, t, out),
            // The catalogs hold only texts; anything else is a mistake the unit test reports.
            _ => {
                out.insert(key, String::new());
            }
        }
    }
}

/// A language's catalog files, one per area of the pages, as one text (each file holds its own
/// top-level tables).
macro_rules! catalog_files {
    ($lang:literal) => {
        [
            include_str!(concat!("../../../data/i18n/", $lang, "/common.toml")),
            include_str!(concat!("../../../data/i18n/", $lang, "/staff.toml")),
            include_str!(concat!("../../../data/i18n/", $lang, "/admin.toml")),
            include_str!(concat!("../../../data/i18n/", $lang, "/customer.toml")),
            include_str!(concat!("../../../data/i18n/", $lang, "/analytics.toml")),
            include_str!(concat!("../../../data/i18n/", $lang, "/reports.toml")),
        ]
        .join("\n")
    };
}

static CATALOGS: LazyLock<(Catalog, Catalog)> = LazyLock::new(|| {
    (
        Catalog::parse(&catalog_files!("zh-CN")).expect("the shipped zh-CN catalog parses"),
        Catalog::parse(&catalog_files!("en")).expect("the shipped en catalog parses"),
    )
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_of_ours() {
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9,zh-CN;q=0.8"), Lang::En);
        assert_eq!(Lang::from_accept_language("fr-FR,zh;q=0.5,en;q=0.3"), Lang::ZhCn);
        assert_eq!(Lang::from_accept_language("fr"), Lang::ZhCn);
        assert_eq!(Lang::from_accept_language(""), Lang::ZhCn);
    }

    #[test]
    fn both_catalogs_hold_the_same_non_empty_texts() {
        let zh = Lang::ZhCn.catalog();
        let en = Lang::En.catalog();
        // `messages.*` translate the use cases' English sentences; English needs none.
        let mut missing: Vec<String> = zh.keys().filter(|k| !k.starts_with("messages.") && !en.has(k)).map(|k| format!("en lacks {k}")).collect();
        missing.extend(en.keys().filter(|k| !zh.has(k)).map(|k| format!("zh-CN lacks {k}")));
        missing.extend(zh.keys().filter(|k| zh.get(k).is_empty()).map(|k| format!("zh-CN {k} is empty")));
        missing.extend(en.keys().filter(|k| en.get(k).is_empty()).map(|k| format!("en {k} is empty")));
        missing.sort();
        assert!(missing.is_empty(), "{missing:#?}");
    }

    #[test]
    fn every_key_the_templates_and_code_use_is_in_the_catalogs() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"));
        let mut used = Vec::new();
        for dir in ["templates", "src"] {
            collect_keys(&std::path::Path::new(root).join(dir), &mut used);
        }
        assert!(used.len() > 50, "the scan found the keys the pages use");
        let zh = Lang::ZhCn.catalog();
        let mut missing: Vec<&String> = used.iter().filter(|k| !zh.has(k)).collect();
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "keys used but not in the catalogs: {missing:#?}");
    }

    /// Keys appear as `t("…")` in templates and code.
    fn collect_keys(dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                collect_keys(&path, out);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("text file");
            let pieces: Vec<&str> = text.split("t(\"").collect();
            for (before, piece) in pieces.iter().zip(pieces.iter().skip(1)) {
                // `p.t("…")` or `.t("…")`, not `get("…")` or `text("…")`.
                if before.chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                if let Some(end) = piece.find('"') {
                    let key = &piece[..end];
                    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-') && key.contains('.') {
                        out.push(key.to_string());
                    }
                }
            }
        }
    }
}
