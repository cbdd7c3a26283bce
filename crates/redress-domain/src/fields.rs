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
    ///
    /// `field` is the path of the value at fault: an error that names no field would reach the
    /// API client without telling them what to fix.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        debug_assert!(!field.is_empty(), "a field error must name its field");
        Self { field, message: message.into() }
    }

    /// The same error, nested under a parent field (`complainant` + `phone`).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

/// Whether a text may span several lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One line: names, titles, references, reasons copied into notifications.
    SingleLine,
    /// Free prose: line breaks and tabs allowed.
    MultiLine,
}

/// Whether `c` shows as something on screen: not whitespace, not a control character, and not
/// one of the invisible format characters (zero-width spaces and joiners, direction marks, the
/// byte-order mark, fillers, variation selectors, tag characters). A name made only of such
/// characters looks blank in every list while passing a plain emptiness check.
pub(crate) fn is_visible(c: char) -> bool {
    !(c.is_whitespace() || c.is_control() || is_invisible_format(c))
}

/// Characters of general category Cf (format) and the other code points that render as nothing.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                       // soft hyphen
            | '\u{034F}'                 // combining grapheme joiner
            | '\u{061C}'                 // Arabic letter mark
            | '\u{0600}'..='\u{0605}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{08E2}'
            | '\u{115F}' | '\u{1160}'   // Hangul fillers
            | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'   // Mongolian variation selectors and vowel separator
            | '\u{200B}'..='\u{200F}'   // zero-width space, non-joiner, joiner; direction marks
            | '\u{202A}'..='\u{202E}'   // direction embeddings and overrides
            | '\u{2060}'..='\u{206F}'   // word joiner, invisible operators, direction isolates
            | '\u{2800}'                 // braille blank
            | '\u{3164}'                 // Hangul filler
            | '\u{FE00}'..='\u{FE0F}'   // variation selectors
            | '\u{FEFF}'                 // byte-order mark / zero-width no-break space
            | '\u{FFA0}'                 // half-width Hangul filler
            | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotation
            | '\u{110BD}' | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}' | '\u{E0020}'..='\u{E007F}' // tag characters
            | '\u{E0100}'..='\u{E01EF}' // variation selectors supplement
    )
}

/// Trims and checks a text: not empty, at least one visible character, at most `max_chars`
/// characters, and no control characters except line breaks and tabs in multi-line text.
/// Line breaks of multi-line text are stored as `\n` (a lone `\r` would let a text overwrite
/// itself on a terminal).
fn bounded_text(field: &str, value: &str, max_chars: usize, layout: Layout) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    let text = match layout {
        Layout::MultiLine if trimmed.contains('\r') => trimmed.replace("\r\n", "\n").replace('\r', "\n"),
        _ => trimmed.to_string(),
    };
    let mut chars = 0usize;
    let mut visible = false;
    for c in text.chars() {
        chars += 1;
        if c.is_control() {
            let allowed = layout == Layout::MultiLine && matches!(c, '\n' | '\t');
            if !allowed {
                let message = if layout == Layout::SingleLine && matches!(c, '\n' | '\r' | '\t') {
                    "must be a single line (no line breaks or tabs)"
                } else {
                    "must not contain control characters"
                };
                return Err(FieldError::new(field, message));
            }
        }
        visible |= is_visible(c);
    }
    if chars > max_chars {
        return Err(FieldError::new(field, format!("must be at most {max_chars} characters")));
    }
    if !visible {
        return Err(FieldError::new(field, "must contain at least one visible character"));
    }
    Ok(text)
}

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident, $max:expr, $layout:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The most characters accepted.
            pub const MAX_CHARS: usize = $max;

            /// Validates and trims `value`; `field` names it in the error.
            pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
                bounded_text(field, value, Self::MAX_CHARS, $layout).map(Self)
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

/// The bound of texts written by customers: narratives and what they add later (new facts,
/// review requests, follow-up comments).
///
/// The longest narrative in the CFPB sample the project tests with
/// (`complaints-2023-04.csv`, 141 narratives) has 10,083 characters (complaint 6812750); the
/// importer has met a real one of 21,928 characters, and the full CFPB database holds narratives
/// past 30,000. A complaint letter retyped at a counter can be longer still, so the bound leaves
/// a wide margin; it exists to stop abuse, not to shorten real complaints.
pub const CUSTOMER_TEXT_MAX_CHARS: usize = 100_000;

text_newtype!(
    /// A person's name as they gave it: one line with at least one visible character.
    PersonName,
    100,
    Layout::SingleLine
);
text_newtype!(
    /// The complainant's account of what happened.
    Narrative,
    CUSTOMER_TEXT_MAX_CHARS,
    Layout::MultiLine
);
text_newtype!(
    /// What the complainant asks for (诉求).
    Request,
    5_000,
    Layout::MultiLine
);
text_newtype!(
    /// A short free-text line: a product name, a title, a relationship, a reason.
    ShortText,
    500,
    Layout::SingleLine
);
text_newtype!(
    /// A longer free text: notes, decision reasons, follow-up comments, new facts. It may carry
    /// the customer's own words, so it has the bound of a narrative.
    LongText,
    CUSTOMER_TEXT_MAX_CHARS,
    Layout::MultiLine
);
text_newtype!(
    /// Why a complaint is escalated. It is copied into every notification the escalation sends,
    /// so it is one short line.
    EscalationReason,
    300,
    Layout::SingleLine
);
text_newtype!(
    /// A complaint's reference in an external system (e.g. `cfpb:1234567`), unique per
    /// complaint: one line of 1 to 200 characters.
    ExternalRef,
    200,
    Layout::SingleLine
);

impl EscalationReason {
    /// The reason the deadline sweep gives when the deadline it watches has passed: the
    /// follow-up deadline once decided, the decision deadline before.
    pub fn deadline_passed(status: crate::lifecycle::Status) -> EscalationReason {
        let what = if status == crate::lifecycle::Status::Decided { "follow-up" } else { "decision" };
        EscalationReason(format!("the {what} deadline has passed"))
    }
}

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

/// The most decimal places an amount may have.
const MAX_DECIMAL_PLACES: u32 = 4;

/// An amount of money: a decimal with its currency, never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// The amount, exact.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
}

impl Money {
    /// Parses an amount given as a plain decimal string (`1234.50`): digits with at most one dot
    /// and digits after it. Signs, exponents, digit separators (`1_000`, `1,000`) and spaces are
    /// refused rather than guessed at; amounts in dispute are never negative.
    pub fn parse(field: &str, amount: &str, currency: &str) -> Result<Self, FieldError> {
        let amount_field = format!("{field}.amount");
        let text = amount.trim();
        if text.starts_with('-') {
            return Err(FieldError::new(amount_field, "must not be negative"));
        }
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
            return Err(FieldError::new(amount_field, "must be a plain decimal number such as 1234.50"));
        }
        if fraction.is_some_and(|f| f.len() > MAX_DECIMAL_PLACES as usize) {
            return Err(FieldError::new(amount_field, format!("at most {MAX_DECIMAL_PLACES} decimal places")));
        }
        // Beyond this many digits the amount is over the plausibility bound anyway, and the
        // decimal type would overflow.
        if whole.trim_start_matches('0').len() > 16 {
            return Err(FieldError::new(amount_field, "is implausibly large"));
        }
        let amount = Decimal::from_str(text).map_err(|_| FieldError::new(amount_field.clone(), "not a decimal number"))?;
        Self::new(field, amount, Currency::parse(&format!("{field}.currency"), currency)?)
    }

    /// Checks an already-decimal amount.
    pub fn new(field: &str, amount: Decimal, currency: Currency) -> Result<Self, FieldError> {
        if amount.is_sign_negative() {
            return Err(FieldError::new(format!("{field}.amount"), "must not be negative"));
        }
        if amount.scale() > MAX_DECIMAL_PLACES {
            return Err(FieldError::new(format!("{field}.amount"), format!("at most {MAX_DECIMAL_PLACES} decimal places")));
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
        assert_eq!(Money::parse("amount", " 7 ", "CNY").unwrap().amount, Decimal::from(7));
        assert!(Money::parse("amount", "-1", "CNY").is_err());
        assert!(Money::parse("amount", "1", "yuan").is_err());
        assert_eq!(Money::parse("amount", "x", "CNY").unwrap_err().field, "amount.amount");
        assert_eq!(Money::parse("amount", "1", "yuan").unwrap_err().field, "amount.currency");
    }

    #[test]
    fn money_is_only_a_plain_decimal() {
        for bad in ["1_000", "1,000", "1 000", "+5", "1e3", "1E3", ".5", "5.", "1.2.3", "0x10", "", "NaN", "١٢٣", "1.00001"] {
            let err = Money::parse("amount", bad, "CNY").unwrap_err();
            assert_eq!(err.field, "amount.amount", "{bad:?}");
        }
        assert_eq!(Money::parse("amount", "-0.01", "CNY").unwrap_err().message, "must not be negative");
        assert!(Money::parse("amount", "00012.3400", "CNY").is_ok());
        assert!(Money::parse("amount", "1000000000000", "CNY").is_ok());
        assert!(Money::parse("amount", "1000000000000.01", "CNY").is_err());
        assert!(Money::parse("amount", &"9".repeat(40), "CNY").is_err());
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("name", "  张三 ").unwrap().as_str(), "张三");
        assert!(PersonName::parse("name", "   ").is_err());
        assert!(PersonName::parse("name", &"x".repeat(101)).is_err());
        assert!(Email::parse("email", "a@b.cn").is_ok());
        assert!(Email::parse("email", "a@b").is_err());
    }

    #[test]
    fn names_need_a_visible_character() {
        for blank in ["\u{200B}", "\u{200B}\u{200C}\u{200D}\u{FEFF}\u{2060}", "\u{3164}", "\u{00A0}\u{2007}", "\u{202E}\u{2066}"] {
            let err = PersonName::parse("complainant.name", blank).unwrap_err();
            assert_eq!(err.field, "complainant.name", "{blank:?}");
        }
        assert_eq!(PersonName::parse("name", "\u{200B}李\u{200B}").unwrap().as_str(), "\u{200B}李\u{200B}");
        assert!(PersonName::parse("name", "O'Brien-Smith").is_ok());
    }

    #[test]
    fn control_characters_are_refused_and_lines_only_where_prose_is() {
        assert!(PersonName::parse("name", "张\n三").is_err());
        assert!(PersonName::parse("name", "张\t三").is_err());
        assert!(ShortText::parse("title", "a\u{0007}b").is_err());
        assert!(ShortText::parse("title", "a\u{009B}b").is_err(), "C1 controls are control characters too");
        assert!(LongText::parse("note", "a\0b").is_err());
        assert!(Narrative::parse("narrative", "a\u{001B}[2Jb").is_err());
        let narrative = Narrative::parse("narrative", "第一段\r\n\t第二段\r第三段").unwrap();
        assert_eq!(narrative.as_str(), "第一段\n\t第二段\n第三段");
        assert!(Request::parse("request", "退款\n道歉").is_ok());
        assert_eq!(ShortText::parse("title", "a\nb").unwrap_err().message, "must be a single line (no line breaks or tabs)");
    }

    #[test]
    fn every_text_names_its_field_when_refused() {
        let errors = [
            PersonName::parse("agent.name", "").unwrap_err(),
            Narrative::parse("narrative", &"x".repeat(Narrative::MAX_CHARS + 1)).unwrap_err(),
            Request::parse("request", "\u{0000}").unwrap_err(),
            ShortText::parse("respondent.staff", "a\nb").unwrap_err(),
            LongText::parse("note", "\u{200B}").unwrap_err(),
            EscalationReason::parse("reason", "").unwrap_err(),
            ExternalRef::parse("external_ref", "").unwrap_err(),
        ];
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["agent.name", "narrative", "request", "respondent.staff", "note", "reason", "external_ref"]);
    }

    #[test]
    fn a_long_real_narrative_fits() {
        // Real CFPB narratives run past 30,000 characters.
        let paragraph = "I called the bank about the XXXX charge on my account and was told to wait. ";
        let long: String = paragraph.repeat(35_000 / paragraph.len() + 1).chars().take(35_000).collect();
        let narrative = Narrative::parse("narrative", &long).unwrap();
        assert_eq!(narrative.as_str().chars().count(), 35_000 - 1, "the trailing space is trimmed");
        let chinese = "我的信用卡被盗刷，银行一直不处理。".repeat(2_000);
        assert!(Narrative::parse("narrative", &chinese).is_ok());
        assert!(Narrative::parse("narrative", &"x".repeat(CUSTOMER_TEXT_MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn external_refs_are_one_line_of_at_most_200_characters() {
        assert_eq!(ExternalRef::parse("external_ref", " cfpb:6800001 ").unwrap().as_str(), "cfpb:6800001");
        assert!(ExternalRef::parse("external_ref", &"r".repeat(200)).is_ok());
        assert!(ExternalRef::parse("external_ref", &"r".repeat(201)).is_err());
        assert!(ExternalRef::parse("external_ref", "cfpb:1\n2").is_err());
        assert!(ExternalRef::parse("external_ref", "cfpb:\u{0000}").is_err());
        assert!(ExternalRef::parse("external_ref", "   ").is_err());
    }

    #[test]
    fn escalation_reasons_are_short_single_lines() {
        assert!(EscalationReason::parse("reason", "客户威胁向监管投诉").is_ok());
        assert!(EscalationReason::parse("reason", &"x".repeat(EscalationReason::MAX_CHARS + 1)).is_err());
        assert!(EscalationReason::parse("reason", "a\nb").is_err());
        assert!(EscalationReason::parse("reason", "a\0b").is_err());
        // The sweep's own reasons pass the same checks.
        for status in crate::lifecycle::Status::ALL {
            let built = EscalationReason::deadline_passed(status);
            assert_eq!(EscalationReason::parse("reason", built.as_str()).unwrap(), built);
        }
        assert_eq!(EscalationReason::deadline_passed(crate::lifecycle::Status::Decided).as_str(), "the follow-up deadline has passed");
    }
}
