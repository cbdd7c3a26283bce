//! Real local mail servers for the tests that send and fetch mail.
//!
//! ```ignore
//! let Some(smtp) = SmtpSink::start(None) else { return };   // aiosmtpd, STARTTLS + AUTH required
//! // ... send through 127.0.0.1:smtp.port as smtp.user / smtp.password, trusting smtp.cert ...
//! let mails = smtp.wait_for(1, Duration::from_secs(10));
//!
//! let Some(imap) = ImapServer::start() else { return };     // Dovecot: imap.port and imap.tls_port
//! imap.deliver("INBOX", b"Subject: hello\r\n\r\nbody\r\n");
//! // ... fetch as imap.user / imap.password ...
//! assert_eq!(imap.seen_count(), 1);
//! ```
//!
//! Each server runs on free ports of 127.0.0.1 with its own files in a temporary directory, so
//! tests run side by side; dropping it stops the process. Both present a fresh self-signed
//! certificate for `localhost` and `127.0.0.1` ([`TestCert`]), which clients must trust.
//!
//! Without the programs (`/usr/bin/python3` with aiosmtpd, `/usr/sbin/dovecot`), `start` says
//! it is skipping and gives `None`, unless `REDRESS_REQUIRE_MAIL_SERVERS=1` (as in CI), where it
//! panics. Debian's packages are `python3-aiosmtpd` and `dovecot-imapd`.
//!
//! The end of this file is the harness's own tests, which drive both servers with Python's
//! smtplib and imaplib.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tempfile::TempDir;

/// Set to `1` to make a missing mail server program a failure instead of a skip.
pub const REQUIRE_VAR: &str = "REDRESS_REQUIRE_MAIL_SERVERS";

/// The Python that has aiosmtpd (Debian's; a pyenv or venv Python on the `PATH` may not).
const PYTHON: &str = "/usr/bin/python3";
/// Where Debian's `dovecot-core` puts the server.
const DOVECOT: &str = "/usr/sbin/dovecot";
/// The SMTP server script.
const SMTP_SINK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/servers/smtp_sink.py");

/// How long a server may take to start accepting connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stopped Dovecot may take to end before it is killed. It usually takes about a
/// second; a login process caught starting up can hold it up to 6 s (see [`stop_dovecot`]).
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How often [`SmtpSink::wait_for`] looks for new messages.
const POLL: Duration = Duration::from_millis(25);

/// A self-signed certificate for `localhost` and `127.0.0.1`, with its key, as PEM files.
pub struct TestCert {
    /// Holds the two files; removed on drop.
    pub dir: TempDir,
    /// The certificate (PEM).
    pub cert_pem: PathBuf,
    /// Its private key (PKCS#8 PEM).
    pub key_pem: PathBuf,
    /// The certificate's PEM text, for a client's trusted roots.
    pub cert_pem_text: String,
}

/// Makes a fresh [`TestCert`]: an ECDSA P-256 certificate whose subject alternative names are
/// the DNS name `localhost` and the IP address `127.0.0.1`.
pub fn test_cert() -> TestCert {
    let dir = tempfile::Builder::new().prefix("redress-cert-").tempdir().expect("temp dir for the test certificate");
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).expect("generate the test certificate");
    let cert_pem_text = cert.pem();
    let cert_pem = dir.path().join("cert.pem");
    let key_pem = dir.path().join("key.pem");
    std::fs::write(&cert_pem, &cert_pem_text).expect("write the test certificate");
    std::fs::write(&key_pem, signing_key.serialize_pem()).expect("write the test certificate's key");
    TestCert { dir, cert_pem, key_pem, cert_pem_text }
}

/// A message the [`SmtpSink`] accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The message as sent after DATA (CRLF line ends, dot-stuffing undone).
    pub raw: Vec<u8>,
    /// The envelope sender (MAIL FROM), without angle brackets; empty for the null sender.
    pub mail_from: String,
    /// The envelope recipients the server accepted (RCPT TO), in order.
    pub rcpt_tos: Vec<String>,
    /// The message's `Message-ID` header (unfolded, with its angle brackets), if it has one.
    pub message_id: Option<String>,
}

/// An SMTP server (`tests/servers/smtp_sink.py`, on aiosmtpd) that keeps what it accepts.
///
/// Clients must STARTTLS (it presents [`SmtpSink::cert`]) and then AUTH PLAIN or LOGIN as
/// [`SmtpSink::user`] / [`SmtpSink::password`]. A recipient whose local part starts with
/// `reject` is refused with `550 5.1.1`, one starting with `tempfail` with `451 4.3.0`.
/// Dropping it kills the server.
pub struct SmtpSink {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The AUTH user name.
    pub user: String,
    /// The AUTH password.
    pub password: String,
    /// The certificate the server presents after STARTTLS.
    pub cert: TestCert,
    /// `mail/` (the messages, as the script writes them) and the script's log.
    dir: TempDir,
    child: Child,
}

impl SmtpSink {
    /// Starts the server and waits until it accepts connections. With `delay_data: Some(s)` it
    /// waits `s` seconds after a message's final dot before it stores the message and answers
    /// 250, so a test can kill the client mid-send; a client that disconnects during the wait
    /// gets nothing stored.
    ///
    /// `None`, after a "skipping: …" notice, when `/usr/bin/python3` or its aiosmtpd is missing
    /// (a panic if `REDRESS_REQUIRE_MAIL_SERVERS=1`).
    pub fn start(delay_data: Option<f64>) -> Option<SmtpSink> {
        if !Path::new(PYTHON).is_file() {
            return missing(format!("{PYTHON} not found"), "python3-aiosmtpd");
        }
        let has_aiosmtpd = Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has_aiosmtpd {
            return missing(format!("{PYTHON} cannot import aiosmtpd"), "python3-aiosmtpd");
        }

        let cert = test_cert();
        let dir = tempfile::Builder::new().prefix("redress-smtp-").tempdir().expect("temp dir for the SMTP sink");
        let mail = dir.path().join("mail");
        std::fs::create_dir(&mail).expect("create the SMTP sink's mail dir");
        let log = dir.path().join("smtp_sink.log");
        let user = "sender@redress.test".to_owned();
        let password = "smtp-secret".to_owned();

        let mut command = Command::new(PYTHON);
        command.arg(SMTP_SINK).arg("--dir").arg(&mail).arg("--cert").arg(&cert.cert_pem).arg("--key").arg(&cert.key_pem);
        command.args(["--user", &user, "--password", &password]);
        if let Some(seconds) = delay_data {
            command.args(["--delay-data", &seconds.to_string()]);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("create the SMTP sink's log"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {PYTHON} {SMTP_SINK}: {e}"));

        // The script prints `listening PORT` once it accepts connections. A thread reads it, so
        // a script that hangs without printing cannot hang the test.
        let stdout = child.stdout.take().expect("the SMTP sink's stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
        let port = line.strip_prefix("listening ").and_then(|p| p.trim().parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the SMTP sink did not start within {START_TIMEOUT:?} (its first line: {line:?}); its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        Some(SmtpSink { port, user, password, cert, dir, child })
    }

    /// Every message accepted so far, in the order they were accepted.
    pub fn received(&self) -> Vec<ReceivedMail> {
        let mail = self.dir.path().join("mail");
        let entries = std::fs::read_dir(&mail).unwrap_or_else(|e| panic!("read {}: {e}", mail.display()));
        // The script renames `n.eml` into place last, so each one listed has its `n.json`.
        let mut numbers: Vec<u64> =
            entries.filter_map(|entry| entry.ok()?.file_name().to_str()?.strip_suffix(".eml")?.parse().ok()).collect();
        numbers.sort_unstable();
        numbers
            .into_iter()
            .map(|n| {
                let raw = std::fs::read(mail.join(format!("{n}.eml"))).expect("read a received message");
                let meta_path = mail.join(format!("{n}.json"));
                let meta = std::fs::read_to_string(&meta_path).expect("read a received message's envelope");
                parse_envelope(raw, &meta).unwrap_or_else(|e| panic!("{}: {e}: {meta}", meta_path.display()))
            })
            .collect()
    }

    /// Waits until at least `n` messages have arrived, or `timeout` has passed, and gives all
    /// that have arrived: possibly fewer than `n` (or more), for the test to assert on.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let mails = self.received();
            if mails.len() >= n || Instant::now() >= deadline {
                return mails;
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Dovecot IMAP server with one user, whose mail is a Maildir the test can fill and inspect.
///
/// Clients log in (LOGIN or AUTHENTICATE PLAIN) as [`ImapServer::user`] /
/// [`ImapServer::password`], over plain IMAP on [`ImapServer::port`] (where cleartext login is
/// allowed) or implicit TLS on [`ImapServer::tls_port`] (presenting [`ImapServer::cert`]).
/// Folders other than INBOX are Maildir++ ones: `.` separates levels; names are ASCII. Dropping
/// it stops Dovecot.
pub struct ImapServer {
    /// The plain IMAP port on 127.0.0.1.
    pub port: u16,
    /// The IMAPS (implicit TLS) port on 127.0.0.1.
    pub tls_port: u16,
    /// The login name.
    pub user: String,
    /// The password.
    pub password: String,
    /// The certificate the IMAPS port presents.
    pub cert: TestCert,
    /// The user's Maildir (INBOX; other folders are `.Name` inside it).
    maildir: PathBuf,
    /// Who the mail files must belong to, when the test runs as root (Dovecot refuses to
    /// access mail as root, so its mail processes run as `nobody`).
    mail_owner: Option<(u32, u32)>,
    /// Makes [`ImapServer::deliver`]'s file names unique.
    delivered: AtomicU64,
    child: Child,
    /// The config, logs, Dovecot's runtime files and the Maildir; declared last, so removed
    /// after Dovecot is gone.
    dir: TempDir,
}

impl ImapServer {
    /// Starts Dovecot in the foreground on two free ports and waits until it greets IMAP clients.
    ///
    /// `None`, after a "skipping: …" notice, when `/usr/sbin/dovecot` is missing (a panic if
    /// `REDRESS_REQUIRE_MAIL_SERVERS=1`).
    pub fn start() -> Option<ImapServer> {
        let dovecot = Some(PathBuf::from(DOVECOT)).filter(|p| p.is_file()).or_else(|| on_path("dovecot"));
        let Some(dovecot) = dovecot else {
            return missing(format!("{DOVECOT} not found"), "dovecot-imapd");
        };

        let cert = test_cert();
        let dir = tempfile::Builder::new().prefix("redress-dovecot-").tempdir().expect("temp dir for Dovecot");
        // Dovecot's unprivileged processes must reach their sockets and the mail below it.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod Dovecot's temp dir");
        let me = std::fs::metadata(dir.path()).expect("stat Dovecot's temp dir");
        let users = DovecotUsers::for_process(me.uid(), me.gid());
        let mail_owner = (me.uid() == 0).then_some((users.mail_uid, users.mail_gid));

        let home = dir.path().join("home");
        let maildir = home.join("Maildir");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).expect("create the Maildir");
        }
        chown_tree(&home, mail_owner);

        let user = "mailbox@redress.test".to_owned();
        let password = "imap-secret".to_owned();
        let passwd = dir.path().join("passwd");
        // user:password:uid:gid:gecos:home:shell:extra; uid and gid come from mail_uid/mail_gid.
        std::fs::write(&passwd, format!("{user}:{{PLAIN}}{password}::::{}::\n", home.display())).expect("write Dovecot's passwd-file");

        let config = dir.path().join("dovecot.conf");
        let log = dir.path().join("dovecot.log");
        let output = dir.path().join("dovecot.out");
        let mut last_failure = String::new();
        // A port found free can be taken before Dovecot binds it: try a few times.
        for _ in 0..3 {
            let (port, tls_port) = two_free_ports();
            let text = dovecot_config(&DovecotConfig {
                dir: dir.path(),
                log: &log,
                passwd: &passwd,
                maildir: &maildir,
                cert: &cert,
                users: &users,
                port,
                tls_port,
            });
            std::fs::write(&config, text).expect("write Dovecot's config");
            let out = std::fs::File::create(&output).expect("create Dovecot's output file");
            let err = out.try_clone().expect("clone Dovecot's output file");
            let mut child = Command::new(&dovecot)
                .arg("-F")
                .arg("-c")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", dovecot.display()));

            let deadline = Instant::now() + START_TIMEOUT;
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last_failure = format!("Dovecot exited ({status})");
                    break;
                }
                // The master binds every listener before it serves any, so a greeting on the plain
                // port means the IMAPS one is there too; connecting to that one as well would start
                // a login process that a drop right away could catch half-started (see stop_dovecot).
                if greets(port) {
                    return Some(ImapServer {
                        port,
                        tls_port,
                        user,
                        password,
                        cert,
                        maildir,
                        mail_owner,
                        delivered: AtomicU64::new(0),
                        child,
                        dir,
                    });
                }
                if Instant::now() >= deadline {
                    stop_dovecot(&mut child);
                    panic!("Dovecot did not greet on port {port} within {START_TIMEOUT:?}\n{}", dovecot_logs(&log, &output));
                }
                std::thread::sleep(POLL);
            }
        }
        panic!("Dovecot did not start: {last_failure}\n{}", dovecot_logs(&log, &output));
    }

    /// Puts `raw` (a whole message, CRLF line ends) into `folder` (`"INBOX"`, or another folder,
    /// created if missing) as a new, unseen message, the way a delivery agent does: written
    /// into the Maildir's `tmp/`, then renamed into `new/`. Dovecot picks it up at its next
    /// look at the folder (a SELECT, a NOOP, IDLE).
    pub fn deliver(&self, folder: &str, raw: &[u8]) {
        let mailbox = self.folder_dir(folder);
        if !mailbox.join("new").is_dir() {
            for sub in ["cur", "new", "tmp"] {
                std::fs::create_dir_all(mailbox.join(sub)).expect("create a Maildir folder");
            }
            // Marks a Maildir++ subfolder (as Dovecot itself does when it creates one).
            std::fs::write(mailbox.join("maildirfolder"), b"").expect("create a Maildir folder");
            chown_tree(&mailbox, self.mail_owner);
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970");
        let n = self.delivered.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}.M{}P{}Q{n}.redress-test", now.as_secs(), now.subsec_micros(), std::process::id());
        let tmp = mailbox.join("tmp").join(&name);
        std::fs::write(&tmp, raw).unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
        chown_tree(&tmp, self.mail_owner);
        let new = mailbox.join("new").join(&name);
        std::fs::rename(&tmp, &new).unwrap_or_else(|e| panic!("rename {} to {}: {e}", tmp.display(), new.display()));
    }

    /// How many messages `folder` holds (new and seen alike; a message flagged `\Deleted` counts
    /// until it is expunged). 0 for a folder that does not exist.
    pub fn message_count(&self, folder: &str) -> usize {
        let mailbox = self.folder_dir(folder);
        maildir_files(&mailbox.join("new")).len() + maildir_files(&mailbox.join("cur")).len()
    }

    /// How many INBOX messages are flagged `\Seen`.
    pub fn seen_count(&self) -> usize {
        self.seen_count_in("INBOX")
    }

    /// How many messages of `folder` are flagged `\Seen`: those in `cur/` whose file name's
    /// Maildir info (`:2,FLAGS`) has an `S`. Dovecot renames the file when flags change.
    pub fn seen_count_in(&self, folder: &str) -> usize {
        maildir_files(&self.folder_dir(folder).join("cur"))
            .iter()
            .filter(|name| name.rsplit_once(":2,").is_some_and(|(_, flags)| flags.contains('S')))
            .count()
    }

    /// Dovecot's log so far, for a failing test's message.
    pub fn log(&self) -> String {
        dovecot_logs(&self.dir.path().join("dovecot.log"), &self.dir.path().join("dovecot.out"))
    }

    /// The Maildir directory of `folder`.
    fn folder_dir(&self, folder: &str) -> PathBuf {
        if folder.eq_ignore_ascii_case("INBOX") {
            return self.maildir.clone();
        }
        assert!(
            !folder.is_empty() && folder.chars().all(|c| c.is_ascii_graphic() || c == ' ') && !folder.contains(['/', '&']),
            "ImapServer folders are ASCII, without `/` or `&` (no modified UTF-7 here): {folder:?}"
        );
        self.maildir.join(format!(".{folder}"))
    }
}

impl Drop for ImapServer {
    fn drop(&mut self) {
        stop_dovecot(&mut self.child);
    }
}

/// Ends Dovecot: SIGTERM, on which its master stops every process it started and waits for them
/// (about a second), then SIGKILL if it has not ended within [`STOP_TIMEOUT`] (its orphaned
/// children then end on their own once their clients and writers are gone). A login process
/// still starting when the stats process stops waits 5 s for it before it gives up; that is the
/// slow case the timeout allows for.
fn stop_dovecot(child: &mut Child) {
    // std can only SIGKILL; `kill` sends the SIGTERM that makes Dovecot end its children.
    let termed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if termed {
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(POLL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The accounts Dovecot runs as.
struct DovecotUsers {
    /// Its login processes.
    login_user: String,
    /// Its internal processes (auth workers, stats).
    internal_user: String,
    /// The group of its sockets, when not root (the package's `dovecot` group otherwise).
    internal_group: Option<String>,
    /// Its mail processes.
    mail_uid: u32,
    mail_gid: u32,
    /// Dovecot chroots some processes, which only root can.
    root: bool,
}

impl DovecotUsers {
    /// As root: the package's own users, and `nobody` for mail (Dovecot refuses mail access as
    /// root). Otherwise Dovecot cannot switch users: everything runs as this process's user.
    fn for_process(uid: u32, gid: u32) -> DovecotUsers {
        if uid == 0 {
            let (mail_uid, mail_gid) =
                passwd_entries().into_iter().find(|(name, _, _)| name == "nobody").map_or((65534, 65534), |(_, uid, gid)| (uid, gid));
            return DovecotUsers {
                login_user: "dovenull".to_owned(),
                internal_user: "dovecot".to_owned(),
                internal_group: None,
                mail_uid,
                mail_gid,
                root: true,
            };
        }
        let name = passwd_entries()
            .into_iter()
            .find(|(_, u, _)| *u == uid)
            .map(|(name, _, _)| name)
            .or_else(|| std::env::var("USER").ok())
            .expect("this user's name (not in /etc/passwd, and no $USER)");
        let group = group_name(gid);
        DovecotUsers { login_user: name.clone(), internal_user: name, internal_group: group, mail_uid: uid, mail_gid: gid, root: false }
    }
}

/// What goes into Dovecot's config.
struct DovecotConfig<'a> {
    dir: &'a Path,
    log: &'a Path,
    passwd: &'a Path,
    maildir: &'a Path,
    cert: &'a TestCert,
    users: &'a DovecotUsers,
    port: u16,
    tls_port: u16,
}

/// A complete Dovecot 2.3 config: nothing from /etc/dovecot, nothing outside the temp dir.
fn dovecot_config(c: &DovecotConfig<'_>) -> String {
    let dir = c.dir.display();
    let u = c.users;
    // Without root, Dovecot can neither chroot nor give its sockets the package's group.
    let (login_chroot, unprivileged) = if u.root {
        ("", String::new())
    } else {
        let group = u.internal_group.as_ref().map(|g| format!("default_internal_group = {g}\n")).unwrap_or_default();
        ("  chroot =\n", format!("{group}service anvil {{\n  chroot =\n}}\nservice ipc {{\n  chroot =\n}}\n"))
    };
    format!(
        "\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {log}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
# Dovecot 2.3's name; 2.4 calls it auth_allow_cleartext.
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
# A wrong password is answered at once rather than after 2 s.
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = {passwd}
}}
userdb {{
  driver = passwd-file
  args = {passwd}
}}
mail_location = maildir:{maildir}
mail_uid = {mail_uid}
mail_gid = {mail_gid}
first_valid_uid = {mail_uid}
first_valid_gid = {mail_gid}
default_login_user = {login_user}
default_internal_user = {internal_user}
{unprivileged}service imap-login {{
{login_chroot}  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {tls_port}
    ssl = yes
  }}
}}
",
        log = c.log.display(),
        cert = c.cert.cert_pem.display(),
        key = c.cert.key_pem.display(),
        passwd = c.passwd.display(),
        maildir = c.maildir.display(),
        mail_uid = u.mail_uid,
        mail_gid = u.mail_gid,
        login_user = u.login_user,
        internal_user = u.internal_user,
        port = c.port,
        tls_port = c.tls_port,
    )
}

/// Dovecot's log file and what it wrote to stdout and stderr (its fatal start-up errors).
fn dovecot_logs(log: &Path, output: &Path) -> String {
    format!(
        "Dovecot's log:\n{}\nDovecot's output:\n{}",
        std::fs::read_to_string(log).unwrap_or_default(),
        std::fs::read_to_string(output).unwrap_or_default()
    )
}

/// The names of the message files in a Maildir's `new/` or `cur/` (none if it is missing).
fn maildir_files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.filter_map(|entry| entry.ok()?.file_name().into_string().ok()).filter(|name| !name.starts_with('.')).collect()
}

/// Gives `path` and everything under it to `owner`, if there is one.
fn chown_tree(path: &Path, owner: Option<(u32, u32)>) {
    let Some((uid, gid)) = owner else { return };
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())) {
            chown_tree(&entry.expect("a directory entry").path(), owner);
        }
    }
}

/// `/etc/passwd`'s (name, uid, gid) entries.
fn passwd_entries() -> Vec<(String, u32, u32)> {
    let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let uid = fields.nth(1)?.parse().ok()?;
            let gid = fields.next()?.parse().ok()?;
            Some((name.to_owned(), uid, gid))
        })
        .collect()
}

/// The name of group `gid`, from `/etc/group`.
fn group_name(gid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == gid).then(|| name.to_owned())
    })
}

/// Two distinct ports nobody listens on right now.
fn two_free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    // Both held at once, so they differ.
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| l.local_addr().expect("a bound port").port();
    (port(&a), port(&b))
}

/// Whether an IMAP server on 127.0.0.1:`port` sends its `* OK` greeting (Dovecot's login
/// process sends it once it is fully up, its auth process included).
fn greets(port: u16) -> bool {
    let greeting = || -> std::io::Result<String> {
        let stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line)?;
        Ok(line)
    };
    greeting().is_ok_and(|line| line.starts_with("* OK"))
}

/// `name` on the `PATH`, if there.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// A mail server cannot run here: `None` with a notice, or a panic when one is required.
fn missing<T>(what: String, package: &str) -> Option<T> {
    if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
        panic!("{what}, and {REQUIRE_VAR}=1 requires the mail servers (apt-get install {package})");
    }
    eprintln!("skipping: {what} (apt-get install {package} to run the mail tests)");
    None
}

/// Reads the envelope smtp_sink.py writes next to a message:
/// `{"mail_from": "…", "rcpt_tos": ["…", …], "message_id": "…" or null}`.
fn parse_envelope(raw: Vec<u8>, json: &str) -> Result<ReceivedMail, String> {
    let mut fields = Json { chars: json.chars().collect(), at: 0 }.object()?;
    let mut take = |key: &str| fields.remove(key).ok_or_else(|| format!("no {key:?}"));
    let mail_from = match take("mail_from")? {
        JsonValue::Str(s) => s,
        other => return Err(format!("mail_from is {other:?}")),
    };
    let rcpt_tos = match take("rcpt_tos")? {
        JsonValue::List(list) => list,
        other => return Err(format!("rcpt_tos is {other:?}")),
    };
    let message_id = match take("message_id")? {
        JsonValue::Str(s) => Some(s),
        JsonValue::Null => None,
        other => return Err(format!("message_id is {other:?}")),
    };
    Ok(ReceivedMail { raw, mail_from, rcpt_tos, message_id })
}

/// The values in the envelope's JSON.
#[derive(Debug)]
enum JsonValue {
    Null,
    Str(String),
    List(Vec<String>),
}

/// Just enough of a JSON reader for the envelope (one flat object), so this module needs no
/// JSON library.
struct Json {
    chars: Vec<char>,
    at: usize,
}

impl Json {
    fn object(&mut self) -> Result<HashMap<String, JsonValue>, String> {
        let mut fields = HashMap::new();
        self.expect('{')?;
        if self.eat('}') {
            return Ok(fields);
        }
        loop {
            let key = self.string()?;
            self.expect(':')?;
            let value = match self.peek() {
                Some('n') => self.null()?,
                Some('[') => JsonValue::List(self.list()?),
                _ => JsonValue::Str(self.string()?),
            };
            fields.insert(key, value);
            if self.eat('}') {
                return Ok(fields);
            }
            self.expect(',')?;
        }
    }

    fn null(&mut self) -> Result<JsonValue, String> {
        for c in "null".chars() {
            if self.chars.get(self.at) != Some(&c) {
                return Err(format!("bad literal at {}", self.at));
            }
            self.at += 1;
        }
        Ok(JsonValue::Null)
    }

    fn list(&mut self) -> Result<Vec<String>, String> {
        let mut items = Vec::new();
        self.expect('[')?;
        if self.eat(']') {
            return Ok(items);
        }
        loop {
            items.push(self.string()?);
            if self.eat(']') {
                return Ok(items);
            }
            self.expect(',')?;
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect('"')?;
        let mut out = String::new();
        loop {
            let c = self.bump().ok_or("unterminated string")?;
            match c {
                '"' => return Ok(out),
                '\\' => match self.bump().ok_or("unterminated escape")? {
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let unit = self.hex4()?;
                        // Python escapes characters beyond the BMP as UTF-16 surrogate pairs.
                        let code = if (0xD800..0xDC00).contains(&unit) && self.chars[self.at..].starts_with(&['\\', 'u']) {
                            self.at += 2;
                            let low = self.hex4()?;
                            0x10000 + ((unit - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF)
                        } else {
                            unit
                        };
                        out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                    }
                    other => out.push(other),
                },
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits: String = self.chars.get(self.at..self.at + 4).ok_or("short \\u escape")?.iter().collect();
        self.at += 4;
        u32::from_str_radix(&digits, 16).map_err(|e| format!("bad \\u escape {digits:?}: {e}"))
    }

    fn skip_space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.chars.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.at).copied();
        self.at += 1;
        c
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) { Ok(()) } else { Err(format!("expected {c:?} at {}", self.at)) }
    }
}

// The harness's own tests: both servers, driven by Python's smtplib and imaplib.

/// Runs a Python client script with `args`; its stdout, or a panic with its stderr.
fn python_client(script: &str, args: &[&str]) -> String {
    let out = Command::new(PYTHON)
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {PYTHON}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "client failed ({}): {stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Sends one message (argv: port, user, password, CA file, recipients…) with smtplib,
/// verifying the certificate for `127.0.0.1`; prints the refused recipients' codes.
const SMTP_CLIENT: &str = r#"
import smtplib, ssl, sys
port, user, password, cafile, *rcpts = sys.argv[1:]
tls = ssl.create_default_context(cafile=cafile)
with smtplib.SMTP("127.0.0.1", int(port), timeout=20) as s:
    s.starttls(context=tls)
    s.login(user, password)
    msg = b"From: a@redress.test\r\nMessage-ID:\r\n <one@redress.test>\r\nSubject: hi\r\n\r\n.dot\r\nbody\r\n"
    refused = s.sendmail("from@redress.test", rcpts, msg)
    print(" ".join(f"{k}={v[0]}" for k, v in sorted(refused.items())))
"#;

#[test]
fn smtp_sink_keeps_what_it_accepts() {
    let Some(smtp) = SmtpSink::start(None) else { return };
    assert!(smtp.cert.cert_pem.starts_with(smtp.cert.dir.path()) && smtp.cert.key_pem.starts_with(smtp.cert.dir.path()));
    assert_eq!(smtp.cert.cert_pem_text, std::fs::read_to_string(&smtp.cert.cert_pem).expect("read the certificate"));
    let args = [smtp.port.to_string(), smtp.user.clone(), smtp.password.clone(), smtp.cert.cert_pem.display().to_string()];
    let mut argv: Vec<&str> = args.iter().map(String::as_str).collect();
    argv.extend(["to@redress.test", "reject.me@redress.test", "tempfail@redress.test", "other@redress.test"]);
    let refused = python_client(SMTP_CLIENT, &argv);
    assert_eq!(refused.trim(), "reject.me@redress.test=550 tempfail@redress.test=451");

    let mails = smtp.wait_for(1, START_TIMEOUT);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail.mail_from, "from@redress.test");
    assert_eq!(mail.rcpt_tos, ["to@redress.test", "other@redress.test"]);
    assert_eq!(mail.message_id.as_deref(), Some("<one@redress.test>"));
    assert!(mail.raw.ends_with(b"\r\n\r\n.dot\r\nbody\r\n"), "{:?}", String::from_utf8_lossy(&mail.raw));

    // A wrong password is refused.
    let mut wrong = argv.clone();
    wrong[2] = "not-the-password";
    let out = Command::new(PYTHON).arg("-c").arg(SMTP_CLIENT).args(&wrong).output().expect("run the client");
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("535"), "{out:?}");
    assert_eq!(smtp.received().len(), 1);
}

#[test]
fn smtp_sink_forgets_a_message_whose_client_died_during_the_delay() {
    let Some(smtp) = SmtpSink::start(Some(1.0)) else { return };
    // Sends a whole message and quits without waiting for the answer to it.
    let dying = r#"
import smtplib, ssl, sys, time, os
port, user, password, cafile = sys.argv[1:]
s = smtplib.SMTP("127.0.0.1", int(port), timeout=20)
s.starttls(context=ssl.create_default_context(cafile=cafile))
s.login(user, password)
s.mail("from@redress.test"); s.rcpt("to@redress.test")
assert s.docmd("DATA")[0] == 354
s.send(b"Subject: lost\r\n\r\nbody\r\n.\r\n")
time.sleep(0.2)
os._exit(0)
"#;
    let args = [smtp.port.to_string(), smtp.user.clone(), smtp.password.clone(), smtp.cert.cert_pem.display().to_string()];
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    python_client(dying, &argv);
    let mut second = argv.clone();
    second.push("to@redress.test");
    // This one waits out the delay, which the first message's delay would have ended by too.
    python_client(SMTP_CLIENT, &second);
    let mails = smtp.received();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].message_id.as_deref(), Some("<one@redress.test>"));
}

/// Reads INBOX (argv: port, TLS port, user, password, CA file): unseen messages over plain
/// IMAP, then fetches the first over IMAPS (verifying the certificate for `localhost`; the
/// fetch marks it seen) and lists the folders.
const IMAP_CLIENT: &str = r#"
import imaplib, ssl, sys
port, tls_port, user, password, cafile = sys.argv[1:]
m = imaplib.IMAP4("127.0.0.1", int(port))
m.login(user, password)
m.select("INBOX")
print("unseen", m.search(None, "UNSEEN")[1][0].decode())
m.logout()
m = imaplib.IMAP4_SSL("localhost", int(tls_port), ssl_context=ssl.create_default_context(cafile=cafile))
m.login(user, password)
m.select("INBOX")
print("subject", m.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)])")[1][0][1].decode().strip())
print("folders", sorted(line.decode().rsplit(" ", 1)[1] for line in m.list()[1]))
m.logout()
"#;

#[test]
fn imap_server_serves_delivered_mail() {
    let Some(imap) = ImapServer::start() else { return };
    if !Path::new(PYTHON).is_file() {
        eprintln!("skipping: {PYTHON} not found, the IMAP client of this test");
        return;
    }
    imap.deliver("INBOX", b"Subject: first\r\n\r\none\r\n");
    imap.deliver("INBOX", b"Subject: second\r\n\r\ntwo\r\n");
    imap.deliver("Complaints", b"Subject: filed\r\n\r\nthree\r\n");
    assert_eq!((imap.message_count("INBOX"), imap.message_count("Complaints"), imap.seen_count()), (2, 1, 0));

    let args = [
        imap.port.to_string(),
        imap.tls_port.to_string(),
        imap.user.clone(),
        imap.password.clone(),
        imap.cert.cert_pem.display().to_string(),
    ];
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = python_client(IMAP_CLIENT, &argv);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["unseen 1 2", "subject Subject: first", "folders ['Complaints', 'INBOX']"],
        "{}",
        imap.log()
    );
    assert_eq!(imap.seen_count(), 1, "{}", imap.log());
    assert_eq!(imap.seen_count_in("Complaints"), 0);
    assert_eq!(imap.message_count("INBOX"), 2);
    assert_eq!(imap.message_count("Archive"), 0);
}

#[test]
fn envelope_json_is_read_with_its_escapes() {
    // As Python's json.dumps writes them: non-ASCII as \u escapes, beyond the BMP as pairs.
    let json = r#"{"mail_from": "", "rcpt_tos": ["caf\u00e9@redress.test", "\ud83d\ude00\"q\\@redress.test"], "message_id": null}"#;
    let mail = parse_envelope(b"raw".to_vec(), json).expect("a valid envelope");
    assert_eq!(mail.mail_from, "");
    assert_eq!(mail.rcpt_tos, ["café@redress.test", "😀\"q\\@redress.test"]);
    assert_eq!(mail.message_id, None);
    assert!(parse_envelope(Vec::new(), r#"{"mail_from": "a", "rcpt_tos": []}"#).is_err());
}
