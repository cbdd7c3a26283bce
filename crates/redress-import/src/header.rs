use crate::error::ImportError;

/// The columns of the official export, in its order. These spellings are the
/// ones used in error messages.
pub(crate) const COLUMNS: [&str; 18] = [
    "Date received",
    "Product",
    "Sub-product",
    "Issue",
    "Sub-issue",
    "Consumer complaint narrative",
    "Company public response",
    "Company",
    "State",
    "ZIP code",
    "Tags",
    "Consumer consent provided?",
    "Submitted via",
    "Date sent to company",
    "Company response to consumer",
    "Timely response?",
    "Consumer disputed?",
    "Complaint ID",
];

/// Indices into [`COLUMNS`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Col {
    DateReceived,
    Product,
    SubProduct,
    Issue,
    SubIssue,
    Narrative,
    CompanyPublicResponse,
    Company,
    State,
    ZipCode,
    Tags,
    ConsumerConsent,
    SubmittedVia,
    DateSentToCompany,
    CompanyResponse,
    TimelyResponse,
    ConsumerDisputed,
    ComplaintId,
}

impl Col {
    pub(crate) fn name(self) -> &'static str {
        COLUMNS[self as usize]
    }
}

const REQUIRED: [Col; 3] = [Col::DateReceived, Col::Product, Col::ComplaintId];

/// Where each known column sits in the file.
#[derive(Debug, Clone)]
pub(crate) struct ColumnMap {
    positions: [Option<usize>; COLUMNS.len()],
    /// Number of cells in the header, which every record must match.
    pub(crate) width: usize,
}

impl ColumnMap {
    pub(crate) fn from_header<'a>(
        cells: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Self, ImportError> {
        let wanted = COLUMNS.map(normalise);
        let mut positions = [None; COLUMNS.len()];
        let mut width = 0;
        for (i, cell) in cells.into_iter().enumerate() {
            width += 1;
            let name = normalise(&String::from_utf8_lossy(cell));
            let Some(col) = wanted.iter().position(|w| *w == name) else {
                continue;
            };
            if let Some(first) = positions[col] {
                return Err(ImportError::DuplicateColumn {
                    column: COLUMNS[col].to_owned(),
                    first: first + 1,
                    second: i + 1,
                });
            }
            positions[col] = Some(i);
        }
        let missing: Vec<String> = REQUIRED
            .iter()
            .filter(|c| positions[**c as usize].is_none())
            .map(|c| c.name().to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns(missing));
        }
        Ok(ColumnMap { positions, width })
    }

    pub(crate) fn position(&self, col: Col) -> Option<usize> {
        self.positions[col as usize]
    }
}

/// Folds the spellings seen in the wild (`Date received`, `Date_received`,
/// `DATE-RECEIVED`, `Timely response?`, `Timely_response`) onto one key.
fn normalise(name: &str) -> String {
    // A BOM that survives the CSV layer (it only strips one that arrives in a
    // single read) must not make the first column unrecognisable.
    let name = name.trim_start_matches('\u{feff}').trim();
    let name = name.strip_suffix('?').unwrap_or(name);
    name.split([' ', '_', '-'])
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn spellings_fold_together() {
        for name in [
            "Consumer consent provided?",
            "Consumer_consent_provided?",
            "consumer-consent-provided",
            " CONSUMER  CONSENT_PROVIDED ? ",
            "\u{feff}Consumer consent provided",
        ] {
            assert_eq!(normalise(name), "consumer consent provided", "{name:?}");
        }
        assert_eq!(normalise("Sub-issue"), normalise("Sub_issue"));
    }
}
