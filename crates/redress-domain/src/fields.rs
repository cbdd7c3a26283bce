//! Validated values of a complaint record.
//!
//! Each newtype can only be built through its `parse` constructor, so a value that reached the
//! domain has already been checked: the store and the API never re-validate.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A value that failed validation, naming the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field path, e.g. `complainant.phone`.
    pub field: String,
    /// What is wrong with it, in words a person at a counter understands.
    pub message: String,
}

impl FieldError {
    /// A new error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }

    /// The same error, nested under a parent field (`complainant` + `phone`).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

fn non_blank(field: &str, value: &str, max_chars: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(FieldError::new(field, format!("must be at most {max_chars} characters")));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_string())
}

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates and trims `value`; `field` names it in the error.
            pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
                non_blank(field, value, $max).map(Self)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_newtype!(
    /// A person's name as they gave it.
    PersonName,
    100
);
text_newtype!(
    /// The complainant's account of what happened.
    Narrative,
    20_000
);
text_newtype!(
    /// What the complainant asks for (诉求).
    Request,
    5_000
);
text_newtype!(
    /// A short free-text line: a product name, a reason, a note.
    ShortText,
    500
);
text_newtype!(
    /// A longer free text: notes, decision reasons, follow-up comments.
    LongText,
    20_000
);

/// A telephone number: digits with an optional leading `+`; spaces, dashes and brackets are
/// accepted on input and dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Validates a telephone number.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let mut out = String::new();
        for (i, c) in value.trim().chars().enumerate() {
            match c {
                '0'..='9' => out.push(c),
                '+' if i == 0 => out.push(c),
                ' ' | '-' | '(' | ')' => {}
                _ => return Err(FieldError::new(field, format!("unexpected character '{c}' in a phone number"))),
            }
        }
        let digits = out.trim_start_matches('+').len();
        if !(5..=20).contains(&digits) {
            return Err(FieldError::new(field, "a phone number has 5 to 20 digits"));
        }
        Ok(Self(out))
    }

    /// The number as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as shown in lists: the first three and last four digits kept (`138****5678`).
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 3, 4)
    }
}

/// An identity document number (Chinese resident ID, passport, …). Resident ID numbers of 18
/// characters have their check digit verified, because a mistyped ID makes repeat-complaint
/// detection fail silently.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdNumber(String);

impl IdNumber {
    /// Validates an identity number.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let v: String = value.trim().to_uppercase();
        if v.len() < 5 || v.len() > 30 || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(FieldError::new(field, "an ID number has 5 to 30 letters or digits"));
        }
        if v.len() == 18 && v[..17].chars().all(|c| c.is_ascii_digit()) && !cn_resident_id_checksum_ok(&v) {
            return Err(FieldError::new(field, "the check digit of this resident ID number is wrong"));
        }
        Ok(Self(v))
    }

    /// The number as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as shown in lists: first 3 and last 4 characters kept.
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 3, 4)
    }
}

fn cn_resident_id_checksum_ok(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let sum: u32 = id.chars().take(17).zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
    id.chars().nth(17) == Some(CHECK[(sum % 11) as usize])
}

/// Masks all but the first `keep_start` and last `keep_end` characters with `*`.
pub fn mask_middle(value: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= keep_start + keep_end {
        return "*".repeat(chars.len());
    }
    let hidden = chars.len() - keep_start - keep_end;
    let mut out: String = chars[..keep_start].iter().collect();
    out.push_str(&"*".repeat(hidden.min(4)));
    out.extend(&chars[chars.len() - keep_end..]);
    out
}

/// An e-mail address, checked for shape only (the real check is that mail arrives).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Validates an e-mail address.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let v = value.trim();
        let ok = v.len() <= 254
            && v.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
            })
            && !v.chars().any(char::is_whitespace);
        if ok { Ok(Self(v.to_string())) } else { Err(FieldError::new(field, "not an e-mail address")) }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ISO 4217 currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// Validates a three-letter upper-case currency code.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let b = value.trim().as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Self([b[0], b[1], b[2]]))
        } else {
            Err(FieldError::new(field, "a currency is a three-letter ISO 4217 code such as CNY"))
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl TryFrom<String> for Currency {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("currency", &value)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_string()
    }
}

/// An amount of money: a decimal with its currency, never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// The amount, exact.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
}

impl Money {
    /// Parses an amount given as a decimal string, refusing negatives and more than 4 decimals.
    pub fn parse(field: &str, amount: &str, currency: &str) -> Result<Self, FieldError> {
        let amount = Decimal::from_str(amount.trim())
            .map_err(|_| FieldError::new(format!("{field}.amount"), "not a decimal number"))?;
        Self::new(field, amount, Currency::parse(&format!("{field}.currency"), currency)?)
    }

    /// Checks an already-decimal amount.
    pub fn new(field: &str, amount: Decimal, currency: Currency) -> Result<Self, FieldError> {
        if amount.is_sign_negative() {
            return Err(FieldError::new(format!("{field}.amount"), "must not be negative"));
        }
        if amount.scale() > 4 {
            return Err(FieldError::new(format!("{field}.amount"), "at most 4 decimal places"));
        }
        if amount > Decimal::from(1_000_000_000_000i64) {
            return Err(FieldError::new(format!("{field}.amount"), "is implausibly large"));
        }
        Ok(Self { amount, currency })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_is_masked_in_lists() {
        let p = Phone::parse("phone", "138-1234-5678").unwrap();
        assert_eq!(p.as_str(), "13812345678");
        assert_eq!(p.masked(), "138****5678");
        assert!(Phone::parse("phone", "12ab").is_err());
    }

    #[test]
    fn resident_id_check_digit_is_verified() {
        // A well-known sample number with a correct check digit.
        assert!(IdNumber::parse("id", "11010519491231002X").is_ok());
        assert!(IdNumber::parse("id", "110105194912310021").is_err());
        assert_eq!(IdNumber::parse("id", "11010519491231002x").unwrap().masked(), "110****002X");
    }

    #[test]
    fn money_is_decimal_and_checked() {
        let m = Money::parse("amount", "1234.50", "CNY").unwrap();
        assert_eq!(m.to_string(), "1234.50 CNY");
        assert!(Money::parse("amount", "-1", "CNY").is_err());
        assert!(Money::parse("amount", "1", "yuan").is_err());
        assert_eq!(Money::parse("amount", "x", "CNY").unwrap_err().field, "amount.amount");
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("name", "  张三 ").unwrap().as_str(), "张三");
        assert!(PersonName::parse("name", "   ").is_err());
        assert!(PersonName::parse("name", &"x".repeat(101)).is_err());
        assert!(Email::parse("email", "a@b.cn").is_ok());
        assert!(Email::parse("email", "a@b").is_err());
    }
}
