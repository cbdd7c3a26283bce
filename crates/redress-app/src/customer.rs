//! The customers' own use cases, for people without a staff account: submitting a complaint
//! online, following it with its number and tracking code, adding the materials a handler
//! waits for, and answering the follow-up survey from a signed link.
//!
//! Everything here runs as one fixed caller, the online service ([`online_caller`]: role
//! intake agent, id `web`, no database user), so the permission table decides what the
//! customers' pages may do, as for everyone else. What a customer may see is narrowed further
//! here: a complaint is shown only to whoever holds its number *and* its tracking code, and a
//! survey answer is taken only through a link this installation signed.
//!
//! Tracking codes are 10 characters from an alphabet without look-alikes (about 49 bits); the
//! store keeps only their SHA-256. A wrong number and a wrong code get the same answer, and
//! failed attempts are counted per client address in the store (like failed sign-ins), so
//! every app server throttles the same guesses.
//!
//! A survey link is `/survey/{token}`, the token being base64url of: a version byte, the
//! complaint id, the expiry (Unix seconds), a random link id, and the first 16 bytes of an
//! HMAC-SHA-256 of all that under the installation's secret `survey-links`. The link id is
//! consumed with the answer in one transaction, so a link answers once.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use jiff::{SignedDuration, Timestamp};
use rand::{Rng, RngCore};
use redress_domain::complaint::{Action, Channel, Complaint, ComplaintId, NewComplaint, Satisfaction};
use redress_domain::fields::LongText;
use redress_domain::lifecycle::Status;
use redress_domain::messages::{Language, MessageKind, OutgoingMessage};
use redress_domain::org::Role;
use redress_store::{Registered, StoredMessage, User};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult, ErrorKind};
use crate::{App, Caller, complaints};

/// The id of the online service in the history.
pub const ONLINE_USER_ID: &str = "web";
/// The name of the online service in the history.
pub const ONLINE_USER_NAME: &str = "online";

/// The characters of a tracking code: digits and capitals without 0/O, 1/I/L.
pub const TRACKING_CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// The length of a tracking code.
pub const TRACKING_CODE_LEN: usize = 10;

/// How long a survey link works.
pub const SURVEY_LINK_LIFETIME: SignedDuration = SignedDuration::from_hours(24 * 30);
/// The name of the installation secret survey links are signed with.
pub const SURVEY_SECRET_NAME: &str = "survey-links";

/// The window in which attempts per address are counted.
pub const THROTTLE_WINDOW: SignedDuration = SignedDuration::from_mins(15);
/// Complaints submitted from one address within the window (every attempt counts).
pub const MAX_SUBMISSIONS_PER_ADDRESS: u64 = 10;
/// Failed look-ups (wrong number or code, invalid survey link) from one address within the
/// window before further attempts are refused for a while.
pub const MAX_FAILURES_PER_ADDRESS: u64 = 20;

const TOKEN_VERSION: u8 = 1;
const LINK_ID_BYTES: usize = 16;
const TAG_BYTES: usize = 16;
/// version + complaint id + expiry + link id.
const SIGNED_BYTES: usize = 1 + 16 + 8 + LINK_ID_BYTES;
const TOKEN_BYTES: usize = SIGNED_BYTES + TAG_BYTES;

type HmacSha256 = Hmac<sha2_for_hmac::Sha256>;

/// The online service: an intake agent of no department (it registers complaints from the web
/// and takes the customers' materials and survey answers, which that role may do for any
/// complaint). It has no user account: nobody can sign in as it.
pub fn online_caller() -> Caller {
    Caller::new(User {
        id: ONLINE_USER_ID.into(),
        name: ONLINE_USER_NAME.into(),
        role: Role::IntakeAgent,
        department: None,
        active: true,
        open_load: 0,
        language: None,
    })
}

// ---------------------------------------------------------------------------------------------
// Throttling

fn address_key(kind: &str, address: Option<&str>) -> String {
    format!("{kind}:{}", address.unwrap_or("unknown"))
}

fn too_many() -> AppError {
    AppError::new(ErrorKind::RateLimited, "too_many_attempts", "too many attempts from your address; wait a quarter of an hour and try again")
}

async fn refuse_when_over(app: &App, key: &str, limit: u64) -> AppResult<()> {
    let since = app.clock.now() - THROTTLE_WINDOW;
    if app.store.sign_in_failures(key, since).await? >= limit {
        return Err(too_many());
    }
    Ok(())
}

async fn record_failure(app: &App, key: &str) -> AppResult<()> {
    app.store.record_sign_in_failure(key, app.clock.now()).await?;
    Ok(())
}

/// Counts a submission from an address, refusing it when the address submitted too many
/// within the window. Every attempt counts, valid or not: call it before reading the form.
pub async fn count_submission(app: &App, address: Option<&str>) -> AppResult<()> {
    let key = address_key("complain", address);
    refuse_when_over(app, &key, MAX_SUBMISSIONS_PER_ADDRESS).await?;
    record_failure(app, &key).await
}

// ---------------------------------------------------------------------------------------------
// Tracking codes

/// A new random tracking code.
pub fn new_tracking_code() -> String {
    let mut rng = rand::rng();
    (0..TRACKING_CODE_LEN).map(|_| TRACKING_CODE_ALPHABET[rng.random_range(0..TRACKING_CODE_ALPHABET.len())] as char).collect()
}

/// A code as typed, made comparable: capitals, without spaces and dashes.
pub fn normalise_code(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_uppercase).collect()
}

/// The hex SHA-256 of a tracking code (normalised), as stored.
pub fn tracking_code_hash(code: &str) -> String {
    hex::encode(Sha256::digest(normalise_code(code).as_bytes()))
}

/// Equality that takes as long for every pair of equal-length inputs.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---------------------------------------------------------------------------------------------
// Submitting

/// A complaint submitted online, with the tracking code shown to the customer once.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The complaint as registered.
    pub complaint: Complaint,
    /// The tracking code (only its hash is stored).
    pub tracking_code: String,
    /// Files attached: all of those given, stored with the complaint in its registration.
    pub attached: usize,
}

/// Checks the files a customer sends before anything is saved; the error names `files`.
pub fn check_files(files: &[(String, Vec<u8>)]) -> AppResult<()> {
    for (name, content) in files {
        redress_domain::attachment::check(name, content).map_err(|e| AppError::from(e).with_field("files"))?;
    }
    Ok(())
}

/// Registers a complaint submitted on the web (channel `web`, received now; a phone or an
/// e-mail address is required) with a new tracking code and the files, in one transaction: the
/// files are checked first, so a bad file stops the submission before anything is saved, and
/// the complaint is stored with all of them or not at all.
/// Throttling is [`count_submission`]'s job.
pub async fn submit(app: &App, mut new: NewComplaint, files: &[(String, Vec<u8>)]) -> AppResult<Submitted> {
    new.channel = Channel::Web;
    new.received_at = app.clock.now();
    new.external_ref = None;
    new.regulator_order = None;
    // The answer must reach the customer: a web submission gives a phone or an e-mail.
    if new.complainant.phone.is_none() && new.complainant.email.is_none() {
        return Err(AppError::new(ErrorKind::Invalid, "no_contact", "give a phone number or an e-mail address so that we can answer you").with_field("complainant.phone"));
    }
    check_files(files)?;
    let caller = online_caller();
    let tracking_code = new_tracking_code();
    let registered = complaints::register_with_tracking_code(app, &caller, new, None, &tracking_code, files).await?;
    // A replay (never, without an idempotency key or external reference) would store no files.
    let attached = match &registered {
        Registered::Created(_) => files.len(),
        Registered::Replayed(_) => 0,
    };
    let complaint = registered.complaint().clone();
    Ok(Submitted { complaint, tracking_code, attached })
}

// ---------------------------------------------------------------------------------------------
// Tracking

/// The one answer to a wrong number or a wrong code.
pub fn no_match() -> AppError {
    AppError::new(ErrorKind::NotFound, "no_match", "no complaint matches this number and code")
}

/// What the customer sees of their complaint.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// The complaint.
    pub complaint: Complaint,
    /// The messages sent to the customer, oldest first.
    pub messages: Vec<StoredMessage>,
    /// A survey token, while the complaint awaits the customer's answer.
    pub survey_token: Option<String>,
}

/// Whether the complaint waits for the customer's follow-up answer: decided, and not yet
/// followed up (a follow-up moves it on).
pub fn awaits_follow_up(c: &Complaint) -> bool {
    c.status == Status::Decided
}

/// Whether the complaint waits for the customer's materials.
pub fn awaits_materials(c: &Complaint) -> bool {
    c.status == Status::Waiting
}

/// The complaint with this number and tracking code. A wrong number and a wrong code take the
/// same path (an unknown number reads a tracking code too) and give the same answer; each
/// failure is counted against the address.
async fn find(app: &App, number: &str, code: &str, address: Option<&str>) -> AppResult<Complaint> {
    let key = address_key("track", address);
    refuse_when_over(app, &key, MAX_FAILURES_PER_ADDRESS).await?;
    let number = number.trim().to_uppercase();
    let given = tracking_code_hash(code);
    let plausible = !number.is_empty() && number.len() <= 64 && ComplaintId::parse(&number).is_none() && !number.chars().any(char::is_control);
    let found = if plausible {
        match complaints::get(app, &online_caller(), &number).await {
            Ok(c) => Some(c),
            Err(e) if e.kind == ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    // An unknown number reads the code of an id that does not exist, so both answers cost
    // about the same.
    let stored = app.store.tracking_code_hash(found.as_ref().map_or_else(|| ComplaintId::generate(app.clock.now()), |c| c.id)).await?;
    let matches = same_secret(given.as_bytes(), stored.as_deref().unwrap_or("-").as_bytes()) && stored.is_some() && !normalise_code(code).is_empty();
    match found {
        Some(c) if matches => Ok(c),
        _ => {
            record_failure(app, &key).await?;
            Err(no_match())
        }
    }
}

/// A complaint's status, deadlines and messages for whoever holds its number and tracking
/// code; [`no_match`] otherwise, and `RateLimited` after too many failures from the address.
pub async fn track(app: &App, number: &str, code: &str, address: Option<&str>) -> AppResult<Tracked> {
    let complaint = find(app, number, code, address).await?;
    let messages = app.store.messages(complaint.id).await?;
    let survey_token = if awaits_follow_up(&complaint) { Some(survey_token(app, &complaint).await?) } else { None };
    Ok(Tracked { complaint, messages, survey_token })
}

/// Adds the customer's materials (files and a note) to a complaint that waits for them,
/// for whoever holds its number and tracking code. The files are checked before anything is
/// saved; the note goes into the communication log.
pub async fn add_materials(app: &App, number: &str, code: &str, note: &str, files: &[(String, Vec<u8>)], address: Option<&str>) -> AppResult<Complaint> {
    let complaint = find(app, number, code, address).await?;
    if !awaits_materials(&complaint) {
        return Err(AppError::conflict("not_waiting", "this complaint is not waiting for materials"));
    }
    let note = note.trim();
    if note.is_empty() && files.is_empty() {
        return Err(AppError::new(ErrorKind::Invalid, "no_materials", "add a file or a note").with_field("files"));
    }
    let note = if note.is_empty() { None } else { Some(LongText::parse("note", note)?) };
    check_files(files)?;
    let caller = online_caller();
    let id = complaint.id.to_string();
    let mut complaint = complaint;
    for (name, content) in files {
        complaint = complaints::attach(app, &caller, &id, name, content).await?.1;
    }
    if let Some(text) = note {
        complaint = complaints::perform(app, &caller, &id, Action::AddNote { text, customer_contact: true }).await?;
    }
    Ok(complaint)
}

// ---------------------------------------------------------------------------------------------
// Survey links

/// What a survey token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurveyLink {
    /// The complaint.
    pub complaint: ComplaintId,
    /// When the link stops working (whole seconds).
    pub expires_at: Timestamp,
    /// The link's own random id, consumed by the answer.
    pub link_id: [u8; LINK_ID_BYTES],
}

impl SurveyLink {
    /// A new link for a complaint, working from `now` for [`SURVEY_LINK_LIFETIME`].
    pub fn new(complaint: ComplaintId, now: Timestamp) -> SurveyLink {
        let mut link_id = [0u8; LINK_ID_BYTES];
        rand::rng().fill_bytes(&mut link_id);
        let expires_at = Timestamp::from_second((now + SURVEY_LINK_LIFETIME).as_second()).unwrap_or(Timestamp::MAX);
        SurveyLink { complaint, expires_at, link_id }
    }

    /// The id the store consumes.
    pub fn consumed_id(&self) -> String {
        format!("survey:{}", hex::encode(self.link_id))
    }

    fn signed_bytes(&self) -> [u8; SIGNED_BYTES] {
        let mut out = [0u8; SIGNED_BYTES];
        out[0] = TOKEN_VERSION;
        out[1..17].copy_from_slice(self.complaint.0.as_bytes());
        out[17..25].copy_from_slice(&self.expires_at.as_second().to_be_bytes());
        out[25..].copy_from_slice(&self.link_id);
        out
    }
}

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length.
    <HmacSha256 as KeyInit>::new_from_slice(secret).expect("HMAC accepts keys of any length")
}

/// The token of a link, signed with `secret`.
pub fn sign_survey_link(secret: &[u8], link: &SurveyLink) -> String {
    let signed = link.signed_bytes();
    let mut m = mac(secret);
    m.update(&signed);
    let tag = m.finalize().into_bytes();
    let mut token = Vec::with_capacity(TOKEN_BYTES);
    token.extend_from_slice(&signed);
    token.extend_from_slice(&tag[..TAG_BYTES]);
    URL_SAFE_NO_PAD.encode(token)
}

/// The link a token stands for, if `secret` signed it and it has not expired at `now`.
pub fn verify_survey_token(secret: &[u8], token: &str, now: Timestamp) -> Option<SurveyLink> {
    if token.len() > 2 * TOKEN_BYTES {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    if bytes.len() != TOKEN_BYTES || bytes[0] != TOKEN_VERSION {
        return None;
    }
    let (signed, tag) = bytes.split_at(SIGNED_BYTES);
    let mut m = mac(secret);
    m.update(signed);
    // Compared in constant time.
    m.verify_truncated_left(tag).ok()?;
    let complaint = ComplaintId(uuid::Uuid::from_slice(&signed[1..17]).ok()?);
    let expiry = i64::from_be_bytes(signed[17..25].try_into().ok()?);
    let expires_at = Timestamp::from_second(expiry).ok()?;
    if now >= expires_at {
        return None;
    }
    let link_id = signed[25..].try_into().ok()?;
    Some(SurveyLink { complaint, expires_at, link_id })
}

/// The installation's secret for survey links (made by the first server that needs it).
async fn survey_secret(app: &App) -> AppResult<Vec<u8>> {
    let mut candidate = [0u8; 32];
    rand::rng().fill_bytes(&mut candidate);
    let secret = app.store.installation_secret(SURVEY_SECRET_NAME, &candidate).await?;
    if secret.len() < 16 {
        return Err(AppError::internal("the stored survey-link secret is too short"));
    }
    Ok(secret)
}

/// A new survey token for a complaint, working for [`SURVEY_LINK_LIFETIME`] from now (the
/// page is [`survey_link`]).
pub async fn survey_token(app: &App, complaint: &Complaint) -> AppResult<String> {
    let secret = survey_secret(app).await?;
    Ok(sign_survey_link(&secret, &SurveyLink::new(complaint.id, app.clock.now())))
}

/// The address of a survey page, as sent to the customer.
pub fn survey_link(app: &App, token: &str) -> String {
    format!("{}/survey/{token}", app.public_url)
}

/// The line with the survey link added to a customer message, in its language.
pub fn survey_line(language: Language, url: &str) -> String {
    match language {
        Language::ZhCn => format!("请通过以下链接告诉我们您对处理结果是否满意（30天内有效，仅可提交一次）：{url}"),
        Language::En => format!("Please tell us whether you are satisfied with how we handled it (the link works once, for 30 days): {url}"),
    }
}

/// Adds the tracking code to the acknowledgement among `messages`, in the customer's language,
/// so every customer (not only those who complained online) can follow the complaint.
pub fn add_tracking_code(messages: &mut [OutgoingMessage], code: &str) {
    for m in messages.iter_mut().filter(|m| m.kind == MessageKind::Acknowledgement) {
        let line = match m.language {
            Language::ZhCn => format!("您可凭投诉编号和查询码 {code} 在线查询办理进度。"),
            Language::En => format!("You can follow your complaint online with its number and the tracking code {code}."),
        };
        m.body = format!("{}\n{line}", m.body.trim_end());
    }
}

/// Adds a survey link to the decision and follow-up messages among `messages` (the domain
/// renders them; the link needs the installation's secret and public address, which only
/// this layer has).
pub async fn add_survey_links(app: &App, c: &Complaint, messages: &mut [OutgoingMessage]) -> AppResult<()> {
    let mut secret = None;
    for m in messages.iter_mut().filter(|m| matches!(m.kind, MessageKind::Decision | MessageKind::FollowUp)) {
        let key = match &secret {
            Some(s) => s,
            None => secret.insert(survey_secret(app).await?),
        };
        let token = sign_survey_link(key, &SurveyLink::new(c.id, app.clock.now()));
        m.body = format!("{}\n{}", m.body.trim_end(), survey_line(m.language, &survey_link(app, &token)));
    }
    Ok(())
}

/// The one answer to a link that is not valid (never signed here, altered, or expired).
pub fn link_not_valid() -> AppError {
    AppError::new(ErrorKind::NotFound, "link_not_valid", "this link is not valid or has expired")
}

/// The answer to a link already used, or whose complaint no longer waits for an answer.
pub fn link_used() -> AppError {
    AppError::conflict("link_used", "this link was already used, or the complaint no longer waits for your answer")
}

/// The complaint a survey token is for, checked and counted like a tracking look-up.
async fn survey_link_of(app: &App, token: &str, address: Option<&str>) -> AppResult<(SurveyLink, Complaint)> {
    let key = address_key("survey", address);
    refuse_when_over(app, &key, MAX_FAILURES_PER_ADDRESS).await?;
    let secret = survey_secret(app).await?;
    let found = match verify_survey_token(&secret, token, app.clock.now()) {
        Some(link) => match complaints::get(app, &online_caller(), &link.complaint.to_string()).await {
            Ok(c) => Some((link, c)),
            Err(e) if e.kind == ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    match found {
        Some(f) => Ok(f),
        None => {
            record_failure(app, &key).await?;
            Err(link_not_valid())
        }
    }
}

/// The complaint a survey link asks about, while it waits for the answer; [`link_not_valid`]
/// for a bad or expired link, [`link_used`] when there is nothing to answer any more.
pub async fn open_survey(app: &App, token: &str, address: Option<&str>) -> AppResult<Complaint> {
    let (_, c) = survey_link_of(app, token, address).await?;
    if !awaits_follow_up(&c) {
        return Err(link_used());
    }
    Ok(c)
}

/// Records the customer's survey answer as the complaint's follow-up, consuming the link in
/// the same transaction. The domain decides what the answer does (dissatisfaction reopens and
/// escalates).
///
/// The answer is recorded by the online service ([`online_caller`]), whose role may record
/// follow-ups on any complaint, so the permission table is asked as for everyone and the
/// history says the answer came in online; running it as the system would bypass the table and
/// credit the answer to the scheduler.
pub async fn answer_survey(app: &App, token: &str, satisfaction: Satisfaction, comments: &str, address: Option<&str>) -> AppResult<Complaint> {
    let (link, c) = survey_link_of(app, token, address).await?;
    if !awaits_follow_up(&c) {
        return Err(link_used());
    }
    let comments = match comments.trim() {
        "" => None,
        text => Some(LongText::parse("comments", text)?),
    };
    let action = Action::RecordFollowUp { satisfaction, comments };
    match complaints::perform_through_link(app, &online_caller(), &c.id.to_string(), action, &link.consumed_id()).await {
        Ok(c) => Ok(c),
        // Used before (the store refuses the link), or answered meanwhile (the lifecycle
        // refuses a second follow-up).
        Err(e) if e.kind == ErrorKind::Conflict => Err(link_used()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2025-01-20T02:00:00Z".parse().unwrap()
    }

    fn link() -> SurveyLink {
        SurveyLink::new(ComplaintId::generate(now()), now())
    }

    #[test]
    fn hmac_is_rfc_4231() {
        // RFC 4231, test case 2.
        let mut m = mac(b"Jefe");
        m.update(b"what do ya want for nothing?");
        assert_eq!(hex::encode(m.finalize().into_bytes()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let l = link();
        let token = sign_survey_link(secret, &l);
        assert!(token.len() < 80 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{token}");
        assert_eq!(verify_survey_token(secret, &token, now()), Some(l));
        let almost = now() + SURVEY_LINK_LIFETIME - SignedDuration::from_secs(1);
        assert_eq!(verify_survey_token(secret, &token, almost), Some(l));
        assert_eq!(verify_survey_token(secret, &token, now() + SURVEY_LINK_LIFETIME), None, "expired");
        // Another link for the same complaint has another id.
        assert_ne!(link().consumed_id(), l.consumed_id());
    }

    #[test]
    fn an_altered_or_foreign_token_is_refused() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let token = sign_survey_link(secret, &link());
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..bytes.len() {
            let mut t = bytes.clone();
            t[i] ^= 0x01;
            assert_eq!(verify_survey_token(secret, &URL_SAFE_NO_PAD.encode(&t), now()), None, "byte {i} altered");
        }
        // A later expiry written in by hand is refused like any other change.
        let mut later = bytes.clone();
        later[17..25].copy_from_slice(&(now() + SignedDuration::from_hours(24 * 365)).as_second().to_be_bytes());
        assert_eq!(verify_survey_token(secret, &URL_SAFE_NO_PAD.encode(&later), now()), None);
        assert_eq!(verify_survey_token(b"another installation's secret!!", &token, now()), None);
        assert_eq!(verify_survey_token(secret, &token[..token.len() - 2], now()), None, "cut short");
        assert_eq!(verify_survey_token(secret, &format!("{token}AA"), now()), None, "too long");
        for junk in ["", "!!!!", "not a token", &"A".repeat(500)] {
            assert_eq!(verify_survey_token(secret, junk, now()), None, "{junk}");
        }
    }

    #[test]
    fn tracking_codes_are_ten_unambiguous_characters_compared_as_typed() {
        for _ in 0..200 {
            let code = new_tracking_code();
            assert_eq!(code.len(), TRACKING_CODE_LEN);
            assert!(code.bytes().all(|b| TRACKING_CODE_ALPHABET.contains(&b)), "{code}");
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']));
        }
        assert_ne!(new_tracking_code(), new_tracking_code());
        assert_eq!(tracking_code_hash("abcde-fghjk"), tracking_code_hash("ABCDEFGHJK"));
        assert_eq!(tracking_code_hash(" ABCDE FGHJK "), tracking_code_hash("ABCDEFGHJK"));
        assert_ne!(tracking_code_hash("ABCDEFGHJM"), tracking_code_hash("ABCDEFGHJK"));
    }

    #[test]
    fn survey_lines_carry_the_link_in_the_customers_language() {
        assert!(survey_line(Language::ZhCn, "http://x/survey/t").ends_with("http://x/survey/t"));
        assert!(survey_line(Language::En, "http://x/survey/t").contains("satisfied"));
    }
}
